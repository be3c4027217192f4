//! Reading owner-written YAML with positions, so every problem can point at its line.
//!
//! We load into saphyr's marked nodes rather than deserialising straight into structs: serde
//! stops at the first problem, while an owner fixing a gallery wants every problem of the
//! file in one run, each with the line of the offending field.

// A diagnostic is the cold path of a config read; boxing it would only add noise.
#![allow(clippy::result_large_err)]

use std::path::{Path, PathBuf};

use saphyr::{MarkedYaml, Scalar, ScanError, YamlData, YamlLoader};
use saphyr_parser::{Event, Parser, Span, SpannedEventReceiver};

use crate::diagnostics::Diagnostic;

/// Config files are a few KB; anything bigger is a mistake or an attack, and reading it
/// whole would only waste memory.
pub const MAX_FILE_BYTES: u64 = 1_000_000;
/// Our schema nests four levels deep; far deeper input is hostile and would make tree
/// building and dropping recurse.
pub const MAX_DEPTH: usize = 32;
/// Aliases are legal YAML and handy for repeating a link's policy, but each expansion copies
/// nodes; this bound keeps a "billion laughs" file from exhausting memory.
pub const MAX_ALIAS_NODES: usize = 10_000;

const NESTING_FIX: &str = "gallery files need at most four levels of indentation; remove the extra nesting";

pub type Node<'a> = MarkedYaml<'a>;

/// Reads a YAML file, refusing huge files and non-UTF-8 text with a clear diagnostic.
pub fn read_text(path: &Path) -> Result<String, Diagnostic> {
    let meta = std::fs::metadata(path)
        .map_err(|e| Diagnostic::error(path, format!("cannot read the file: {e}")).fix("check that the file exists and is readable"))?;
    if meta.len() > MAX_FILE_BYTES {
        return Err(Diagnostic::error(path, format!("the file is {} bytes, over the {MAX_FILE_BYTES}-byte limit for configuration", meta.len()))
            .fix("keep only configuration in this file; long texts belong in description.md"));
    }
    let bytes = std::fs::read(path)
        .map_err(|e| Diagnostic::error(path, format!("cannot read the file: {e}")).fix("check that the file is readable"))?;
    String::from_utf8(bytes).map_err(|e| {
        Diagnostic::error(path, format!("the file is not UTF-8 text (invalid byte at offset {})", e.utf8_error().valid_up_to()))
            .fix("save the file as UTF-8 (every modern editor can; Chinese text is fine in UTF-8)")
    })
}

/// Forwards events to saphyr's loader until the nesting gets suspiciously deep.
struct DepthGuard<'a> {
    loader: YamlLoader<'a, Node<'a>>,
    depth: usize,
    too_deep: Option<Span>,
}

impl<'a> SpannedEventReceiver<'a> for DepthGuard<'a> {
    fn on_event(&mut self, ev: Event<'a>, span: Span) {
        if self.too_deep.is_some() {
            return;
        }
        match ev {
            Event::SequenceStart(..) | Event::MappingStart(..) => {
                self.depth += 1;
                if self.depth > MAX_DEPTH {
                    self.too_deep = Some(span);
                    return;
                }
            }
            Event::SequenceEnd | Event::MappingEnd => self.depth = self.depth.saturating_sub(1),
            _ => {}
        }
        self.loader.on_event(ev, span);
    }
}

fn scan_error(path: &Path, text: &str, e: &ScanError) -> Diagnostic {
    let m = e.marker();
    let info = e.info();
    let d = Diagnostic::error(path, format!("invalid YAML: {info}")).at(m.line(), m.col() + 1);
    if info.contains("duplicated key") {
        let key = text.lines().nth(m.line().saturating_sub(1)).and_then(|l| l.split(':').next()).map(|k| k.trim().trim_matches(['"', '\'', '-', ' ']));
        let message = match key {
            Some(k) if !k.is_empty() => format!("`{k}` appears twice in the same mapping"),
            _ => "a key appears twice in the same mapping".to_string(),
        };
        return Diagnostic { message, ..d }.fix("each link name and each field may appear only once: rename or remove the second one");
    }
    if info.contains("recursion limit") {
        return Diagnostic { message: "the YAML nests too deeply".into(), ..d }.fix(NESTING_FIX);
    }
    if info.contains("alias expansion") {
        return Diagnostic { message: "YAML aliases expand to too many nodes (a \"billion laughs\" file?)".into(), ..d }
            .fix("write the values out instead of nesting aliases (`*name`) inside anchors");
    }
    d.fix("check indentation (spaces, not tabs), colons after keys, and quotes around text containing `: ` or `#`")
}

