//! The codes of the checker, each with its title and its long form (what `mlslo
//! explain CODE` prints), raised by name: `codes::UNKNOWN_FIELD.at(span, label)`.
//!
//! Invariants: codes are sorted, unique and stable forever (a code is never
//! reused for another meaning); each code has one title, which is the message of
//! every diagnostic raised with it (the label and help carry the specifics);
//! each explanation shows an input that triggers the code and the fix, and
//! `tests/data/invalid/<CODE>.slo` triggers it. W0501 to W0505 are the warnings
//! about the alerts the model will generate (`generated_alerts.rs`); they keep
//! the numbers they were given when generation found them. E0600 to E0603,
//! W0600 and W0601 are raised by `compiler::verify`, which checks the generated
//! alerting system (routing and receivers' templates) after the checker. W0620 to
//! W0629 are about forecasts and hysteresis; E0640 to W0649 about the monitoring of
//! the monitoring path (the dead man's switch and the meta-alerts); E0650 to
//! W0669 about maintenance windows and the Kubernetes manifests' metadata; E0700 to
//! W0729 about grouped objectives (`group_by`), E0710 to W0714 of them about
//! expression SLIs, E0720 to W0729 about their cardinality (W0720 raised by
//! `compiler::verify`); E0730 to W0739 about the control of alert tiers (names,
//! vocabulary, switched-off tiers) and budget alerts (E0732 to E0739, W0731 to
//! W0735); E0740 to W0749 about the `grafana` block.

crate::base::diagnostic::declare_codes! {
    /// Codes E02xx (names), E03xx (types and units), E04xx (SLO semantics) and
    /// W0xxx (warnings, W050x about the generated alerts), in order.
    pub(crate) const ALL;
    UNKNOWN_BLOCK_KIND = "E0201", "unknown block kind", "\
A block keyword is not one that this place allows. The checker knows every
block kind of the language, so a misspelled kind gets a suggestion.

    service \"checkout\" {
      team = \"payments\"
      latncy \"p99\" { ... }        // error: a service has no `latncy` block
    }

Fix: correct the keyword (`latency`). A service holds `labels`, `selector`
and the objective kinds `latency`, `availability`, `accuracy`, `drift`, `gpu`,
`freshness` and `logs`; the top level holds `service`, `routing` and
`monitoring`.";
    UNKNOWN_FIELD = "E0202", "unknown field", "\
A field name is not one of the fields of the enclosing block. mlslo does not
ignore unknown fields, because a misspelled field would silently fall back to a
default (a typo in `window` would give a 30d window without warning).

    latency \"p99\" {
      objectve = 99.5%            // error: did you mean `objective`?
    }

Fix: correct the name. `mlslo check` lists the fields of the block when no
close match exists; docs/language.md documents every field.";
    DUPLICATE_FIELD = "E0203", "duplicate field", "\
A field, a single-use block (`labels`, `selector`, `forecast`, `page`, ...) or
a label is given twice in one block. Which value was meant is ambiguous, so
neither is chosen.

    latency \"p99\" {
      objective = 99%
      objective = 99.5%           // error: `objective` is given a second time
    }

Fix: keep one of the two. For labels, merge the two `labels { }` blocks.";
    DUPLICATE_SERVICE = "E0204", "duplicate service", "\
Two services have the same name. Service names are unique across all files of
a run, because they become the `service` label of every alert and the name of
the generated rule files.

    service \"checkout\" { team = \"payments\" }
    service \"checkout\" { team = \"payments-platform\" }    // error

Fix: rename one service, or merge the two blocks. The secondary label points at
the first definition, possibly in another file.";
    DUPLICATE_OBJECTIVE = "E0205", "duplicate objective", "\
Two objectives of one service have the same name, even if they are of
different kinds. The name becomes the `slo` label and part of recording-rule
names, so it must identify one objective.

    service \"checkout\" {
      latency \"p99\" { ... }
      availability \"p99\" { ... }    // error: `p99` is defined a second time
    }

Fix: rename one of them, for example `api-latency` and `api-availability`.";
    DUPLICATE_RECEIVER = "E0206", "duplicate receiver", "\
Two receivers in the routing block have the same name. Alertmanager rejects
such a configuration, and routes could not say which one they mean.

    receiver \"chat\" { webhook { url_file = \"/etc/am/a\" } }
    receiver \"chat\" { webhook { url_file = \"/etc/am/b\" } }    // error

Fix: rename one receiver, or merge the integrations into one receiver block
(a receiver may hold several integrations).";
    UNKNOWN_RECEIVER = "E0207", "unknown receiver", "\
A route or `default_receiver` names a receiver that is not defined in the
routing block. Alertmanager would refuse the configuration; mlslo says it at
check time, with the closest existing name.

    receiver \"payments-pager\" { pagerduty { routing_key_file = \"/etc/am/pd\" } }
    route { team = \"payments\" } -> \"payments-pagr\"    // error: did you mean `payments-pager`?

Fix: correct the name, or define the receiver with `receiver \"name\" { ... }`.";
    FEEDS_NOT_A_DRIFT_OBJECTIVE = "E0208", "feeds entry is not a drift objective", "\
A freshness objective's `feeds` list names an objective that does not exist
in the same service, or one that is not a drift objective. `feeds` tells mlslo
which drift alerts to mute while the batch job that feeds them is stale, so it
must point at drift objectives.

    drift \"amount\" { ... }
    freshness \"nightly\" {
      feeds = [\"amout\"]              // error: did you mean `amount`?
    }

Fix: name drift objectives of the same service.";
    SECOND_ROUTING_BLOCK = "E0209", "more than one routing block", "\
There is more than one `routing` block across the files of a run. mlslo
generates one Alertmanager configuration, with one route tree, so all routes,
receivers and inhibit rules live in one block.

    routing { ... }
    routing { ... }       // error: a second `routing` block

Fix: merge the blocks into one (usually in its own file, such as
`rules/routing.slo`).";
    MISSING_FIELD = "E0210", "missing required field", "\
A block lacks a field it needs; the label points at the block's name and the
help shows the field with an example value. Required fields: a service's
`team`; `objective` of latency, availability and accuracy objectives;
`histogram` and `threshold` (latency); `total` and one of `errors`/`good`
(availability); `metric` and one of `min`/`max` (accuracy); `score` and `max`
(drift); `utilization` and `max_utilization` (gpu); `last_success` and
`max_age` (freshness); `index`, `query` and `max_count` or `max_ratio` (logs);
`default_receiver` and one integration per receiver (routing); `long`, `short`
and, outside the workbook's windows, `factor` in a `burn` block.

    service \"checkout\" {
      runbook = \"https://runbooks.example.com/checkout\"
    }                                   // error: a service needs `team`

Fix: add the field.";
    INVALID_LABEL_NAME = "E0211", "invalid label name", "\
A label name does not follow Prometheus' rule `[a-zA-Z_][a-zA-Z0-9_]*`, or it
starts with `__`, which Prometheus reserves for internal labels. This applies
to `labels {}` and `selector {}` keys, matchers inside metric selectors, route
matchers, `group_by` and the labels of `inhibit` rules.

    labels { app-name = \"checkout\" }     // error: `-` is not allowed

Fix: use letters, digits and underscores: `app_name`.";
    INVALID_NAME = "E0212", "invalid name", "\
A service or objective name is not a lowercase slug `[a-z0-9][a-z0-9_.-]*`.
These names become label values, recording-rule names and file names
(`prometheus/<service>.rules.yml`), so spaces, capitals and slashes are kept
out.

    service \"Checkout Service\" { ... }    // error

Fix: write \"checkout-service\".";
    BLOCK_NEEDS_A_NAME = "E0213", "block needs a name", "\
A block that declares something (a service, an objective, a receiver) has no
name. The name is what alerts, routes and other objectives refer to.

    latency {                       // error: this `latency` block has no name
      ...
    }

Fix: add a quoted name after the keyword: `latency \"p99\" { ... }`.";
    BLOCK_TAKES_NO_NAME = "E0214", "block takes no name", "\
A block that only groups fields (`labels`, `selector`, `forecast`,
`exhaustion`, `page`, `ticket`, `burn`, integrations such as `slack`) was given
a name, which would be ignored.

    forecast \"early\" { lookback = 6h, horizon = 12h }    // error

