//! Grafana dashboards: one per service with Prometheus objectives
//! ([`naming::grafana_dashboard_file`]), its `ConfigMap` for the Grafana sidecar of
//! kube-prometheus-stack, and one file-provisioning configuration for all of them.
//!
//! The dashboard opens with an overview row (each objective's SLI against its
//! objective, the budget left, the current burn rate, the firing alerts), then one
//! row per objective: every burn-rate alert's two windows against the alert's
//! threshold, the budget burn-down, accuracy slices against their bound, drift with
//! its maximum and forecast, GPU utilisation and memory with the exhaustion
//! forecast, the age of fresh data against its limit.
//!
//! Invariants:
//! - every query reads the series the generated rules record or the objective's
//!   own selectors, with the names of [`naming`]; a threshold line is the number the
//!   alert compares with, computed as Prometheus computes the alert's expression
//!   (`14.4 * 0.001` as a product of two doubles, not a decimal);
//! - a grouped objective's queries filter on one template variable per group
//!   label (`model=~"$model"`, all values by default); every query's data source
//!   is the `datasource` variable, so a dashboard loads unedited in any Grafana
//!   with a Prometheus data source;
//! - deterministic: panel ids count up in panel order, the layout is a function
//!   of the objectives, JSON keys are sorted (serde_json's map), no time or version
//!   is written; the uid is [`naming::grafana_dashboard_uid`];
//! - the dashboard's `description` starts with the generated-file header, which
//!   is how `mlslo build` tells its dashboards from a user's.

use super::json::{json, Json};

use crate::compiler::emit::kubernetes::metadata_node;
use crate::compiler::emit::prometheus::{burn_threshold, percent, recorded, Grouping};
use crate::compiler::emit::yaml::{self, Node};
use crate::compiler::ir::naming;
use crate::compiler::ir::{
    Bound, Budget, BurnWindow, Decimal, GrafanaSettings, KubernetesMetadata, Objective,
    ObjectiveKind, Service, Tier,
};

/// The Grafana dashboard schema version written: Grafana 10.4 and 11 write it,
/// and later versions migrate it on load.
pub const SCHEMA_VERSION: u64 = 39;

/// Where the provisioning file expects the dashboards on a Grafana host.
pub const PROVISIONED_PATH: &str = "/var/lib/grafana/dashboards/mlslo";

/// The annotation naming a dashboard's folder, the key the kube-prometheus-stack
/// chart's examples give the sidecar (`sidecar.dashboards.folderAnnotation`).
pub const FOLDER_ANNOTATION: &str = "grafana_folder";

/// The tag every generated dashboard carries; the dashboards link lists them.
pub const DASHBOARD_TAG: &str = "mlslo";

/// How every generated dashboard's text begins, up to the generated-file header in
/// its `description` (keys are sorted and `annotations` holds nothing): `mlslo
/// build` tells its dashboards from a user's by this prefix without parsing them.
pub const DASHBOARD_TEXT_START: &str =
    "{\n  \"annotations\": {\n    \"list\": []\n  },\n  \"description\": \"";

/// The template variable every query's data source is.
const DATASOURCE_VARIABLE: &str = "datasource";

/// Grafana's grid is 24 columns wide.
const GRID_WIDTH: u64 = 24;
const STAT_WIDTH: u64 = 4;
const STAT_HEIGHT: u64 = 4;
const GRAPH_WIDTH: u64 = 12;
const GRAPH_HEIGHT: u64 = 8;

/// A dashboard's JSON as `<service>.json` holds it and as its ConfigMap carries it.
pub struct DashboardText {
    /// Two-space indented, for review in `generated/`.
    pub indented: String,
    /// One line: a ConfigMap is applied with `kubectl apply`, whose
    /// last-applied-configuration annotation (a copy of the whole object) must fit
    /// Kubernetes' 256 KiB limit on annotations; indentation is half the bytes.
    pub compact: String,
}

