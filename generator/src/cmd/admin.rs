//! `gatefold stats|disable|enable|extend|revoke|password|devices|export|notify test|audit|requests|grant|decline`: the admin
//! commands' arguments, and each command as calls to the admin API client (`gatefold::admin`)
//! and its text.
//!
//! Mounted with `#[command(flatten)] Admin(cmd::admin::AdminCommand)` in the CLI's `Command`
//! enum, run by [`run`].

use gatefold::admin::{Action, Server, password, Target, Window, render_audience, render_audit, render_devices, render_link, render_notify_test, render_requests, render_stats, site_timezone, split_target};
use anyhow::{Context, Result, bail};
use gatefold_contract::admin::{LinkPatch, LinkStatus};
use std::path::{Path, PathBuf};

#[derive(Debug, clap::Subcommand)]
pub enum AdminCommand {
    /// Show a gallery's statistics from the running site.
    Stats {
        gallery: String,
        #[command(flatten)]
        window: WindowArgs,
        /// Print the API's JSON.
        #[arg(long)]
        json: bool,
    },
    /// Turn a link off at once (`<gallery>/<link>`, `<gallery>/<audience>/<recipient>`), a whole
    /// audience (`<gallery>/@<audience>`), or every link of a gallery (`<gallery>`).
    Disable { target: String },
    /// Lift a runtime disable (a link disabled in gallery.yaml stays off until a publish).
    Enable { target: String },
    /// Extend a link's (or a whole audience's, `<gallery>/@<audience>`) expiry and/or change its
    /// view limit.
    Extend {
        target: String,
        /// Valid through this day (YYYY-MM-DD, site timezone) or an RFC 3339 time.
        #[arg(long, conflicts_with = "days")]
        until: Option<String>,
        /// Valid for this many more days, counted from the later of now and the expiry in force.
        #[arg(long)]
        days: Option<u32>,
        /// New view limit.
        #[arg(long)]
        max_views: Option<u32>,
        /// Allow a change that closes the link sooner (an earlier expiry, a limit at or below
        /// the views already used).
        #[arg(long)]
        force: bool,
    },
    /// End every open session of a link (or of every recipient of `<gallery>/@<audience>`) at
    /// once, keeping its URL: `gatefold revoke <gallery>/<link>`.
    Revoke { target: String },
    /// Set the password of a `password: required` link: asked without echo, or one line read
    /// from standard input when it is not a terminal; one too easy to guess is refused, with a
    /// generated passphrase offered. Ends the link's open sessions. `--generate` alone prints a
    /// passphrase; with a target it sets one and prints it.
    Password {
        /// `<gallery>/<link>`, `<gallery>/<audience>/<recipient>`, or `<gallery>/@<audience>`
        /// (the same password on each of its recipients' links).
        #[arg(required_unless_present = "generate")]
        target: Option<String>,
        /// Remove the password: the link then answers "not available yet" until a new one is set.
        #[arg(long, conflicts_with = "generate")]
        clear: bool,
        /// A generated passphrase (four words of three syllables, about 76 bits).
        #[arg(long)]
        generate: bool,
    },
    /// Save a gallery's access log as CSV or Excel.
    Export {
        gallery: String,
        #[arg(long, conflicts_with = "xlsx", required_unless_present = "xlsx")]
        csv: Option<PathBuf>,
        #[arg(long)]
        xlsx: Option<PathBuf>,
        #[command(flatten)]
        window: WindowArgs,
    },
    /// Owner notifications: `gatefold notify test [--gallery G]`.
    Notify {
        #[command(subcommand)]
        command: NotifyCommand,
    },
    /// Show the devices a link opened on (`devices:` ties it to its recipient's first N), its
    /// forwarding flag; forget one device (frees its slot) or allow one more.
    Devices {
        /// `<gallery>/<link>` or `<gallery>/<audience>/<recipient>`.
        target: String,
        /// Forget this device (its id as listed): its slot is free again.
        #[arg(long, conflicts_with = "allow")]
        forget: Option<String>,
        /// Let one more device open the link.
        #[arg(long)]
        allow: bool,
        /// Print the API's JSON.
        #[arg(long)]
        json: bool,
    },
    /// Show a gallery's audit log: every owner action through the admin API, newest first.
    Audit {
        gallery: String,
        /// Print the API's JSON.
        #[arg(long)]
        json: bool,
    },
    /// List access requests left on closed links (one gallery's, or every gallery's), newest
    /// first, each with the id `grant` and `decline` take.
    Requests {
        gallery: Option<String>,
        /// Print the API's JSON.
        #[arg(long)]
        json: bool,
    },
    /// Grant an access request on its link, so the same URL and QR code open again: more days
    /// (counted from the later of now and the expiry in force), more views (added to the limit
    /// in force), or one more device.
    Grant {
        id: String,
        #[arg(long, conflicts_with_all = ["views", "device"], required_unless_present_any = ["views", "device"])]
        days: Option<u32>,
        #[arg(long, conflicts_with = "device")]
        views: Option<u32>,
        #[arg(long)]
        device: bool,
    },
    /// Decline an access request; the reply (optional) is shown to the person who asked.
    Decline {
        id: String,
        #[arg(long)]
        reply: Option<String>,
    },
}

