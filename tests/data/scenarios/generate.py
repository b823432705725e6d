#!/usr/bin/env python3
"""Writes the history.series of every scenario folder next to this script: per-minute
counters and gauges in promtool's series notation, starting at the Unix epoch (so that
`time()` and the timestamps of freshness gauges mean the same to promtool and to
`mlslo backtest`). Deterministic: the noise comes from a fixed linear congruential
generator. Rerun after editing a scenario below and commit the result; the README of
this folder tells the story of each history and expected.yaml what must happen.
"""

import os

HOUR = 60


class Noise:
    """Numerical Recipes' LCG: the same numbers on every machine and Python version."""

    def __init__(self, seed):
        self.state = seed

    def uniform(self):
        self.state = (1664525 * self.state + 1013904223) % 2**32
        return self.state / 2**32

    def between(self, low, high):
        return low + (high - low) * self.uniform()


def fmt(value):
    text = f"{value:.6f}".rstrip("0").rstrip(".")
    return text if text not in ("", "-0") else "0"


def notation(values):
    """Values (None for a missing sample) -> series notation, runs of a constant step
    written as `a+bxn` (n+1 values) and runs of missing samples as `_xn`."""
    out, i = [], 0
    while i < len(values):
        if values[i] is None:
            j = i
            while j + 1 < len(values) and values[j + 1] is None:
                j += 1
            out.append("_" if j == i else f"_x{j - i}")
            i = j + 1
            continue
        j = i
        if i + 1 < len(values) and values[i + 1] is not None:
            step = round(values[i + 1] - values[i], 6)
            while (
                j + 1 < len(values)
                and values[j + 1] is not None
                and round(values[j + 1] - values[j], 6) == step
            ):
                j += 1
        if j - i >= 2:
            step = round(values[i + 1] - values[i], 6)
            if step == 0:
                out.append(f"{fmt(values[i])}x{j - i}")
            else:
                sign = "+" if step > 0 else "-"
                out.append(f"{fmt(values[i])}{sign}{fmt(abs(step))}x{j - i}")
            i = j + 1
        else:
            out.append(fmt(values[i]))
            i += 1
    return " ".join(out)


def counter(per_minute):
    """Increments per minute -> the counter's values, starting at 0."""
    values, total = [], 0
    for increment in per_minute:
        values.append(total)
        total += increment
    return values


def write(folder, minutes, series):
    lines = [
        "# Written by ../generate.py; one sample a minute from the Unix epoch.",
        "interval: 1m",
    ]
    for name, values in series:
        assert len(values) <= minutes + 1, name
        while values and values[-1] is None:
            values = values[:-1]
        lines.append(f"{name} {notation(values)}")
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), folder, "history.series")
    with open(path, "w") as out:
        out.write("\n".join(lines) + "\n")


def requests(selector, minutes, total, failing):
    """An availability history: `total(m)` requests in minute m, `failing(m)` of them 503s."""
    ok = [total(m) - failing(m) for m in range(minutes + 1)]
    bad = [failing(m) for m in range(minutes + 1)]
    return [
        (f'http_requests_total{{{selector},code="200"}}', counter(ok)),
        (f'http_requests_total{{{selector},code="503"}}', counter(bad)),
    ]


BOUNDS = ["0.1", "0.25", "0.5", "1", "+Inf"]


def histogram(name, selector, minutes, per_bucket):
    """A latency histogram: `per_bucket(m)` gives the requests of minute m in each of
    the bounds of BOUNDS, not cumulated; the series are cumulative as Prometheus'."""
    series = []
    for index, bound in enumerate(BOUNDS):
        increments = [sum(per_bucket(m)[: index + 1]) for m in range(minutes + 1)]
        series.append((f'{name}_bucket{{{selector},le="{bound}"}}', counter(increments)))
    return series


def fast_burn():
    # 1000 scoring requests a minute; from 2h to 2h30m one in ten fails.
    minutes = 4 * HOUR
    write(
        "fast-burn",
        minutes,
        requests(
            'handler="/v1/score"',
            minutes,
            lambda m: 1000,
            lambda m: 100 if 2 * HOUR <= m < 2 * HOUR + 30 else 0,
        ),
    )