/// The dashboard JSON of `service`; `header` is the generated-file header,
/// `rule_groups` the names of the service's generated rule groups.
pub fn dashboard(header: &[String], service: &Service, rule_groups: &[String]) -> DashboardText {
    let mut layout = Layout::default();
    let variables = GroupVariables::of(service);
    overview_row(&mut layout, service, &variables);
    for objective in &service.objectives {
        objective_row(&mut layout, service, objective, &variables);
    }
    about_row(&mut layout, service, rule_groups);
    let mut templating = vec![json!({
        "type": "datasource",
        "name": DATASOURCE_VARIABLE,
        "label": "Data source",
        "query": "prometheus",
        "refresh": 1,
    })];
    templating.extend(variables.definitions());
    let mut tags = vec![DASHBOARD_TAG.to_owned(), service.name.clone()];
    if service.team != service.name {
        tags.push(service.team.clone());
    }
    let dashboard = json!({
        "uid": naming::grafana_dashboard_uid(&service.name),
        "title": naming::grafana_dashboard_title(&service.name),
        "description": header.join(" "),
        "tags": tags,
        "timezone": "utc",
        "editable": false,
        "graphTooltip": 1,
        "time": { "from": "now-24h", "to": "now" },
        "refresh": "1m",
        "schemaVersion": SCHEMA_VERSION,
        "version": 1,
        "links": links(service),
        "templating": { "list": templating },
        "annotations": { "list": [] },
        "panels": layout.panels,
    });
    DashboardText {
        indented: dashboard.to_pretty_text(),
        compact: dashboard.to_compact_text(),
    }
}

/// The `ConfigMap` the Grafana sidecar loads the dashboard from: the sidecar's
/// label (the `grafana` block's, unless the `kubernetes` block's labels set it),
/// mlslo's labels, then the block's namespace, labels and annotations, as on the
/// `PrometheusRule`, with the folder annotation unless the block sets it.
pub fn configmap(
    header: &[String],
    service: &Service,
    metadata: &KubernetesMetadata,
    settings: &GrafanaSettings,
    dashboard_json: &str,
) -> String {
    let mut labels = Vec::new();
    // The block's own value wins (written after mlslo's labels), so a sidecar
    // configured with another `labelValue` is served without a second key.
    if !metadata.labels.contains_key(&settings.sidecar_label) {
        labels.push((
            settings.sidecar_label.clone(),
            Node::str(&settings.sidecar_value),
        ));
    }
    let mut metadata = metadata.clone();
    metadata
        .annotations
        .entry(FOLDER_ANNOTATION.to_owned())
        .or_insert_with(|| settings.folder.clone());
    labels.push((
        "app.kubernetes.io/managed-by".to_owned(),
        Node::str("mlslo"),
    ));
    labels.push(("app.kubernetes.io/component".to_owned(), Node::str("slo")));
    if let Some(value) = naming::kubernetes_label_value(&service.name) {
        labels.push((
            naming::KUBERNETES_LABEL_SERVICE.to_owned(),
            Node::str(value),
        ));
    }
    let file_name = naming::grafana_dashboard_file(&service.name);
    let key = file_name.rsplit('/').next().unwrap_or(&file_name);
    let root = Node::map([
        ("apiVersion", Node::str("v1")),
        ("kind", Node::str("ConfigMap")),
        (
            "metadata",
            metadata_node(
                &naming::grafana_configmap_name(&service.name),
                labels,
                &metadata,
            ),
        ),
    ]);
    let mut text = yaml::to_string(header, &root);
    text.push_str("data:\n");
    yaml::direct::key(&mut text, 2, key, false);
    // The JSON writer escapes every character a block scalar refuses and its
    // compact text is one line starting with `{`, so a `|-` block keeps it
    // unchanged without the per-character check a generic scalar gets.
    debug_assert!(yaml::is_block_safe(dashboard_json) && !dashboard_json.contains('\n'));
    text.push_str(" |-\n    ");
    text.push_str(dashboard_json);
    text.push('\n');
    text
}

/// Grafana's file provisioning of the dashboards (`/etc/grafana/provisioning/dashboards/`).
pub fn provisioning(header: &[String], settings: &GrafanaSettings) -> String {
    let provider = Node::map([
        ("name", Node::str("mlslo")),
        ("orgId", Node::Number("1".to_owned())),
        ("folder", Node::str(&settings.folder)),
        ("type", Node::str("file")),
        ("updateIntervalSeconds", Node::Number("30".to_owned())),
        (
            "options",
            Node::map([("path", Node::str(PROVISIONED_PATH))]),
        ),
    ]);
    let root = Node::map([
        ("apiVersion", Node::Number("1".to_owned())),
        ("providers", Node::Seq(vec![provider])),
    ]);
    yaml::to_string(header, &root)
}

/// Panels placed left to right, rows of equal height, a new line when a panel
/// does not fit; ids count up from 1.
#[derive(Default)]
struct Layout {
    panels: Vec<Json>,
    x: u64,
    y: u64,
    line_height: u64,
}

impl Layout {
    fn next_id(&self) -> u64 {
        self.panels.len() as u64 + 1
    }

