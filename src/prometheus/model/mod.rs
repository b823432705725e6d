//! Prometheus' conventions, each written once: the `model.Duration` text and Go's
//! `time.Duration` text, label and metric name rules with the counter suffixes, Go's
//! `strconv` number formatting and parsing, Go's string quoting, and the text of the
//! `humanize*` template functions.
//!
//! Invariants: this is the bottom of the Prometheus layer; it imports nothing of the
//! crate, so PromQL, templates, Alertmanager, the ruler, the compiler and the tools
//! can all use it without a cycle. Every function names the Go function it mirrors
//! and agrees with it on every input it accepts, except where its doc says otherwise.

pub mod duration;
pub mod go_number;
pub mod go_quote;
pub mod humanize;
pub mod names;
