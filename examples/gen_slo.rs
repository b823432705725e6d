//! Writes a synthetic, valid `.slo` file with N objectives to stdout, for benchmarks.
//!
//! `cargo run --release --example gen_slo -- 10000 > /tmp/10k.slo`
//!
//! Invariants: the output depends on N only (a fixed-seed generator, no clock, no
//! randomness from the system), uses every objective kind, groups the objectives
//! of every [`GROUPED_EVERY`]th service (`group_by`), every service has
//! [`OBJECTIVES_PER_SERVICE`] objectives (the last may have fewer), and
//! `mlslo check` accepts it with no warning.

use std::fmt::Write as _;
use std::io::Write as _;

/// Ten objectives per service: a realistic mix, weighted towards budgeted kinds.
const OBJECTIVES_PER_SERVICE: usize = 10;
/// Every this many services, the objectives with series are grouped (`group_by`).
const GROUPED_EVERY: usize = 3;
/// Services are spread over this many teams; each team gets its own receivers and routes.
const N_TEAMS: usize = 20;

const KINDS: [&str; OBJECTIVES_PER_SERVICE] = [
    "latency",
    "availability",
    "accuracy",
    "drift",
    "gpu",
    "freshness",
    "logs",
    "latency",
    "availability",
    "drift",
];

fn main() {
    let mut arguments = std::env::args().skip(1);
    let n_objectives: usize = match arguments.next().map(|text| text.replace('_', "").parse()) {
        Some(Ok(n)) => n,
        _ => {
            eprintln!("usage: gen_slo N   (N objectives, such as 10000)");
            std::process::exit(2);
        }
    };
    let text = generate(n_objectives);
    let mut stdout = std::io::stdout().lock();
    if stdout.write_all(text.as_bytes()).is_err() {
        std::process::exit(1);
    }
}

pub fn generate(n_objectives: usize) -> String {
    let mut random = Lcg(0x5EED_1234_ABCD_0001);
    let mut out = String::new();
    // Writing into a String cannot fail; the results below are ignored for that reason.
    let _ = writeln!(
        out,
        "// Synthetic benchmark input: {n_objectives} objectives.\n"
    );
    let n_services = n_objectives.div_ceil(OBJECTIVES_PER_SERVICE);
    for service_index in 0..n_services {
        let team = service_index % N_TEAMS;
        let first = service_index * OBJECTIVES_PER_SERVICE;
        let count = OBJECTIVES_PER_SERVICE.min(n_objectives - first);
        write_service(&mut out, service_index, team, count, &mut random);
    }
    write_routing(&mut out, n_services.min(N_TEAMS));
    out
}

fn write_service(out: &mut String, service: usize, team: usize, count: usize, random: &mut Lcg) {
    let _ = writeln!(out, "service \"svc-{service:05}\" {{");
    let _ = writeln!(out, "  team      = \"team-{team:02}\"");
    let _ = writeln!(
        out,
        "  runbook   = \"https://runbooks.example.com/svc-{service:05}\""
    );
    let _ = writeln!(
        out,
        "  labels   {{ env = \"prod\", cell = \"c{}\" }}",
        service % 7
    );
    let _ = writeln!(out, "  selector {{ app = \"svc-{service:05}\" }}\n");
    // A freshness objective feeds the first drift objective of its service, if present.
    let has_drift = count > 3;
    for (index, kind) in KINDS.iter().enumerate().take(count) {
        let name = format!("{kind}-{index}");
        let _ = writeln!(out, "  {kind} \"{name}\" {{");
        match *kind {
            "latency" => {
                let threshold = [50, 100, 250, 500, 1000][random.below(5)];
                let _ = writeln!(
                    out,
                    "    histogram = http_server_request_duration_seconds{{route=\"/r{index}\"}}"
                );
                let _ = writeln!(out, "    threshold = {threshold}ms");
                let _ = writeln!(
                    out,
                    "    buckets   = [5ms, 10ms, 25ms, 50ms, 100ms, 250ms, 500ms, 1s, 2500ms, 5s, 10s]"
                );
                let _ = writeln!(out, "    objective = {}", objective(random));
                let _ = writeln!(out, "    window    = 30d");
            }
            "availability" => {
                let _ = writeln!(
                    out,
                    "    errors    = http_requests_total{{handler=\"/h{index}\", code=~\"5..\"}}"
                );
                let _ = writeln!(
                    out,
                    "    total     = http_requests_total{{handler=\"/h{index}\"}}"
                );
                let _ = writeln!(out, "    objective = {}", objective(random));
                let _ = writeln!(out, "    min_traffic = 10 per 5m");
            }
            "accuracy" => {
                let _ = writeln!(out, "    metric    = model_precision{{model=\"m{index}\"}}");
                let _ = writeln!(out, "    min       = 0.{}", 80 + random.below(15));
                let _ = writeln!(out, "    objective = 95%");
                let _ = writeln!(out, "    window    = 7d");
                // Over 7 days the workbook's ticket factors are below 1 (W0610).
                let _ = writeln!(
                    out,
                    "    ticket {{ burn {{ long = 1d, short = 2h, factor = 1 }} }}"
                );
            }
            "drift" => {
                let _ = writeln!(
                    out,
                    "    score    = feature_drift_psi{{feature=\"f{index}\"}}"
                );
                let _ = writeln!(out, "    max      = 0.{}", 15 + random.below(20));
                let _ = writeln!(out, "    for      = 30m");
                let _ = writeln!(out, "    forecast {{ lookback = 6h, horizon = 12h }}");
            }
            "gpu" => {
                let _ = writeln!(
                    out,
                    "    utilization     = DCGM_FI_DEV_GPU_UTIL{{pool=\"p{service}\"}}"
                );
                let _ = writeln!(
                    out,
                    "    memory_used     = DCGM_FI_DEV_FB_USED{{pool=\"p{service}\"}}"
                );
                let _ = writeln!(
                    out,
                    "    memory_free     = DCGM_FI_DEV_FB_FREE{{pool=\"p{service}\"}}"
                );
                let _ = writeln!(out, "    max_utilization = {}%", 80 + random.below(15));
                let _ = writeln!(out, "    exhaustion {{ lookback = 6h, horizon = 4h }}");
            }
            "freshness" => {
                let _ = writeln!(
                    out,
                    "    last_success = batch_job_last_success_timestamp_seconds{{job=\"j{service}\"}}"
                );
                let _ = writeln!(out, "    max_age      = {}h", 2 + random.below(24));
                if has_drift {
                    let _ = writeln!(out, "    feeds        = [\"drift-3\"]");
                }
            }
            "logs" => {
                let _ = writeln!(out, "    index     = \"svc-{service:05}-*\"");
                let _ = writeln!(out, "    query     = 'level:ERROR AND component:c{index}'");
                let _ = writeln!(out, "    max_count = {} per 5m", 50 + random.below(100));
            }
            _ => unreachable!("KINDS holds only the seven kinds matched above"),
        }
        // Every third service watches its objectives per region (issue 18's
        // fleets), half of them with a count of groups for the series estimate.
        if service % GROUPED_EVERY == 0 && *kind != "logs" {
            let _ = writeln!(out, "    group_by  = [region]");
            if index % 2 == 0 {
                let _ = writeln!(out, "    expected_groups = {}", 2 + random.below(10));
            }
        }
        let _ = writeln!(out, "  }}");
    }
    let _ = writeln!(out, "}}\n");
}