def slow_burn():
    # 1200 feed requests a minute; from 1h on, 0.5% fail (five times the budget's rate).
    minutes = 4 * HOUR
    write(
        "slow-burn",
        minutes,
        requests(
            'handler="/v1/feed"',
            minutes,
            lambda m: 1200,
            lambda m: 6 if m >= HOUR else 0,
        ),
    )


def outage():
    # 1000 requests a minute through the gateway; from 1h30m to 1h50m the model
    # server is down: every request fails after the gateway's 1s connect timeout.
    minutes = 3 * HOUR
    down = lambda m: 90 <= m < 110
    series = requests(
        'destination_service_name="support-assistant"',
        minutes,
        lambda m: 1000,
        lambda m: 1000 if down(m) else 0,
    )
    series = [(name.replace("http_requests_total", "istio_requests_total"), v) for name, v in series]
    series = [(name.replace('code="', 'response_code="'), v) for name, v in series]
    series += histogram(
        "istio_request_duration_seconds",
        'destination_service_name="support-assistant"',
        minutes,
        lambda m: [0, 0, 0, 1000, 0] if down(m) else [700, 295, 5, 0, 0],
    )
    write("outage", minutes, series)


def low_traffic():
    # An internal review tool: one request a minute; three fail in a row at 2h.
    minutes = 4 * HOUR
    write(
        "low-traffic",
        minutes,
        requests(
            'handler="/v1/review"',
            minutes,
            lambda m: 1,
            lambda m: 1 if 2 * HOUR <= m < 2 * HOUR + 3 else 0,
        ),
    )


def healthy_noise():
    # 1000 requests a minute with a noisy trickle of errors and slow requests, well
    # inside the budget, and one three-minute blip of 3% errors at 3h.
    minutes = 4 * HOUR
    noise = Noise(7)
    errors = []
    slow = []
    for m in range(minutes + 1):
        blip = 3 * HOUR <= m < 3 * HOUR + 3
        errors.append(30 if blip else int(noise.between(0, 1.4)))
        slow.append(int(noise.between(0, 4)))
    series = requests('handler="/v1/score"', minutes, lambda m: 1000, lambda m: errors[m])
    series += histogram(
        "http_server_request_duration_seconds",
        'http_route="/v1/score"',
        minutes,
        lambda m: [900, 100 - slow[m], slow[m], 0, 0],
    )
    write("healthy-noise", minutes, series)


def drift_ramp_with_noise():
    # PSI of transaction_amount: 0.12 for 3h, then a rise of 0.025 an hour (0.32 at
    # 12h), with +-0.01 of noise on every sample and, every 15 to 45 minutes, one
    # sample 0.05 low (a small scoring batch). The rise crosses 0.25 at about 8h, and
    # the low samples dip below 0.25 until about 10h.
    minutes = 12 * HOUR
    noise = Noise(9)
    values = []
    next_dip = int(noise.between(15, 45))
    for m in range(minutes + 1):
        value = 0.12 + max(0, m - 3 * HOUR) * 0.025 / HOUR + noise.between(-0.01, 0.01)
        if m == next_dip:
            value -= 0.05
            next_dip = m + int(noise.between(15, 45))
        values.append(round(value, 3))
    write(
        "drift-ramp-noise",
        minutes,
        [('feature_drift_psi{feature="transaction_amount"}', values)],
    )


MIB = 81920  # an A100 80GB as DCGM reports it, in MiB


def gpu_series(hostname, pod, used, utilization, minutes):
    labels = f'Hostname="{hostname}",gpu="0",pod="{pod}"'
    free = [None if u is None else MIB - u for u in used]
    return [
        (f"DCGM_FI_DEV_FB_USED{{{labels}}}", used),
        (f"DCGM_FI_DEV_FB_FREE{{{labels}}}", free),
        (f"DCGM_FI_DEV_GPU_UTIL{{{labels}}}", utilization),
    ]