/// Parses one YAML document. `Ok(None)` for an empty file.
pub fn parse<'a>(path: &Path, text: &'a str) -> Result<Option<Node<'a>>, Diagnostic> {
    let mut loader = YamlLoader::default();
    loader.alias_limit(MAX_ALIAS_NODES);
    let mut guard = DepthGuard { loader, depth: 0, too_deep: None };
    // Driven event by event: saphyr's own `Parser::load` recurses once per nesting level,
    // which a hostile file could use to overflow the stack before any check runs.
    for event in Parser::new_from_str(text) {
        match event {
            Ok((ev, span)) => guard.on_event(ev, span),
            Err(e) => return Err(scan_error(path, text, &e)),
        }
        if guard.too_deep.is_some() || guard.loader.error().is_some() {
            break;
        }
    }
    if let Some(span) = guard.too_deep {
        return Err(Diagnostic::error(path, format!("the YAML nests deeper than {MAX_DEPTH} levels"))
            .at(span.start.line(), span.start.col() + 1)
            .fix(NESTING_FIX));
    }
    if let Some(e) = guard.loader.error() {
        return Err(scan_error(path, text, e));
    }
    let mut docs = guard.loader.into_documents();
    if docs.len() > 1 {
        let start = docs[1].span.start;
        return Err(Diagnostic::error(path, "the file holds more than one YAML document")
            .at(start.line(), start.col() + 1)
            .fix("remove the `---` separator and merge the documents into one"));
    }
    Ok(docs.pop().filter(|d| !matches!(d.data, YamlData::Value(Scalar::Null))))
}

/// Collects the diagnostics for one file, attaching positions from nodes.
pub struct FileDiagnostics {
    pub path: PathBuf,
    pub diags: Vec<Diagnostic>,
}

pub fn pos(node: &Node<'_>) -> (usize, usize) {
    (node.span.start.line(), node.span.start.col() + 1)
}

impl FileDiagnostics {
    pub fn new(path: impl Into<PathBuf>) -> FileDiagnostics {
        FileDiagnostics { path: path.into(), diags: Vec::new() }
    }

    pub fn error(&mut self, node: Option<&Node<'_>>, field: &str, message: impl Into<String>, fix: impl Into<String>) {
        self.push(Diagnostic::error(&self.path, message), node, field, fix);
    }

    pub fn warning(&mut self, node: Option<&Node<'_>>, field: &str, message: impl Into<String>, fix: impl Into<String>) {
        self.push(Diagnostic::warning(&self.path, message), node, field, fix);
    }

    fn push(&mut self, mut d: Diagnostic, node: Option<&Node<'_>>, field: &str, fix: impl Into<String>) {
        if let Some(node) = node {
            let (line, col) = pos(node);
            d = d.at(line, col);
        }
        if !field.is_empty() {
            d = d.field(field);
        }
        self.diags.push(d.fix(fix));
    }

    /// A mapping's entries with string keys, in document order; reports anything else.
    pub fn mapping<'n, 'a>(&mut self, node: &'n Node<'a>, field: &str, what: &str) -> Option<Map<'n, 'a>> {
        let YamlData::Mapping(map) = &node.data else {
            self.error(Some(node), field, format!("expected {what}, found {}", describe(node)), format!("write {what} as indented `key: value` lines"));
            return None;
        };
        let mut entries = Vec::with_capacity(map.len());
        for (key, value) in map {
            match key_text(key) {
                Some(k) => entries.push(Entry { key: k, key_node: key, value }),
                None => self.error(Some(key), field, format!("keys must be plain names, found {}", describe(key)), "write the key as a plain word"),
            }
        }
        Some(Map { entries })
    }