    fn row(&mut self, title: &str) {
        self.new_line();
        let id = self.next_id();
        self.panels.push(json!({
            "type": "row",
            "id": id,
            "title": title.to_owned(),
            "collapsed": false,
            "panels": [],
            "gridPos": { "h": 1, "w": GRID_WIDTH, "x": 0, "y": self.y },
        }));
        self.y += 1;
    }

    fn new_line(&mut self) {
        if self.x > 0 {
            self.y += self.line_height;
            self.x = 0;
            self.line_height = 0;
        }
    }

    fn place(&mut self, mut panel: Json, width: u64, height: u64) {
        if self.x + width > GRID_WIDTH {
            self.new_line();
        }
        panel.set("id", json!(self.next_id()));
        panel.set(
            "gridPos",
            json!({ "h": height, "w": width, "x": self.x, "y": self.y }),
        );
        self.x += width;
        self.line_height = self.line_height.max(height);
        self.panels.push(panel);
    }
}

/// One template variable per group label of the service's grouped objectives,
/// its values read from the first objective grouped by it.
struct GroupVariables {
    /// (label, the series whose values of the label the variable lists).
    labels: Vec<(String, String)>,
}

impl GroupVariables {
    fn of(service: &Service) -> GroupVariables {
        let mut labels: Vec<(String, String)> = Vec::new();
        for objective in &service.objectives {
            for label in &objective.group_by {
                if labels.iter().any(|(known, _)| known == label) {
                    continue;
                }
                if let Some(series) = grouped_series(service, objective) {
                    labels.push((label.clone(), series));
                }
            }
        }
        GroupVariables { labels }
    }

    fn definitions(&self) -> Vec<Json> {
        self.labels
            .iter()
            .map(|(label, series)| {
                let query = format!("label_values({series}, {label})");
                json!({
                    "type": "query",
                    "name": label,
                    "label": label,
                    "datasource": datasource(),
                    "definition": query.clone(),
                    "query": query,
                    "refresh": 2,
                    "sort": 1,
                    "multi": true,
                    "includeAll": true,
                    "allValue": ".*",
                    // Every group until the reader picks some.
                    "current": { "selected": true, "text": ["All"], "value": ["$__all"] },
                })
            })
            .collect()
    }

    /// `,model=~"$model"` for each group label of `objective`.
    fn matchers(&self, objective: &Objective) -> String {
        let mut text = String::new();
        for label in &objective.group_by {
            if self.labels.iter().any(|(known, _)| known == label) {
                text.push(',');
                text.push_str(label);
                text.push_str("=~");
                crate::compiler::ir::push_promql_string(&mut text, &format!("${label}"));
            }
        }
        text
    }

    /// `metric{service="s",slo="o",model=~"$model"}`: a recorded series of the
    /// objective, only the groups chosen.
    fn recorded(&self, record: &str, service: &Service, objective: &Objective) -> String {
        let mut text = recorded(record, service, objective);
        text.pop();
        text.push_str(&self.matchers(objective));
        text.push('}');
        text
    }

    /// The objective's own selector, only the groups chosen.
    fn selector(&self, selector: &crate::compiler::ir::Selector, objective: &Objective) -> String {
        let text = selector.to_promql();
        let matchers = self.matchers(objective);
        if matchers.is_empty() {
            return text;
        }
        match text.strip_suffix('}') {
            Some(open) => format!("{open}{matchers}}}"),
            None => format!("{text}{{{}}}", &matchers[1..]),
        }
    }

    /// `max by (model) (x)` grouped, as the alerts aggregate; `x` alone otherwise.
    fn worst(&self, objective: &Objective, inner: &str) -> String {
        let grouping = Grouping::of(objective);
        if grouping.is_grouped() {
            grouping.aggregate("max", inner)
        } else {
            inner.to_owned()
        }
    }
}

/// The series a grouped objective's group labels are read from.
fn grouped_series(service: &Service, objective: &Objective) -> Option<String> {
    match &objective.kind {
        ObjectiveKind::Latency { .. }
        | ObjectiveKind::Availability { .. }
        | ObjectiveKind::Accuracy { .. } => Some(recorded(
            &naming::sli_error_ratio(naming::CHAINED_RATE_WINDOW),
            service,
            objective,
        )),
        ObjectiveKind::Drift { score, .. } => Some(score.to_promql()),
        ObjectiveKind::Gpu { utilization, .. } => Some(utilization.to_promql()),
        ObjectiveKind::Freshness { last_success, .. } => Some(last_success.to_promql()),
        ObjectiveKind::Logs { .. } => None,
    }
}

