//! Where the signing key comes from.
//!
//! Production builds take `SIGNING_KEY` from the environment (a repository secret) and refuse
//! to run without it: links built with a guessable key would be guessable. Local runs use the
//! key in `.dev.vars` (created by `make run` with random values), or failing that the built-in
//! development key, and say so.

use anyhow::{Context, Result, bail};
use gatefold_contract::SigningKey;
use gatefold_contract::token::{DEV_SECRET, MIN_SECRET_CHARS};
use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyOrigin {
    Environment,
    DevVars(PathBuf),
    BuiltInDevKey,
    /// A retired key's secret, given for this run only (`gatefold trace` re-plans the site
    /// with each `RETIRED_SIGNING_KEYS` secret to read the marks made with it).
    Retired,
}

impl fmt::Display for KeyOrigin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeyOrigin::Environment => f.write_str("SIGNING_KEY from the environment"),
            KeyOrigin::DevVars(path) => write!(f, "SIGNING_KEY from {}", path.display()),
            KeyOrigin::BuiltInDevKey => f.write_str("the built-in DEVELOPMENT key (links are for local testing only)"),
            KeyOrigin::Retired => f.write_str("a retired signing key (RETIRED_SIGNING_KEYS)"),
        }
    }
}

/// Reads `KEY=value` lines of a wrangler `.dev.vars` file (dotenv syntax: comments, optional
/// quotes). A missing file is an empty map.
pub fn read_dev_vars(path: &Path) -> Result<BTreeMap<String, String>> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(BTreeMap::new()),
        Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
    };
    Ok(text
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .filter_map(|line| line.split_once('='))
        .map(|(k, v)| {
            let v = v.trim();
            let unquoted = v
                .strip_prefix('"')
                .and_then(|v| v.strip_suffix('"'))
                .or_else(|| v.strip_prefix('\'').and_then(|v| v.strip_suffix('\'')))
                .unwrap_or(v);
            (k.trim().to_string(), unquoted.to_string())
        })
        .collect())
}

/// Picks the signing key for a build. `project_root` is where `.dev.vars` lives.
pub fn signing_key(project_root: &Path, production: bool) -> Result<(SigningKey, KeyOrigin)> {
    signing_key_from(std::env::var("SIGNING_KEY").ok(), project_root, production)
}

fn signing_key_from(env: Option<String>, project_root: &Path, production: bool) -> Result<(SigningKey, KeyOrigin)> {
    if let Some(secret) = env.filter(|s| !s.is_empty()) {
        if production {
            check_production_secret(&secret)?;
        }
        return Ok((SigningKey::from_secret(&secret), KeyOrigin::Environment));
    }
    if production {
        bail!(
            "a production build needs SIGNING_KEY in the environment (fix: set the repository secret SIGNING_KEY, \
             or export SIGNING_KEY=… with at least {MIN_SECRET_CHARS} random characters, e.g. from `openssl rand -base64 48`)"
        );
    }
    let dev_vars = project_root.join(".dev.vars");
    if let Some(secret) = read_dev_vars(&dev_vars)?.remove("SIGNING_KEY").filter(|s| !s.is_empty()) {
        return Ok((SigningKey::from_secret(&secret), KeyOrigin::DevVars(dev_vars)));
    }
    Ok((SigningKey::from_secret(DEV_SECRET), KeyOrigin::BuiltInDevKey))
}

fn check_production_secret(secret: &str) -> Result<()> {
    if secret == DEV_SECRET {
        bail!("SIGNING_KEY is the public development key; a production build needs a secret of its own");
    }
    if secret.chars().count() < MIN_SECRET_CHARS {
        bail!(
            "SIGNING_KEY has {} characters; a production key needs at least {MIN_SECRET_CHARS} (fix: generate one with `openssl rand -base64 48`)",
            secret.chars().count()
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn production_builds_refuse_to_run_without_a_real_key() {
        let dir = tempfile::tempdir().unwrap();
        assert!(signing_key_from(None, dir.path(), true).unwrap_err().to_string().contains("SIGNING_KEY"));
        assert!(signing_key_from(Some("short".into()), dir.path(), true).is_err());
        assert!(signing_key_from(Some(DEV_SECRET.into()), dir.path(), true).is_err());
        let long = "x".repeat(MIN_SECRET_CHARS);
        assert_eq!(signing_key_from(Some(long), dir.path(), true).unwrap().1, KeyOrigin::Environment);
    }

    #[test]
    fn local_builds_prefer_dev_vars_then_the_labelled_dev_key() {
        let dir = tempfile::tempdir().unwrap();
        let (_, origin) = signing_key_from(None, dir.path(), false).unwrap();
        assert_eq!(origin, KeyOrigin::BuiltInDevKey);
        std::fs::write(dir.path().join(".dev.vars"), "# local secrets\nSIGNING_KEY=\"abc def\"\nADMIN_TOKEN=t\n").unwrap();
        let (key, origin) = signing_key_from(None, dir.path(), false).unwrap();
        assert_eq!(origin, KeyOrigin::DevVars(dir.path().join(".dev.vars")));
        assert_eq!(key.link_token("g", "l", 0), SigningKey::from_secret("abc def").link_token("g", "l", 0));
    }

    #[test]
    fn dev_vars_parse_like_dotenv() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(".dev.vars");
        std::fs::write(&path, "A=1\n  B = 'two' \n#C=3\nbroken line\n").unwrap();
        let vars = read_dev_vars(&path).unwrap();
        assert_eq!(vars.get("A").map(String::as_str), Some("1"));
        assert_eq!(vars.get("B").map(String::as_str), Some("two"));
        assert!(!vars.contains_key("C"));
    }
}
