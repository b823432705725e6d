//! Every Prometheus name mlslo generates, in one place: recording rules, alerts,
//! labels, rule groups and output files (as Sloth keeps them in `conventions.go`).
//!
//! Invariants: recording-rule names follow Prometheus' `level:metric:operations`
//! convention and match `[a-zA-Z_:][a-zA-Z0-9_:]*`; the window in a name is the
//! Prometheus spelling of the duration (`5m`, `1h`, `4w`), so a name is stable for a
//! given window; alert names are CamelCase and never depend on user text.
//!
//! The names live with the model, below the checker, so that `check` proves them
//! unique and within their targets' limits with the very functions the emitters
//! call (`check/generated_names.rs`).

use std::collections::BTreeMap;

use crate::compiler::ir::duration::Duration;

/// Labels that identify an objective on every recorded series and alert. Only these
/// two sit on recorded series: mutable metadata (team, objective, service labels)
/// lives on alerts and on [`SLO_INFO`], so editing it never breaks a long-window rule
/// (Sloth issue #311: "vector contains metrics with the same labelset").
pub const LABEL_SERVICE: &str = "service";
pub const LABEL_SLO: &str = "slo";
/// The labels every recorded series of an objective carries: the identity of its
/// series, so two objectives with the same identity would write the same series.
pub fn identity_labels(service: &str, objective: &str) -> BTreeMap<String, String> {
    BTreeMap::from([
        (LABEL_SERVICE.to_owned(), service.to_owned()),
        (LABEL_SLO.to_owned(), objective.to_owned()),
    ])
}

/// Sloth's identity labels, written beside mlslo's on a budgeted objective's
/// series and alerts when the `grafana` block asks for them, so that what reads
/// Sloth's series (its Grafana dashboards, its UI) reads mlslo's: `sloth_id` is
/// `<service>-<slo>`, as Sloth makes it.
pub const LABEL_SLOTH_ID: &str = "sloth_id";
pub const LABEL_SLOTH_SERVICE: &str = "sloth_service";
pub const LABEL_SLOTH_SLO: &str = "sloth_slo";
/// Sloth's tier of a burn alert (`page`, `ticket`): written on mlslo's burn
/// alerts with the identity labels above (Sloth's dashboards find the alerts by
/// it), and read by `mlslo backtest --compare` to put Sloth's alerts beside an
/// objective's.
pub const LABEL_SLOTH_SEVERITY: &str = "sloth_severity";
/// The objective in percent (`"99.9"`) on [`SLOTH_SLO_INFO`].
pub const LABEL_SLOTH_OBJECTIVE: &str = "sloth_objective";
/// Sloth's `vector(1)` naming every objective, which its dashboards' variables list.
pub const SLOTH_SLO_INFO: &str = "sloth_slo_info";

pub fn sloth_labels(service: &str, objective: &str) -> [(String, String); 3] {
    [
        (LABEL_SLOTH_ID.to_owned(), format!("{service}-{objective}")),
        (LABEL_SLOTH_SERVICE.to_owned(), service.to_owned()),
        (LABEL_SLOTH_SLO.to_owned(), objective.to_owned()),
    ]
}

/// Alert labels added beside the identity labels.
pub const LABEL_KIND: &str = "kind";
pub const LABEL_TEAM: &str = "team";
pub const LABEL_SEVERITY: &str = "severity";
/// The window pair of a burn-rate alert (`long_window="1h"`, `short_window="5m"`):
/// each pair is a rule of its own, so the alert says which pair burns.
pub const LABEL_LONG_WINDOW: &str = "long_window";
pub const LABEL_SHORT_WINDOW: &str = "short_window";
/// `forecast="true"` on forecast alerts only: a prediction of harm, not harm, so
/// generated inhibitions and the user's `inhibit` rules never let one mute
/// another alert (see `emit::alertmanager`).
pub const LABEL_FORECAST: &str = "forecast";
pub const FORECAST_LABEL_VALUE: &str = "true";

