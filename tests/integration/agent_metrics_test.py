"""The real agent probes a real nginx; /metrics passes the real
`promtool check metrics` and carries calprobe_probe_success and
calprobe_probe_duration_seconds for every target with the region label."""

import shutil
import subprocess

import harness
from harness import metric_value


class AgentMetricsTest(harness.TempDirTestCase):
    def test_metrics_are_valid_and_complete(self):
        nginx = self.track(harness.Nginx(self.tmp))
        cfg = f"""
agent:
  region: us-east
  store: {self.tmp}/calprobe.db
defaults:
  interval: 1s
targets:
  - name: health
    probe: http
    labels: {{provider: p1, role: host}}
    http:
      url: {nginx.url('/health')}
      body_regex: "^ok"
  - name: json-api
    probe: http
    http:
      url: {nginx.url('/json')}
      json:
        - {{pointer: /status, equals: ok}}
        - {{pointer: /items/2, exists: true}}
  - name: broken
    probe: http
    http:
      url: {nginx.url('/fail')}
  - name: wrong-body
    probe: http
    http:
      url: {nginx.url('/health')}
      body_regex: "^healthy"
  - name: refused
    probe: http
    http:
      url: http://127.0.0.1:{harness.free_port()}/
"""
        agent = self.track(harness.Agent(self.tmp, cfg))
        names = ["health", "json-api", "broken", "wrong-body", "refused"]

        def all_ran():
            text = agent.metrics()
            return all(metric_value(text, "calprobe_probe_success", target=n) is not None
                       for n in names) and text
        text = harness.wait_until(all_ran, timeout=15, what="every target to run once")

        for n in names:
            self.assertIsNotNone(metric_value(text, "calprobe_probe_duration_seconds_count",
                                              target=n, probe="http", region="us-east"), n)
        self.assertEqual(metric_value(text, "calprobe_probe_success", target="health", region="us-east"), 1)
        self.assertEqual(metric_value(text, "calprobe_probe_success", target="json-api"), 1)
        self.assertEqual(metric_value(text, "calprobe_probe_success", target="broken"), 0)
        self.assertGreaterEqual(metric_value(text, "calprobe_probe_failures_total",
                                             target="broken", reason="assertion"), 1)
        self.assertGreaterEqual(metric_value(text, "calprobe_probe_failures_total",
                                             target="wrong-body", reason="assertion"), 1)
        self.assertGreaterEqual(metric_value(text, "calprobe_probe_failures_total",
                                             target="refused", reason="http.connection_refused"), 1)
        self.assertIsNotNone(metric_value(text, "calprobe_scheduler_lateness_seconds_count", probe="http"))
        self.assertIsNotNone(metric_value(text, "process_cpu_seconds_total"))
        # Target URLs never become labels.
        self.assertNotIn(f"127.0.0.1:{nginx.port}", text)

        promtool = shutil.which("promtool") or "/usr/bin/promtool"
        r = subprocess.run([promtool, "check", "metrics"], input=text, capture_output=True,
                           text=True, timeout=30)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)

        # /api/v1/targets: last result per target with the failure reason.
        by_name = {t["name"]: t for t in agent.targets()}
        self.assertEqual(set(by_name), set(names))
        self.assertEqual(by_name["broken"]["last"]["reason"], "assertion")
        self.assertIn("status 503", by_name["broken"]["last"]["message"])
        self.assertEqual(by_name["health"]["labels"]["provider"], "p1")

    def test_last_results_survive_restart(self):
        nginx = self.track(harness.Nginx(self.tmp))
        cfg = f"""
agent:
  region: eu-west
  store: {self.tmp}/calprobe.db
targets:
  - name: health
    probe: http
    interval: 1s
    http: {{url: "{nginx.url('/health')}"}}
"""
        agent = harness.Agent(self.tmp, cfg)
        harness.wait_until(lambda: agent.targets()[0]["last"], timeout=10, what="a result")
        first = agent.targets()[0]["last"]
        self.assertEqual(agent.stop(), 0)
        nginx.stop()  # the next run would fail: the restored result must be the old one
        cfg_slow = cfg.replace("interval: 1s", "interval: 1h\n    timeout: 10s")
        agent2 = self.track(harness.Agent(self.tmp, cfg_slow, name="agent2"))
        restored = agent2.targets()[0]["last"]
        self.assertEqual(restored["time"], first["time"])
        self.assertTrue(restored["success"])


if __name__ == "__main__":
    harness.main()
