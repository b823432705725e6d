#!/usr/bin/env bash
# Speed of `mlslo test` against promtool 2.42 on promtool-perf style files:
# N series `http_requests_total{job,instance}` with values '0+kx9999' (10,000 samples
# at 1m), a `rate` recording rule and a `predict_linear` alert with `for: 5m`, tested at
# 9999m (10,000 rule-group evaluations). Generated files go to a temporary directory.
#
# usage: scripts/bench-test-rules.sh [SERIES...]     (default: 100 1000)
#   PROMTOOL_MAX_SERIES=100  run promtool only up to this many series (promtool needs
#                            about 173 s and 600 MiB for 1000 series; default 100)
#
# Measured 2026-11-22 08:28 UTC (2 shared vCPUs, load average 1.3 while running):
#   perf_rules_100x10000.yml    mlslo 0.37 s  26 MiB   promtool 10.5 s 145 MiB (same run)  28.4x  0.18
#   perf_rules_1000x10000.yml   mlslo 3.13 s 171 MiB   promtool 173.3 s 597 MiB (recorded) 55.4x  0.29
# Measured 2026-11-22 09:44 UTC, both tools in one run (PROMTOOL_MAX_SERIES=1000 ... 1000,
# load average 1.3-1.5 from other work on the machine):
#   perf_rules_1000x10000.yml   mlslo 1.94 s 172 MiB   promtool 106.9 s 596 MiB (same run)    55.1x  0.29
set -euo pipefail
cd "$(dirname "$0")/.."
series_counts=("${@:-100 1000}")
[ $# -eq 0 ] && series_counts=(100 1000)
promtool_max=${PROMTOOL_MAX_SERIES:-100}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cargo build --release --quiet --bin mlslo
mlslo=$PWD/target/release/mlslo

cat > "$work/alertrules.yml" <<'RULES'
groups:
  - name: perf
    interval: 1m
    rules:
      - record: job:http_requests:rate5m
        expr: sum by (job) (rate(http_requests_total[5m]))
      - alert: CounterWillBeHuge
        expr: predict_linear(http_requests_total[1h], 3600) > 1e12
        for: 5m
RULES

# The generator of ../shared/reference/promtool-perf/gen.py, same output.
generate() { # series samples_minus_one out
  python3 - "$1" "$2" "$3" <<'PY'
import sys
n, x, out = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
with open(out, "w") as f:
    f.write("rule_files: [alertrules.yml]\nevaluation_interval: 1m\ntests:\n  - interval: 1m\n    input_series:\n")
    for i in range(n):
        f.write(f"      - series: 'http_requests_total{{job=\"j{i%10}\",instance=\"i{i}\"}}'\n        values: '0+{(i%7)+1}x{x}'\n")
    f.write(f"""    promql_expr_test:
      - expr: count(http_requests_total)
        eval_time: {x}m
        exp_samples:
          - labels: '{{}}'
            value: {n}
    alert_rule_test:
      - eval_time: {x}m
        alertname: CounterWillBeHuge
        exp_alerts: []
""")
PY
}

# Prints "wall_seconds max_rss_kib exit_code".
measure() {
  local log=$work/time.log
  set +e
  /usr/bin/time -v "$@" >"$work/out.log" 2>"$log"
  local code=$?
  set -e
  local wall rss
  wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$log" | awk -F: '{ if (NF==3) print $1*3600+$2*60+$3; else print $1*60+$2 }')
  rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$log")
  echo "$wall $rss $code"
}

printf '%-28s %10s %12s %10s %12s %8s %8s\n' file "mlslo s" "mlslo MiB" "promtool s" "promtool MiB" speedup memory
for n in "${series_counts[@]}"; do
  file=perf_rules_${n}x10000.yml
  generate "$n" 9999 "$work/$file"
  read -r ours_s ours_kib ours_rc < <(cd "$work" && measure "$mlslo" test "$file")
  [ "$ours_rc" = 0 ] || { echo "mlslo test failed on $file:"; cat "$work/out.log"; exit 1; }
  if [ "$n" -le "$promtool_max" ] && [ -x /usr/bin/promtool ]; then
    read -r theirs_s theirs_kib theirs_rc < <(cd "$work" && measure /usr/bin/promtool test rules "$file")
    [ "$theirs_rc" = 0 ] || { echo "promtool failed on $file"; exit 1; }
    source=measured
  elif [ "$n" = 1000 ]; then
    # PROMTOOLING.md 1.4: 173.3 s, 597 MiB on this machine.
    theirs_s=173.3; theirs_kib=$((597 * 1024)); source=recorded
  else
    printf '%-28s %10.2f %12.0f %10s %12s\n' "$file" "$ours_s" "$((ours_kib / 1024))" - -
    continue
  fi
  awk -v f="$file" -v os="$ours_s" -v ok="$ours_kib" -v ts="$theirs_s" -v tk="$theirs_kib" -v src="$source" \
    'BEGIN { printf "%-28s %10.2f %12.0f %10.1f %12.0f %7.1fx %7.2f  (promtool %s)\n", f, os, ok/1024, ts, tk/1024, ts/os, ok/tk, src }'
done