fn write_routing(out: &mut String, n_teams: usize) {
    let _ = writeln!(out, "monitoring {{");
    let _ = writeln!(out, "  heartbeat = \"heartbeat\"");
    let _ = writeln!(out, "  team      = \"platform\"");
    let _ = writeln!(out, "}}\n");
    let _ = writeln!(out, "routing {{");
    // The group label of the grouped objectives too, or check warns (W0702).
    let _ = writeln!(out, "  group_by = [alertname, service, slo, region]");
    let _ = writeln!(out, "  default_receiver = \"fallback\"");
    let _ = writeln!(
        out,
        "  receiver \"fallback\" {{ webhook {{ url = \"https://bridge.example.com/fallback\" }} }}"
    );
    let _ = writeln!(
        out,
        "  receiver \"heartbeat\" {{ webhook {{ url = \"https://heartbeat.example.com/ping/slo\" }} }}"
    );
    // Two integrations, so a failing one is reported through the other (W0641).
    let _ = writeln!(
        out,
        "  receiver \"platform-oncall\" {{ slack {{ api_url_file = \"/etc/alertmanager/slack-platform\", channel = \"#platform\" }} pagerduty {{ routing_key_file = \"/etc/alertmanager/pd-platform\" }} }}"
    );
    let _ = writeln!(
        out,
        "  route {{ kind = \"monitoring\" }} -> \"platform-oncall\""
    );
    for team in 0..n_teams {
        let _ = writeln!(
            out,
            "  receiver \"team-{team:02}-pager\" {{ pagerduty {{ routing_key_file = \"/etc/alertmanager/pd-{team:02}\" }} }}"
        );
        let _ = writeln!(
            out,
            "  receiver \"team-{team:02}-chat\" {{ slack {{ api_url_file = \"/etc/alertmanager/slack-{team:02}\", channel = \"#team-{team:02}\" }} }}"
        );
        let _ = writeln!(
            out,
            "  route {{ team = \"team-{team:02}\", severity = \"page\" }} -> \"team-{team:02}-pager\" continue"
        );
        let _ = writeln!(
            out,
            "  route {{ team = \"team-{team:02}\" }} -> \"team-{team:02}-chat\""
        );
    }
    let _ = writeln!(
        out,
        "  inhibit severity \"page\" over \"ticket\" on [service, slo, region]"
    );
    let _ = writeln!(out, "}}");
}

fn objective(random: &mut Lcg) -> &'static str {
    ["99%", "99.5%", "99.9%", "99.95%"][random.below(4)]
}

/// Knuth's MMIX linear congruential generator: enough variety for a benchmark, and
/// the same sequence on every machine.
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, bound: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        ((self.0 >> 33) % bound as u64) as usize
    }
}
