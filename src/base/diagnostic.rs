//! Spans, diagnostics and the shape of a stable diagnostic code.
//!
//! Every user-visible failure of every phase is a [`Diagnostic`]: data with byte
//! spans, never holding source text. Source text is attached only when rendering
//! (`crate::base::render`). Codes are stable: a code that appeared in a release is never
//! reused for another meaning. Each phase declares its own codes with
//! [`declare_codes!`] (`E00xx` input files, `E01xx` syntax, `E02xx` names, `E03xx`
//! types and units, `E04xx` SLO semantics, `W0xxx` warnings, `L` lint) and raises
//! them by name; the registry that joins every phase's list for `mlslo explain` is
//! assembled above all of them, in the CLI, because this module imports nothing
//! of the layers above it.

use serde::Serialize;

/// A half-open byte range `[start, end)` into one source file.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct Span {
    pub start: u32,
    pub end: u32,
}

impl Span {
    pub fn new(start: usize, end: usize) -> Span {
        // Inputs are capped well below 4 GiB by the CLI, so offsets fit in u32.
        Span {
            start: u32::try_from(start).unwrap_or(u32::MAX),
            end: u32::try_from(end).unwrap_or(u32::MAX),
        }
    }

    /// The smallest span covering both.
    pub fn to(self, other: Span) -> Span {
        Span {
            start: self.start.min(other.start),
            end: self.end.max(other.end),
        }
    }

    pub fn range(self) -> std::ops::Range<usize> {
        self.start as usize..self.end as usize
    }
}

/// A value together with the span of source it came from.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Spanned<T> {
    pub span: Span,
    pub node: T,
}