Fix: remove the name: `forecast { lookback = 6h, horizon = 12h }`.";
    INHIBITION_CYCLE = "E0215", "inhibition cycle", "\
Inhibit rules form a cycle over one label: `a` mutes `b` and `b` mutes `a`,
possibly through longer chains (`a` over `b`, `b` over `c`, `c` over `a`).
While the alerts of a cycle fire together they silence each other and nobody
is notified. The cycle is found with a strongly-connected-components search;
each rule of the cycle is labelled.

    inhibit severity \"page\" over \"ticket\" on [service, slo]
    inhibit severity \"ticket\" over \"page\" on [service, slo]    // error

Fix: keep one direction (usually pages mute tickets).";
    FIELD_AND_BLOCK_MIXED_UP = "E0216", "field and block mixed up", "\
A field was written with braces, a block with `=`, or a block was nested inside
a label block. Fields hold one value; blocks hold fields, and label blocks hold
only `name = \"value\"` lines. The label says which of the two the name is.

    service \"checkout\" {
      labels = \"prod\"        // error: `labels` is a block, not a field
    }

Fix: `labels { env = \"prod\" }`; for a field, `team = \"payments\"`.";
    ROUTING_ITEM_OUTSIDE_ROUTING = "E0217", "routing item outside the routing block", "\
A `route` or `inhibit` item appears outside the `routing` block. Routes and
inhibit rules are global to the Alertmanager configuration, not part of a
service.

    service \"checkout\" {
      route { severity = \"page\" } -> \"payments-pager\"    // error
    }

Fix: move the item into `routing { ... }`; select the service's alerts with a
matcher such as `route { service = \"checkout\" } -> \"...\"`.";
    RESERVED_LABEL_NAME = "E0218", "reserved label name", "\
A `labels {}` block sets a label that mlslo sets itself on every alert:
`service`, `slo`, `kind`, `team` and `severity`, and `forecast` on forecast
alerts. Overriding them would break routing (routes match on `team` and
`severity`) and inhibition (a forecast never mutes other alerts).

    labels { severity = \"critical\" }     // error

Fix: choose another name, such as `priority`; use the service's `team` field
for the team.";
    MISMATCHED_TYPES = "E0301", "mismatched types", "\
A value has the wrong unit. Units are types in mlslo: durations (`5m`,
`1h30m`), percentages (`99.9%`), plain numbers (ratios and thresholds in the
metric's own unit), counts per window (`100 per 5m`), strings, booleans, metric
selectors and lists. There is no implicit conversion; the label names the
expected unit and the help suggests the likely intended spelling.

    latency \"p99\" {
      objective = 0.995      // error: expected a percentage like 99.9%, found a number
      window    = 30%        // error: expected a duration like 5m, found a percentage
    }

