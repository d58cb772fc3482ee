"""Alert rules inside the running agent: seed rules fire from ingested
platform events, probe alerts from the agent's own probe results, the
Watchdog always fires, silences hold back notifications without hiding the
state, states survive kill -9 without being announced twice, and a broken
rules file on reload keeps the previous rules."""

import json
import signal
import time
from datetime import datetime, timedelta, timezone

import harness
from harness import metric_value

TOKEN = "alerts-ingest-token-5551"

# Demo-style shortened copy of the seed's HoldExpirySpike (same name:
# replaces the built-in rule): 1 minute window, at least 3 created holds.
RULES = """
rules:
  - name: HoldExpirySpike
    signal: {kind: ratio, numerator: cal.hold.expired, denominator: [cal.hold.created]}
    window: 1m
    op: ">"
    threshold: 0.2
    min_samples: 3
    group_by: [region]
    origins: [platform]
    severity: warning
    runbook: ops/runbooks/booking-hold-degradation.md
    annotations:
      summary: "Hold expiry ratio {{ $value }} in {{ $labels.region }}"
"""


def now_rfc3339(offset=0.0):
    t = datetime.now(timezone.utc) + timedelta(seconds=offset)
    return t.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def event(name, region="us-east", **fields):
    return json.dumps({"name": name, "time": now_rfc3339(),
                       "labels": {"region": region, "origin": "platform", "provider": "p1"},
                       "fields": fields})