    /// Reports keys not in `known`, suggesting the closest known one.
    pub fn unknown_keys(&mut self, map: &Map<'_, '_>, prefix: &str, known: &[&str]) {
        for entry in &map.entries {
            if known.contains(&entry.key.as_str()) {
                continue;
            }
            let field = join(prefix, &entry.key);
            let fix = match did_you_mean(&entry.key, known.iter().copied()) {
                Some(best) => format!("did you mean `{best}`? (known fields: {})", known.join(", ")),
                None => format!("remove it; known fields here: {}", known.join(", ")),
            };
            self.error(Some(entry.key_node), &field, format!("unknown field `{}`", entry.key), fix);
        }
    }

    /// Text of a scalar (numbers and booleans as written); `None` and an error otherwise.
    pub fn text(&mut self, node: &Node<'_>, field: &str) -> Option<String> {
        match scalar_text(node) {
            Some(t) => Some(t),
            None => {
                self.error(Some(node), field, format!("expected text, found {}", describe(node)), "write the text on the same line after the colon, quoted if it contains `: ` or `#`");
                None
            }
        }
    }

    /// Non-empty text.
    pub fn required_text(&mut self, node: &Node<'_>, field: &str) -> Option<String> {
        let t = self.text(node, field)?;
        if t.trim().is_empty() {
            self.error(Some(node), field, "must not be empty", "write a short human-readable text");
            return None;
        }
        Some(t.trim().to_string())
    }

    pub fn bool(&mut self, node: &Node<'_>, field: &str) -> Option<bool> {
        match &node.data {
            YamlData::Value(Scalar::Boolean(b)) => Some(*b),
            _ => {
                self.error(Some(node), field, format!("expected true or false, found {}", describe(node)), "write `true` or `false`");
                None
            }
        }
    }

    /// A whole number in `min..=max`.
    pub fn int(&mut self, node: &Node<'_>, field: &str, min: i64, max: i64, fix: &str) -> Option<i64> {
        match &node.data {
            YamlData::Value(Scalar::Integer(n)) if (min..=max).contains(n) => Some(*n),
            YamlData::Value(Scalar::Integer(n)) if *n < min => {
                self.error(Some(node), field, format!("must be at least {min}, found {n}"), fix);
                None
            }
            YamlData::Value(Scalar::Integer(n)) => {
                self.error(Some(node), field, format!("must be at most {max}, found {n}"), fix);
                None
            }
            _ => {
                self.error(Some(node), field, format!("expected a whole number, found {}", describe(node)), fix);
                None
            }
        }
    }
}

pub struct Entry<'n, 'a> {
    pub key: String,
    pub key_node: &'n Node<'a>,
    pub value: &'n Node<'a>,
}

pub struct Map<'n, 'a> {
    pub entries: Vec<Entry<'n, 'a>>,
}

impl<'n, 'a> Map<'n, 'a> {
    pub fn get(&self, key: &str) -> Option<&Entry<'n, 'a>> {
        self.entries.iter().find(|e| e.key == key)
    }

    pub fn value(&self, key: &str) -> Option<&'n Node<'a>> {
        self.get(key).map(|e| e.value)
    }
}

pub fn join(prefix: &str, key: &str) -> String {
    if prefix.is_empty() { key.to_string() } else { format!("{prefix}.{key}") }
}

fn key_text(node: &Node<'_>) -> Option<String> {
    match &node.data {
        YamlData::Value(Scalar::String(s)) => Some(s.to_string()),
        YamlData::Value(Scalar::Integer(n)) => Some(n.to_string()),
        YamlData::Value(Scalar::Boolean(b)) => Some(b.to_string()),
        _ => None,
    }
}