/// Which traffic a statistics or export command covers (one group, flattened into both).
#[derive(Debug, clap::Args)]
pub struct WindowArgs {
    /// Only this link's traffic.
    #[arg(long)]
    link: Option<String>,
    /// First day (YYYY-MM-DD, site timezone).
    #[arg(long)]
    from: Option<String>,
    /// Last day, included.
    #[arg(long)]
    to: Option<String>,
}

impl From<WindowArgs> for Window {
    fn from(WindowArgs { link, from, to }: WindowArgs) -> Window {
        Window { link, from, to }
    }
}

#[derive(Debug, clap::Subcommand)]
pub enum NotifyCommand {
    /// Send one test message to every configured channel (each gallery's, deduplicated by
    /// secret) and report each platform's answer; exits 1 if any channel failed.
    Test {
        /// Only this gallery's channels.
        #[arg(long)]
        gallery: Option<String>,
    },
}

pub fn run(cmd: AdminCommand) -> Result<()> {
    if let AdminCommand::Password { target: None, generate: true, .. } = cmd {
        println!("{}", password::generate()?);
        return Ok(());
    }
    let server = Server::from_env(Path::new("."))?;
    // Every change answers with the link as it now stands, shown in the site timezone.
    let show = |l: LinkStatus| -> Result<()> {
        println!("{}", render_link(&l, site_timezone(&server.timezone()?)?));
        Ok(())
    };
    match cmd {
        AdminCommand::Stats { gallery, window, json } => {
            let stats = server.stats(&gallery, &window.into())?;
            if json {
                println!("{}", serde_json::to_string_pretty(&stats)?);
            } else {
                print!("{}", render_stats(&stats, site_timezone(&stats.timezone)?));
            }
        }
        AdminCommand::Disable { target } => switch(&server, &target, Action::Disable, show)?,
        AdminCommand::Enable { target } => switch(&server, &target, Action::Enable, show)?,
        AdminCommand::Revoke { target } => match Target::links_only(&target)? {
            Target::Audience { gallery, audience } => println!("{}", render_audience(&gallery, &audience, &server.audience_action(&gallery, &audience, Action::Revoke)?)),
            Target::Link { gallery, link } => show(server.link_action(&gallery, &link, Action::Revoke)?)?,
            Target::Gallery(_) => unreachable!("links_only refuses a gallery"),
        },
        AdminCommand::Extend { target, until, days, max_views, force } => {
            let patch = LinkPatch { expires: until, extend_days: days, max_views, force, ..LinkPatch::default() };
            if patch == (LinkPatch { force, ..LinkPatch::default() }) {
                bail!("nothing to change: give --until DATE, --days N and/or --max-views N");
            }
            match Target::links_only(&target)? {
                Target::Audience { gallery, audience } => println!("{}", render_audience(&gallery, &audience, &server.patch_audience(&gallery, &audience, &patch)?)),
                Target::Link { gallery, link } => show(server.patch(&gallery, &link, &patch)?)?,
                Target::Gallery(_) => unreachable!("links_only refuses a gallery"),
            }
        }
        AdminCommand::Password { target, clear, generate } => {
            let target = target.context("give the link: gatefold password <gallery>/<link>")?;
            let new = if clear { password::New::Clear } else if generate { password::New::Generate } else { password::New::Ask };
            password::set(&server, &target, new, show)?
        }
        AdminCommand::Export { gallery, csv, xlsx, window } => {
            let (xlsx, path) = match (csv, xlsx) {
                (Some(p), None) => (false, p),
                (None, Some(p)) => (true, p),
                _ => bail!("give exactly one of --csv FILE or --xlsx FILE"),
            };
            let bytes = server.export(&gallery, xlsx, &window.into())?;
            std::fs::write(&path, &bytes).with_context(|| format!("writing {}", path.display()))?;
            println!("wrote {} ({} bytes)", path.display(), bytes.len());
        }
        AdminCommand::Notify { command: NotifyCommand::Test { gallery } } => {
            let (report, failed, total) = render_notify_test(&server.notify_test(gallery.as_deref())?);
            print!("{report}");
            if total == 0 {
                bail!("no notification channel is configured{}: declare `notify:` in galleries/site.yaml or a gallery.yaml, then publish", gallery.map(|g| format!(" for gallery {g}")).unwrap_or_default());
            }
            if failed > 0 {
                bail!("{failed} of {total} channel(s) failed: check each secret (`wrangler secret put <NAME>`, `.dev.vars` locally) and the bot's settings");
            }
        }
        AdminCommand::Devices { target, forget, allow, json } => {
            let (gallery, link) = split_target(&target)?;
            let answer = match (forget, allow) {
                (Some(id), _) => server.forget_device(&gallery, &link, &id)?,
                (None, true) => server.allow_device(&gallery, &link)?,
                (None, false) => server.devices(&gallery, &link)?,
            };
            if json {
                println!("{}", serde_json::to_string_pretty(&answer)?);
            } else {
                print!("{}", render_devices(&answer, site_timezone(&server.timezone()?)?));
            }
        }
        AdminCommand::Audit { gallery, json } => {
            let answer = server.audit(&gallery)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&answer)?);
            } else {
                print!("{}", render_audit(&answer, site_timezone(&server.timezone()?)?));
            }
        }
        AdminCommand::Requests { gallery, json } => {
            let galleries = match gallery {
                Some(g) => vec![g],
                None => server.gallery_ids()?,
            };
            for g in galleries {
                let answer = server.requests(&g)?;
                if json {
                    println!("{}", serde_json::to_string_pretty(&answer)?);
                } else {
                    print!("{}", render_requests(&answer, site_timezone(&answer.timezone)?));
                }
            }
        }
        AdminCommand::Grant { id, days, views, device } => {
            let answer = server.grant(&id, &gatefold_contract::requests::GrantBody { extend_days: days, add_views: views, device })?;
            println!("request {} granted: {}", answer.request.id, answer.request.answer.as_deref().unwrap_or_default());
            show(answer.link)?;
        }
        AdminCommand::Decline { id, reply } => {
            let answer = server.decline(&id, reply)?;
            println!("request {} declined{}", answer.id, answer.reply.map(|r| format!(", reply: {r}")).unwrap_or_default());
        }
    }
    Ok(())
}

/// `disable`/`enable` of a link, an audience or a whole gallery.
fn switch(server: &Server, target: &str, action: Action, show: impl Fn(LinkStatus) -> Result<()>) -> Result<()> {
    let gallery = match Target::parse(target)? {
        Target::Link { gallery, link } => return show(server.link_action(&gallery, &link, action)?),
        Target::Audience { gallery, audience } => {
            println!("{}", render_audience(&gallery, &audience, &server.audience_action(&gallery, &audience, action)?));
            return Ok(());
        }
        Target::Gallery(gallery) => gallery,
    };
    let st = server.gallery_action(&gallery, action)?;
    let state = if st.overrides.is_disabled() { "disabled at runtime: every link refuses new opens" } else { "no runtime disable" };
    println!("gallery {}: {state}", st.gallery);
    for notice in &st.notices {
        println!("  note: {notice}");
    }
    Ok(())
}