def gpu_leak():
    # Two GPUs at 40 GiB; from 2h on the server on gpu-serve-2 leaks 16 GiB an hour
    # (its 80 GiB would run out at 4h30m).
    minutes = 4 * HOUR + 15
    steady = [40960] * (minutes + 1)
    leaking = [40960 + max(0, m - 2 * HOUR) * 16 * 1024 // HOUR for m in range(minutes + 1)]
    utilization = [55] * (minutes + 1)
    series = gpu_series("gpu-serve-1", "vllm-7d9f-a", steady, utilization, minutes)
    series += gpu_series("gpu-serve-2", "vllm-7d9f-b", leaking, utilization, minutes)
    write("gpu-leak", minutes, series)


def gpu_rolling_deploy():
    # Two vLLM pods, one per GPU, replaced one by one: the new pod on gpu-serve-1
    # starts at 1h30m and the old one stops, then the same on gpu-serve-2 at 1h40m.
    # vLLM reserves 90% of the GPU at start: a new series reads 512 MiB (the CUDA
    # context) in its first minute and 73728 MiB after. The new version tokenises
    # slowly: from 1h50m one request in five takes over 250ms (one in 2000 before).
    minutes = 4 * HOUR
    series = []
    for hostname, old, new, switch in [
        ("gpu-serve-1", "vllm-6c4d-a", "vllm-7d9f-a", 90),
        ("gpu-serve-2", "vllm-6c4d-b", "vllm-7d9f-b", 100),
    ]:
        old_used = [73728 if m < switch else None for m in range(minutes + 1)]
        new_used = [None if m < switch else 512 if m == switch else 73728 for m in range(minutes + 1)]
        old_util = [60 if m < switch else None for m in range(minutes + 1)]
        new_util = [None if m < switch else 5 if m == switch else 60 for m in range(minutes + 1)]
        series += gpu_series(hostname, old, old_used, old_util, minutes)
        series += gpu_series(hostname, new, new_used, new_util, minutes)
    series = [(name, values) for name, values in series]
    series += histogram(
        "vllm:time_to_first_token_seconds",
        'model_name="support-llama-3-8b"',
        minutes,
        lambda m: [1200, 799, 1, 0, 0] if m < 110 else [1200, 400, 400, 0, 0],
    )
    write("gpu-rolling-deploy", minutes, series)


def stalled_batch():
    # The hourly feature build succeeds at 5 past each hour until 2h05m, then hangs.
    # Stale features skew the served spend_30d: its PSI jumps to 0.4 at 4h30m.
    minutes = 6 * HOUR
    last_success = []
    for m in range(minutes + 1):
        runs = [h * HOUR + 5 for h in range(0, 3) if h * HOUR + 5 <= m]
        last_success.append(runs[-1] * 60 if runs else 0)
    psi = [0.08 if m < 4 * HOUR + 30 else 0.4 for m in range(minutes + 1)]
    write(
        "stalled-batch",
        minutes,
        [
            ('feature_build_last_success_timestamp_seconds{job="hourly-features"}', last_success),
            ('feature_store_drift_psi{feature="spend_30d"}', psi),
        ],
    )


def latency_shift():
    # 1000 ranking requests a minute, all within 250ms until a new model at 2h makes
    # 2% of them slower (twenty times the budget's rate).
    minutes = 4 * HOUR
    write(
        "latency-shift",
        minutes,
        histogram(
            "ranking_request_duration_seconds",
            'job="ranking-server"',
            minutes,
            lambda m: [600, 400, 0, 0, 0] if m < 2 * HOUR else [600, 380, 16, 4, 0],
        ),
    )


for scenario in [
    fast_burn,
    slow_burn,
    outage,
    low_traffic,
    healthy_noise,
    drift_ramp_with_noise,
    gpu_leak,
    gpu_rolling_deploy,
    stalled_batch,
    latency_shift,
]:
    scenario()
