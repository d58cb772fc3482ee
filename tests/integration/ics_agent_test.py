#!/usr/bin/python3
"""The real agent polls 50 ICS sources on the local fault server for several
cycles: cal.ics.poll.* events, the 304 path, deltas after a feed changes,
retry tiers on errors (and back to 0), mass deletion, staleness and backlog
metrics, and a /metrics page that promtool accepts."""

import os
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import metric_value  # noqa: E402
from ics_fault_server import FaultServer  # noqa: E402

N = 50


def sources_config(tmp, server, n, interval="1s", timeout="800ms", concurrency=16, path=None):
    lines = [f"""
agent:
  region: test
  store: {tmp}/calprobe.db
  concurrency: {{ics: {concurrency}}}
targets:"""]
    for i in range(n):
        url = server.url(path or f"/src/s{i:02d}.ics")
        lines.append(f"""  - name: feed-{i:02d}
    probe: ics
    interval: {interval}
    timeout: {timeout}
    labels: {{src_id: s{i:02d}, provider: p{i % 5}}}
    ics:
      url: {url}
      retry_tiers: [2s, 4s]
      mass_deletion_confirmations: 2""")
    return "\n".join(lines) + "\n"


def target(agent, name):
    for t in agent.targets():
        if t["name"] == name:
            return t
    raise AssertionError(f"no target {name}")


def metric_sum(text, name, **labels):
    total, seen = 0.0, False
    for line in text.splitlines():
        if line.startswith("#") or not line.startswith(name + "{"):
            continue
        head, _, value = line.rpartition(" ")
        if all(f'{k}="{v}"' in head for k, v in labels.items()):
            total += float(value)
            seen = True
    return total if seen else None