class AlertsAgentTest(harness.TempDirTestCase):
    def config(self, rules_file, extra_targets=""):
        return f"""
agent:
  region: us-east
  store: {self.tmp}/calprobe.db
  ingest_token: {TOKEN}
alerts:
  rule_files: [{rules_file}]
  evaluation_interval: 1s
  health_interval: 1s
  probe_failure_window: 5
targets:
  - name: dead-port
    probe: http
    interval: 1s
    timeout: 500ms
    http: {{url: "http://127.0.0.1:{self.dead_port}/"}}
{extra_targets}"""

    def setUp(self):
        super().setUp()
        self.dead_port = harness.free_port()  # nothing listens there
        with open(f"{self.tmp}/rules.yaml", "w") as f:
            f.write(RULES)

    def post(self, agent, lines):
        status, _, body = harness.http("POST", agent.url("/api/v1/events"),
                                       body="\n".join(lines).encode(),
                                       headers={"Authorization": f"Bearer {TOKEN}"})
        self.assertEqual(status, 200, body)
        self.assertEqual(json.loads(body)["rejected"], 0, body)

    def alerts(self, agent):
        return json.loads(harness.get(agent.url("/api/v1/alerts"))[2])

    def firing(self, agent, rule):
        return [a for a in self.alerts(agent)["alerts"] if a["rule"] == rule and a["state"] == "firing"]

    def test_rules_fire_silence_and_survive_restart(self):
        agent = self.track(harness.Agent(self.tmp, self.config(f"{self.tmp}/rules.yaml")))

        # The Watchdog always fires; the rule list shows the replaced seed rule.
        harness.wait_until(lambda: self.firing(agent, "Watchdog"), what="Watchdog firing")
        names = [r["name"] for r in self.alerts(agent)["rules"]]
        for n in ["FeasibilityLatency", "HoldExpirySpike", "IcsPollErrors", "SyncStaleness",
                  "FeedTokenLeakage", "DashboardSilence", "ProbeFailing", "Watchdog"]:
            self.assertIn(n, names)
        self.assertEqual(names.count("HoldExpirySpike"), 1)

        # Near miss: 1 expired of 5 created = 0.2, not > 0.2.
        self.post(agent, [event("cal.hold.created", source="web", ttl_minutes=15,
                                overlap_detected=False) for _ in range(5)]
                  + [event("cal.hold.expired", source="web", ttl_minutes=15, overlap_detected=False)])
        time.sleep(2.5)
        self.assertEqual(self.firing(agent, "HoldExpirySpike"), [])
        # Over the threshold: 2 of 5.
        self.post(agent, [event("cal.hold.expired", source="web", ttl_minutes=15, overlap_detected=False)])
        a = harness.wait_until(lambda: self.firing(agent, "HoldExpirySpike"), what="HoldExpirySpike firing")
        self.assertEqual(a[0]["labels"], {"region": "us-east"})
        self.assertAlmostEqual(a[0]["value"], 0.4)
        self.assertEqual(a[0]["runbook"], "ops/runbooks/booking-hold-degradation.md")
        self.assertIn("0.4", a[0]["annotations"]["summary"])
        # Every runbook is served by the agent itself (compiled in).
        status, _, body = harness.get(agent.url("/" + a[0]["runbook"]))
        self.assertEqual(status, 200)
        self.assertIn(b"HoldExpirySpike", body)
        self.assertEqual(harness.get(agent.url("/ops/runbooks/nope.md"))[0], 404)
        self.assertEqual(harness.get(agent.url("/ops/runbooks/"))[0], 200)
        self.assertEqual(metric_value(agent.metrics(), "calprobe_alerts_firing",
                                      alertname="HoldExpirySpike"), 1)

        # The dead port fails every run: ProbeFailing after 3 of the last 5.
        pf = harness.wait_until(lambda: self.firing(agent, "ProbeFailing"), timeout=30,
                                what="ProbeFailing firing")
        self.assertEqual(pf[0]["labels"]["target"], "dead-port")
        self.assertGreaterEqual(pf[0]["value"], 3)

        # Silences: bad input is a 400 naming the field; auth is required.
        status, _, body = harness.http("POST", agent.url("/api/v1/silences"),
                                       body=b'{"matchers":{"alertname":"ProbeFailing"}}',
                                       headers={"Authorization": f"Bearer {TOKEN}"})
        self.assertEqual(status, 400)
        self.assertIn("ends", json.loads(body)["error"])
        status, _, _ = harness.http("POST", agent.url("/api/v1/silences"),
                                    body=b'{"matchers":{"alertname":"ProbeFailing"},"duration_seconds":600}')
        self.assertEqual(status, 401)
        status, _, body = harness.http(
            "POST", agent.url("/api/v1/silences"),
            body=json.dumps({"matchers": {"alertname": "ProbeFailing", "target": "dead-port"},
                             "duration_seconds": 600, "comment": "maintenance"}).encode(),
            headers={"Authorization": f"Bearer {TOKEN}"})
        self.assertEqual(status, 200, body)
        sid = json.loads(body)["id"]
        harness.wait_until(lambda: self.firing(agent, "ProbeFailing")[0].get("silenced_by") == sid,
                           what="silenced_by on the firing alert")
        self.assertEqual([s["id"] for s in self.alerts(agent)["silences"]], [sid])
        self.assertEqual(metric_value(agent.metrics(), "calprobe_silences_active"), 1)

        # kill -9 while alerts fire: after restart they are still firing,
        # and the firing transition is not logged (announced) again.
        fired_before = agent.proc.output().count("alert firing")
        self.assertGreaterEqual(fired_before, 3)  # Watchdog, HoldExpirySpike, ProbeFailing
        agent.proc.kill9()
        agent2 = self.track(harness.Agent(self.tmp, self.config(f"{self.tmp}/rules.yaml"),
                                          name="agent2"))
        harness.wait_until(lambda: self.firing(agent2, "HoldExpirySpike"),
                           what="HoldExpirySpike still firing after restart")
        self.assertTrue(self.firing(agent2, "Watchdog"))
        self.assertEqual([s["id"] for s in self.alerts(agent2)["silences"]], [sid])
        time.sleep(2.5)
        log2 = agent2.proc.output()
        self.assertNotIn("alert=HoldExpirySpike", "\n".join(
            l for l in log2.splitlines() if "alert firing" in l))
        self.assertNotIn("alert=Watchdog", "\n".join(
            l for l in log2.splitlines() if "alert firing" in l))
        # ...but the restart says which alerts it restored as firing.
        restored = [l for l in log2.splitlines() if "still firing from the previous run" in l]
        self.assertTrue(any("alert=HoldExpirySpike" in l for l in restored), log2)

        # Expire the silence through the API.
        status, _, body = harness.http("DELETE", agent2.url(f"/api/v1/silences/{sid}"),
                                       headers={"Authorization": f"Bearer {TOKEN}"})
        self.assertEqual(status, 200, body)
        self.assertEqual(json.loads(body)["state"], "expired")
        harness.wait_until(lambda: "silenced_by" not in (self.firing(agent2, "ProbeFailing") or [{}])[0],
                           what="silence lifted")

        # A broken rules file on reload: previous rules stay, failure counted.
        with open(f"{self.tmp}/rules.yaml", "w") as f:
            f.write(RULES.replace("window: 1m", "window: often"))
        agent2.proc.signal(signal.SIGHUP)
        harness.wait_until(lambda: metric_value(agent2.metrics(), "calprobe_config_reloads_total",
                                                result="failure") == 1, what="failed reload counted")
        log2 = agent2.proc.output()
        self.assertIn("config reload failed (alert rules); keeping the previous config", log2)
        self.assertIn("rules.yaml:5:", log2)
        self.assertIn("rules[0].window", log2)
        self.assertTrue(self.firing(agent2, "HoldExpirySpike"))

    def test_validate_config_reports_rule_errors(self):
        with open(f"{self.tmp}/bad-rules.yaml", "w") as f:
            f.write(RULES.replace("op: \">\"", "op: \"=>\""))
        cfg = f"{self.tmp}/agent.yaml"
        with open(cfg, "w") as f:
            f.write(self.config(f"{self.tmp}/bad-rules.yaml"))
        p = harness.subprocess.run([harness.CALPROBE, "validate-config", cfg],
                                   capture_output=True, text=True, timeout=30)
        self.assertEqual(p.returncode, 2, p.stdout + p.stderr)
        self.assertIn("bad-rules.yaml:6:", p.stderr)
        self.assertIn("unknown comparison \"=>\"", p.stderr)
        with open(cfg, "w") as f:
            f.write(self.config(f"{self.tmp}/rules.yaml"))
        p = harness.subprocess.run([harness.CALPROBE, "validate-config", cfg],
                                   capture_output=True, text=True, timeout=30)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("alert rules", p.stdout)


if __name__ == "__main__":
    harness.main()
