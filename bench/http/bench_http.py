#!/usr/bin/python3
"""HTTP probing benchmark: calprobe vs prometheus-blackbox-exporter.

One after the other (never concurrently: 2 cores), against the same local
nginx target:
  1. calprobe with N targets (default 5,000) at a 1 s interval: probes/s,
     agent CPU seconds per 1,000 probes, RSS per target, scheduling lateness
     p50/p99 (from calprobe_scheduler_lateness_seconds).
  2. blackbox_exporter probing the same URL through /probe, driven at a fixed
     rate by a calprobe agent whose targets are /probe URLs; the exporter's own
     CPU per probe is measured from /proc the same way.
Prints a side-by-side table (Markdown) and the ratios against the targets.
Traffic goes only to 127.0.0.1; every process is stopped by PID.
"""

import argparse
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "tests", "integration"))
import harness  # noqa: E402

TICK = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")


def proc_cpu_rss(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    cpu = (int(fields[11]) + int(fields[12])) / TICK
    rss = int(fields[21]) * PAGE
    return cpu, rss


def histogram_quantile(text, name, q, **labels):
    buckets = []
    for line in text.splitlines():
        if not line.startswith(name + "_bucket{"):
            continue
        head, value = line.rsplit(" ", 1)
        if not all(f'{k}="{v}"' in head for k, v in labels.items()):
            continue
        le = head.split('le="')[1].split('"')[0]
        buckets.append((float("inf") if le == "+Inf" else float(le), float(value)))
    buckets.sort()
    total = buckets[-1][1]
    rank = q * total
    prev_le, prev_count = 0.0, 0.0
    for le, count in buckets:
        if count >= rank:
            if le == float("inf"):
                return prev_le
            return prev_le + (le - prev_le) * (rank - prev_count) / max(count - prev_count, 1e-9)
        prev_le, prev_count = le, count
    return buckets[-1][0]


def hist_delta(before, after):
    """Subtracts bucket counts so quantiles cover only the measurement window."""
    def parse(text):
        out = {}
        for line in text.splitlines():
            if line.startswith("calprobe_scheduler_lateness_seconds_bucket{"):
                head, value = line.rsplit(" ", 1)
                out[head] = float(value)
        return out
    b, a = parse(before), parse(after)
    return "\n".join(f"{k} {a[k] - b.get(k, 0)}" for k in a)


def agent_config(tmp, urls, interval, concurrency, fresh):
    targets = "".join(
        f"  - {{name: t{i}, probe: http, http: {{url: \"{u}\", fresh_connection: {str(fresh).lower()}}}}}\n"
        for i, u in enumerate(urls))
    return f"""agent:
  region: bench
  store: {tmp}/bench-{len(urls)}.db
  concurrency: {{http: {concurrency}}}
defaults:
  interval: {interval}
  timeout: {int(float(interval.rstrip('s')) * 800)}ms
targets:
{targets}"""


def run_agent(tmp, urls, interval, warmup, measure, concurrency, fresh, name):
    agent = harness.Agent(tmp, agent_config(tmp, urls, interval, concurrency, fresh), name=name)
    try:
        time.sleep(warmup)
        m0 = agent.metrics()
        c0, rss0 = proc_cpu_rss(agent.proc.pid)
        t0 = time.monotonic()
        time.sleep(measure)
        m1 = agent.metrics()
        c1, rss = proc_cpu_rss(agent.proc.pid)
        t1 = time.monotonic()
        runs = sum_metric(m1, "calprobe_probe_runs_total") - sum_metric(m0, "calprobe_probe_runs_total")
        ok = sum_metric(m1, "calprobe_probe_success")
        lat = hist_delta(m0, m1)
        return {
            "runs": runs, "seconds": t1 - t0, "cpu": c1 - c0, "rss": rss, "rss_start": rss0,
            "ok_targets": ok,
            "p50": histogram_quantile(lat, "calprobe_scheduler_lateness_seconds", 0.5),
            "p99": histogram_quantile(lat, "calprobe_scheduler_lateness_seconds", 0.99),
            "skipped": sum_metric(m1, "calprobe_scheduler_skipped_runs_total"),
        }
    finally:
        agent.stop()


def sum_metric(text, name):
    total = 0.0
    for line in text.splitlines():
        if line.startswith(name + "{") or line.startswith(name + " "):
            total += float(line.rsplit(" ", 1)[1])
    return total


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--targets", type=int, default=5000)
    ap.add_argument("--interval", default="1s")
    ap.add_argument("--warmup", type=float, default=8)
    ap.add_argument("--measure", type=float, default=30)
    ap.add_argument("--bbe-rate", type=int, default=500, help="probes/s asked of blackbox_exporter")
    ap.add_argument("--fresh-connection", action="store_true",
                    help="calprobe opens a new connection per probe (as blackbox_exporter does)")
    args = ap.parse_args()

    tmp = tempfile.mkdtemp(prefix="calprobe-bench-")
    nginx = harness.Nginx(tmp)
    results = {}
    try:
        target_url = nginx.url("/health")
        # Baseline RSS: the same agent with one target.
        base = run_agent(tmp, [target_url], args.interval, 2, 3, 256, args.fresh_connection, "base")
        results["base_rss"] = base["rss"]
        urls = [f"{target_url}?t={i}" for i in range(args.targets)]
        cp = run_agent(tmp, urls, args.interval, args.warmup, args.measure, 256,
                       args.fresh_connection, "calprobe")
        results["calprobe"] = cp

        # blackbox_exporter, driven through /probe at a fixed rate.
        bbe_port = harness.free_port()
        bbe_cfg = os.path.join(tmp, "blackbox.yml")
        with open(bbe_cfg, "w") as f:
            f.write("modules:\n  http_2xx:\n    prober: http\n    timeout: 5s\n")
        bbe = harness.Proc(["/usr/bin/prometheus-blackbox-exporter", f"--config.file={bbe_cfg}",
                            f"--web.listen-address=127.0.0.1:{bbe_port}"], os.path.join(tmp, "bbe.log"))
        try:
            harness.wait_http_ok(f"http://127.0.0.1:{bbe_port}/metrics")
            probe_urls = [f"http://127.0.0.1:{bbe_port}/probe?module=http_2xx&target={target_url}%3Fd%3D{i}"
                          for i in range(args.bbe_rate)]
            driver = harness.Agent(tmp, agent_config(tmp, probe_urls, "1s", 1024, False), name="driver")
            try:
                time.sleep(args.warmup)
                m0 = driver.metrics()
                c0, _ = proc_cpu_rss(bbe.pid)
                t0 = time.monotonic()
                time.sleep(args.measure)
                m1 = driver.metrics()
                c1, bbe_rss = proc_cpu_rss(bbe.pid)
                t1 = time.monotonic()
            finally:
                driver.stop()
            runs = sum_metric(m1, "calprobe_probe_runs_total") - sum_metric(m0, "calprobe_probe_runs_total")
            results["bbe"] = {"runs": runs, "seconds": t1 - t0, "cpu": c1 - c0, "rss": bbe_rss,
                              "ok_targets": sum_metric(m1, "calprobe_probe_success")}
        finally:
            bbe.stop()
    finally:
        nginx.stop()

    cp, bb = results["calprobe"], results["bbe"]
    cp_us = cp["cpu"] / cp["runs"] * 1e6
    bb_us = bb["cpu"] / bb["runs"] * 1e6
    rss_per_target = (cp["rss"] - results["base_rss"]) / args.targets
    print(f"\nmachine: {os.cpu_count()} cores, load avg {os.getloadavg()[0]:.2f}; "
          f"targets={args.targets} interval={args.interval} measure={args.measure}s "
          f"fresh_connection={args.fresh_connection}\n")
    print("| | calprobe | blackbox_exporter |")
    print("| --- | ---: | ---: |")
    print(f"| probes/s | {cp['runs'] / cp['seconds']:.0f} | {bb['runs'] / bb['seconds']:.0f} (driven) |")
    print(f"| CPU per probe | {cp_us:.1f} µs | {bb_us:.1f} µs |")
    print(f"| CPU s per 1,000 probes | {cp_us / 1000:.3f} | {bb_us / 1000:.3f} |")
    print(f"| RSS | {cp['rss'] / 2**20:.1f} MiB (baseline {results['base_rss'] / 2**20:.1f} MiB) | {bb['rss'] / 2**20:.1f} MiB |")
    print(f"| RSS per target | {rss_per_target / 1024:.2f} KiB | – |")
    print(f"| RSS change during the {args.measure:.0f} s measured | "
          f"{(cp['rss'] - cp['rss_start']) / 2**10:+.0f} KiB | – |")
    print(f"| lateness p50 / p99 | {cp['p50'] * 1000:.2f} ms / {cp['p99'] * 1000:.2f} ms | – |")
    print(f"| successful targets at end | {cp['ok_targets']:.0f}/{args.targets} | {bb['ok_targets']:.0f}/{args.bbe_rate} |")
    print(f"| skipped runs (total) | {cp['skipped']:.0f} | – |")
    ratio = cp_us / bb_us
    print(f"\nCPU per probe ratio calprobe/blackbox_exporter = {ratio:.3f} (target <= 0.15): "
          f"{'PASS' if ratio <= 0.15 else 'FAIL'}")
    print(f"lateness p99 {cp['p99'] * 1000:.2f} ms (target < 50 ms): {'PASS' if cp['p99'] < 0.05 else 'FAIL'}")
    print(f"RSS per target {rss_per_target / 1024:.2f} KiB (target < 8 KB): "
          f"{'PASS' if rss_per_target < 8000 else 'FAIL'}")


if __name__ == "__main__":
    main()
