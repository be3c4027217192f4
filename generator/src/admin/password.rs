//! `gatefold password`: set, generate or clear a link's password through the admin API. A
//! password too easy to guess is refused here before anything is sent, with the rule the worker
//! applies again (`contract::passphrase`, the floor for every way a password is set) and, on
//! top of it, `zxcvbn`'s full estimate (its dictionaries are too large for the worker), and a
//! generated passphrase is offered instead.

use super::{Server, Target};
use anyhow::{Context, Result, bail};
use gatefold_contract::admin::LinkStatus;
use gatefold_contract::passphrase;

/// What `gatefold password` sets.
#[derive(Clone, Copy)]
pub enum New {
    /// Asked (without echo from a terminal, else one line of standard input).
    Ask,
    /// Generated here and printed once.
    Generate,
    Clear,
}

/// A passphrase from the operating system's random source.
pub fn generate() -> Result<String> {
    passphrase::generate(getrandom::fill).map_err(|e| anyhow::anyhow!("the operating system gave no random bytes ({e}): nothing was changed"))
}

/// The new password: without echo from a terminal, else the first line of standard input.
fn read_new_password(context: &[&str]) -> Result<String> {
    use std::io::IsTerminal;
    let password = if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password("New password: ").context("reading the password from the terminal")?;
        let again = rpassword::prompt_password("Again: ").context("reading the password from the terminal")?;
        if first != again {
            bail!("the two passwords differ: nothing was changed");
        }
        first
    } else {
        let mut line = String::new();
        std::io::stdin().read_line(&mut line).context("reading the password from standard input")?;
        line.trim_end_matches(['\r', '\n']).to_string()
    };
    check_password(&password)?;
    check_strength(&password, context)?;
    Ok(password)
}

/// The shortest password accepted; the worker enforces the same.
pub const MIN_PASSWORD_CHARS: usize = 8;

/// Refuses what the worker would refuse for its length, before anything is sent. Never
/// repeats the password.
pub fn check_password(password: &str) -> Result<()> {
    if password.trim().is_empty() {
        bail!("the password is empty: nothing was changed (use --clear to remove a password)");
    }
    if password.chars().count() < MIN_PASSWORD_CHARS {
        bail!("the password is shorter than {MIN_PASSWORD_CHARS} characters: nothing was changed; choose a longer one");
    }
    Ok(())
}

/// `zxcvbn`'s estimate a password needs here, as log10 of the guesses: a billion guesses, which
/// the words-and-years passwords people reach for first (`Elephant2023!`) stay below.
pub const MIN_GUESSES_LOG10: f64 = 9.0;

/// Refuses a password too easy to guess for a link known by `context`, offering a generated
/// passphrase: the worker's rule first (it checks again with the gallery's and link's titles),
/// then `zxcvbn`'s estimate.
pub fn check_strength(password: &str, context: &[&str]) -> Result<()> {
    let refusal = match passphrase::check(password, context) {
        Err(weak) => Some(weak.message),
        Ok(()) => {
            let estimate = zxcvbn::zxcvbn(password, context);
            let hint = estimate.feedback().and_then(|f| f.warning()).map(|w| format!(" ({w})")).unwrap_or_default();
            (estimate.guesses_log10() < MIN_GUESSES_LOG10).then(|| {
                format!(
                    "the password is too easy to guess (about 10^{:.0} guesses by zxcvbn's estimate, 10^{MIN_GUESSES_LOG10:.0} needed){hint}: \
                     a few unrelated words, or a generated passphrase, are strong",
                    estimate.guesses_log10().floor()
                )
            })
        }
    };
    if let Some(message) = refusal {
        bail!("{message}: nothing was changed. A generated passphrase you could use: {} (or run `gatefold password <target> --generate`)", generate()?);
    }
    Ok(())
}

/// `gatefold password`: one link, or each recipient of an audience.
pub fn set(server: &Server, target: &str, new: New, show: impl Fn(LinkStatus) -> Result<()>) -> Result<()> {
    let target = Target::links_only(target)?;
    let links: Vec<(String, String)> = match &target {
        Target::Link { gallery, link } => vec![(gallery.clone(), link.clone())],
        Target::Audience { gallery, audience } => {
            let prefix = format!("{audience}/");
            let all = server.links()?;
            let links: Vec<(String, String)> = all.links.into_iter().filter(|l| l.gallery == *gallery && l.name.starts_with(&prefix)).map(|l| (l.gallery, l.name)).collect();
            if links.is_empty() {
                bail!("the server knows no recipients of audience {audience} in gallery {gallery}: check the name, or publish first");
            }
            links
        }
        Target::Gallery(_) => unreachable!("links_only refuses a gallery"),
    };
    let context: Vec<&str> = links.iter().flat_map(|(g, l)| [g.as_str(), l.as_str()]).collect();
    let password = match new {
        New::Clear => None,
        New::Ask => Some(read_new_password(&context)?),
        New::Generate => Some(generate()?),
    };
    for (gallery, link) in &links {
        show(server.set_password(gallery, link, password.as_deref())?)?;
    }
    if let (New::Generate, Some(p)) = (new, &password) {
        println!("new password (shown once; hand it to the recipients): {p}");
    }
    Ok(())
}