/// Labels mlslo writes itself on recorded series, alerts or the info series, or
/// reads with a meaning of its own (`le` is a histogram's bucket boundary): an
/// objective's `group_by` cannot name them, since a group label would then be
/// overwritten by the generated value, or would split what the SLI must sum.
pub const GENERATED_LABELS: [&str; 19] = [
    "__name__",
    "alertname",
    LABEL_SERVICE,
    LABEL_SLO,
    LABEL_KIND,
    LABEL_TEAM,
    LABEL_SEVERITY,
    LABEL_LONG_WINDOW,
    LABEL_SHORT_WINDOW,
    LABEL_FORECAST,
    LABEL_METRIC,
    "le",
    INFO_LABEL_OBJECTIVE,
    INFO_LABEL_WINDOW,
    LABEL_SLOTH_ID,
    LABEL_SLOTH_SERVICE,
    LABEL_SLOTH_SLO,
    LABEL_SLOTH_OBJECTIVE,
    LABEL_SLOTH_SEVERITY,
];

/// The objective and its window on [`SLO_INFO`].
pub const INFO_LABEL_OBJECTIVE: &str = "slo_objective";
pub const INFO_LABEL_WINDOW: &str = "slo_window";

/// Annotation keys.
pub const ANNOTATION_SUMMARY: &str = "summary";
pub const ANNOTATION_DESCRIPTION: &str = "description";
pub const ANNOTATION_RUNBOOK: &str = "runbook_url";
pub const ANNOTATION_DASHBOARD: &str = "dashboard_url";

/// Alert names.
pub const ALERT_BUDGET_BURN: &str = "ErrorBudgetBurn";
/// Less than `remaining_below` of the objective window's budget is left.
pub const ALERT_BUDGET_LOW: &str = "ErrorBudgetLow";
/// The trend of the remaining budget reaches zero within the horizon (a
/// forecast: the name ends in [`FORECAST_ALERT_SUFFIX`]).
pub const ALERT_BUDGET_EXHAUSTION: &str = "ErrorBudgetExhaustionForecast";
pub const ALERT_METRIC_ABSENT: &str = "SLOMetricAbsent";
pub const ALERT_LATENCY_BUCKET_MISSING: &str = "SLOLatencyBucketMissing";
pub const ALERT_DRIFT_HIGH: &str = "DriftScoreHigh";
pub const ALERT_DRIFT_FORECAST: &str = "DriftScoreForecast";
pub const ALERT_GPU_UTILIZATION_HIGH: &str = "GPUUtilizationHigh";
pub const ALERT_GPU_MEMORY_EXHAUSTION: &str = "GPUMemoryExhaustionForecast";
pub const ALERT_FRESHNESS_STALE: &str = "DataFreshnessStale";
/// Log alerts, posted by watches (CamelCase, like the Prometheus alerts).
pub const ALERT_LOG_COUNT_HIGH: &str = "LogEventsHigh";
pub const ALERT_LOG_RATIO_HIGH: &str = "LogEventRatioHigh";

/// Alerts on the monitoring path itself (the `monitoring` block). They carry
/// `kind="monitoring"`, so one route can send them all to the people who run
/// Prometheus and Alertmanager.
pub const KIND_MONITORING: &str = "monitoring";
/// The dead man's switch: always firing, routed to the heartbeat receiver.
pub const ALERT_WATCHDOG: &str = "Watchdog";
/// The `severity` of the Watchdog, which is neither a page nor a ticket.
pub const SEVERITY_HEARTBEAT: &str = "heartbeat";
pub const ALERT_RULE_EVALUATION_FAILURES: &str = "SLORuleEvaluationFailures";
pub const ALERT_RULE_EVALUATIONS_MISSED: &str = "SLORuleEvaluationsMissed";
pub const ALERT_SCRAPE_TARGET_DOWN: &str = "SLOScrapeTargetDown";
pub const ALERT_NOTIFICATIONS_FAILING: &str = "AlertmanagerNotificationsFailing";
pub const ALERT_MONITORING_METRICS_ABSENT: &str = "SLOMonitoringMetricsAbsent";
/// On [`ALERT_MONITORING_METRICS_ABSENT`]: the metric the other alerts need.
pub const LABEL_METRIC: &str = "metric";

/// The last word of every forecast alert's name (a `predict_linear` of what the
/// objective's threshold alerts watch), so a backtest can pair each forecast with the
/// alerts it forecasts.
pub const FORECAST_ALERT_SUFFIX: &str = "Forecast";