pub fn scalar_text(node: &Node<'_>) -> Option<String> {
    match &node.data {
        YamlData::Value(Scalar::String(s)) => Some(s.to_string()),
        YamlData::Value(Scalar::Integer(n)) => Some(n.to_string()),
        YamlData::Value(Scalar::FloatingPoint(f)) => Some(f.to_string()),
        YamlData::Value(Scalar::Boolean(b)) => Some(b.to_string()),
        _ => None,
    }
}

pub fn is_null(node: &Node<'_>) -> bool {
    matches!(node.data, YamlData::Value(Scalar::Null))
}

/// How a node reads in an error message.
pub fn describe(node: &Node<'_>) -> String {
    match &node.data {
        YamlData::Value(Scalar::Null) => "nothing (an empty value)".into(),
        YamlData::Value(Scalar::Boolean(b)) => format!("`{b}`"),
        YamlData::Value(Scalar::Integer(n)) => format!("`{n}`"),
        YamlData::Value(Scalar::FloatingPoint(f)) => format!("`{f}`"),
        YamlData::Value(Scalar::String(s)) => {
            let short: String = s.chars().take(40).collect();
            format!("`{short}`")
        }
        YamlData::Sequence(_) => "a list".into(),
        YamlData::Mapping(_) => "a mapping".into(),
        YamlData::Tagged(tag, _) => format!("a value tagged `{tag}`"),
        _ => "an unreadable value".into(),
    }
}

/// The closest candidate, if it is close enough to be what the owner meant.
pub fn did_you_mean<'c>(word: &str, candidates: impl IntoIterator<Item = &'c str>) -> Option<&'c str> {
    let word = word.to_lowercase();
    candidates
        .into_iter()
        .map(|c| (strsim::normalized_damerau_levenshtein(&word, &c.to_lowercase()), c))
        .filter(|(score, _)| *score >= 0.7)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_typo_suggests_the_intended_field() {
        assert_eq!(did_you_mean("max_view", ["label", "max_views", "expires"]), Some("max_views"));
        assert_eq!(did_you_mean("expire", ["label", "max_views", "expires"]), Some("expires"));
        assert_eq!(did_you_mean("downlaod", ["label", "download", "disabled"]), Some("download"));
        assert_eq!(did_you_mean("colour", ["label", "max_views", "expires"]), None);
        assert_eq!(did_you_mean("back.jpg", ["a.jpg"]), None, "a shared extension is not a resemblance");
    }

    #[test]
    fn duplicate_keys_are_named_with_their_line() {
        let text = "links:\n  market:\n    max_views: 1\n  market:\n    max_views: 2\n";
        let d = parse(Path::new("g.yaml"), text).unwrap_err();
        assert_eq!(d.line, Some(4), "{d}");
        assert!(d.message.contains("`market` appears twice"), "{d}");
    }

    #[test]
    fn a_billion_laughs_file_is_refused() {
        let mut text = String::from("a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n");
        for (prev, name) in ["a", "b", "c", "d", "e", "f", "g", "h"].iter().zip(["b", "c", "d", "e", "f", "g", "h", "i"]) {
            let refs = vec![format!("*{prev}"); 9].join(",");
            text.push_str(&format!("{name}: &{name} [{refs}]\n"));
        }
        let d = parse(Path::new("bomb.yaml"), &text).unwrap_err();
        assert!(d.message.contains("aliases expand to too many nodes"), "{d}");
    }

    #[test]
    fn deep_nesting_is_refused_without_overflowing_the_stack() {
        let text = format!("{}1{}", "[".repeat(100_000), "]".repeat(100_000));
        let d = parse(Path::new("deep.yaml"), &text).unwrap_err();
        assert!(d.message.contains("nests too deeply"), "{d}");
        let block: String = (0..1000).map(|depth| format!("{}k{depth}:\n", "  ".repeat(depth))).collect();
        let d = parse(Path::new("deep.yaml"), &block).unwrap_err();
        assert!(d.message.contains("nests deeper than 32 levels"), "{d}");
        assert_eq!(d.line, Some(33), "{d}");
    }

    #[test]
    fn an_empty_file_is_no_document() {
        assert!(parse(Path::new("e.yaml"), "# nothing yet\n").unwrap().is_none());
    }
}