class IcsAgentTest(harness.TempDirTestCase):
    def test_fifty_sources(self):
        server = self.track(FaultServer(self.tmp))
        for i in range(N):
            server.set_source(f"s{i:02d}", events=10, version=1)
        for i in (40, 41, 42, 43, 44):
            server.set_source(f"s{i}", status=503)
        server.set_source("s45", status=429, retry_after=3)
        agent = self.track(harness.Agent(self.tmp, sources_config(self.tmp, server, N)))

        # Several cycles: every healthy source answered 304 at least once.
        def cycles_done():
            text = agent.metrics()
            nm = metric_sum(text, "calprobe_ics_polls_total", origin="synthetic",
                            result="not_modified")
            return text if nm and nm >= 3 * 39 else None
        text = harness.wait_until(cycles_done, timeout=30, what="three cycles of 304s")

        self.assertEqual(metric_value(text, "calprobe_ics_sources_tracked"), N)
        ok = metric_sum(text, "calprobe_events_total", event="cal.ics.poll.ok", origin="synthetic")
        err = metric_sum(text, "calprobe_events_total", event="cal.ics.poll.error",
                         origin="synthetic")
        self.assertGreaterEqual(ok, 4 * 39, text)
        self.assertGreaterEqual(err, 6)
        self.assertGreater(server.stats()["not_modified"], 0)
        details = target(agent, "feed-01")["last"]["details"]
        self.assertTrue(details["etag_matched"], details)
        self.assertEqual(details["delta_event_count"], 0)
        self.assertEqual(details["src_id"], "s01")
        # Per-provider aggregates always exist.
        for p in range(5):
            self.assertEqual(metric_value(text, "calprobe_ics_provider_sources",
                                          origin="synthetic", provider=f"p{p}"), 10)
        self.assertEqual(metric_value(text, "calprobe_ics_provider_failing_sources",
                                      origin="synthetic", provider="p0"), 2)  # s40, s45

        # Staleness: healthy sources polled and succeeded recently; failing ones never succeeded.
        now = time.time()
        last_poll = metric_value(text, "calprobe_ics_last_poll_timestamp_seconds", src_id="s01")
        last_ok = metric_value(text, "calprobe_ics_last_success_timestamp_seconds", src_id="s01")
        self.assertLess(now - last_poll, 5)
        self.assertLess(now - last_ok, 5)
        self.assertIsNone(metric_value(text, "calprobe_ics_last_success_timestamp_seconds",
                                       src_id="s41"))
        self.assertIsNotNone(metric_value(text, "calprobe_ics_last_poll_timestamp_seconds",
                                          src_id="s41"))

        # Tiers: 503 climbs to the top tier (2 rungs) and the scheduler's runs are skipped.
        harness.wait_until(lambda: metric_value(agent.metrics(), "calprobe_ics_retry_tier",
                                                src_id="s41") == 2, timeout=20, what="s41 at tier 2")
        harness.wait_until(lambda: target(agent, "feed-41")["last"]["reason"] == "ics.backoff",
                           timeout=10, what="a backoff run of feed-41")
        self.assertIn("http.server_error", target(agent, "feed-41")["last"]["message"])
        text = agent.metrics()
        self.assertGreater(metric_value(text, "calprobe_ics_poll_errors_total", provider="p0",
                                        code="http.rate_limited"), 0)
        # A backoff run attempts nothing: counted as skipped, not as another failure;
        # the target stays failing with the history of its real polls.
        self.assertGreaterEqual(metric_value(text, "calprobe_probe_skipped_total",
                                             target="feed-41", reason="ics.backoff"), 1)
        self.assertIsNone(metric_value(text, "calprobe_probe_failures_total",
                                       target="feed-41", reason="ics.backoff"))
        self.assertEqual(metric_value(text, "calprobe_probe_success", target="feed-41"), 0)
        last = target(agent, "feed-41")["last"]
        self.assertTrue(last["skipped"])
        self.assertFalse(last["success"])
        # Fewer requests than runs while backing off: ~1 per 2-4 s instead of 1 per second.
        paths = server.stats()["paths"]
        self.assertLess(paths.get("/src/s41.ics", 0), paths.get("/src/s01.ics", 0))

        # Recovery: back to tier 0 on the first success.
        server.set_source("s41", status=200)
        harness.wait_until(lambda: metric_value(agent.metrics(), "calprobe_ics_retry_tier",
                                                src_id="s41") == 0, timeout=15, what="s41 at tier 0")
        self.assertIsNotNone(metric_value(agent.metrics(),
                                          "calprobe_ics_last_success_timestamp_seconds",
                                          src_id="s41"))

        # Delta: change one feed between polls.
        server.set_source("s03", events=12, version=2)

        def delta_seen():
            d = target(agent, "feed-03")["last"].get("details", {})
            return d if d.get("added") == 2 and d.get("changed") == 1 else None
        d = harness.wait_until(delta_seen, timeout=10, what="the delta of s03")
        self.assertEqual(d["delta_event_count"], 3)
        self.assertEqual(d["event_count"], 12)
        self.assertGreaterEqual(metric_value(agent.metrics(), "calprobe_ics_delta_events_total",
                                             provider="p3", kind="changed"), 1)
        # ... then 304 again with delta 0.
        harness.wait_until(lambda: target(agent, "feed-03")["last"]["details"].get("etag_matched"),
                           timeout=10, what="s03 back to 304")

        # Mass deletion: flagged, previous snapshot kept, accepted once confirmed.
        server.set_source("s04", events=2)
        harness.wait_until(lambda: target(agent, "feed-04")["last"]["reason"] == "sync.mass_deletion",
                           timeout=10, what="mass deletion of s04")
        harness.wait_until(lambda: target(agent, "feed-04")["last"]["success"] and
                           target(agent, "feed-04")["last"]["details"].get("event_count") == 2,
                           timeout=10, what="the confirmed deletion to be accepted")
        self.assertGreaterEqual(metric_value(agent.metrics(), "calprobe_ics_poll_errors_total",
                                             provider="p4", code="sync.mass_deletion"), 1)

        # Self-health: backlog beside its limit.
        text = agent.metrics()
        self.assertEqual(metric_value(text, "calprobe_ics_concurrency_limit"), 16)
        self.assertIsNotNone(metric_value(text, "calprobe_ics_backlog"))
        promtool = shutil.which("promtool")
        if promtool:
            p = subprocess.run([promtool, "check", "metrics"], input=text.encode(),
                               capture_output=True, timeout=30)
            problems = [l for l in (p.stdout + p.stderr).decode().splitlines()
                        if "calprobe_ics" in l]
            self.assertEqual(problems, [], (p.stdout + p.stderr).decode())

    def test_state_survives_restart(self):
        server = self.track(FaultServer(self.tmp))
        server.set_source("s00", events=6)
        cfg = sources_config(self.tmp, server, 1)
        agent = harness.Agent(self.tmp, cfg)
        harness.wait_until(lambda: target(agent, "feed-00")["last"].get("success"), timeout=10,
                           what="first poll")
        agent.stop()
        agent = self.track(harness.Agent(self.tmp, cfg, name="agent2"))
        first = harness.wait_until(lambda: target(agent, "feed-00")["last"]["details"]
                                   if target(agent, "feed-00")["last"].get("time") else None,
                                   timeout=10, what="poll after restart")
        # Restored validators: the very first poll after the restart is a 304.
        harness.wait_until(lambda: target(agent, "feed-00")["last"]["details"].get("etag_matched"),
                           timeout=10, what="304 after restart")
        self.assertIsNotNone(first)

    def test_backlog_when_saturated(self):
        server = self.track(FaultServer(self.tmp))
        cfg = sources_config(self.tmp, server, 8, interval="1s", timeout="900ms", concurrency=2,
                             path="/slow")
        agent = self.track(harness.Agent(self.tmp, cfg))

        def backlog():
            v = metric_value(agent.metrics(), "calprobe_ics_backlog")
            return v if v and v > 0 else None
        harness.wait_until(backlog, timeout=15, interval=0.05, what="a non-zero ICS backlog")
        self.assertEqual(metric_value(agent.metrics(), "calprobe_ics_concurrency_limit"), 2)

        def slow_errors():
            return metric_sum(agent.metrics(), "calprobe_ics_poll_errors_total", code="http.slow_body")
        harness.wait_until(slow_errors, timeout=10, what="http.slow_body poll errors")


if __name__ == "__main__":
    harness.main()
