//! Problems found in the owner's input, reported all at once, each naming the file, the place
//! in it, what is wrong and how to fix it.

use std::fmt;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Warning,
    Error,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub severity: Severity,
    pub file: PathBuf,
    /// 1-based line and column, where the problem has a place in a text file.
    pub line: Option<usize>,
    pub column: Option<usize>,
    /// The YAML field path, e.g. `links.market.max_views`.
    pub field: Option<String>,
    pub message: String,
    /// What the owner should do about it.
    pub fix: Option<String>,
}

impl Diagnostic {
    pub fn error(file: impl AsRef<Path>, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            severity: Severity::Error,
            file: file.as_ref().to_path_buf(),
            line: None,
            column: None,
            field: None,
            message: message.into(),
            fix: None,
        }
    }

    pub fn warning(file: impl AsRef<Path>, message: impl Into<String>) -> Diagnostic {
        Diagnostic { severity: Severity::Warning, ..Diagnostic::error(file, message) }
    }

    pub fn at(mut self, line: usize, column: usize) -> Diagnostic {
        self.line = Some(line);
        self.column = Some(column);
        self
    }

    /// A place known by line only (a CSV row).
    pub fn line(mut self, line: usize) -> Diagnostic {
        self.line = Some(line);
        self
    }

    pub fn field(mut self, field: impl Into<String>) -> Diagnostic {
        self.field = Some(field.into());
        self
    }

    pub fn fix(mut self, fix: impl Into<String>) -> Diagnostic {
        self.fix = Some(fix.into());
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

impl fmt::Display for Diagnostic {
    /// `error: galleries/launch/gallery.yaml:12:16: links.market.max_views: must be at least 1 (fix: …)`
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        write!(f, "{kind}: {}", self.file.display())?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
            if let Some(column) = self.column {
                write!(f, ":{column}")?;
            }
        }
        write!(f, ": ")?;
        if let Some(field) = &self.field {
            write!(f, "{field}: ")?;
        }
        write!(f, "{}", self.message)?;
        if let Some(fix) = &self.fix {
            write!(f, "\n  fix: {fix}")?;
        }
        Ok(())
    }
}

/// Every problem of a run, in the order found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl Diagnostics {
    pub fn push(&mut self, d: Diagnostic) {
        self.0.push(d);
    }

    pub fn extend(&mut self, other: Diagnostics) {
        self.0.extend(other.0);
    }

    pub fn errors(&self) -> impl Iterator<Item = &Diagnostic> {
        self.0.iter().filter(|d| d.is_error())
    }

    pub fn warnings(&self) -> impl Iterator<Item = &Diagnostic> {
        self.0.iter().filter(|d| !d.is_error())
    }

    pub fn has_errors(&self) -> bool {
        self.errors().next().is_some()
    }

    /// Sorted by file then position, so a report reads top to bottom like the files.
    pub fn sorted(mut self) -> Diagnostics {
        self.0.sort_by(|a, b| (&a.file, a.line, a.column).cmp(&(&b.file, b.line, b.column)));
        self
    }
}

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for d in &self.0 {
            writeln!(f, "{d}")?;
        }
        let errors = self.errors().count();
        let warnings = self.warnings().count();
        write!(f, "{errors} error{}, {warnings} warning{}", plural(errors), plural(warnings))
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// The error a command returns when the input has problems: the report is already complete.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct InvalidInput(pub Diagnostics);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_diagnostic_names_file_place_field_and_fix() {
        let d = Diagnostic::error("galleries/launch/gallery.yaml", "must be at least 1")
            .at(12, 16)
            .field("links.market.max_views")
            .fix("write a positive number of views, or remove the field to inherit the site default");
        assert_eq!(
            d.to_string(),
            "error: galleries/launch/gallery.yaml:12:16: links.market.max_views: must be at least 1\n  fix: write a positive number of views, or remove the field to inherit the site default"
        );
    }

    #[test]
    fn the_report_counts_errors_and_warnings() {
        let mut all = Diagnostics::default();
        all.push(Diagnostic::warning("b.yaml", "w"));
        all.push(Diagnostic::error("a.yaml", "e"));
        assert!(all.has_errors());
        let text = all.sorted().to_string();
        assert!(text.starts_with("error: a.yaml: e"), "{text}");
        assert!(text.ends_with("1 error, 1 warning"), "{text}");
    }
}