fn datasource() -> Json {
    json!({ "type": "prometheus", "uid": format!("${{{DATASOURCE_VARIABLE}}}") })
}

/// A query; `legend` is Grafana's legend template.
fn target(ref_id: char, expr: String, legend: &str) -> Json {
    json!({
        "refId": ref_id.to_string(),
        "datasource": datasource(),
        "expr": expr,
        "legendFormat": legend.to_owned(),
        "range": true,
        "instant": false,
    })
}

/// `{{model}}` for each group label, for legends.
fn group_legend(objective: &Objective) -> String {
    objective
        .group_by
        .iter()
        .map(|label| format!("{{{{{label}}}}}"))
        .collect::<Vec<_>>()
        .join(" ")
}

fn legend(objective: &Objective, what: &str) -> String {
    let groups = group_legend(objective);
    if groups.is_empty() {
        what.to_owned()
    } else {
        format!("{groups} {what}")
    }
}

/// A threshold step: a colour from `value` up (`None`: from minus infinity).
fn step(value: Option<f64>, color: &'static str) -> Json {
    json!({ "value": value, "color": color })
}

fn field_defaults(unit: &'static str, steps: Vec<Json>) -> Json {
    json!({
        "unit": unit,
        "thresholds": { "mode": "absolute", "steps": steps },
    })
}

fn stat(title: &str, description: String, targets: Vec<Json>, defaults: Json) -> Json {
    let mut defaults = defaults;
    defaults.set("color", json!({ "mode": "thresholds" }));
    json!({
        "type": "stat",
        "title": title.to_owned(),
        "description": description,
        "datasource": datasource(),
        "targets": targets,
        "options": {
            "graphMode": "area",
            "colorMode": "value",
            "justifyMode": "auto",
            "textMode": "value_and_name",
            "wideLayout": true,
            "showPercentChange": false,
            "percentChangeColorMode": "standard",
            "orientation": "auto",
            "reduceOptions": { "calcs": ["lastNotNull"], "fields": "", "values": false },
        },
        "fieldConfig": { "defaults": defaults, "overrides": [] },
    })
}

/// A time series panel whose thresholds are drawn as dashed lines.
fn graph(title: &str, description: String, targets: Vec<Json>, defaults: Json) -> Json {
    let mut defaults = defaults;
    defaults.set("color", json!({ "mode": "palette-classic" }));
    defaults.set(
        "custom",
        json!({
            "drawStyle": "line",
            "lineWidth": 1,
            "fillOpacity": 0,
            "showPoints": "never",
            "spanNulls": false,
            "thresholdsStyle": { "mode": "dashed" },
        }),
    );
    json!({
        "type": "timeseries",
        "title": title.to_owned(),
        "description": description,
        "datasource": datasource(),
        "targets": targets,
        "options": {
            "legend": { "displayMode": "list", "placement": "bottom", "showLegend": true, "calcs": [] },
            "tooltip": { "mode": "multi", "sort": "none" },
        },
        "fieldConfig": { "defaults": defaults, "overrides": [] },
    })
}

fn number(value: Decimal) -> f64 {
    value.to_f64()
}

/// The number a burn alert compares both windows' error ratios with: the
/// product of the two literals of [`burn_threshold`] in doubles, as PromQL
/// evaluates it.
pub fn burn_threshold_value(burn: &BurnWindow, budget: &Budget) -> f64 {
    number(burn.factor) * number(budget.error_budget)
}

fn objective_rule_groups(service: &Service, objective: &Objective) -> Vec<String> {
    let mut groups = vec![naming::group_objective(&service.name, &objective.name)];
    if objective.kind.budget().is_some() {
        groups.push(naming::group_budget(&service.name, &objective.name));
    }
    groups
}

