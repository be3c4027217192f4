//! R2 through `scripts/r2.mjs`: one Node process uploads any number of objects (local R2 through
//! Miniflare, Cloudflare's through the S3-compatible API), instead of one `wrangler r2 object put`
//! process per object.

use anyhow::{Context, Result, bail};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// `r2.mjs get` exits with this when the key does not exist.
const EXIT_NO_SUCH_KEY: i32 = 2;

/// Which R2 the tool talks to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// Miniflare's R2 under the directory `wrangler dev --persist-to` uses.
    Local { persist_to: PathBuf },
    /// Cloudflare's R2 (credentials from the environment).
    Remote,
}

/// What one `put-list` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Uploaded {
    pub objects: usize,
    pub bytes: u64,
    /// Objects of the list the bucket already had (local R2 checks each one; remote uploads all).
    pub already_there: usize,
}

pub struct R2Tool {
    /// `scripts/r2.mjs` (absolute: it finds its packages in the `node_modules` next to it).
    pub script: PathBuf,
    pub bucket: String,
    pub target: Target,
}

impl R2Tool {
    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new("node");
        cmd.arg(&self.script).args(args).arg("--bucket").arg(&self.bucket);
        match &self.target {
            Target::Local { persist_to } => cmd.arg("--local").arg("--persist-to").arg(persist_to),
            Target::Remote => cmd.arg("--remote"),
        };
        // Credentials reach the tool through the inherited environment, never its arguments.
        cmd.env("WRANGLER_SEND_METRICS", "false");
        cmd
    }

    fn what(&self, args: &[&str]) -> String {
        format!("node {} {} --bucket {}", self.script.display(), args.join(" "), self.bucket)
    }

    /// Writes object `key` to `file`; `false` when the bucket has no such key.
    pub fn get(&self, key: &str, file: &Path) -> Result<bool> {
        let file = file.display().to_string();
        let args = ["get", key, &file];
        let status = self.command(&args).status().with_context(|| format!("starting {} (is Node installed?)", self.what(&args)))?;
        match status.code() {
            Some(0) => Ok(true),
            Some(EXIT_NO_SUCH_KEY) => Ok(false),
            _ => bail!("{} failed ({status})", self.what(&args)),
        }
    }

    pub fn put(&self, key: &str, file: &Path, content_type: &str) -> Result<()> {
        let file = file.display().to_string();
        let args = ["put", key, &file, "--content-type", content_type];
        let status = self.command(&args).status().with_context(|| format!("starting {}", self.what(&args)))?;
        if !status.success() {
            bail!("{} failed ({status})", self.what(&args));
        }
        Ok(())
    }

    /// Uploads the objects listed in `list` (the format of `dist/objects.json`) in one process.
    pub fn put_list(&self, list: &Path) -> Result<Uploaded> {
        let list = list.display().to_string();
        let args = ["put-list", &list];
        let output = self
            .command(&args)
            .stderr(Stdio::inherit())
            .output()
            .with_context(|| format!("starting {} (is Node installed?)", self.what(&args)))?;
        if !output.status.success() {
            bail!("{} failed ({})", self.what(&args), output.status);
        }
        let stdout = String::from_utf8_lossy(&output.stdout);
        parse_summary(stdout.trim()).with_context(|| format!("{} printed {stdout:?}, not its summary line", self.what(&args)))
    }
}

/// Reads `uploaded N objects (B bytes), K already there`.
fn parse_summary(line: &str) -> Option<Uploaded> {
    let rest = line.strip_prefix("uploaded ")?;
    let (objects, rest) = rest.split_once(" objects (")?;
    let (bytes, rest) = rest.split_once(" bytes), ")?;
    let already = rest.strip_suffix(" already there")?;
    Some(Uploaded { objects: objects.parse().ok()?, bytes: bytes.parse().ok()?, already_there: already.parse().ok()? })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tools_summary_line_is_read_back() {
        assert_eq!(
            parse_summary("uploaded 12 objects (34567 bytes), 8 already there"),
            Some(Uploaded { objects: 12, bytes: 34567, already_there: 8 })
        );
        assert_eq!(parse_summary("r2: something else"), None);
    }
}
