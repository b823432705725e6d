#!/usr/bin/env bash
# Times `mlslo check` on synthetic files of 1k, 10k and 100k objectives (or the
# counts given as arguments) and prints wall time, CPU time and peak memory.
#
#   bash benches/check.sh            # 1000 10000 100000
#   bash benches/check.sh 50000
#
# Target (issue 2): under 0.5 s for 10k objectives on a 2-core machine, growing
# linearly. Each size runs RUNS times (default 3); the best wall time is shown.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

counts=("$@")
[ ${#counts[@]} -gt 0 ] || counts=(1000 10000 100000)
runs="${RUNS:-3}"
work="${TMPDIR:-/tmp}/mlslo-bench"
mkdir -p "$work"

cargo build --release --quiet --bin mlslo --example gen_slo
mlslo=target/release/mlslo
gen=target/release/examples/gen_slo

if [ -x /usr/bin/time ]; then timer=(/usr/bin/time -f '%e %U %M'); else timer=(); fi

printf '%12s %10s %10s %10s %12s\n' objectives bytes wall_s cpu_s peak_rss_MiB
for n in "${counts[@]}"; do
    file="$work/synthetic-$n.slo"
    "$gen" "$n" > "$file"
    if ! "$mlslo" check "$file" 2>"$work/stderr-$n.txt"; then
        echo "error: mlslo check rejects the synthetic file $file:" >&2
        head -n 20 "$work/stderr-$n.txt" >&2
        exit 1
    fi
    best_wall=""; best_line=""
    for _ in $(seq "$runs"); do
        if [ ${#timer[@]} -gt 0 ]; then
            measured=$("${timer[@]}" "$mlslo" check "$file" 2>&1 >/dev/null | tail -n 1)
            read -r wall cpu rss_kib <<<"$measured"
        else
            start=$(date +%s.%N)
            "$mlslo" check "$file" 2>/dev/null
            wall=$(echo "$(date +%s.%N) - $start" | bc); cpu="?"; rss_kib=0
        fi
        if [ -z "$best_wall" ] || awk "BEGIN{exit !($wall < $best_wall)}"; then
            best_wall=$wall
            best_line=$(printf '%12s %10s %10s %10s %12.1f' "$n" "$(stat -c %s "$file")" "$wall" "$cpu" "$(awk "BEGIN{print $rss_kib/1024}")")
        fi
    done
    echo "$best_line"
done
