//! A link's password at its gate: an attempt (`/unlock`), which checks state, throttle and
//! password and counts the open in one operation, and the owner setting or clearing it.

use super::{LinkGate, PasswordChange, Status, UnlockRequest, UnlockResponse, session_epoch};
use crate::password::{self, StoredHash};
use gatefold_contract::Denial;
use worker::{Result, SqlStorageValue};

impl LinkGate {
    /// A password attempt: the link's state, then the password being set, then the throttle
    /// (checked and booked as a wrong attempt in one step, so concurrent guesses cannot pass
    /// the limit together), then PBKDF2. A right password asks the wider scopes again (a
    /// disable or revoke of the audience or gallery landing during the derive is seen), then
    /// takes its booking back and counts the open with the state decided again, in one
    /// synchronous step.
    pub(super) async fn unlock(&self, req: &UnlockRequest) -> Result<UnlockResponse> {
        let scope = self.scope()?;
        let wider = self.wider_states(&scope, &req.wider_terms).await?;
        let loaded = self.load()?;
        let (settled, resettle) = Self::settled(&loaded, &req.policy);
        let decided = Self::decide(&req.policy, &loaded, &wider, &req.wider_terms, req.now);
        let checked = match (decided, &loaded.password) {
            (Err(denial), _) => Err(UnlockResponse::Denied(denial)),
            (Ok(_), None) => Err(UnlockResponse::Denied(Denial::PasswordNotSet)),
            (Ok(_), Some(stored)) => match self.book_attempt(&req.network, req.now)? {
                Err(retry_after) => Err(UnlockResponse::Throttled { retry_after }),
                Ok(booking) => Ok((stored, booking)),
            },
        };
        if resettle {
            self.resettle(&scope, &settled).await?;
        }
        let (stored, booking) = match checked {
            Ok(found) => found,
            Err(answer) => return Ok(answer),
        };
        if !password::verify(&req.password, stored).await? {
            return Ok(UnlockResponse::Denied(Denial::WrongPassword));
        }
        let wider = self.wider_states(&scope, &req.wider_terms).await?;
        // From here to the count: no await.
        let now = self.load()?;
        if now.password.as_ref() != Some(stored) {
            // The owner changed the password while this one was being checked.
            return Ok(UnlockResponse::Denied(Denial::WrongPassword));
        }
        self.sql().exec("DELETE FROM password_attempts WHERE rowid = ?", vec![SqlStorageValue::Integer(booking)])?;
        Ok(match Self::decide(&req.policy, &now, &wider, &req.wider_terms, req.now) {
            Err(denial) => UnlockResponse::Denied(denial),
            Ok(_) if self.device_refused(req.device.as_ref(), &req.policy, req.now)? => UnlockResponse::Denied(Denial::DeviceLimit),
            Ok(admission) => {
                let epoch = session_epoch(now.status.session_epoch, wider.iter().map(|w| w.session_epoch));
                UnlockResponse::Admitted(self.count(admission, epoch, req.now)?)
            }
        })
    }

    /// Sets or clears the password: the epoch moves on (every open session ends) and earlier
    /// wrong attempts are forgotten.
    pub(super) async fn set_password(&self, change: &PasswordChange) -> Result<Status> {
        let scope = self.scope()?;
        if let Some(text) = &change.hash {
            StoredHash::parse(text).map_err(worker::Error::RustError)?;
        }
        self.store_password(change.hash.clone())?;
        self.sql().exec("DELETE FROM password_attempts", None)?;
        self.mirror(&scope).await?;
        Ok(self.load()?.status)
    }
}