fn overview_row(layout: &mut Layout, service: &Service, variables: &GroupVariables) {
    layout.row("Overview");
    for objective in &service.objectives {
        // A grouped objective's stats show one value per group side by side.
        let width = if objective.is_grouped() {
            2 * STAT_WIDTH
        } else {
            STAT_WIDTH
        };
        for panel in overview_stats(service, objective, variables) {
            layout.place(panel, width, STAT_HEIGHT);
        }
    }
    layout.new_line();
    let mut legend_labels = vec!["{{slo}}".to_owned(), "{{alertname}}".to_owned()];
    let mut group_labels: Vec<&String> = service
        .objectives
        .iter()
        .flat_map(|objective| &objective.group_by)
        .collect();
    group_labels.sort();
    group_labels.dedup();
    legend_labels.extend(group_labels.iter().map(|label| format!("{{{{{label}}}}}")));
    legend_labels.push("{{long_window}}".to_owned());
    legend_labels.push("{{severity}}".to_owned());
    let mut alerts = format!("ALERTS{{{}=", naming::LABEL_SERVICE);
    crate::compiler::ir::push_promql_string(&mut alerts, &service.name);
    alerts.push_str(",alertstate=\"firing\"}");
    let panel = json!({
        "type": "state-timeline",
        "title": "Firing alerts",
        "description": format!("Every alert of {} while it fires, one line per alert (burn-rate alerts per window pair).", service.name),
        "datasource": datasource(),
        "targets": [target('A', alerts, &legend_labels.join(" "))],
        "options": {
            "showValue": "never",
            "rowHeight": 0.8,
            "mergeValues": true,
            "alignValue": "left",
            "legend": { "displayMode": "list", "placement": "bottom", "showLegend": false, "calcs": [] },
            "tooltip": { "mode": "single", "sort": "none" },
        },
        "fieldConfig": {
            "defaults": {
                "color": { "mode": "fixed", "fixedColor": "red" },
                "custom": { "fillOpacity": 80, "lineWidth": 0 },
            },
            "overrides": [],
        },
    });
    layout.place(panel, GRID_WIDTH, GRAPH_HEIGHT);
}

/// The overview's stats of one objective: the SLI over the window against the
/// objective, the budget left and the burn rate now; a threshold objective's
/// worst value against its limit.
fn overview_stats(
    service: &Service,
    objective: &Objective,
    variables: &GroupVariables,
) -> Vec<Json> {
    let name = &objective.name;
    let series = |record: &str| variables.recorded(record, service, objective);
    let groups = group_legend(objective);
    let legend = if groups.is_empty() {
        name.clone()
    } else {
        groups
    };
    match &objective.kind {
        ObjectiveKind::Latency { budget, .. }
        | ObjectiveKind::Availability { budget, .. }
        | ObjectiveKind::Accuracy { budget, .. } => {
            let mut burn_steps = vec![step(None, "green"), step(Some(1.0), "yellow")];
            if let Some(fastest) = budget
                .page
                .iter()
                .map(|burn| number(burn.factor))
                .reduce(f64::min)
                .filter(|_| budget.alerts_enabled)
            {
                burn_steps.push(step(Some(fastest), "red"));
            }
            let mut budget_steps = vec![step(None, "red"), step(Some(0.0), "yellow")];
            let comfortable = budget.budget_alerts.remaining_below.map_or(0.25, number);
            budget_steps.push(step(Some(comfortable), "green"));
            vec![
                stat(
                    &format!("{name}: SLI over {}", budget.window),
                    format!(
                        "Good events (or good slices) over the last {} against the {} objective; red below it.",
                        budget.window,
                        percent(budget.objective)
                    ),
                    vec![target(
                        'A',
                        format!("1 - {}", series(&naming::sli_error_ratio(budget.window))),
                        &legend,
                    )],
                    field_defaults(
                        "percentunit",
                        vec![step(None, "red"), step(Some(number(budget.objective)), "green")],
                    ),
                ),
                stat(
                    &format!("{name}: budget left"),
                    format!(
                        "The share of the {} error budget over {} not yet spent; below zero the objective is missed.",
                        percent(budget.error_budget),
                        budget.window
                    ),
                    vec![target('A', series(naming::SLO_PERIOD_BUDGET_REMAINING), &legend)],
                    field_defaults("percentunit", budget_steps),
                ),
                stat(
                    &format!("{name}: burn rate"),
                    "The error ratio over the last 5m in budgets: 1 spends the budget exactly over the window; red from the lowest page factor.".to_owned(),
                    vec![target('A', series(naming::SLO_CURRENT_BURN_RATE), &legend)],
                    field_defaults("none", burn_steps),
                ),
            ]
        }
        ObjectiveKind::Drift { score, max, .. } => vec![stat(
            &format!("{name}: drift score"),
            format!(
                "The worst drift score now; {} fires above {max}.",
                naming::ALERT_DRIFT_HIGH
            ),
            vec![target(
                'A',
                variables.worst(objective, &variables.selector(score, objective)),
                &legend,
            )],
            field_defaults(
                "none",
                vec![step(None, "green"), step(Some(number(*max)), "red")],
            ),
        )],
        ObjectiveKind::Gpu {
            utilization,
            max_utilization,
            ..
        } => vec![stat(
            &format!("{name}: GPU utilisation"),
            format!(
                "The busiest device's utilisation now; {} fires above {max_utilization}%.",
                naming::ALERT_GPU_UTILIZATION_HIGH
            ),
            vec![target(
                'A',
                Grouping::of(objective)
                    .aggregate("max", &variables.selector(utilization, objective)),
                &legend,
            )],
            field_defaults(
                "percent",
                vec![
                    step(None, "green"),
                    step(Some(number(*max_utilization)), "red"),
                ],
            ),
        )],
        ObjectiveKind::Freshness {
            last_success,
            max_age,
            ..
        } => vec![stat(
            &format!("{name}: data age"),
            format!(
                "Time since the last success; {} fires above {max_age}.",
                naming::ALERT_FRESHNESS_STALE
            ),
            vec![target(
                'A',
                freshness_age(objective, last_success, variables),
                &legend,
            )],
            field_defaults(
                "s",
                vec![
                    step(None, "green"),
                    step(Some(number(max_age.as_seconds())), "red"),
                ],
            ),
        )],
        ObjectiveKind::Logs { .. } => Vec::new(),
    }
}

