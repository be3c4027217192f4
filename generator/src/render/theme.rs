//! The theme: its templates, its interface strings in every language, and its static files.

use super::{site_file, write};
use anyhow::{Context, Result, bail};
use gatefold_contract::Locale;
use gatefold_contract::manifest::PUBLIC_PREFIX;
use gatefold_contract::owner::{ShownExpiry, Wording};
use minijinja::value::{Kwargs, Value};
use minijinja::{Environment, UndefinedBehavior};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Copies the theme's `static/` files to `site_dir/assets/<hash>/`, the hash covering every
/// file's path and bytes, so a changed theme gets new URLs and browsers may cache the old
/// ones forever. Returns the public base path, ending in `/`.
pub(super) fn copy_static(static_dir: &Path, site_dir: &Path) -> Result<String> {
    let mut files = Vec::new();
    for rel in static_files(static_dir)? {
        let path = static_dir.join(&rel);
        let bytes = std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
        files.push((rel, bytes));
    }
    let mut hasher = blake3::Hasher::new();
    for (rel, bytes) in &files {
        let name = rel.to_string_lossy();
        hasher.update(&(name.len() as u64).to_le_bytes());
        hasher.update(name.as_bytes());
        hasher.update(&(bytes.len() as u64).to_le_bytes());
        hasher.update(bytes);
    }
    let hash = &hasher.finalize().to_hex()[..8];
    let base = format!("{PUBLIC_PREFIX}{hash}/");
    let dir = site_file(site_dir, &base);
    for (rel, bytes) in &files {
        write(&dir.join(rel), bytes)?;
    }
    Ok(base)
}

/// A hash of every file of the theme (templates, strings, static files): a build reuses a
/// gallery's previous pages only when the theme they were rendered with is the same.
pub(super) fn fingerprint(theme_dir: &Path) -> Result<blake3::Hash> {
    let mut hasher = blake3::Hasher::new();
    for entry in walkdir::WalkDir::new(theme_dir).sort_by_file_name() {
        let entry = entry.with_context(|| format!("listing {}", theme_dir.display()))?;
        if entry.file_type().is_file() {
            let name = entry.path().strip_prefix(theme_dir).expect("walkdir stays under its root").to_string_lossy().into_owned();
            let bytes = std::fs::read(entry.path()).with_context(|| format!("reading {}", entry.path().display()))?;
            for part in [name.as_bytes(), &bytes] {
                hasher.update(&(part.len() as u64).to_le_bytes());
                hasher.update(part);
            }
        }
    }
    Ok(hasher.finalize())
}

/// The theme's static files, relative to `static_dir`, sorted.
pub(super) fn static_files(static_dir: &Path) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for entry in walkdir::WalkDir::new(static_dir).sort_by_file_name() {
        let entry = entry.with_context(|| format!("listing {}", static_dir.display()))?;
        if entry.file_type().is_file() {
            files.push(entry.path().strip_prefix(static_dir).expect("walkdir stays under its root").to_path_buf());
        }
    }
    if files.is_empty() {
        bail!("{} has no files: the theme needs at least gallery.css and gallery.js", static_dir.display());
    }
    Ok(files)
}

/// The theme: its templates and its interface strings in every language.
pub(super) struct Theme {
    env: Environment<'static>,
    strings: BTreeMap<Locale, BTreeMap<String, String>>,
    pub(super) owner_css: String,
}

impl Theme {
    pub(super) fn load(dir: &Path) -> Result<Theme> {
        let templates = dir.join("templates");
        if !templates.is_dir() {
            bail!("{} is missing: a theme keeps its page templates there", templates.display());
        }
        let mut env = Environment::new();
        env.set_loader(minijinja::path_loader(templates));
        // A misspelt variable or a string missing from a language must fail the build, not
        // print an empty gap on a page sent to customers.
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        env.set_trim_blocks(true);
        env.set_lstrip_blocks(true);
        env.set_keep_trailing_newline(true);
        env.add_filter("fill", fill);
        env.set_formatter(html_formatter);

        let mut strings = BTreeMap::new();
        for locale in Locale::ALL {
            let path = dir.join("strings").join(format!("{}.yaml", locale.tag()));
            let text = std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
            let map: BTreeMap<String, String> = serde_yaml_ng::from_str(&text).with_context(|| {
                format!("parsing {}: it must be a flat map of string keys to string values", path.display())
            })?;
            strings.insert(locale, map);
        }
        // Every language must say everything the first one says, and nothing it doesn't.
        let (first, reference) = strings.iter().next().expect("Locale::ALL is not empty");
        for (locale, map) in &strings {
            let path = dir.join("strings").join(format!("{}.yaml", locale.tag()));
            if let Some(key) = reference.keys().find(|k| !map.contains_key(*k)) {
                bail!("{} has no string {key:?}: add it (see strings/{}.yaml)", path.display(), first.tag());
            }
            if let Some(key) = map.keys().find(|k| !reference.contains_key(*k)) {
                bail!(
                    "{} has string {key:?} that strings/{}.yaml lacks: add it there too or remove it",
                    path.display(),
                    first.tag()
                );
            }
        }

        let owner_css_path = dir.join("owner").join("owner.css");
        let owner_css = std::fs::read_to_string(&owner_css_path)
            .with_context(|| format!("reading {}", owner_css_path.display()))?;
        Ok(Theme { env, strings, owner_css })
    }