/// Whether `alertname` names a forecast alert.
pub fn is_forecast_alert(alertname: &str) -> bool {
    alertname.ends_with(FORECAST_ALERT_SUFFIX)
}

/// The threshold alert whose breach a generated forecast alert predicts, of the same
/// objective: the drift score above its maximum, the budget below its floor. `None`
/// for a forecast without one (GPU memory running out has no threshold alert; the
/// utilization alert of the same pool watches something else).
pub fn forecast_threshold_alert(forecast: &str) -> Option<&'static str> {
    match forecast {
        ALERT_DRIFT_FORECAST => Some(ALERT_DRIFT_HIGH),
        ALERT_BUDGET_EXHAUSTION => Some(ALERT_BUDGET_LOW),
        _ => None,
    }
}

/// The alert names the generator gives to alerts other than burn-rate alerts,
/// which `burn_alert` may not take: tests, backtests and routes on `alertname`
/// would mistake one for the other.
pub fn is_reserved_alert_name(name: &str) -> bool {
    [
        ALERT_BUDGET_LOW,
        ALERT_BUDGET_EXHAUSTION,
        ALERT_METRIC_ABSENT,
        ALERT_LATENCY_BUCKET_MISSING,
        ALERT_DRIFT_HIGH,
        ALERT_DRIFT_FORECAST,
        ALERT_GPU_UTILIZATION_HIGH,
        ALERT_GPU_MEMORY_EXHAUSTION,
        ALERT_FRESHNESS_STALE,
        ALERT_LOG_COUNT_HIGH,
        ALERT_LOG_RATIO_HIGH,
        ALERT_WATCHDOG,
        ALERT_RULE_EVALUATION_FAILURES,
        ALERT_RULE_EVALUATIONS_MISSED,
        ALERT_SCRAPE_TARGET_DOWN,
        ALERT_NOTIFICATIONS_FAILING,
        ALERT_MONITORING_METRICS_ABSENT,
    ]
    .contains(&name)
}

/// Metadata recording rules (Sloth's names, so its dashboards read them).
pub const SLO_OBJECTIVE: &str = "slo:objective:ratio";
pub const SLO_ERROR_BUDGET: &str = "slo:error_budget:ratio";
pub const SLO_TIME_PERIOD_DAYS: &str = "slo:time_period:days";
pub const SLO_CURRENT_BURN_RATE: &str = "slo:current_burn_rate:ratio";
pub const SLO_PERIOD_BURN_RATE: &str = "slo:period_burn_rate:ratio";
pub const SLO_PERIOD_BUDGET_REMAINING: &str = "slo:period_error_budget_remaining:ratio";
/// `vector(1)` carrying the mutable metadata of an objective as labels.
pub const SLO_INFO: &str = "slo:info:labels";

/// The error ratio over `window`: `slo:sli_error:ratio_rate5m`, for every kind with a
/// budget (for accuracy it is the fraction of bad slices).
pub fn sli_error_ratio(window: Duration) -> String {
    format!("slo:sli_error:ratio_rate{window}")
}

/// Bad events per second over the last 5 minutes, summed over all series.
pub fn sli_errors_rate(window: Duration) -> String {
    format!("slo:sli_errors:rate{window}")
}

/// All events per second over the last 5 minutes, summed over all series.
pub fn sli_total_rate(window: Duration) -> String {
    format!("slo:sli_total:rate{window}")
}

/// Accuracy: 1 while the slice ending now is bad, else 0.
pub fn slice_bad(slice: Duration) -> String {
    format!("slo:slice_bad:bool{slice}")
}

/// Whether `name` is one of the SLI series above, which the generated rules record
/// once per group of a grouped objective (`sum by (group labels)`) with only the
/// identity labels added: their other labels are the group's.
pub fn is_per_group_sli_series(name: &str) -> bool {
    name.starts_with("slo:sli_error:ratio_rate")
        || name.starts_with("slo:sli_errors:rate")
        || name.starts_with("slo:sli_total:rate")
        || name.starts_with("slo:slice_bad:bool")
}