/// `time() - newest success`, as the freshness alert computes the age.
fn freshness_age(
    objective: &Objective,
    last_success: &crate::compiler::ir::Selector,
    variables: &GroupVariables,
) -> String {
    let selector = variables.selector(last_success, objective);
    let grouping = Grouping::of(objective);
    let newest = if grouping.is_grouped() {
        grouping.aggregate("max", &selector)
    } else {
        selector
    };
    format!("time() - {newest}")
}

fn objective_row(
    layout: &mut Layout,
    service: &Service,
    objective: &Objective,
    variables: &GroupVariables,
) {
    let name = &objective.name;
    let kind = objective.kind.name().as_str();
    let groups = objective_rule_groups(service, objective).join(", ");
    let series = |record: &str| variables.recorded(record, service, objective);
    match &objective.kind {
        ObjectiveKind::Latency { budget, .. }
        | ObjectiveKind::Availability { budget, .. }
        | ObjectiveKind::Accuracy { budget, .. } => {
            layout.row(&format!(
                "{name}: {kind}, {} over {}",
                percent(budget.objective),
                budget.window
            ));
            if let ObjectiveKind::Accuracy {
                metric,
                bound,
                slice,
                ..
            } = &objective.kind
            {
                let (value, steps, side) = match bound {
                    Bound::Min(min) => (
                        *min,
                        vec![step(None, "red"), step(Some(number(*min)), "green")],
                        "at or above",
                    ),
                    Bound::Max(max) => (
                        *max,
                        vec![step(None, "green"), step(Some(number(*max)), "red")],
                        "at or below",
                    ),
                };
                let worst = match bound {
                    Bound::Min(_) => "min",
                    Bound::Max(_) => "max",
                };
                let selector = variables.selector(metric, objective);
                let grouping = Grouping::of(objective);
                let expr = if grouping.is_grouped() {
                    grouping.aggregate(worst, &selector)
                } else {
                    selector
                };
                layout.place(
                    graph(
                        &format!("{name}: quality against its bound"),
                        format!(
                            "A {slice} slice is good while the metric stays {side} {value} throughout it. Rule groups: {groups}."
                        ),
                        vec![target('A', expr, &legend(objective, "quality"))],
                        field_defaults("none", steps),
                    ),
                    GRAPH_WIDTH,
                    GRAPH_HEIGHT,
                );
            }
            layout.place(
                graph(
                    &format!("{name}: SLI against the objective"),
                    format!(
                        "Good events (or good slices) over the last 5m, the objective at {} drawn as a line. Rule groups: {groups}.",
                        percent(budget.objective)
                    ),
                    vec![target(
                        'A',
                        format!(
                            "1 - {}",
                            series(&naming::sli_error_ratio(naming::CHAINED_RATE_WINDOW))
                        ),
                        &legend(objective, "SLI 5m"),
                    )],
                    field_defaults(
                        "percentunit",
                        vec![step(None, "red"), step(Some(number(budget.objective)), "green")],
                    ),
                ),
                GRAPH_WIDTH,
                GRAPH_HEIGHT,
            );
            if budget.alerts_enabled {
                for (tier, burn) in budget.burn_windows() {
                    layout.place(
                        burn_panel(service, objective, budget, tier, burn, variables),
                        GRAPH_WIDTH,
                        GRAPH_HEIGHT,
                    );
                }
            }
            layout.place(
                graph(
                    &format!("{name}: error budget left over {}", budget.window),
                    format!(
                        "The share of the {} budget not yet spent over the last {}; the objective is missed below zero.",
                        percent(budget.error_budget),
                        budget.window
                    ),
                    vec![target(
                        'A',
                        series(naming::SLO_PERIOD_BUDGET_REMAINING),
                        &legend(objective, "budget left"),
                    )],
                    field_defaults("percentunit", vec![step(None, "red"), step(Some(0.0), "green")]),
                ),
                GRAPH_WIDTH,
                GRAPH_HEIGHT,
            );
        }
        ObjectiveKind::Drift {
            score,
            max,
            forecast,
            for_,
            ..
        } => {
            layout.row(&format!("{name}: drift, at most {max}"));
            let selector = variables.selector(score, objective);
            let mut targets = vec![target(
                'A',
                variables.worst(objective, &selector),
                &legend(objective, "score"),
            )];
            let mut description = format!(
                "{} fires once the score has stayed above {max} for {for_}.",
                naming::ALERT_DRIFT_HIGH
            );
            if let Some(forecast) = forecast {
                targets.push(target(
                    'B',
                    variables.worst(
                        objective,
                        &format!(
                            "predict_linear({selector}[{}], {})",
                            forecast.lookback,
                            forecast.horizon.as_seconds()
                        ),
                    ),
                    &legend(objective, &format!("forecast in {}", forecast.horizon)),
                ));
                description.push_str(&format!(
                    " The forecast line is a linear fit over {} projected {} ahead; {} fires when it crosses {max} first.",
                    forecast.lookback,
                    forecast.horizon,
                    naming::ALERT_DRIFT_FORECAST
                ));
            }
            description.push_str(&format!(" Rule group: {groups}."));
            layout.place(
                graph(
                    &format!("{name}: drift score"),
                    description,
                    targets,
                    field_defaults(
                        "none",
                        vec![step(None, "green"), step(Some(number(*max)), "red")],
                    ),
                ),
                GRAPH_WIDTH,
                GRAPH_HEIGHT,
            );
        }
        ObjectiveKind::Gpu {
            utilization,
            max_utilization,
            memory,
            exhaustion,
            for_,
            ..
        } => {
            layout.row(&format!("{name}: GPU, at most {max_utilization}% busy"));
            layout.place(
                graph(
                    &format!("{name}: GPU utilisation"),
                    format!(
                        "{} fires once a device has stayed above {max_utilization}% for {for_}. Rule group: {groups}.",
                        naming::ALERT_GPU_UTILIZATION_HIGH
                    ),
                    vec![target(
                        'A',
                        variables.worst(objective, &variables.selector(utilization, objective)),
                        &legend(objective, "utilisation"),
                    )],
                    field_defaults(
                        "percent",
                        vec![step(None, "green"), step(Some(number(*max_utilization)), "red")],
                    ),
                ),
                GRAPH_WIDTH,
                GRAPH_HEIGHT,
            );
            if let (Some(_), Some(forecast)) = (memory, exhaustion) {
                let pool = series(naming::GPU_MEMORY_USED_RATIO_MAX);
                layout.place(
                    graph(
                        &format!("{name}: GPU memory"),
                        format!(
                            "The fullest device's share of memory and a linear fit over {} projected {} ahead; {} fires when the projection reaches 100%. Rule group: {groups}.",
                            forecast.lookback,
                            forecast.horizon,
                            naming::ALERT_GPU_MEMORY_EXHAUSTION
                        ),
                        vec![
                            target('A', pool.clone(), &legend(objective, "memory used")),
                            target(
                                'B',
                                format!(
                                    "predict_linear({pool}[{}], {})",
                                    forecast.lookback,
                                    forecast.horizon.as_seconds()
                                ),
                                &legend(objective, &format!("forecast in {}", forecast.horizon)),
                            ),
                        ],
                        field_defaults(
                            "percentunit",
                            vec![step(None, "green"), step(Some(1.0), "red")],
                        ),
                    ),
                    GRAPH_WIDTH,
                    GRAPH_HEIGHT,
                );
            }
        }
        ObjectiveKind::Freshness {
            last_success,
            max_age,
            for_,
            ..
        } => {
            layout.row(&format!("{name}: freshness, at most {max_age} old"));
            layout.place(
                graph(
                    &format!("{name}: data age"),
                    format!(
                        "Time since the last success; {} fires once it has stayed above {max_age} for {for_}. Rule group: {groups}.",
                        naming::ALERT_FRESHNESS_STALE
                    ),
                    vec![target(
                        'A',
                        freshness_age(objective, last_success, variables),
                        &legend(objective, "age"),
                    )],
                    field_defaults(
                        "s",
                        vec![step(None, "green"), step(Some(number(max_age.as_seconds())), "red")],
                    ),
                ),
                GRAPH_WIDTH,
                GRAPH_HEIGHT,
            );
        }
        ObjectiveKind::Logs { .. } => {}
    }
}

