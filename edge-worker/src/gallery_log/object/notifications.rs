//! The log's notification side: the outbox its alarm sends from, owner actions, and the daily
//! digest (see `crate::notify` for what each notice stands for).

use super::*;

#[derive(Deserialize)]
struct DayCount {
    link: String,
    kind: String,
    n: i64,
}

#[derive(Deserialize)]
struct Queued {
    gallery: String,
    body: String,
}

/// Notices the alarm sends per run (each is one subrequest).
const SEND_PER_ALARM: u32 = 25;

/// Notifications: the outbox, its alarm, the digest.
impl GalleryLog {
    pub(super) async fn site(&self) -> Result<Rc<crate::site::Deployment>> {
        crate::site::load(&self.env).await.map_err(worker::Error::RustError)
    }

    pub(super) async fn gallery(&self, site: &crate::site::Deployment, id: &str) -> Result<Option<Rc<Gallery>>> {
        site.gallery(&self.env, id).await.map_err(worker::Error::RustError)
    }

    /// Sets the alarm for `at` (Unix ms) unless one is set earlier.
    pub(super) async fn arm(&self, at: i64) -> Result<()> {
        let storage = self.state.storage();
        if storage.get_alarm().await?.is_some_and(|set| set <= at) {
            return Ok(());
        }
        let now = worker::Date::now().as_millis() as i64;
        storage.set_alarm((at - now).max(0)).await
    }

    /// The alarm for the next due notice or queued digest, if any, no sooner than `not_before`.
    pub(super) async fn rearm(&self, not_before: i64) -> Result<()> {
        #[derive(Deserialize)]
        struct C {
            n: i64,
        }
        let queued = self.sql.exec("SELECT COUNT(*) AS n FROM digest_queue WHERE sent = 0", None)?.one::<C>()?.n;
        let next = outbox::next_due(&self.sql)?;
        let now = worker::Date::now().as_millis() as i64;
        let at = match (queued > 0, next) {
            (true, _) => Some(now),
            (false, next) => next,
        };
        let storage = self.state.storage();
        match at {
            Some(at) => storage.set_alarm((at.max(not_before) - now).max(0)).await,
            None => Ok(()),
        }
    }

    /// Which notifications the batch's events stand for, into the outbox of every channel of
    /// their link that wants them, one row per link, kind and window.
    pub(super) async fn notify_events(&self, batch: &crate::gallery_log::Batch) -> Result<()> {
        let Some(gallery_id) = &batch.gallery else { return Ok(()) };
        let todo: Vec<(&AccessEvent, Vec<NotifyKind>)> =
            batch.events.iter().map(|e| (e, notify::kinds(e, batch.views))).filter(|(_, k)| !k.is_empty()).collect();
        if todo.is_empty() {
            return Ok(());
        }
        let site = self.site().await?;
        let Some(gallery) = self.gallery(&site, gallery_id).await? else { return Ok(()) };
        let window_ms = notify::batch_ms(&self.env);
        let mut earliest: Option<i64> = None;
        for (e, kinds) in todo {
            let Some(link) = gallery.links.get(&e.link) else { continue };
            for kind in kinds {
                let channels: Vec<_> = notify::wanting(&gallery, Some(link), kind).collect();
                if channels.is_empty() {
                    continue;
                }
                let window = notify::window_start(e.ts, window_ms);
                let mut n = notify::notice(&site.settings, &gallery, Some(notify::notice_link(&gallery, link)), kind, window, e.ts);
                n.count = e.count;
                n.place = notify::place(e);
                n.device = Some(notify::device(e));
                n.detail = match (kind, batch.views) {
                    (NotifyKind::DeniedAfterClose, _) => Some(e.outcome.clone()),
                    (_, Some(v)) if e.kind == EventKind::Open => v.max_views.map(|m| notify::views_detail(site.settings.default_locale, v.view_number, m)),
                    _ => None,
                };
                let due = window + window_ms;
                for c in channels {
                    outbox::enqueue(&self.sql, c, &n, due)?;
                }
                earliest = Some(earliest.map_or(due, |d: i64| d.min(due)));
            }
        }
        if let Some(at) = earliest {
            self.arm(at).await?;
        }
        Ok(())
    }

