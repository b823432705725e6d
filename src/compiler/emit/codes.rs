//! The codes of generation, each with its title and its long form (what `mlslo
//! explain CODE` prints), raised by name: `codes::NO_GENERATED_TEST.at(span, label)`.
//!
//! Invariants: codes are sorted, unique and stable forever; each code has one
//! title, the message of every diagnostic raised with it.

crate::base::diagnostic::declare_codes! {
    /// Codes W05xx: warnings about the generated files, in order.
    pub(crate) const ALL;
    NO_GENERATED_TEST = "W0506", "no unit test generated for this objective", "\
mlslo generates a promtool unit test for each objective by building input series
that match its selectors. When a selector's regular-expression matchers cannot be
satisfied by a generated label value (or the error selector cannot be told apart
from the total selector), that objective gets no generated test; its rules are
still generated. So does an objective whose test would take more rule evaluations
than `mlslo test` runs (5,000,000: a `for = 100y` at one evaluation a minute needs
52 million), which no test runner finishes in reasonable time or memory.

Fix: nothing is required; simpler matchers (`=`, or regexes with a literal
alternative) let mlslo test the alerts, and durations of days or weeks rather
than decades keep the tests short.";
    URL_FILE_NEEDS_NEWER_ALERTMANAGER = "W0507", "webhook url_file needs a newer alertmanager", "\
A receiver's webhook reads its URL from a file (`url_file`), a key Alertmanager
added in 0.26. The generated configuration targets Alertmanager 0.25 (Debian
bookworm) unless the routing block says otherwise, and 0.25 refuses unknown
keys, so the webhook is left out of `alertmanager.yml` (and named in its header).

Example:

    receiver \"tickets\" { webhook { url_file = \"/etc/alertmanager/hook-url\" } }

Fix: declare the release you run, `alertmanager_version = \"0.26\"` (or newer),
in the routing block; or, for 0.25, write `url = \"https://...\"` with no
credentials in it.";
}