/// One burn-rate alert: both windows' error ratios and the alert's threshold.
fn burn_panel(
    service: &Service,
    objective: &Objective,
    budget: &Budget,
    tier: Tier,
    burn: &BurnWindow,
    variables: &GroupVariables,
) -> Json {
    let series = |window| variables.recorded(&naming::sli_error_ratio(window), service, objective);
    let threshold = burn_threshold_value(burn, budget);
    graph(
        &format!(
            "{}: {} {} over {} and {}",
            objective.name,
            budget.burn_alert,
            service.severities.of(tier),
            burn.long,
            burn.short
        ),
        format!(
            "{} ({}) fires when the error ratio over both {} and {} is above {} × the {} budget{}: the dashed line, {}. Rule group: {}.",
            budget.burn_alert,
            tier.as_str(),
            burn.long,
            burn.short,
            burn.factor,
            percent(budget.error_budget),
            if burn.for_.is_zero() {
                String::new()
            } else {
                format!(" for {}", burn.for_)
            },
            burn_threshold(burn, budget),
            naming::group_objective(&service.name, &objective.name),
        ),
        vec![
            target('A', series(burn.long), &legend(objective, &burn.long.to_string())),
            target('B', series(burn.short), &legend(objective, &burn.short.to_string())),
        ],
        field_defaults(
            "percentunit",
            vec![step(None, "green"), step(Some(threshold), "red")],
        ),
    )
}

