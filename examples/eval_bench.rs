//! Speed benchmark of the PromQL engine on the workload: 1,000
//! series x 10,000 samples at 1m, range queries at a 1m step over the whole
//! span. Run with `cargo run --release --example eval_bench`; compare with
//! promtool's figures in `PROMTOOLING.md` section 1.4.

use std::time::Instant;

use mlslo::prometheus::promql::{
    instant_query_expr, parse_query, range_query_expr, EvalOptions, Labels, Semantics, Storage,
};

const SERIES: usize = 1_000;
const SAMPLES: usize = 10_000;
const MINUTE: i64 = 60_000;

fn main() {
    let started = Instant::now();
    let mut storage = Storage::new();
    for series in 0..SERIES {
        let labels = Labels::from_pairs([
            ("__name__", "http_requests_total".to_string()),
            ("job", format!("job{}", series % 10)),
            ("instance", format!("instance{series}")),
        ]);
        let id = storage.series_id(&labels);
        let increment = (series + 1) as f64;
        let mut value = 0.0;
        for sample in 0..SAMPLES {
            storage.append_to(id, sample as i64 * MINUTE, value);
            value += increment;
        }
    }
    println!(
        "load: {} series x {} samples in {:.2} s",
        SERIES,
        SAMPLES,
        started.elapsed().as_secs_f64()
    );
    let options = EvalOptions::with_semantics(Semantics::V2);
    let end = (SAMPLES as i64 - 1) * MINUTE;
    for query in [
        "sum by (job) (rate(http_requests_total[5m]))",
        "predict_linear(http_requests_total[1h], 3600)",
    ] {
        let expr = parse_query(query, options.semantics).expect("benchmark query parses");
        let started = Instant::now();
        let matrix =
            range_query_expr(&storage, &expr, 0, end, MINUTE, &options).expect("query evaluates");
        let seconds = started.elapsed().as_secs_f64();
        let window_samples: usize = if query.contains("[5m]") { 6 } else { 61 };
        let scanned = SERIES * SAMPLES * window_samples;
        println!(
            "range query {query}: {} steps, {} output series, {:.2} s, {:.1} M window samples/s, {:.1} M stored samples/s",
            SAMPLES,
            matrix.len(),
            seconds,
            scanned as f64 / seconds / 1e6,
            (SERIES * SAMPLES) as f64 / seconds / 1e6
        );
        // Rule evaluation calls the engine once per step with a parsed expression.
        let started = Instant::now();
        let mut time = 0;
        while time <= end {
            instant_query_expr(&storage, &expr, time, &options).expect("query evaluates");
            time += MINUTE;
        }
        println!(
            "  as {} instant queries: {:.2} s",
            SAMPLES,
            started.elapsed().as_secs_f64()
        );
    }
    if let Ok(status) = std::fs::read_to_string("/proc/self/status") {
        for line in status.lines() {
            if line.starts_with("VmHWM") {
                println!("peak memory: {}", line.trim_start_matches("VmHWM:").trim());
            }
        }
    }
}