    /// An owner action on the gallery, an audience or a link, for the channels that want it.
    pub async fn owner_action(&self, entry: &gatefold_contract::admin::AuditEntry) -> Result<()> {
        let (gallery_id, rest) = entry.target.split_once('/').map_or((entry.target.as_str(), None), |(g, r)| (g, Some(r)));
        let site = self.site().await?;
        let Some(gallery) = self.gallery(&site, gallery_id).await? else { return Ok(()) };
        let link = rest.and_then(|r| gallery.links.get(r));
        let channels: Vec<_> = notify::wanting(&gallery, link, NotifyKind::OwnerAction).collect();
        if channels.is_empty() {
            return Ok(());
        }
        let about = match (link, rest) {
            (Some(l), _) => Some(notify::notice_link(&gallery, l)),
            (None, Some(r)) => Some(gatefold_contract::notify::NoticeLink {
                id: entry.target.clone(),
                label: r.to_string(),
                audience_label: r.strip_prefix('@').and_then(|a| gallery.audiences.get(a)).map(|a| a.label.clone()),
            }),
            (None, None) => None,
        };
        let mut n = notify::notice(&site.settings, &gallery, about, NotifyKind::OwnerAction, entry.at, entry.at);
        n.id = notify::notice_id(&gallery.id, &format!("{}:{}", entry.target, entry.action), NotifyKind::OwnerAction, entry.at);
        n.detail = Some(notify::action_detail(entry));
        n.device.clone_from(&entry.device);
        let now = worker::Date::now().as_millis() as i64;
        for c in channels {
            outbox::enqueue(&self.sql, c, &n, now)?;
        }
        self.arm(now).await
    }

    /// A distributed guess at a link's password (reported by its `LinkGate`), for the channels
    /// that want `password_attack`, sent at once; the message links to the password dialog.
    pub(super) async fn password_attack(&self, report: &notify::AttackReport) -> Result<()> {
        let site = self.site().await?;
        let Some(gallery) = self.gallery(&site, &report.gallery).await? else { return Ok(()) };
        let Some(link) = gallery.links.get(&report.link) else { return Ok(()) };
        let channels: Vec<_> = notify::wanting(&gallery, Some(link), NotifyKind::PasswordAttack).collect();
        if channels.is_empty() {
            return Ok(());
        }
        let mut n = notify::notice(&site.settings, &gallery, Some(notify::notice_link(&gallery, link)), NotifyKind::PasswordAttack, report.at_ms, report.at_ms);
        n.detail = Some(notify::attack_detail(site.settings.default_locale, report));
        n.admin_url = notify::change_password_url(&site.settings, &gallery.id, &link.name);
        let now = worker::Date::now().as_millis() as i64;
        for c in channels {
            outbox::enqueue(&self.sql, c, &n, now)?;
        }
        self.arm(now).await
    }

    /// Sends what is due: delivered rows go, failed ones wait their backoff, and after 24 hours
    /// of trying (or at once when a secret is missing) become dead letters.
    pub(super) async fn deliver(&self, now: i64) -> Result<()> {
        let rows = outbox::due(&self.sql, now, SEND_PER_ALARM)?;
        if rows.is_empty() {
            return Ok(());
        }
        let site = self.site().await?;
        let retry_ms = notify::retry_ms(&self.env);
        for row in rows {
            let notice = row.notice()?;
            let tried = notify::send(&self.env, &site.settings, row.to()?, &row.url_secret, row.sign_secret.as_deref(), &notice, now).await;
            if tried.ok {
                outbox::delivered(&self.sql, &row.key)?;
                continue;
            }
            let first = row.first_try.unwrap_or(now);
            let attempts = u32::try_from(row.attempts + 1).unwrap_or(u32::MAX);
            let retry_at = (!tried.missing_secret && now - first < notify::RETRY_FOR_MS).then(|| now + notify::backoff_ms(attempts, retry_ms));
            if retry_at.is_none() {
                worker::console_error!("notifications: gave up {:?} to {} ({}): {}", notice.kind, row.platform, row.url_secret, tried.detail);
            }
            outbox::failed(&self.sql, &row, &tried, now, retry_at)?;
        }
        Ok(())
    }

    /// The coordinator: keeps each gallery's digest of a day once, and starts its alarm.
    pub(super) async fn plan_digests(&self, plan: &DigestPlan) -> Result<()> {
        for r in &plan.requests {
            self.sql.exec(
                "INSERT OR IGNORE INTO digest_queue (day, gallery, body) VALUES (?, ?, ?)",
                vec![V::from(r.day.as_str()), V::from(r.gallery.as_str()), V::from(serde_json::to_string(r)?.as_str())],
            )?;
        }
        // Older days are done with: a day's rows only guard against a repeated run.
        if let Some(day) = plan.requests.first().map(|r| r.day.as_str()) {
            self.sql.exec("DELETE FROM digest_queue WHERE day < ?", vec![V::from(day)])?;
        }
        self.arm(worker::Date::now().as_millis() as i64).await
    }

