//! The codes of generation, each with its title and its long form (what `mlslo
//! explain CODE` prints), raised by name: `codes::NO_GENERATED_TEST.at(span, label)`.
//!
//! Invariants: codes are sorted, unique and stable forever; each code has one
//! title, the message of every diagnostic raised with it.

crate::base::diagnostic::declare_codes! {
    /// Codes W05xx: warnings about the generated files, in order.
    pub(crate) const ALL;
    BUDGET_GONE_BEFORE_PAGE = "W0501", "error budget runs out before a page can fire", "\
With every request failing, the whole error budget of an objective lasts
`window × (1 - objective)`: 26 seconds for 99.999% over 30 days. The fastest page
alert needs its long-window error ratio above `factor × budget` (plus its `for`, a
scrape and a rule evaluation), which takes longer than that, so the budget is gone
before anyone is paged.

Example:

    availability \"api\" { objective = 99.999%  window = 30d  ... }

Fix: lower the objective, lengthen the window, or page on a shorter window with a
`page { burn { long = 5m, short = 1m } }` block; the SRE workbook's advice for
extreme goals is to alert on the raw error rate instead.";
    MIN_TRAFFIC_WITHOUT_EFFECT = "W0502", "min_traffic has no effect here", "\
`min_traffic` keeps page alerts quiet while too few events happen. An accuracy
objective counts time slices of a gauge, not events, so there is no traffic to
compare with and no guard is generated.

Example:

    accuracy \"precision\" { metric = model_precision  min = 0.9  min_traffic = 10 per 5m ... }

Fix: remove `min_traffic`.";
    ONE_SLICE_FIRES = "W0503", "one bad slice fires the alert", "\
An accuracy objective's error ratio over a window is the fraction of the window
covered by bad slices. When one slice is longer than `factor × budget` of a burn
window's long window, a single bad sample fills enough of the window to fire that
alert: the alert pages on one blip rather than on a sustained burn.

Example: `slice = 1h` with the default page window 1h/5m at 14.4× a 5% budget
(one bad slice is 100% of the hour, the threshold 72%).

Fix: use a shorter `slice`, or longer burn windows for this objective.";
    FORECAST_TOO_LATE = "W0504", "forecast cannot warn before the breach", "\
A forecast alert fires when `predict_linear` crosses the limit within the horizon
and has done so for `for`. For a steady trend the breach comes `horizon` after the
prediction first crosses, so the warning arrives `horizon - for` before it; the
forecast alert stops once the breach is there (the threshold alert takes over).
With a horizon not longer than `for` the forecast alert can never fire first.

Example:

    drift \"x\" { score = s  max = 0.3  for = 1h  forecast { lookback = 6h, horizon = 30m } }

Fix: a horizon several times longer than `for`.";
    UTILIZATION_CEILING_UNREACHABLE = "W0505", "utilization ceiling can never be exceeded", "\
GPU utilization is reported between 0 and 100 percent, and the alert fires when it
is strictly above `max_utilization`; with 100% it never fires.

Fix: a ceiling below 100%, such as 90%.";
    NO_GENERATED_TEST = "W0506", "no unit test generated for this objective", "\
mlslo generates a promtool unit test for each objective by building input series
that match its selectors. When a selector's regular-expression matchers cannot be
satisfied by a generated label value (or the error selector cannot be told apart
from the total selector), that objective gets no generated test; its rules are
still generated.

Fix: nothing is required; simpler matchers (`=`, or regexes with a literal
alternative) let mlslo test the alerts.";
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