/// GPU objectives: the share of memory used on the pool's fullest device, the
/// pool-level series the exhaustion forecast extrapolates.
pub const GPU_MEMORY_USED_RATIO_MAX: &str = "slo:gpu_memory_used:ratio_max";

/// The scrape targets (`job`, `instance`) that exposed an objective's series, kept
/// while the target stays in service discovery, so a target that goes down is
/// still known to be one of the objective's.
pub const SLO_SCRAPE_TARGETS: &str = "slo:scrape_targets:info";

/// The window the cheap, chained per-5m rates are recorded at.
pub const CHAINED_RATE_WINDOW: Duration = Duration::minutes(5);

/// Rule groups of one objective, unique within a service file. The first holds the
/// SLI recording rules and then the alerts that read them: rules of one group run
/// in order at one timestamp, so an alert never sees the previous cycle's SLI.
pub fn group_objective(service: &str, objective: &str) -> String {
    format!("{service}/{objective}")
}

/// The objective-window, metadata and budget rules (no burn-rate alert needs
/// them), then the alerts on the budget left, which read them in the same cycle.
pub fn group_budget(service: &str, objective: &str) -> String {
    format!("{service}/{objective}/budget")
}

/// The monitoring rules of one service: alerts on the evaluation of its groups and
/// on the targets behind its objectives. Objective names cannot start with `_`, so
/// no objective group has this name.
pub fn group_service_monitoring(service: &str) -> String {
    format!("{service}/_monitoring")
}

/// The `rule_group` label Prometheus gives every group of a service's rule file
/// (`<file>;<group>`), as an anchored regex: the file's path depends on where it
/// is deployed, the group names do not.
pub fn service_rule_group_regex(service: &str) -> String {
    format!(".*;{}/.*", regex_escape(service))
}

/// The rules about Prometheus and Alertmanager themselves, in a file of their own
/// (the Watchdog, notification failures, missing self-metrics). Service names
/// cannot start with `_`, so no service file has this stem.
pub const MONITORING_STEM: &str = "_monitoring";
pub const GROUP_MONITORING: &str = "_monitoring";
/// The monitoring rules' `PrometheusRule` name: service manifests end in `-slo`.
pub const MONITORING_KUBERNETES_NAME: &str = "mlslo-monitoring";

/// `text` as a regex that matches exactly it (RE2 syntax).
pub fn regex_escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for character in text.chars() {
        if "\\.+*?()|[]{}^$".contains(character) {
            escaped.push('\\');
        }
        escaped.push(character);
    }
    escaped
}

/// Output files, relative to the output folder.
pub fn prometheus_file(service: &str) -> String {
    format!("prometheus/{service}.rules.yml")
}

pub fn kubernetes_file(service: &str) -> String {
    format!("kubernetes/{service}.prometheusrule.yaml")
}

pub fn test_file(service: &str) -> String {
    format!("tests/{service}.test.yml")
}

/// The Elasticsearch Watcher watch of a `logs` objective: its id on the cluster is the
/// stem of its file, so the two are one name.
pub fn watch_id(service: &str, objective: &str) -> String {
    format!("{service}-{objective}")
}

pub fn watch_file(service: &str, objective: &str) -> String {
    format!("watcher/{}.json", watch_id(service, objective))
}

/// The Grafana dashboard of a service, its `ConfigMap` for the Grafana sidecar of
/// kube-prometheus-stack, and the file-provisioning configuration of all of them.
/// Both file names are shorter than [`kubernetes_file`]'s, so the checker's limit
/// on that one (E0631) covers them.
pub fn grafana_dashboard_file(service: &str) -> String {
    format!("grafana/{service}.json")
}

pub fn grafana_configmap_file(service: &str) -> String {
    format!("grafana/{service}.configmap.yaml")
}

pub const GRAFANA_PROVISIONING_FILE: &str = "grafana/provisioning.yml";

/// The `ConfigMap` holding a service's dashboard: its `PrometheusRule`'s name.
/// Objects of two kinds may share a name, and so the checker's proof of that
/// name (unique, a DNS-1123 subdomain within 253 characters) holds for both.
pub fn grafana_configmap_name(service: &str) -> String {
    kubernetes_name(service)
}

