"""The real Alertmanager (`prometheus-alertmanager`, Debian package) on
127.0.0.1, two replicas. Two agents in different regions send the same
global alert (a rule without group_by: no region label) and a per-region
alert: each replica shows the global alert ONCE and the per-region alert
once per region; re-sends keep them active; when the condition stops they
resolve in Alertmanager."""

import json
import os
import shutil
import time
from datetime import datetime, timezone

import harness

TOKEN = "am-ingest-token-4242"
RULES = """
rules:
  - name: GlobalCacheHits
    signal: {kind: count, event: cal.feasible.cache.hit}
    window: 3s
    op: ">"
    threshold: 0
    origins: [platform]
    severity: warning
    runbook: ops/runbooks/feasibility-latency.md
    annotations: {summary: "cache hits seen ({{ $value }})"}
  - name: RegionalCacheHits
    signal: {kind: count, event: cal.feasible.cache.hit}
    window: 3s
    op: ">"
    threshold: 0
    group_by: [region]
    origins: [platform]
    severity: warning
    annotations: {summary: "cache hits in {{ $labels.region }}"}
"""


def alertmanager_bin():
    return shutil.which("prometheus-alertmanager") or "/usr/bin/prometheus-alertmanager"


class Alertmanager:
    def __init__(self, workdir, name):
        self.port = harness.free_port()
        self.dir = os.path.join(workdir, name)
        os.makedirs(self.dir)
        conf = os.path.join(self.dir, "alertmanager.yml")
        with open(conf, "w") as f:
            f.write('route: {receiver: "null", group_by: [alertname]}\nreceivers: [{name: "null"}]\n')
        self.proc = harness.Proc([alertmanager_bin(), f"--config.file={conf}",
                                  f"--storage.path={self.dir}",
                                  f"--web.listen-address=127.0.0.1:{self.port}",
                                  "--cluster.listen-address="],
                                 os.path.join(self.dir, "out.log"))
        harness.wait_http_ok(self.url("/-/ready"), timeout=30)

    def url(self, path):
        return f"http://127.0.0.1:{self.port}{path}"

    def alerts(self):
        status, _, body = harness.get(self.url("/api/v2/alerts"))
        assert status == 200, body
        return json.loads(body)

    def stop(self):
        self.proc.stop()


def hit(region):
    t = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return json.dumps({"name": "cal.feasible.cache.hit", "time": t,
                       "labels": {"region": region, "origin": "platform", "provider": "p1"},
                       "fields": {"source": "search"}})


class AlertmanagerTest(harness.TempDirTestCase):
    def agent(self, region, ams):
        rules = os.path.join(self.tmp, "rules.yaml")
        with open(rules, "w") as f:
            f.write(RULES)
        urls = ", ".join(am.url("") for am in ams)
        cfg = f"""
agent:
  region: {region}
  store: {self.tmp}/{region}.db
  ingest_token: {TOKEN}
alerts:
  builtin: false
  rule_files: [{rules}]
  evaluation_interval: 1s
receivers:
  - name: alertmanager
    type: alertmanager
    urls: [{urls}]
    resend_interval: 1s
"""
        return self.track(harness.Agent(self.tmp, cfg, name=f"agent-{region}"))

    def post(self, agent, region):
        status, _, body = harness.http("POST", agent.url("/api/v1/events"), body=hit(region).encode(),
                                       headers={"Authorization": f"Bearer {TOKEN}"})
        self.assertEqual(status, 200, body)

    def test_same_alert_from_two_regions_is_one_alert(self):
        ams = [self.track(Alertmanager(self.tmp, "am1")), self.track(Alertmanager(self.tmp, "am2"))]
        agents = {r: self.agent(r, ams) for r in ("us-east", "eu-west")}

        def by_name(am, name):
            return [a for a in am.alerts() if a["labels"]["alertname"] == name]

        def all_present():
            for region, agent in agents.items():
                self.post(agent, region)
            return all(len(by_name(am, "GlobalCacheHits")) >= 1 and
                       len(by_name(am, "RegionalCacheHits")) >= 2 for am in ams)

        harness.wait_until(all_present, timeout=30, interval=0.5, what="alerts in both Alertmanagers")
        # Keep them firing through several re-sends from both agents.
        for _ in range(6):
            for region, agent in agents.items():
                self.post(agent, region)
            time.sleep(0.5)
        for am in ams:
            g = by_name(am, "GlobalCacheHits")
            self.assertEqual(len(g), 1, g)
            self.assertEqual(g[0]["labels"], {"alertname": "GlobalCacheHits", "severity": "warning"})
            self.assertEqual(g[0]["status"]["state"], "active")
            self.assertIn(g[0]["annotations"]["agent_region"], ("us-east", "eu-west"))
            self.assertTrue(g[0]["generatorURL"].endswith("/api/v1/alerts"))
            r = by_name(am, "RegionalCacheHits")
            self.assertEqual(sorted(a["labels"]["region"] for a in r), ["eu-west", "us-east"])
        # Both agents are sending it: not one region's copy going stale.
        self.assertEqual(json.loads(harness.get(agents["eu-west"].url("/api/v1/alerts"))[2])
                         ["notifications"]["notified_firing"], 2)  # global + its region
        m = agents["us-east"].metrics()
        self.assertGreaterEqual(harness.metric_value(m, "calprobe_notifications_total",
                                                     receiver="alertmanager", result="resent"), 2)

        # Events stop: both agents resolve (endsAt in the past), and
        # Alertmanager, which lists only unresolved alerts, lists none.
        harness.wait_until(lambda: all(am.alerts() == [] for am in ams), timeout=30,
                           what="alerts resolved in both Alertmanagers")
        for agent in agents.values():
            self.assertEqual(json.loads(harness.get(agent.url("/api/v1/alerts"))[2])["dead_letters"], [])


if __name__ == "__main__":
    harness.main()