    pub(super) fn render(&self, template: &str, ctx: Value) -> Result<String> {
        let tmpl = self.env.get_template(template).with_context(|| format!("loading template {template}"))?;
        tmpl.render(ctx).map_err(|e| anyhow::anyhow!("rendering template {template}: {e:#}"))
    }

    pub(super) fn strings(&self, locale: Locale) -> &BTreeMap<String, String> {
        &self.strings[&locale]
    }

    /// How `locale` words a link's terms in the owner files, from its strings; the date format
    /// is tried once here so a bad one fails the build, not an owner's card.
    pub(super) fn wording(&self, locale: Locale) -> Result<Wording> {
        // The fields are the theme's string keys: serde picks them out of the whole map.
        let strings = serde_json::to_value(self.strings(locale))?;
        let wording: Wording = serde_json::from_value(strings)
            .map_err(|e| anyhow::anyhow!("strings/{}.yaml: {e}: the owner files need it", locale.tag()))?;
        wording
            .date(&ShownExpiry { at: 0, utc_offset: 0, end_of_day: false })
            .map_err(|e| anyhow::anyhow!("strings/{}.yaml: {e}", locale.tag()))?;
        Ok(wording)
    }
}

/// Escapes the five characters that matter in HTML text and quoted attributes, and nothing
/// else: minijinja's default also escapes `/`, which turns every URL into `&#x2f;` noise.
fn html_formatter(
    out: &mut minijinja::Output<'_>,
    state: &minijinja::State<'_, '_>,
    value: &Value,
) -> Result<(), minijinja::Error> {
    if state.auto_escape() != minijinja::AutoEscape::Html || value.is_safe() {
        return minijinja::escape_formatter(out, state, value);
    }
    let text = if value.is_none() { String::new() } else { value.to_string() };
    out.write_str(&gatefold_contract::owner::escape_html(&text))
        .map_err(|_| minijinja::Error::new(minijinja::ErrorKind::WriteFailure, "writing template output"))
}

/// `{{ t.available_until | fill(date=d, tz=z) }}`: replaces `{date}` and `{tz}` in a string from
/// the strings file, so word order stays the translator's choice.
fn fill(text: String, kwargs: Kwargs) -> Result<String, minijinja::Error> {
    let mut out = text;
    for key in kwargs.args().map(str::to_string).collect::<Vec<_>>() {
        let value: Value = kwargs.get(&key)?;
        out = out.replace(&format!("{{{key}}}"), &value.to_string());
    }
    kwargs.assert_all_used()?;
    Ok(out)
}


#[cfg(test)]
mod tests {
    use super::*;
    use minijinja::context;

    #[test]
    fn fill_replaces_named_placeholders() {
        let mut env = Environment::new();
        env.add_filter("fill", fill);
        let out = env.render_str("{{ 'Until {date} ({tz})' | fill(date='5 Dec', tz='UTC') }}", ()).unwrap();
        assert_eq!(out, "Until 5 Dec (UTC)");
    }

    #[test]
    fn html_output_escapes_markup_but_leaves_urls_readable() {
        let mut env = Environment::new();
        env.set_formatter(html_formatter);
        env.add_template("t.html", "<a href=\"{{ u }}\">{{ s }}</a>{{ h }}{{ n }}").unwrap();
        let out = env
            .get_template("t.html")
            .unwrap()
            .render(context! { u => "/s/tok/i/a.jpg?x=1&y=2", s => "<b>\"it's\"</b>", h => Value::from_safe_string("<i>ok</i>".into()), n => () })
            .unwrap();
        assert_eq!(out, "<a href=\"/s/tok/i/a.jpg?x=1&amp;y=2\">&lt;b&gt;&quot;it&#39;s&quot;&lt;/b&gt;</a><i>ok</i>");
    }
}