/// The longest dashboard uid Grafana accepts.
pub const MAX_GRAFANA_UID: usize = 40;

/// How every generated dashboard's uid begins: with the `mlslo` tag, what marks a
/// dashboard in Grafana as mlslo's to replace or delete.
pub const GRAFANA_UID_PREFIX: &str = "mlslo-";

/// The dashboard's uid, stable for a service so links and bookmarks survive a
/// rebuild: `mlslo-<service>` when that fits Grafana's 40 characters of
/// `[A-Za-z0-9_-]`, else a prefix of it and a hash of the whole name (two long
/// names that share the prefix still get two uids).
pub fn grafana_dashboard_uid(service: &str) -> String {
    let readable: String = std::iter::once(GRAFANA_UID_PREFIX)
        .flat_map(str::chars)
        .chain(service.chars().map(|character| match character {
            'a'..='z' | 'A'..='Z' | '0'..='9' | '_' | '-' => character,
            _ => '-',
        }))
        .collect();
    if readable.len() <= MAX_GRAFANA_UID && !service.contains('.') {
        return readable;
    }
    // 64-bit FNV-1a: stable across Rust versions, unlike `DefaultHasher`.
    let hash = service
        .bytes()
        .fold(0xcbf2_9ce4_8422_2325_u64, |hash, byte| {
            (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
        });
    let hash = format!("{hash:016x}");
    let keep = MAX_GRAFANA_UID - hash.len() - 1;
    let prefix: String = readable.chars().take(keep).collect();
    format!("{prefix}-{hash}")
}

/// The title of a service's dashboard.
pub fn grafana_dashboard_title(service: &str) -> String {
    format!("{service} SLOs")
}

/// The dashboard's path under Grafana's base URL, `/d/<uid>/<slug>`. The slug is
/// the title as Grafana's `slugify` makes it for ASCII (lowercase, every run of
/// other characters one `-`, none at the ends); Grafana finds a dashboard by its
/// uid alone and redirects a stale slug, so the slug only has to read well.
pub fn grafana_dashboard_path(service: &str) -> String {
    let mut slug = String::new();
    for character in grafana_dashboard_title(service).chars() {
        match character.to_ascii_lowercase() {
            kept @ ('a'..='z' | '0'..='9') => slug.push(kept),
            _ if !slug.is_empty() && !slug.ends_with('-') => slug.push('-'),
            _ => {}
        }
    }
    format!(
        "/d/{}/{}",
        grafana_dashboard_uid(service),
        slug.trim_end_matches('-')
    )
}

/// The longest file name (one path component) Linux file systems accept (`NAME_MAX`);
/// ext4, XFS, Btrfs and tmpfs all count bytes.
pub const MAX_FILE_NAME_BYTES: usize = 255;

/// The longest Kubernetes object name (a DNS-1123 subdomain).
pub const MAX_KUBERNETES_NAME: usize = 253;

/// The longest Elasticsearch document id, which a watch id is in `.watches` (ids
/// also cannot hold whitespace, which names never do).
pub const MAX_WATCH_ID_BYTES: usize = 512;

/// The rule file as a test file names it (`rule_files` are relative to the test file).
pub fn rule_file_from_tests(service: &str) -> String {
    format!("../prometheus/{service}.rules.yml")
}

/// The folders mlslo owns inside the output folder: a build removes stale files
/// there (only files with mlslo's header), and nothing elsewhere.
pub const OWNED_FOLDERS: [&str; 6] = [
    "prometheus",
    "kubernetes",
    "tests",
    "alertmanager",
    "watcher",
    "grafana",
];

/// The `metadata.name` of a service's `PrometheusRule`: a DNS-1123 subdomain
/// (lowercase alphanumerics, `-` and `.`, alphanumeric at both ends, at most 253).
/// Service names already match `[a-z0-9][a-z0-9_.-]*`; `_` becomes `-`, so two
/// services can share one name, and a long service gives a long name: the checker
/// refuses both (E0630, E0631).
pub fn kubernetes_name(service: &str) -> String {
    let name: String = service
        .chars()
        .map(|character| match character {
            'a'..='z' | '0'..='9' | '-' | '.' => character,
            'A'..='Z' => character.to_ascii_lowercase(),
            _ => '-',
        })
        .collect();
    let trimmed = name.trim_matches(|character: char| !character.is_ascii_alphanumeric());
    if trimmed.is_empty() {
        "mlslo-slo".to_owned()
    } else {
        format!("{trimmed}-slo")
    }
}

/// The labels of a `PrometheusRule` manifest that carry the service's name and team.
pub const KUBERNETES_LABEL_SERVICE: &str = "mlslo.dev/service";
pub const KUBERNETES_LABEL_TEAM: &str = "mlslo.dev/team";

/// The longest Kubernetes label value.
pub const MAX_KUBERNETES_LABEL_VALUE: usize = 63;

/// A Kubernetes label value (at most 63 characters of `[A-Za-z0-9_.-]`, alphanumeric
/// at both ends), or `None` when the name cannot be one without changing it.
pub fn kubernetes_label_value(value: &str) -> Option<String> {
    let valid = !value.is_empty()
        && value.len() <= MAX_KUBERNETES_LABEL_VALUE
        && value
            .chars()
            .all(|character| character.is_ascii_alphanumeric() || "_.-".contains(character))
        && value.starts_with(|character: char| character.is_ascii_alphanumeric())
        && value.ends_with(|character: char| character.is_ascii_alphanumeric());
    valid.then(|| value.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recording_names_follow_level_metric_operations() {
        assert_eq!(
            sli_error_ratio(Duration::minutes(5)),
            "slo:sli_error:ratio_rate5m"
        );
        assert_eq!(
            sli_error_ratio(Duration::days(28)),
            "slo:sli_error:ratio_rate4w"
        );
        assert_eq!(slice_bad(Duration::minutes(5)), "slo:slice_bad:bool5m");
    }

    #[test]
    fn forecast_alerts_and_only_they_end_in_the_forecast_suffix() {
        for forecast in [
            ALERT_DRIFT_FORECAST,
            ALERT_GPU_MEMORY_EXHAUSTION,
            ALERT_BUDGET_EXHAUSTION,
        ] {
            assert!(is_forecast_alert(forecast), "{forecast}");
        }
        for threshold in [
            ALERT_BUDGET_BURN,
            ALERT_BUDGET_LOW,
            ALERT_METRIC_ABSENT,
            ALERT_DRIFT_HIGH,
            ALERT_GPU_UTILIZATION_HIGH,
            ALERT_FRESHNESS_STALE,
        ] {
            assert!(!is_forecast_alert(threshold), "{threshold}");
        }
    }

    #[test]
    fn kubernetes_names_are_dns_subdomains() {
        assert_eq!(kubernetes_name("fraud-detector"), "fraud-detector-slo");
        assert_eq!(kubernetes_name("a_b."), "a-b-slo");
        assert_eq!(
            kubernetes_label_value("fraud_detector").as_deref(),
            Some("fraud_detector")
        );
        assert_eq!(kubernetes_label_value("x."), None);
    }

    #[test]
    fn grafana_paths_carry_the_uid_and_grafanas_slug_of_the_title() {
        assert_eq!(
            grafana_dashboard_path("fraud-detector"),
            "/d/mlslo-fraud-detector/fraud-detector-slos"
        );
        assert_eq!(
            grafana_dashboard_path("a_b.c"),
            format!("/d/{}/a-b-c-slos", grafana_dashboard_uid("a_b.c"))
        );
    }

    #[test]
    fn grafana_uids_are_stable_short_and_distinct() {
        assert_eq!(
            grafana_dashboard_uid("fraud-detector"),
            "mlslo-fraud-detector"
        );
        let long_a = grafana_dashboard_uid(&"a".repeat(60));
        let long_b = grafana_dashboard_uid(&format!("{}b", "a".repeat(59)));
        assert_eq!(long_a.len(), MAX_GRAFANA_UID);
        assert_ne!(long_a, long_b);
        assert_ne!(grafana_dashboard_uid("a.b"), grafana_dashboard_uid("a-b"));
        assert!(grafana_dashboard_uid("a.b")
            .chars()
            .all(|character| character.is_ascii_alphanumeric() || "_-".contains(character)));
    }
}