impl<T> Spanned<T> {
    pub fn new(span: Span, node: T) -> Spanned<T> {
        Spanned { span, node }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Warning,
    Error,
}

/// A secondary pointer into the source, such as "first defined here".
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Label {
    pub span: Span,
    pub message: String,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Diagnostic {
    pub severity: Severity,
    /// A code from the registry, such as `E0301`.
    pub code: &'static str,
    /// Lowercase title with no final period: `unknown field`.
    pub message: String,
    /// Where the problem is, and what is wrong right there.
    pub primary: Label,
    /// Related places: the earlier duplicate, the declaration that sets a limit.
    pub secondary: Vec<Label>,
    /// How to fix it, as full sentences (rendered as `= help: ...`).
    pub help: Vec<String>,
    /// Extra facts that are not advice (rendered as `= note: ...`).
    pub notes: Vec<String>,
}

impl Diagnostic {
    pub fn error(
        code: &'static str,
        message: impl Into<String>,
        span: Span,
        label: impl Into<String>,
    ) -> Diagnostic {
        Diagnostic::new(Severity::Error, code, message, span, label)
    }

    pub fn warning(
        code: &'static str,
        message: impl Into<String>,
        span: Span,
        label: impl Into<String>,
    ) -> Diagnostic {
        Diagnostic::new(Severity::Warning, code, message, span, label)
    }

    fn new(
        severity: Severity,
        code: &'static str,
        message: impl Into<String>,
        span: Span,
        label: impl Into<String>,
    ) -> Diagnostic {
        Diagnostic {
            severity,
            code,
            message: message.into(),
            primary: Label {
                span,
                message: label.into(),
            },
            secondary: Vec::new(),
            help: Vec::new(),
            notes: Vec::new(),
        }
    }

    pub fn with_secondary(mut self, span: Span, message: impl Into<String>) -> Diagnostic {
        self.secondary.push(Label {
            span,
            message: message.into(),
        });
        self
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Diagnostic {
        self.help.push(help.into());
        self
    }

    pub fn with_note(mut self, note: impl Into<String>) -> Diagnostic {
        self.notes.push(note.into());
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// One entry of the code registry: what `mlslo explain CODE` prints.
#[derive(Clone, Copy, Debug)]
pub struct CodeInfo {
    pub code: &'static str,
    /// The severity of its diagnostics (lint's policy may change it for one run).
    pub severity: Severity,
    /// The short title, as in the diagnostic's message.
    pub title: &'static str,
    /// The long form: why it is a problem, an example that triggers it, the fix.
    pub explanation: &'static str,
}

impl CodeInfo {
    /// The diagnostic of this code at `span`: the title is its message and `label`
    /// says what is wrong right there.
    pub fn at(&self, span: Span, label: impl Into<String>) -> Diagnostic {
        Diagnostic::new(self.severity, self.code, self.title, span, label)
    }
}

impl Severity {
    /// The severity a code's prefix implies: `W` codes are warnings, `E` codes errors.
    /// Codes of any other prefix (lint's `L`) state theirs in [`declare_codes!`], and
    /// one that does not fails to compile, as this panics in a constant.
    pub const fn of_code_prefix(code: &str) -> Severity {
        match code.as_bytes() {
            [b'W', ..] => Severity::Warning,
            [b'E', ..] => Severity::Error,
            _ => panic!("a code that starts with neither E nor W states its severity"),
        }
    }
}

/// Declares the codes of one phase: one constant per code, raised by name
/// (`codes::UNKNOWN_FIELD.at(span, label)`), and a list of them all in the order
/// written, so that no code can be raised without being registered. A code's
/// severity follows from its prefix ([`Severity::of_code_prefix`]) unless the entry
/// states it after the code, as lint's do.
///
/// ```text
/// declare_codes! {
///     pub const CODES;
///     UNKNOWN_FIELD = "E0202", "unknown field", "the long explanation";
///     ALERT_WITHOUT_SEVERITY = "L0401", Warning, "alert without a `severity` label", "...";
/// }
/// ```
macro_rules! declare_codes {
    (@severity $code:literal) => {
        $crate::base::diagnostic::Severity::of_code_prefix($code)
    };
    (@severity $code:literal $severity:ident) => {
        $crate::base::diagnostic::Severity::$severity
    };
    (
        $(#[$list_attribute:meta])*
        $list_visibility:vis const $list:ident;
        $($name:ident = $code:literal, $($severity:ident,)? $title:literal, $explanation:literal;)*
    ) => {
        $(
            pub const $name: $crate::base::diagnostic::CodeInfo =
                $crate::base::diagnostic::CodeInfo {
                    code: $code,
                    severity: $crate::base::diagnostic::declare_codes!(@severity $code $($severity)?),
                    title: $title,
                    explanation: $explanation,
                };
        )*
        $(#[$list_attribute])*
        $list_visibility const $list: &[$crate::base::diagnostic::CodeInfo] = &[$($name),*];
    };
}
pub(crate) use declare_codes;

/// All sources of one run, laid end to end in one offset space, so that a
/// [`Span`] alone says which file it points into (as rustc's `SourceMap` does).
/// The parser of a file is given the file's `base` offset.
#[derive(Clone, Debug, Default)]
pub struct SourceMap {
    files: Vec<SourceFile>,
    next_base: u32,
}

#[derive(Clone, Debug)]
pub struct SourceFile {
    /// The path as the user gave it, used in rendered locations.
    pub name: String,
    pub text: String,
    pub base: u32,
    /// Byte offsets (relative to the file) at which lines start.
    line_starts: Vec<u32>,
}

impl SourceMap {
    pub fn new() -> SourceMap {
        SourceMap::default()
    }

    /// Adds a file and returns its index. A gap of one byte between files keeps
    /// an empty span at the end of one file from touching the next.
    pub fn add(&mut self, name: impl Into<String>, text: impl Into<String>) -> usize {
        let text = text.into();
        let base = self.next_base;
        let len = u32::try_from(text.len()).unwrap_or(u32::MAX);
        self.next_base = base.saturating_add(len).saturating_add(1);
        let line_starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(index, _)| index as u32 + 1))
            .collect();
        self.files.push(SourceFile {
            name: name.into(),
            text,
            base,
            line_starts,
        });
        self.files.len() - 1
    }

    pub fn files(&self) -> &[SourceFile] {
        &self.files
    }

    /// Gives the file at `index` (of [`SourceMap::files`]) another name, returning the
    /// name it had: `build` names its inputs from the project root in generated headers.
    pub fn rename(&mut self, index: usize, name: String) -> String {
        std::mem::replace(&mut self.files[index].name, name)
    }

    /// The index of the file a span points into.
    pub fn file_of(&self, span: Span) -> Option<usize> {
        let index = self.files.partition_point(|file| file.base <= span.start);
        index.checked_sub(1)
    }

    /// 1-based line and column (in characters) of a global byte offset.
    pub fn line_col(&self, offset: u32) -> Option<(usize, usize, usize)> {
        let file_index = self.file_of(Span {
            start: offset,
            end: offset,
        })?;
        let file = &self.files[file_index];
        let local = (offset - file.base).min(file.text.len() as u32);
        let line = file.line_starts.partition_point(|&start| start <= local) - 1;
        let line_start = file.line_starts[line] as usize;
        let column = file
            .text
            .get(line_start..local as usize)
            .map_or(0, |prefix| prefix.chars().count());
        Some((file_index, line + 1, column + 1))
    }
}
