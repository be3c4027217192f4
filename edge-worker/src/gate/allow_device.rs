// INTEGRATION: replaced by the devices part
//! "Allow one more device" on a link: one `LinkGate` operation owned by the devices part. This
//! branch has no device limits yet, so every link admits any device and there is nothing to
//! allow: the grant answers that plainly instead of pretending to change something.

use super::GateClient;
use worker::Result;

/// What allowing one more device did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceAllowance {
    /// The link admits one more device than before.
    Allowed,
    /// The link has no device limit: any device is admitted already.
    NoDeviceLimit,
}

impl GateClient {
    /// Lets the link admit one more device.
    pub async fn allow_device(&self) -> Result<DeviceAllowance> {
        Ok(DeviceAllowance::NoDeviceLimit)
    }
}