fn about_row(layout: &mut Layout, service: &Service, rule_groups: &[String]) {
    layout.row("About");
    let mut content = format!("**{}** (team {})", service.name, service.team);
    if let Some(description) = &service.description {
        content.push_str(": ");
        content.push_str(description);
    }
    content.push_str("\n\nGenerated rule groups:\n\n");
    for group in rule_groups {
        content.push_str(&format!("- `{group}`\n"));
    }
    if let Some(runbook) = &service.runbook {
        content.push_str(&format!("\nRunbook: <{runbook}>\n"));
    }
    layout.place(
        json!({
            "type": "text",
            "title": "Objectives and rules",
            "options": { "mode": "markdown", "content": content },
        }),
        GRID_WIDTH,
        GRAPH_HEIGHT,
    );
}

/// The runbook, the service's own dashboard, and every other generated dashboard.
fn links(service: &Service) -> Vec<Json> {
    let link = |title: &str, url: &str| {
        json!({
            "title": title.to_owned(),
            "type": "link",
            "url": url.to_owned(),
            "icon": "external link",
            "tooltip": "",
            "tags": [],
            "asDropdown": false,
            "targetBlank": true,
            "includeVars": false,
            "keepTime": false,
        })
    };
    let mut links = Vec::new();
    if let Some(runbook) = &service.runbook {
        links.push(link("Runbook", runbook));
    }
    // The `dashboard` field defaults to this very dashboard, which needs no link.
    let own_path = naming::grafana_dashboard_path(&service.name);
    if let Some(dashboard) = service
        .dashboard
        .as_ref()
        .filter(|dashboard| !dashboard.ends_with(&own_path))
    {
        links.push(link(&format!("{} dashboard", service.name), dashboard));
    }
    links.push(json!({
        "title": "SLO dashboards",
        "type": "dashboards",
        "icon": "dashboard",
        "tooltip": "",
        "tags": [DASHBOARD_TAG],
        "asDropdown": true,
        "targetBlank": false,
        "includeVars": false,
        "keepTime": true,
    }));
    links
}

#[cfg(test)]
mod tests {
    use super::DASHBOARD_TEXT_START;
    use crate::compiler::emit::tests::build;
    use crate::compiler::emit::GENERATED_MARKER;

    #[test]
    fn every_dashboard_starts_with_the_text_build_recognises() {
        let outputs = build(
            r#"
service "svc" {
  team = "t"
  drift "d" {
    score = s
    max   = 0.2
    for   = 5m
  }
}
"#,
        );
        let dashboard = &outputs.files["grafana/svc.json"];
        let start = format!("{DASHBOARD_TEXT_START}{GENERATED_MARKER}");
        assert!(dashboard.starts_with(&start), "{dashboard}");
    }
}