Fix: `objective = 99.5%`, `window = 30d`.";
    INVALID_SELECTOR = "E0302", "invalid metric selector", "\
A metric selector does not parse as PromQL. Selectors are parsed with the
promql-parser crate (the same grammar Prometheus uses); its message is attached
as a note. Common causes: an unclosed regex group, a missing quote, a label
value without quotes.

    errors = http_requests_total{code=~\"(5..\"}     // error

Fix: `errors = http_requests_total{code=~\"5..\"}`.";
    NOT_A_PLAIN_SELECTOR = "E0303", "expected a plain metric selector", "\
A metric field holds PromQL that is not a plain vector selector: an `offset`,
an `@` modifier, or `or` between matcher sets. mlslo writes the `rate()`,
ranges and aggregations around the selector itself, so the field takes only a
metric name with label matchers.

    errors = http_requests_total{code=\"500\" or code=\"503\"}    // error

Fix: one matcher set, with a regex for alternatives:
`http_requests_total{code=~\"500|503\"}`.";
    CONTROL_CHARACTER = "E0304", "control character in a string", "\
A string holds a control character that would corrupt the output it reaches.
Label values (labels, selector values, team, route and inhibit values) may
hold tabs but no line breaks or other control characters; free text such as
`description` may also hold line breaks.

    labels { env = \"prod\\nstaging\" }     // error: this string contains U+000A

Fix: remove the character; use two labels if you meant two values.";
    NOT_A_WHOLE_NUMBER = "E0305", "expected a whole number", "\
A count is not a whole number of at least 0: log hits of `max_count`, a
webhook's `max_alerts`.

    max_count = 2.5 per 5m     // error

Fix: `max_count = 2 per 5m` (or widen the window: `5 per 10m`).";
    NUMBER_NOT_EXACT = "E0306", "number cannot be represented exactly", "\
A number has more digits than mlslo's exact decimal arithmetic keeps (38
significant digits, 30 after the decimal point, 28 for a percentage). mlslo
computes objectives and burn thresholds exactly (`1 - 99.9%` is `0.001`), so it
refuses to round a literal silently.

    max = 0.0000000000000000000000000000000001     // error

Fix: write the number with fewer digits, or change the metric's unit.";
    INLINE_SECRET = "E0307", "secret written inline", "\
A receiver holds a secret written inline (`routing_key`, `service_key`,
`api_url`, `auth_password`, `password`, `token`, `bearer_token`). Generated
configuration is committed to git, so secrets are only referenced by file and
read by Alertmanager at run time.

    pagerduty { routing_key = \"R0ABCDEF0123456789\" }     // error

Fix: put the key in a file readable by Alertmanager and write
`pagerduty { routing_key_file = \"/etc/alertmanager/pd-key\" }`.";
    CREDENTIALS_IN_URL = "E0308", "credentials in a URL", "\
A webhook `url` holds a user name or password (`https://user:pass@host/`). It
would end up in the committed configuration.

    webhook { url = \"https://alert:hunter2@hooks.example.com/am\" }    // error

Fix: put the whole URL in a file and write
`webhook { url_file = \"/etc/alertmanager/hook-url\" }`.";
    EMPTY_STRING = "E0309", "empty string", "\
A string that must say something is empty: a team, a receiver name, a logs
index or query, an integration field.

    service \"checkout\" { team = \"\" }     // error

Fix: give the value, or remove the field where it is optional.";
    INVALID_URL = "E0310", "invalid URL or address", "\
A link or address is malformed: `runbook`, `dashboard` and a webhook `url`
must be http:// or https:// URLs (they become links in alerts), and an email
`smarthost` must be `host:port`.

    runbook = \"wiki/checkout\"                  // error
    smarthost = \"smtp.example.com\"             // error: add the port

Fix: `runbook = \"https://wiki.example.com/checkout\"`,
`smarthost = \"smtp.example.com:587\"`.";
    INVALID_CHOICE = "E0311", "invalid choice", "\
A field that takes one of a fixed set of words has another value. A logs
objective's `severity` is \"page\" or \"ticket\", the two alert tiers; the
routing block's `alertmanager_version` is a release from \"0.25\" to \"0.34\".

    severity = \"critical\"     // error

Fix: `severity = \"page\"`.";
    INVALID_REGEX = "E0312", "invalid regular expression", "\
A route matcher's regular expression (`=~` or `!~`) does not compile.
Alertmanager anchors route regexes as Prometheus does (`^(?:...)$`), and
refuses a configuration with an invalid one.

    route { team =~ \"(payments\" } -> \"chat\"     // error: unclosed group

Fix: `route { team =~ \"payments.*\" } -> \"chat\"`.";
    OBJECTIVE_OUT_OF_RANGE = "E0401", "objective out of range", "\
An objective is not strictly between 0% and 100%. At 100% the error budget
is zero: every burn-rate threshold would be zero and every single failure would
page. At 0% (or below) there is nothing to promise.

    objective = 100%     // error

Fix: a realistic objective such as `99.9%`.";
    SHORT_WINDOW_NOT_SHORTER = "E0402", "short window not shorter than long window", "\
A burn window's `short` window is not shorter than its `long` window. The
short window confirms that a burn seen over the long window is still going on,
so it resets the alert quickly once the burn stops; the SRE workbook uses 1/12
of the long window.

    page { burn { long = 1h, short = 2h } }     // error

Fix: `page { burn { long = 1h, short = 5m } }`.";
    BURN_WINDOW_NOT_SHORTER = "E0403", "burn window not shorter than the objective window", "\
A burn window's `long` window is not shorter than the objective's `window`.
A burn rate is measured inside the objective window; a longer alert window
would average over time that no longer counts against the budget.

    window = 7d
    ticket { burn { long = 7d, short = 12h, factor = 1 } }     // error

Fix: a shorter long window (`3d`), or a longer objective window. (Default burn
windows that do not fit a short objective window are left out silently.)";
    DURATION_NOT_POSITIVE = "E0404", "duration must be positive", "\
A duration that measures something is zero: an objective window, a latency
threshold, an accuracy slice, a forecast lookback or horizon, a `max_age`, a
logs schedule or window, a burn window, `group_interval`,
`repeat_interval`. (`for = 0s` and `throttle = 0s` are allowed: they mean
\"at once\" and \"never throttle\".)

    forecast { lookback = 6h, horizon = 0s }     // error

Fix: a positive duration such as `horizon = 12h`.";
    SLICE_NOT_SHORTER = "E0405", "slice not shorter than the window", "\
An accuracy objective's `slice` is not shorter than its `window`. The budget
counts good and bad slices inside the window; a slice as long as the window
gives a single all-or-nothing slice.

    window = 1d
    slice  = 1d      // error

Fix: a short slice such as the default `5m`.";
    VALUE_OUT_OF_RANGE = "E0406", "value out of range", "\
A bounded value is outside its range: `max_utilization` must be above 0% and
at most 100%; `max_ratio` strictly between 0% and 100%; a burn `factor` above
0; `min_traffic` not negative.

    max_utilization = 120%     // error

Fix: `max_utilization = 90%`.";
    LATENCY_OVER_COUNTER = "E0407", "latency objective over a counter", "\
A latency objective's `histogram` names a counter series of a histogram
(`_count`, `_sum`) or a plain counter (`_total`). Latency is read from the
`_bucket` series, whose `le` label says how many requests were faster than each
boundary; the other series have no `le` label.

    histogram = http_request_duration_seconds_count     // error

Fix: name the histogram: `histogram = http_request_duration_seconds` (mlslo
appends `_bucket`). To count failed requests, use an `availability`
objective.";
    CONFLICTING_FIELDS = "E0408", "conflicting fields", "\
Two fields exclude each other: `errors` and `good` (availability), `min` and
`max` (accuracy), `url` and `url_file` (webhook), or `max_count` with the ratio
fields `total_query`, `max_ratio`, `window` (logs; `max_count = N per W`
carries its own window).

    errors = http_requests_total{code=~\"5..\"}
    good   = http_requests_total{code!~\"5..\"}     // error

Fix: keep one of them.";
    FIELD_NEEDS_FIELD = "E0409", "field needs another field", "\
A field only makes sense with another: `memory_used` with `memory_free` (gpu),
an `exhaustion` forecast with the memory pair, `max_ratio` with `total_query`
and `window`, and `total_query` with `max_ratio` (logs).

    gpu \"pool\" {
      memory_used = DCGM_FI_DEV_FB_USED     // error: needs `memory_free`
    }

Fix: add the missing field, or remove the lone one.";
    NOTIFICATION_TEMPLATE_DOES_NOT_PARSE = "E0600", "notification template does not parse", "\
A templated field of a receiver (a Slack `channel`, `title` or `text`, a
PagerDuty `severity`, an e-mail `to` or `from`) is a Go template that
Alertmanager parses for every notification, with its own function map
(toUpper, toLower, title, join, match, safeHtml, reReplaceAll, stringSlice and
Go's builtins; Prometheus' `humanize` and `query` are not there). A template
that does not parse passes `amtool check-config`, but every notification of the
receiver then fails and is dropped (\"unrecoverable error\").

    slack { api_url_file = \"/etc/am/slack\", channel = \"#ml\", title = \"{{ .CommonLabels.slo \" }    // error

Fix: close every `{{ ... }}` action and use only Alertmanager's functions;
the note quotes Go's parse error.";
    NOTIFICATION_TEMPLATE_FAILS = "E0601", "notification template fails on a generated alert", "\
mlslo executes every templated field of every receiver against Alertmanager's
notification data (`.Receiver`, `.Status`, `.Alerts` with `.Labels`,
`.Annotations`, `.StartsAt`, ..., `.GroupLabels`, `.CommonLabels`,
`.CommonAnnotations`, `.ExternalURL`) for a sample of the alerts the routes
send to that receiver. A template that fails there fails in Alertmanager for the
same alert, and that notification is dropped.

    title = \"{{ (index .Alerts 1).Labels.slo }}\"    // error: a notification may hold one alert

Fix: guard the access (`{{ with .Alerts }}...{{ end }}`, `{{ range .Alerts }}`),
or read the common labels; the note names the alert and quotes Go's error.";
    EMAIL_HEADER_INJECTION = "E0602", "e-mail address breaks the message header", "\
An e-mail `to` or `from`, once its template is expanded, contains a line break
or another control character. Alertmanager parses the field as an address list
and refuses it (and a line break in a header would inject a new header), so
every notification of the receiver is dropped; `amtool check-config` does not
see it.

    email { to = \"oncall@example.com\\nbcc@example.com\" ... }    // error

Fix: separate several addresses with commas: `to = \"a@example.com, b@example.com\"`.";
    ALERT_REACHES_NO_INTEGRATION = "E0603", "alert routed to a receiver with no integration", "\
A generated alert is routed (through the generated `alertmanager.yml`, by
Alertmanager's own matching rules) to a receiver that has no integration left
in that file: Alertmanager accepts the alert and notifies no one. mlslo
requires an integration in every receiver, so this happens when an integration
cannot be written for the target Alertmanager: a webhook `url_file` under
Alertmanager 0.25 (W0507).

    routing {
      receiver \"hook\" { webhook { url_file = \"/etc/am/hook-url\" } }    // error: 0.25 cannot read url_file
      default_receiver = \"hook\"
    }

Fix: set `alertmanager_version = \"0.26\"` (or newer), write `url = \"https://...\"`,
or give the receiver another integration.";
    THRESHOLD_NOT_A_DECLARED_BUCKET = "E0610", "threshold is not a declared bucket", "\
A latency objective reads its good events from the histogram's `le` series equal
to the threshold. The threshold is not one of the declared `buckets`, so that
series does not exist, and the objective would read no data (had the missing
series counted as zero fast requests, every request would be slow and the page
would fire for good).

    threshold = 200ms
    buckets   = [100ms, 250ms, 500ms, 1s]     // error: 200ms is not listed

Fix: use a declared boundary (the help names the nearest ones), or add the
boundary to the histogram's instrumentation and to `buckets`. If `buckets` is
out of date and the boundary does exist, `assume_bucket = true` turns this into
the warning W0003.";
    THRESHOLD_NOT_KNOWN_TO_BE_A_BUCKET = "E0611", "threshold not known to be a bucket boundary", "\
A latency objective reads its good events from the histogram's `le` series equal
to the threshold, and nothing in the objective says that series exists: there is
no `buckets` list and no `assume_bucket = true`. A threshold between two
boundaries (200ms with buckets 100ms and 250ms) has no series, and the objective
would read no data.

    latency \"p99\" {
      histogram = http_request_duration_seconds
      threshold = 200ms                 // error: is 200ms a bucket?
    }

Fix: declare the boundaries, `buckets = [100ms, 250ms, 500ms, 1s]`, so mlslo
can check the threshold, or write `assume_bucket = true` when you know the
histogram has this boundary. The help names the nearest boundaries of the
Prometheus client libraries' default buckets (5ms to 10s) and of OpenTelemetry's
advised request-duration buckets.

Whatever the source says, the generated SLI never turns a missing `le` series
into errors: it reads no data, and the `SLOLatencyBucketMissing` alert names the
series while the histogram has traffic.";
    GENERATED_NAME_CLASH = "E0630", "two declarations generate one name", "\
Two services or objectives map to the same generated name: an output file, a
rule group, a PrometheusRule name, a Watcher watch id or the identity of the
series they record. The build would write one over the other (or a deploy would
replace one watch with the other) and lose output without a word.

    service \"a-b\" { logs \"c\"   { ... } }    // watcher/a-b-c.json, watch a-b-c
    service \"a\"   { logs \"b-c\" { ... } }    // error: the same file and watch id

    service \"my_svc\" { ... }                 // PrometheusRule my-svc-slo
    service \"my-svc\" { ... }                 // error: `_` becomes `-` in Kubernetes names

The label names both declarations; the names are made by the same functions the
build uses, so what `check` accepts the build writes in full.

Fix: rename one of the two so that their generated names differ.";
    GENERATED_NAME_TOO_LONG = "E0631", "generated name too long for its target", "\
A name built from a service or objective name is longer than where it goes
accepts: a file name holds at most 255 bytes (Linux `NAME_MAX`), a Kubernetes
object name 253 characters, an Elasticsearch document id (a watch id) 512 bytes.
Without this check the build fails when it writes the file, or the server refuses
the object.

    service \"<a 300-character name>\" { ... }
    // error: kubernetes/<name>.prometheusrule.yaml would be 320 bytes long

Fix: shorten the name; the help says to how many bytes. Prometheus itself puts no
limit on label values or rule group names.";
    DURATION_OUT_OF_RANGE = "E0632", "duration beyond what Prometheus accepts", "\
Prometheus, Alertmanager and promtool hold durations as 64-bit counts of
nanoseconds, so no duration can exceed 292 years (`292y`, 9,223,372,036 seconds):
a longer `for`, window or interval builds rule files `promtool check rules`
refuses with `duration out of range`, and an Alertmanager configuration that does
not load.

    drift \"x\" { score = s  max = 0.3  for = 293y }    // error

Fix: a duration of at most 292y; objective windows and `for` durations are days
or weeks in practice.";
    SECOND_MONITORING_BLOCK = "E0640", "a second monitoring block", "\
The `monitoring` block sets up the alerts on the monitoring path itself (the
dead man's switch and the alerts on rule evaluation, notifications and scrape
targets) for the whole program, so there is at most one across all files.

    monitoring { heartbeat = \"deadmans-snitch\" }
    monitoring { targets_down = false }        // error: a second block

Fix: merge the two blocks into one.";
    INVALID_TIME_INTERVAL = "E0650", "time interval Alertmanager refuses", "\
A field of a `time_interval` block is not a range Alertmanager 0.25 loads: the
checks are Alertmanager's own (`times` from 00:00 to 24:00 with the start
before the end, weekday and month names or ranges `monday:friday`, days of the
month from 1 to 31 or -31 to -1 with no 0, years). mlslo also refuses a month
number outside 1 to 12, which Alertmanager loads but which never matches.

    time_interval \"retraining\" {
      weekdays = [\"friday:monday\"]        // error: start day cannot be before end day
      times    = [\"22:00-02:00\"]          // error: the start must come before the end
    }

Fix: write each range from its start to its end; a window across midnight is
two ranges (`times = [\"22:00-24:00\", \"00:00-02:00\"]`).";
    UNKNOWN_TIME_ZONE = "E0651", "unknown time zone", "\
A `time_interval`'s `location` is not a zone of the IANA time zone database
(`Europe/Berlin`, `America/New_York`, `UTC`). Alertmanager loads it with Go's
`time.LoadLocation` and refuses the whole configuration when it fails.

    time_interval \"retraining\" { location = \"Europe/Brelin\" }   // error

Fix: correct the name (`Europe/Berlin`), or leave `location` out for UTC.";
    DUPLICATE_TIME_INTERVAL = "E0652", "duplicate time interval", "\
Two `time_interval` blocks of the routing block have the same name.
Alertmanager refuses a configuration whose time interval names repeat
(`time interval \"w\" is not unique`).

    time_interval \"retraining\" { weekdays = [\"sunday\"] }
    time_interval \"retraining\" { weekdays = [\"saturday\"] }   // error

Fix: rename one. A route may name several intervals (`mute_during [\"a\", \"b\"]`),
which mutes it inside any of them.";
    UNKNOWN_TIME_INTERVAL = "E0653", "unknown time interval", "\
A route's `mute_during` or `active_during` names a time interval that no
`time_interval` block of the routing block defines. Alertmanager refuses it
(`undefined time interval \"w\" used in route`).

    route { team = \"data-platform\" } -> \"data-tickets\" mute_during \"retrainig\"   // error

Fix: correct the name, or define the interval in the routing block:
`time_interval \"retraining\" { weekdays = [\"sunday\"] times = [\"02:00-04:00\"] }`.";
    TIME_INTERVAL_ON_ROOT_ROUTE = "E0654", "time intervals on the root route", "\
The routing block's own fields make Alertmanager's root route, and Alertmanager
refuses `mute_time_intervals` and `active_time_intervals` there (`root route
must not have any mute time intervals`): the root route catches every alert,
the dead man's switch included.

    routing {
      default_receiver = \"team-chat\"
      mute_during      = [\"retraining\"]       // error
    }

Fix: put the interval on the routes it should mute: `route { team = \"data\" }
-> \"data-tickets\" mute_during \"retraining\"`, or a catch-all `route {} ->
\"team-chat\" mute_during \"retraining\"` as the last route.";
    TIME_INTERVAL_ON_HEARTBEAT = "E0655", "time interval on the heartbeat receiver", "\
A route with `mute_during` or `active_during` sends to the heartbeat receiver
that the `monitoring` block names. A maintenance window must never stop the
heartbeat: the heartbeat service pages when the pings stop, so every window
would page. The generated heartbeat route comes first and carries no interval,
so the `Watchdog` never reaches a route of yours; a route of yours to that
receiver with an interval is a mistake either way.

    monitoring { heartbeat = \"heartbeat\" }
    route { alertname = \"Watchdog\" } -> \"heartbeat\" mute_during \"retraining\"   // error

Fix: remove the route; the heartbeat is routed by mlslo, never muted.";
    SECOND_KUBERNETES_BLOCK = "E0656", "a second kubernetes block", "\
The `kubernetes` block sets the metadata of every generated manifest (the
`PrometheusRule` of each service and the `AlertmanagerConfig`), so there is at
most one across all files.

    kubernetes { namespace = \"monitoring\" }
    kubernetes { labels { release = \"kube-prometheus-stack\" } }   // error

Fix: merge the two blocks into one.";
    INVALID_KUBERNETES_NAMESPACE = "E0657", "invalid kubernetes namespace", "\
The `kubernetes` block's `namespace` is not a Kubernetes namespace name (a
DNS-1123 label: at most 63 lowercase letters, digits and `-`, starting and
ending with a letter or digit). The API server would refuse every manifest.

    kubernetes { namespace = \"Monitoring\" }     // error: uppercase

Fix: write the namespace as `kubectl get namespaces` lists it, such as
`\"monitoring\"`; or leave `namespace` out and let `kubectl apply -n` decide.";
    INVALID_KUBERNETES_LABEL = "E0658", "invalid kubernetes label", "\
A label of the `kubernetes` block is not one the API server accepts, or is one
mlslo sets itself. A value is empty or at most 63 letters, digits, `-`, `_`
and `.`, starting and ending with a letter or digit; a key is such a name.
mlslo writes `app.kubernetes.io/managed-by`, `app.kubernetes.io/component`,
`mlslo.dev/service` and `mlslo.dev/team` itself.

    kubernetes { labels { release = \"kube prometheus stack\" } }   // error: spaces

Fix: correct the value (`\"kube-prometheus-stack\"`), or choose another key.";
    INVALID_KUBERNETES_ANNOTATION = "E0659", "invalid kubernetes annotation key", "\
An annotation key of the `kubernetes` block is not a Kubernetes qualified name
(at most 63 letters, digits, `-`, `_` and `.`, starting and ending with a letter
or digit). Annotation values may be any text.

    kubernetes { annotations { _owner = \"ml-platform\" } }   // error: starts with `_`

Fix: rename the key, such as `owner`.";
    GROUP_BY_WITHOUT_SERIES = "E0700", "group_by on an objective without Prometheus series", "\
A `logs` objective is an Elasticsearch watch over a Lucene query: it has no
Prometheus series, so there are no labels to group by. `group_by` is for the
objective kinds mlslo turns into Prometheus rules: latency, availability,
accuracy, drift, gpu and freshness.

    logs \"errors\" {
      index     = \"app-*\"
      query     = 'level:ERROR'
      max_count = 100 per 5m
      group_by  = [model]            // error
    }

Fix: remove `group_by`; declare one `logs` objective per group, each with its
own query (`model:\"ranker\" AND level:ERROR`).";
    DUPLICATE_GROUP_LABEL = "E0701", "label listed twice in group_by", "\
A label appears twice in one `group_by` list. Grouping by it twice is grouping
by it once, and the duplicate usually hides a typo for another label.

    group_by = [model, model]        // error

Fix: remove one of the two, or correct the label that was meant.";
    GROUP_BY_GENERATED_LABEL = "E0702", "group_by names a label mlslo writes", "\
An objective's `group_by` names a label that mlslo writes on its recorded
series and alerts (`service`, `slo`, `kind`, `team`, `severity`,
`long_window`, `short_window`, `forecast`, `metric`, `slo_objective`, `slo_window`,
`alertname`, and Sloth's `sloth_id`, `sloth_service`, `sloth_slo`, `sloth_objective`),
or `le`, the bucket boundary a latency SLI reads. A group label
of that name would be overwritten by the generated value, so every group would
write the same series and Prometheus would refuse the rule's output.

    availability \"api\" {
      ...
      group_by = [model, service]    // error: `service` is the objective's identity
    }

Fix: group by the metric's own labels (`model`, `model_version`, `region`). If
the metric has a label of that name, rename it at scrape time
(`metric_relabel_configs`).";
    GROUP_LABEL_ALSO_STATIC = "E0703", "group label also set by a labels block", "\
A label of `group_by` is also set to a fixed value by the service's or the
objective's `labels {}`. Alert labels from `labels {}` are written over the
labels of the series, so every group's alert would carry the same value and
two groups' alerts could no longer be told apart.

    service \"serving\" {
      labels { model = \"all\" }
      availability \"api\" { ... group_by = [model] }   // error
    }

Fix: rename the static label, or remove the label from `group_by`.";
    QUERY_SYNTAX = "E0710", "expression SLI does not parse as PromQL", "\
An expression SLI (`errors_query`, `good_query`, `total_query`) is a PromQL
expression, parsed as Prometheus 2.42 parses it, with `$window` read as 5m.
The error points at the position in the string where the parser stopped.

    availability \"api\" {
      errors_query = \"\"\"sum(rate(http_requests_total{code=~\"5..\"}[$window])\"\"\"   // error: unclosed `(`
      total_query  = \"\"\"sum(rate(http_requests_total[$window]))\"\"\"
    }

Fix: correct the expression; `promtool check rules` reads it the same way once
`$window` is a duration.";
    QUERY_NOT_INSTANT_VECTOR = "E0711", "expression SLI is not an instant vector", "\
An expression SLI is recorded as a rule at every window, and a recording rule's
value is an instant vector: a per-second rate of events per series. A range
vector (`x[$window]`), a scalar (`scalar(...)`, a number) or a string cannot be
recorded, nor divided by the total.

    errors_query = \"\"\"http_requests_total{code=~\"5..\"}[$window]\"\"\"   // error: a range vector

Fix: take the rate of the range and sum it:
`sum(rate(http_requests_total{code=~\"5..\"}[$window]))`.";
    QUERY_WITHOUT_WINDOW = "E0712", "expression SLI without `$window`", "\
mlslo records an SLI at every window its alerts use (5m, 30m, 1h, 2h, 6h, 1d,
3d), so the expression must leave its range to mlslo: `$window` stands for it
and is replaced by each window in the generated rules. An expression with a
fixed range would give the same ratio at every window, and the multi-window
alerts would compare a window with itself. Sloth writes the placeholder
`{{.window}}`; mlslo's is `$window`, which cannot be mistaken for PromQL.

    errors_query = \"\"\"sum(rate(http_requests_total{code=~\"5..\"}[5m]))\"\"\"   // error

Fix: write `[$window]` as the range of each rate.";
    WINDOW_OUTSIDE_RANGE = "E0713", "window placeholder outside a range", "\
`$window` is replaced by each alert window, so it is the range of a range
selector (`x[$window]`) or of a subquery (`expr[$window:1m]`) and nothing
else: as an `offset`, inside a string or anywhere else it would shift or change
the expression with the window. It is replaced everywhere it is written, even
inside a label value.

    errors_query = \"\"\"sum(rate(x_total[5m] offset $window))\"\"\"   // error

Fix: use `$window` only between brackets.";
    QUERY_DROPS_GROUP_LABEL = "E0714", "expression SLI drops a group label", "\
The objective is grouped (`group_by`), so each group needs its own rate of
errors and of events, but the expression's aggregation or vector matching
removes a group label: every group would read the same sum, or none. mlslo
sums each expression by the group labels, and that cannot bring back a label
the expression has dropped.

    availability \"api\" {
      errors_query = \"\"\"sum by (model) (rate(http_requests_total{code=~\"5..\"}[$window]))\"\"\"
      total_query  = \"\"\"sum by (model) (rate(http_requests_total[$window]))\"\"\"
      group_by     = [model, region]   // error: `sum by (model)` drops region
    }

Fix: keep every group label in the aggregation (`sum by (model, region)`) and
in `on (...)` of a vector match, or remove the label from `group_by`.";
    EXPECTED_GROUPS_WITHOUT_GROUP_BY = "E0720", "expected_groups without group_by", "\
`expected_groups` says how many groups a grouped objective has (how many
models, or model and version pairs), so that `check` can count the series its
recording rules write. An objective without `group_by` has one group.

    availability \"api\" {
      ...
      expected_groups = 40     // error: no group_by
    }

Fix: add the `group_by` the count is about (`group_by = [model]`), or remove
`expected_groups`.";
    SEVERITY_VOCABULARY_CLASH = "E0730", "severity values of the tiers clash", "\
The routing block's `severity { page = ..., ticket = ... }` names the `severity`
label value of each tier's alerts. Routes, the page-mutes-ticket inhibition and
the heartbeat route tell alerts apart by that value, so the two tiers need
different values, and neither may be `heartbeat`, the value of the Watchdog
that the heartbeat route takes.

    routing {
      severity { page = \"critical\", ticket = \"critical\" }   // error
      ...
    }

Fix: give each tier its own value, such as `page = \"critical\", ticket = \"warning\"`
(kube-prometheus and Sloth's convention).";
    BURN_ALERT_NAME_TAKEN = "E0731", "burn alert name taken", "\
`burn_alert` names the burn-rate alerts of an objective. It may not be the
name of another alert mlslo generates (`SLOMetricAbsent`, `DriftScoreHigh`,
`Watchdog`, ...), because generated tests, backtests, routes and inhibit rules
on `alertname` would take one for the other, and it may not end in `Forecast`,
which marks forecast alerts.

    availability \"api\" {
      ...
      burn_alert = \"SLOMetricAbsent\"      // error
    }

Fix: choose a name of its own, such as `CheckoutApiBudgetBurn`.";
    REMAINING_BUDGET_OUT_OF_RANGE = "E0732", "remaining budget threshold out of range", "\
`remaining_below` in an objective's `budget` block is the share of the error
budget, over the objective window, below which `ErrorBudgetLow` fires. It must
be strictly between 0% and 100%: at 0% the budget is gone and the burn-rate
alerts have long fired, and at 100% the alert would fire at the first error.

    availability \"api\" {
      ...
      budget { remaining_below = 100% }    // error
    }

Fix: the share your error-budget policy acts on, such as `remaining_below = 25%`.";
    EXHAUSTION_LOOKBACK_NOT_SHORTER = "E0733", "exhaustion lookback not shorter than the window", "\
The `exhaustion` forecast of a `budget` block fits a line to the remaining
error budget over `lookback`. The remaining budget is itself a ratio over the
objective window, so a fit over a whole window or more mixes in errors that
the window no longer counts, and needs more history than the budget has.

    availability \"api\" {
      window = 7d
      ...
      budget { exhaustion { lookback = 7d, horizon = 2d } }   // error
    }

Fix: a lookback of a fraction of the window, such as 1d for 7d or 30d.";
    SECOND_GRAFANA_BLOCK = "E0740", "a second grafana block", "\
The `grafana` block says where the generated dashboards are served and how
Grafana loads them (its URL, folder and sidecar label), for every service at
once, so there is at most one across all files.

    grafana { url = \"https://grafana.example.com\" }
    grafana { folder = \"SLOs\" }   // error

Fix: merge the two blocks into one.";
    NOT_A_COUNTER = "W0001", "metric does not look like a counter", "\
An availability objective counts events with `rate()`, which needs counters:
by Prometheus naming conventions their names end in `_total` (or `_count`,
`_bucket` for histogram series). `rate()` over a gauge gives meaningless
numbers. This is a warning because exporters do not always follow the
conventions.

    errors = queue_depth{state=\"failed\"}     // warning

Fix: use the counter of failed events, such as `jobs_failed_total`.";
    COUNTER_AS_GAUGE = "W0002", "counter used as a gauge", "\
A field that compares a metric's value with a threshold (accuracy `metric`,
drift `score`, gpu metrics, freshness `last_success`) names a counter (a name
ending in `_total`, `_count`, `_sum` or `_bucket`). A counter only grows, so
its raw value crosses any threshold eventually.

    score = feature_drift_events_total     // warning

Fix: use the gauge that holds the score itself, such as `feature_drift_score`.";
    THRESHOLD_NOT_A_BUCKET = "W0003", "threshold is not a bucket boundary", "\
A latency threshold is not one of the histogram's declared `buckets`, while
`assume_bucket = true` says the histogram has that boundary anyway. The good
events are read from the `le` series equal to the threshold; if there is none,
the objective reads no data and `SLOLatencyBucketMissing` fires. Without
`assume_bucket` this is the error E0610.

    threshold     = 300ms
    buckets       = [100ms, 250ms, 500ms, 1s]     // warning: 300ms is not listed
    assume_bucket = true

Fix: add the boundary to `buckets` (it is then checked), or use a declared
boundary (`250ms`) and remove `assume_bucket`.";
    TEMPLATE_DELIMITERS = "W0004", "template delimiters in text", "\
A label value or annotation text (team, labels, description, runbook,
dashboard) contains `{{`, which Prometheus and Alertmanager read as the start
of a Go template. mlslo keeps user text literal: emitters escape it so that it
reaches the alert unchanged, which is rarely what someone writing `{{` meant.

    labels { summary = \"{{ $labels.instance }} is down\" }     // warning

Fix: remove the braces; mlslo writes summaries and descriptions with the
useful template values itself.";
    BURN_ALERT_NEVER_FIRES = "W0005", "burn-rate alert can never fire", "\
A burn-rate alert's threshold, `factor × (1 - objective)`, is at least 1: it
would need more than 100% of events to fail. With a 90% objective the budget is
10%, and the workbook's 14.4× page needs a 144% error ratio.

    availability \"jobs\" { objective = 90% ... }     // warning for the 14.4× page

Fix: raise the objective, lengthen the objective window (factors scale with
it), or give the tier an explicit smaller factor:
`page { burn { long = 1h, short = 5m, factor = 5 } }`. `alerts = false`
disables burn alerts.";
    SELECTOR_OVERRIDES_SERVICE = "W0006", "selector label overrides the service selector", "\
A metric selector matches a label that the service's `selector {}` also sets,
with a different value or operator. The selector's own matcher wins and the
service's value is not added for this metric.

    service \"fraud\" {
      selector { model = \"fraud_detection\" }
      drift \"amount\" { score = feature_drift_score{model=\"fraud_v2\"} ... }    // warning
    }

Fix: remove the matcher from one of the two places.";
    UNUSED_RECEIVER = "W0007", "unused receiver", "\
A receiver is defined but neither `default_receiver` nor any route sends
alerts to it. Often a route names another receiver by mistake.

    receiver \"archive\" { webhook { url_file = \"/etc/am/archive\" } }    // warning

Fix: add a route to it, such as `route { team = \"ml\" } -> \"archive\"`, or remove
it.";
    NO_BURN_WINDOW_FITS = "W0008", "no burn-rate window fits the objective window", "\
An objective with an error budget gets burn-rate alerts only from windows
shorter than its objective window. When the window is 1h or less, none of the
SRE workbook's default windows (1h, 6h, 1d, 3d) fits, and the objective would
silently get no alert at all.

    availability \"api\" {
      objective = 99.9%
      window    = 1h          // warning: no default burn window is shorter
    }

Fix: use a realistic objective window (days or weeks), give a tier explicit
windows such as `page { burn { long = 10m, short = 1m, factor = 6 } }`, or
write `alerts = false` when only the recording rules are wanted.";
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
forecast alert keeps firing through the breach until the threshold alert fires.
With a horizon not longer than `for` the forecast alert can never fire first.

Example:

    drift \"x\" { score = s  max = 0.3  for = 1h  forecast { lookback = 6h, horizon = 30m } }

Fix: a horizon several times longer than `for`.";
    UTILIZATION_CEILING_UNREACHABLE = "W0505", "utilization ceiling can never be exceeded", "\
GPU utilization is reported between 0 and 100 percent, and the alert fires when it
is strictly above `max_utilization`; with 100% it never fires.

Example:

    gpu \"a100-pool\" { utilization = DCGM_FI_DEV_GPU_UTIL  max_utilization = 100% }

Fix: a ceiling below 100%, such as 90%.";
    NO_ROUTING_BLOCK = "W0600", "no routing block", "\
The files declare services but no `routing` block. The generated
`alertmanager.yml` then sends every alert to `mlslo-default`, a receiver with
no integration: the alerts fire, and nobody is notified.

Fix: add a routing block with at least a default receiver:

    routing {
      default_receiver = \"team-chat\"
      receiver \"team-chat\" { slack { api_url_file = \"/etc/am/slack\", channel = \"#alerts\" } }
    }";
    ROUTE_MATCHES_NO_ALERT = "W0601", "route matches no generated alert", "\
A route tests a label mlslo sets on every alert (`service`, `slo`, `kind`,
`team`, `severity`, or a label every service declares) against values that no
generated alert has, or tests a label mlslo never sets whose name is close to
one it does. The route never matches, and the alerts meant for it go to the
next route or to the default receiver.

    route { team = \"risk-ml\", severity = \"critical\" } -> \"risk-pager\"    // warning: severity is page or ticket
    route { teams = \"risk-ml\" } -> \"risk-chat\"                           // warning: did you mean `team`?

Labels that mlslo does not set (those of the series behind a threshold alert,
or Prometheus' external labels) are not judged, unless their name looks like a
misspelled mlslo label.

Fix: use a value the label has (the note lists them), or the intended label
name.";
    BURN_FACTOR_BELOW_ONE = "W0610", "burn-rate alert fires while the objective is met", "\
A burn-rate alert fires when the error ratio over its windows is above
`factor × (1 - objective)`. With a factor below 1 it fires on an error rate that,
kept up for the whole objective window, still meets the objective: it alerts
while nothing is wrong. The workbook's default windows spend a fixed share of
the budget per window, so their factors shrink with the objective window: over
7 days the ticket factors are 0.7 (1d/2h) and 0.233 (3d/6h), over 28 days the
3d/6h ticket is 0.933. A factor of exactly 1 (the 3d ticket over 30 days) is not
warned: it fires only above the sustainable rate.

    availability \"api\" {
      objective = 99.9%
      window    = 7d           // warning: ticket factors 0.7 and 0.233
      ...
    }

Fix: give the tier explicit windows with a factor of at least 1, such as
`ticket { burn { long = 1d, short = 2h, factor = 1 } }`, or lengthen the
objective window.";
    BUDGET_BELOW_ONE_EVENT = "W0611", "error budget below one event at the minimum traffic", "\
Burn-rate alerts stay quiet below a minimum traffic. With `min_traffic` written,
that traffic over the objective window, times the error budget, is less than one
event: at the lowest traffic the alerts watch, a single failure misses the
objective, so the window is too short (or the objective too strict) to measure
anything at that traffic.

    availability \"api\" {
      objective   = 99.99%
      window      = 1d
      min_traffic = 1 per 5m     // warning: 288 events a day allow 0.029 failures
    }

Without `min_traffic`, every burn window gets a guard derived from its own
threshold: in its short window, at least `ceil(1 / (factor × (1 - objective)))`
events, the fewest at which one failure alone is not above the threshold (70 in
5m for the 14.4× page of 99.9%, 1000 in 6h for its 1× ticket). A handful of
events then cannot page or open a ticket. At that traffic the window's budget
holds `window / (short window × factor)` events (600 for the 14.4× page over 30
days). `min_traffic = none` removes the guard.

Fix: lengthen the objective window, lower the objective, or raise `min_traffic`.";
    FORECAST_LOOKBACK_BEYOND_RETENTION = "W0620", "forecast lookback longer than Prometheus keeps history", "\
A forecast fits a line over `lookback` of history, and mlslo lets it fire only
for a series that has a sample `lookback` old: a series minutes old (a rolling
deploy, a new GPU) would otherwise be extrapolated from its first steep minutes
and page falsely. Prometheus keeps 15 days of history by default
(`--storage.tsdb.retention.time`), so with a longer lookback no series ever has
the history the forecast asks for, and it never fires.

Example:

    drift \"x\" { score = s  max = 0.3  forecast { lookback = 30d, horizon = 7d } }

Fix: a lookback of at most 15d; if your Prometheus keeps more history, the
warning is safe to accept.";
    NOT_A_KUBERNETES_LABEL_VALUE = "W0630", "value cannot be a Kubernetes label", "\
The `PrometheusRule` manifest of a service carries its name and team as the labels
`mlslo.dev/service` and `mlslo.dev/team`. A Kubernetes label value holds at most
63 characters of letters, digits, `-`, `_` and `.`, and begins and ends with a
letter or digit; a name or team that is not one is left out of the manifest rather
than changed. A prometheus-operator `ruleSelector` that selects on the label then
misses the service's rules.

    service \"checkout\" { team = \"Payments Team\" ... }    // no mlslo.dev/team label

Fix: a team such as `payments`, a service name of at most 63 characters ending in
a letter or digit; or nothing, when no selector reads these labels
(`app.kubernetes.io/managed-by: mlslo` is always there).";
    NO_HEARTBEAT = "W0640", "no dead man's switch", "\
Every alert mlslo generates travels through Prometheus, Alertmanager and a
receiver's integration. If any of them stops (Prometheus down, rules not loaded,
Alertmanager crashed, a wrong API key), no alert fires and nothing says so:
silence looks like health. A dead man's switch is an alert that always fires
(`Watchdog`) and that Alertmanager sends to an outside heartbeat service
(Dead Man's Snitch, healthchecks.io, a PagerDuty or Opsgenie heartbeat) every
`heartbeat_interval`; the service pages you when the heartbeats stop.

    routing { default_receiver = \"chat\" ... }     // warning: no monitoring block

Fix: name the receiver whose integration calls the heartbeat service:

    monitoring { heartbeat = \"heartbeat\", heartbeat_interval = 1m }
    routing { receiver \"heartbeat\" { webhook { url = \"https://hc-ping.com/...\" } } ... }

or write `heartbeat = none` where something else watches the pipeline.";
    NOTIFICATION_FAILURES_UNREPORTABLE = "W0641", "notification failures reported only through the failing integration", "\
`AlertmanagerNotificationsFailing` fires when an integration (Slack, PagerDuty,
a webhook, e-mail) fails to deliver, and it carries the integration as a label.
When the route tree sends the alert about a failing integration only to
receivers that use that same integration, the report of the failure fails the
same way and nobody hears of it.

    route { kind = \"monitoring\" } -> \"platform-slack\"   // slack failures go to Slack

Fix: route `kind = \"monitoring\"` alerts to a receiver with a second, different
integration (e-mail beside Slack, say), or rely on the dead man's switch.";
    HEARTBEAT_RECEIVER_SHARED = "W0642", "heartbeat receiver also receives alerts", "\
The heartbeat receiver's integration calls an outside heartbeat service, which
only counts calls: an alert sent there is seen by nobody, and it makes the
service believe the pipeline is alive even after the `Watchdog` stops.

    monitoring { heartbeat = \"snitch\" }
    routing { default_receiver = \"snitch\" ... }       // warning

Fix: keep the heartbeat receiver for the heartbeat alone; route alerts to
receivers people read.";
    UNUSED_TIME_INTERVAL = "W0650", "time interval no route uses", "\
A `time_interval` of the routing block is named by no route's `mute_during`
or `active_during`, so it mutes nothing. It is still written to
`alertmanager.yml`.

    time_interval \"retraining\" { weekdays = [\"sunday\"] }   // warning: no route names it

Fix: attach it to the routes it should mute: `route { ... } -> \"tickets\"
mute_during \"retraining\"`, or remove it.";
    TIME_INTERVAL_ALWAYS = "W0651", "time interval that covers all time", "\
A `time_interval` block sets no field, or only `location`: Alertmanager reads
that as every instant, so a route muted during it never notifies and a route
active during it is never muted.

    time_interval \"retraining\" { location = \"Europe/Berlin\" }   // warning

Fix: say when the window is, with `times`, `weekdays`, `days_of_month`,
`months` or `years`.";
    TIME_ZONE_NOT_IN_ALERTMANAGER_CONFIG = "W0652", "time zone the AlertmanagerConfig cannot carry", "\
A `time_interval` has a `location` other than UTC. `alertmanager.yml` carries
it, but prometheus-operator's `AlertmanagerConfig` (`monitoring.coreos.com/
v1alpha1`) has no `location` field, so the generated manifest leaves the
interval out, with the routes' references to it: there, those routes are never
muted by it (rather than muted at the wrong hours). The manifest's header
names the interval.

    time_interval \"retraining\" { times = [\"02:00-04:00\"] location = \"Europe/Berlin\" }   // warning

Fix: if you deploy through the AlertmanagerConfig, write the window in UTC
(`times = [\"01:00-03:00\"]` without `location`; mind daylight saving time);
if you deploy `alertmanager.yml`, ignore the warning.";
    GROUP_LABEL_PINNED = "W0700", "group label fixed by the selector", "\
A label of `group_by` is matched by equality in the objective's selector (or
the service's `selector {}`), so every series the objective reads has the same
value of it: the objective has exactly one group for that label, and grouping
by it changes nothing but the labels of the alerts.

    availability \"ranker\" {
      errors   = requests_total{model=\"ranker\", code=~\"5..\"}
      total    = requests_total{model=\"ranker\"}
      group_by = [model]             // warning: model is always \"ranker\"
    }

Fix: remove the label from `group_by`, or widen the selector (`model=~\"ranker|reranker\"`,
or no matcher on it) to watch every model in one objective.";
    INHIBITION_CROSSES_GROUPS = "W0701", "inhibit rule lets one group mute another", "\
An `inhibit` rule mutes alerts of a grouped objective (`group_by`), and its
sources include alerts of an objective grouped by the same label, but the rule's
`on [...]` list leaves that label out. Alertmanager then mutes every group's
target while any one group's source fires: a page for model A silences model B's
drift alert, which nobody will see.

    availability \"predict\" { ...  group_by = [model] }
    drift \"embeddings\"      { ...  group_by = [model] }

    inhibit kind \"availability\" over \"drift\" on [service]          // warning
    inhibit kind \"availability\" over \"drift\" on [service, model]   // one model at a time

The inhibitions mlslo generates always hold the group labels equal; this is
about the rules you write.

Fix: add the group label to `on [...]`. If one group's alert should really mute
every group's (a shared dependency), make the source an ungrouped objective.";
    ROUTING_GROUPS_ACROSS_GROUPS = "W0702", "routing group_by leaves out a group label", "\
The routing block's `group_by` decides which alerts share one notification.
When it leaves out a label some objective groups by, the alerts of different
groups (models, regions) are batched together: a page for model B that starts
while model A's is firing joins A's notification group, and is sent as an update
after `group_interval` rather than after `group_wait`, under a title that names
model A.

    availability \"predict\" { ...  group_by = [model] }

    routing {
      group_by = [alertname, service, slo]          // warning: model is missing
      ...
    }

Without a `group_by`, mlslo's default includes every group label.

Fix: add the group labels to `group_by` (`[alertname, service, slo, model]`), or
`[\"...\"]` to group by every label.";
    OBJECTIVE_SERIES_ABOVE_BOUND = "W0720", "objective records too many series", "\
A grouped objective records one series per group for most of its recording
rules (every window's error ratio, the 5m rates, the burn rates, the budget
left), so its series grow with its groups: 13 per group (and 4 in all) for an
availability objective with the workbook's windows. With `expected_groups`,
`check` multiplies it out and warns above the bound: 10,000 series per
objective, or `max_series_per_objective` in the `[check]` table of
`.mlslo.toml`. `mlslo check --explain-cardinality` lists the series of every
recording rule.

    availability \"api\" {
      ...
      group_by        = [model, customer]
      expected_groups = 2000   // warning: about 26,004 recorded series
    }

Fix: group by fewer or coarser labels, split the objective by a selector (one
objective per tier of customers), or raise the bound if the fleet is that
large and Prometheus is sized for it.";
    GROUP_LABEL_UNBOUNDED = "W0721", "group label of unbounded cardinality", "\
A label of `group_by` names something with a value per request, user or
trace (`user_id`, `request_id`, `trace_id`, `session_id`): one group per value
means recorded series, budgets and burn alerts for every user, without bound.
`mlslo lint` reports the first three in rules by default.

    availability \"api\" {
      ...
      group_by = [model, user_id]    // warning
    }

Fix: group by a bounded label (`model`, `region`, a customer tier); watch
single users in logs or traces, not in SLOs.";
    TIER_BLOCK_OF_DISABLED_TIER = "W0730", "tier block of a switched-off tier", "\
`alerts` lists the tiers whose burn-rate alerts are generated; a `page` or
`ticket` block for a tier that is not in the list configures alerts that are
never written, which is usually a leftover of an edit.

    availability \"api\" {
      ...
      alerts = [page]
      ticket { burn { long = 1d, short = 2h } }   // warning: no ticket is generated
    }

Fix: add the tier to the list (`alerts = [page, ticket]`), or remove the block.";
    EXHAUSTION_HORIZON_BEYOND_WINDOW = "W0731", "exhaustion horizon beyond the window", "\
The `exhaustion` forecast of a `budget` block fires while a linear fit of the
remaining budget reaches zero within `horizon`. The remaining budget is a
ratio over the objective window: past one window every error the fit saw has
left it, so a longer horizon extrapolates further than what is measured, and
the alert fires on slow trends the budget would never feel.

    availability \"api\" {
      window = 7d
      ...
      budget { exhaustion { lookback = 1d, horizon = 14d } }   // warning
    }

Fix: a horizon within the window, such as 3d.";
    BUDGET_BLOCK_WITHOUT_ALERT = "W0732", "budget block without an alert", "\
An objective's `budget` block asks for the alerts on its error budget:
`remaining_below` for `ErrorBudgetLow`, `exhaustion` for
`ErrorBudgetExhaustionForecast`. A block with neither generates nothing,
which is usually a leftover of an edit.

    availability \"api\" {
      ...
      budget { }        // warning
    }

Fix: add `remaining_below = 25%` or `exhaustion { lookback = 1d, horizon = 3d }`,
or remove the block.";
}