    /// The coordinator's alarm: asks the next [`FAN_OUT`] galleries' logs for their digest.
    pub(super) async fn fan_out_digests(&self) -> Result<()> {
        let rows: Vec<Queued> =
            self.sql.exec("SELECT gallery, body FROM digest_queue WHERE sent = 0 LIMIT ?", vec![V::from(i64::from(FAN_OUT))])?.to_array()?;
        for q in rows {
            let req: DigestRequest = serde_json::from_str(&q.body)?;
            if let Err(e) = crate::gallery_log::GalleryLogClient::new(&self.env, &q.gallery)?.digest(&req).await {
                worker::console_error!("digest of {} for {}: {e}", q.gallery, req.day);
            }
            self.sql.exec("UPDATE digest_queue SET sent = 1 WHERE day = ? AND gallery = ?", vec![V::from(req.day.as_str()), V::from(q.gallery.as_str())])?;
        }
        Ok(())
    }

    /// This gallery's digest of a day (once) and its `expires_soon` notices.
    pub(super) async fn digest(&self, req: &DigestRequest) -> Result<()> {
        if outbox::meta(&self.sql, "digest_day")?.as_deref() == Some(req.day.as_str()) {
            return Ok(());
        }
        let site = self.site().await?;
        let Some(gallery) = self.gallery(&site, &req.gallery).await? else { return Ok(()) };
        let now_ms = worker::Date::now().as_millis() as i64;
        let now = now_ms.div_euclid(1000);
        let [open, download, all] = [EventKind::Open, EventKind::Download, EventKind::DownloadAll].map(|k| wire_name(&k));
        let day: Vec<DayCount> = self
            .sql
            .exec(
                "SELECT link, kind, SUM(count) AS n FROM events WHERE ts >= ? AND ts < ? AND outcome = ? AND kind IN (?, ?, ?) GROUP BY link, kind",
                vec![V::from(req.from_ms), V::from(req.to_ms), V::from(ADMITTED), V::from(open.as_str()), V::from(download.as_str()), V::from(all.as_str())],
            )?
            .to_array()?;
        let ever = self.activity(None)?;
        let mut links = Vec::new();
        let mut soon = Vec::new();
        // Read in bulk: three KV reads per link would pass an invocation's 1,000 operations
        // at about 330 links.
        let names: Vec<&str> = gallery.links.keys().map(String::as_str).collect();
        let runtimes = crate::gate::runtimes(&self.env, &gallery.id, &names).await?;
        for link in gallery.links.values() {
            // Every listed link has its entry; were one missing, it would read as closed.
            let runtime = runtimes.get(&link.name).cloned().unwrap_or_else(|| crate::gate::LinkRuntime { own: gatefold_contract::Overrides::unreadable(), ..Default::default() });
            let effective = runtime.in_force(&gallery, link);
            let sum = |kinds: &[&str]| day.iter().filter(|d| d.link == link.name && kinds.contains(&d.kind.as_str())).map(|d| d.n.max(0) as u64).sum::<u64>();
            let act = ever.iter().find(|a| a.link == link.name);
            let opens_ever = act.map_or(0, |a| a.opens);
            let nl = notify::notice_link(&gallery, link);
            links.push(DigestLink {
                id: nl.id.clone(),
                label: nl.label.clone(),
                audience_label: nl.audience_label.clone(),
                opens: sum(&[open.as_str()]),
                downloads: sum(&[download.as_str(), all.as_str()]),
                opened: opens_ever > 0,
                downloaded: act.is_some_and(|a| a.downloads > 0),
                download_on: effective.download.any(),
                views_left: effective.views_left(opens_ever),
                expires_at: effective.expires_at,
            });
            if let Some(at) = effective.expires_at.filter(|at| *at > now && *at - now <= 48 * 3600) {
                soon.push((link, nl, at));
            }
        }
        let enqueue_all = |kind: NotifyKind, link: Option<&gatefold_contract::manifest::Link>, n: &gatefold_contract::notify::Notice| -> Result<()> {
            for c in notify::wanting(&gallery, link, kind) {
                outbox::enqueue(&self.sql, c, n, now_ms)?;
            }
            Ok(())
        };
        let mut n = notify::notice(&site.settings, &gallery, None, NotifyKind::Digest, req.from_ms, now_ms);
        n.digest = Some(Digest { day: req.day.clone(), links });
        enqueue_all(NotifyKind::Digest, None, &n)?;
        for (link, nl, at) in soon {
            if notify::wanting(&gallery, Some(link), NotifyKind::ExpiresSoon).next().is_none() || !outbox::tell_expiry_once(&self.sql, &link.name, at)? {
                continue;
            }
            let mut n = notify::notice(&site.settings, &gallery, Some(nl), NotifyKind::ExpiresSoon, at * 1000, now_ms);
            n.detail = Some(gatefold_contract::time::for_owner(&site.settings, at));
            enqueue_all(NotifyKind::ExpiresSoon, Some(link), &n)?;
        }
        outbox::set_meta(&self.sql, "digest_day", &req.day)?;
        self.arm(now_ms).await
    }
}
