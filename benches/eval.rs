//! Evaluation benchmark: 1,000 series × 10,000 samples at 1m (the shape of
//! `promtool-perf/gen.py`), range queries over the whole range at 1m steps,
//! reporting wall time and samples read per second. Peak memory is measured
//! from outside, with `/usr/bin/time -v target/release/deps/eval-*`.
//!
//! "Samples read" counts, for every step and series, the samples inside the
//! query's range window (V2's closed `[t-r, t]`), which is what an evaluator
//! without incremental windows would have to touch.

use std::time::Instant;

use mlslo::prometheus::promql::{range_query, EvalOptions, Labels, Semantics, Storage};

const SERIES: usize = 1_000;
const SAMPLES: i64 = 10_000;
const STEP_MS: i64 = 60_000;

fn build_storage() -> Storage {
    let mut storage = Storage::new();
    for index in 0..SERIES {
        let labels = Labels::from_pairs([
            ("__name__".to_owned(), "http_requests_total".to_owned()),
            ("instance".to_owned(), format!("i{index}")),
            ("job".to_owned(), format!("j{}", index % 10)),
        ]);
        let increment = ((index % 7) + 1) as f64;
        // promtool's `0+kx9999` adds the increment repeatedly.
        let mut value = 0.0;
        for sample in 0..SAMPLES {
            storage.append(&labels, sample * STEP_MS, value);
            value += increment;
        }
    }
    storage
}

/// Samples inside `[t-range, t]` summed over all steps, for one series.
fn samples_read_per_series(range_ms: i64) -> u64 {
    let last_sample = (SAMPLES - 1) * STEP_MS;
    let mut total = 0u64;
    let mut time = 0;
    while time <= last_sample {
        let first = (time - range_ms).max(0);
        let first_index = (first + STEP_MS - 1) / STEP_MS;
        let last_index = time.min(last_sample) / STEP_MS;
        total += (last_index - first_index + 1) as u64;
        time += STEP_MS;
    }
    total
}

fn run(storage: &Storage, query: &str, range_ms: i64) {
    let options = EvalOptions::with_semantics(Semantics::V2);
    let end = (SAMPLES - 1) * STEP_MS;
    let started = Instant::now();
    let result = range_query(storage, query, 0, end, STEP_MS, &options);
    let elapsed = started.elapsed().as_secs_f64();
    let matrix = match result {
        Ok(matrix) => matrix,
        Err(error) => panic!("benchmark query {query} failed: {error}"),
    };
    let points: usize = matrix.iter().map(|series| series.values.len()).sum();
    let samples_read = samples_read_per_series(range_ms) * SERIES as u64;
    println!(
        "{query}\n  steps {SAMPLES}, result series {}, result points {points}\n  wall {elapsed:.3} s, samples read {samples_read}, {:.1} M samples/s, {:.1} µs/step",
        matrix.len(),
        samples_read as f64 / elapsed / 1e6,
        elapsed * 1e6 / SAMPLES as f64,
    );
    // Keep the result observable so the work cannot be optimised away.
    let checksum: f64 = matrix.iter().flat_map(|series| series.values.iter()).sum();
    println!("  checksum {checksum:e}");
}

fn main() {
    let started = Instant::now();
    let storage = build_storage();
    println!(
        "loaded {SERIES} series × {SAMPLES} samples in {:.3} s",
        started.elapsed().as_secs_f64()
    );
    run(
        &storage,
        "sum by (job) (rate(http_requests_total[5m]))",
        5 * 60_000,
    );
    run(
        &storage,
        "predict_linear(http_requests_total[1h], 3600)",
        60 * 60_000,
    );
    run(
        &storage,
        "predict_linear(http_requests_total[1h], 3600) > 1e12",
        60 * 60_000,
    );
}
