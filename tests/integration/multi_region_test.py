"""Multi-region without docker, all on 127.0.0.1 (the topology of
docker/compose.yaml): agents in us-east (two replicas, --shard 0/2 and 1/2)
and eu-west (one agent), the real `prometheus` scraping all three and
evaluating docker/prometheus/calprobe-global.rules.yml (plus the rules of
`calprobe export-rules --format prometheus` when this calprobe has the
command; two replicas, the usual HA pair), and the real
`prometheus-alertmanager`.

Checks: Prometheus has both regions' series; within us-east every target is
probed by exactly one shard (Prometheus and /api/v1/targets agree); a target
failing from both regions reaches Alertmanager as exactly one alert without a
region label, although both Prometheus replicas fire it; a target failing from one region only is a regional alert, not
a global one."""

import json
import os
import shutil
import subprocess
import urllib.parse

import yaml  # python3-yaml (Debian)

import harness

TARGETS = [f"svc-{i}" for i in range(8)]  # healthy everywhere
BROKEN = "booking-api"                     # fails from every region
REGIONAL = "eu-edge"                       # fails from eu-west only
ALERTMANAGER = shutil.which("prometheus-alertmanager") or shutil.which("alertmanager")


class MultiRegionTest(harness.TempDirTestCase):
    def agent_config(self, region, nginx, dead_port):
        lines = [f"""
agent:
  region: {region}
  store: {self.tmp}/{{name}}.db
alerts:
  evaluation_interval: 1s
receivers:
  - name: alertmanager
    type: alertmanager
    urls: ["http://127.0.0.1:{self.am_port}"]
    resend_interval: 1s
defaults:
  interval: 1s
  timeout: 900ms
targets:"""]
        for t in TARGETS:
            lines.append(f'  - {{name: {t}, probe: http, http: {{url: "{nginx.url("/health")}?t={t}"}}}}')
        lines.append(f'  - {{name: {BROKEN}, probe: http, http: {{url: "{nginx.url("/fail")}"}}}}')
        regional = f"http://127.0.0.1:{dead_port}/health" if region == "eu-west" else nginx.url("/health")
        lines.append(f'  - {{name: {REGIONAL}, probe: http, http: {{url: "{regional}"}}}}')
        return "\n".join(lines) + "\n"

    def start_agent(self, name, region, shard, nginx, dead_port):
        cfg = self.agent_config(region, nginx, dead_port).replace("{name}", name)
        args = ["--region", region] + (["--shard", shard] if shard else [])
        return self.track(harness.Agent(self.tmp, cfg, name=name, extra_args=args))

    def prom_query(self, q):
        url = f"http://127.0.0.1:{self.prom_port}/api/v1/query?query=" + urllib.parse.quote(q)
        status, _, body = harness.get(url)
        self.assertEqual(status, 200, body)
        d = json.loads(body)
        self.assertEqual(d["status"], "success", d)
        return d["data"]["result"]

    def test_two_regions_sharded(self):
        nginx = self.track(harness.Nginx(self.tmp))
        dead_port = harness.free_port()  # nothing listens there
        # Alertmanager (clustering off: nothing binds beyond 127.0.0.1).
        self.am_port = am_port = harness.free_port()
        am_dir = os.path.join(self.tmp, "alertmanager")
        os.makedirs(am_dir)
        with open(os.path.join(am_dir, "alertmanager.yml"), "w") as f:
            f.write("route: {receiver: default, group_by: [alertname, target], group_wait: 1s,"
                    " group_interval: 1s, repeat_interval: 1h}\nreceivers: [{name: default}]\n")
        self.track(harness.Proc(
            [ALERTMANAGER, f"--config.file={am_dir}/alertmanager.yml", f"--storage.path={am_dir}/data",
             f"--web.listen-address=127.0.0.1:{am_port}", "--cluster.listen-address="],
            os.path.join(am_dir, "out.log")))
        harness.wait_http_ok(f"http://127.0.0.1:{am_port}/-/ready", timeout=30)

        agents = {
            "us-east-0": self.start_agent("us-east-0", "us-east", "0/2", nginx, dead_port),
            "us-east-1": self.start_agent("us-east-1", "us-east", "1/2", nginx, dead_port),
            "eu-west": self.start_agent("eu-west", "eu-west", None, nginx, dead_port),
        }
        all_targets = set(TARGETS) | {BROKEN, REGIONAL}

        # Sharding as the agents report it: disjoint within us-east, complete.
        names = {k: {t["name"] for t in a.targets()} for k, a in agents.items()}
        self.assertEqual(names["us-east-0"] & names["us-east-1"], set())
        self.assertEqual(names["us-east-0"] | names["us-east-1"], all_targets)
        self.assertTrue(names["us-east-0"] and names["us-east-1"], names)
        self.assertEqual(names["eu-west"], all_targets)

        # Rules: the docker/ cross-region rules with `for:` shortened for the
        # test, plus export-rules' output when the command exists.
        rule_files = []
        with open(os.path.join(harness.SOURCE_DIR, "docker", "prometheus", "calprobe-global.rules.yml")) as f:
            rules = yaml.safe_load(f)
        for g in rules["groups"]:
            for r in g["rules"]:
                r["for"] = "3s"
        path = os.path.join(self.tmp, "calprobe-global.rules.yml")
        with open(path, "w") as f:
            yaml.safe_dump(rules, f)
        rule_files.append(path)
        usage = subprocess.run([harness.CALPROBE, "--help"], capture_output=True, text=True).stdout
        if "export-rules" in usage:
            out = subprocess.run([harness.CALPROBE, "export-rules", "--format", "prometheus"],
                                 capture_output=True, text=True, check=True).stdout
            path = os.path.join(self.tmp, "calprobe-alerts.yml")
            with open(path, "w") as f:
                f.write(out)
            rule_files.append(path)
        else:
            print("note: calprobe has no export-rules yet; only docker/prometheus rules evaluated")

        # Two Prometheus replicas (the usual HA pair) with the same config: both
        # evaluate the rules and send to Alertmanager, which must merge them.
        self.prom_ports = []
        for replica in range(2):
            port = harness.free_port()
            prom_dir = os.path.join(self.tmp, f"prometheus-{replica}")
            os.makedirs(prom_dir)
            prom_cfg = {
                "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
                "rule_files": rule_files,
                "alerting": {"alertmanagers": [{"static_configs": [{"targets": [f"127.0.0.1:{am_port}"]}]}]},
                "scrape_configs": [{"job_name": "calprobe", "static_configs": [
                    {"targets": [f"127.0.0.1:{a.port}"], "labels": {"agent": k}} for k, a in agents.items()]}],
            }
            with open(os.path.join(prom_dir, "prometheus.yml"), "w") as f:
                yaml.safe_dump(prom_cfg, f)
            check = subprocess.run(["promtool", "check", "config", os.path.join(prom_dir, "prometheus.yml")],
                                   capture_output=True, text=True)
            self.assertEqual(check.returncode, 0, check.stdout + check.stderr)
            self.track(harness.Proc(
                ["prometheus", f"--config.file={prom_dir}/prometheus.yml",
                 f"--storage.tsdb.path={prom_dir}/data", f"--web.listen-address=127.0.0.1:{port}"],
                os.path.join(prom_dir, "out.log")))
            self.prom_ports.append(port)
        for port in self.prom_ports:
            harness.wait_http_ok(f"http://127.0.0.1:{port}/-/ready", timeout=60)
        self.prom_port = self.prom_ports[0]

        # Both regions' series, every target in each region.
        def per_region():
            r = self.prom_query("count by (region) (calprobe_probe_success)")
            got = {x["metric"]["region"]: int(float(x["value"][1])) for x in r}
            return got if got == {"us-east": len(all_targets), "eu-west": len(all_targets)} else None
        harness.wait_until(per_region, timeout=60, interval=1, what="both regions in Prometheus")

        # Within us-east every target has exactly one series, from the shard that owns it.
        r = self.prom_query('count by (target) (calprobe_probe_success{region="us-east"})')
        self.assertEqual({x["metric"]["target"]: x["value"][1] for x in r},
                         {t: "1" for t in all_targets})
        r = self.prom_query('calprobe_probe_success{region="us-east"}')
        for x in r:
            owner = x["metric"]["agent"]
            self.assertIn(x["metric"]["target"], names[owner], x)
        # Runs happened on exactly one us-east replica per target.
        r = self.prom_query('count by (target) (calprobe_probe_runs_total{region="us-east"} > 0)')
        self.assertEqual(sorted(x["metric"]["target"] for x in r), sorted(all_targets))
        self.assertTrue(all(x["value"][1] == "1" for x in r), r)

        # The broken target fails from both regions: one alert in Alertmanager.
        def am_alerts():
            status, _, body = harness.get(f"http://127.0.0.1:{am_port}/api/v2/alerts")
            self.assertEqual(status, 200, body)
            return json.loads(body)

        def global_alert():
            alerts = [a for a in am_alerts() if a["labels"]["alertname"] == "CalprobeTargetDownAllRegions"]
            regional = [a for a in am_alerts() if a["labels"]["alertname"] == "CalprobeTargetDownOneRegion"]
            return (alerts, regional) if alerts and regional else None
        alerts, regional = harness.wait_until(global_alert, timeout=90, interval=1,
                                              what="cross-region alerts in Alertmanager")
        self.assertEqual(len(alerts), 1, alerts)
        self.assertEqual(alerts[0]["labels"]["target"], BROKEN)
        self.assertNotIn("region", alerts[0]["labels"])
        self.assertEqual(alerts[0]["status"]["state"], "active")
        # Both Prometheus replicas fire it; Alertmanager holds it once.
        for port in self.prom_ports:
            self.prom_port = port
            r = self.prom_query('ALERTS{alertname="CalprobeTargetDownAllRegions",alertstate="firing"}')
            self.assertEqual([x["metric"]["target"] for x in r], [BROKEN], port)
        self.prom_port = self.prom_ports[0]
        # Prometheus saw the broken target failing from both regions.
        r = self.prom_query(f'calprobe_probe_success{{target="{BROKEN}"}}')
        self.assertEqual(sorted(x["metric"]["region"] for x in r if x["value"][1] == "0"),
                         ["eu-west", "us-east"])
        # The regional failure is regional only.
        self.assertEqual([(a["labels"]["target"], a["labels"]["region"]) for a in regional],
                         [(REGIONAL, "eu-west")])
        # The agents' own path (core/notify alertmanager receiver): ProbeFailing
        # for the broken target fires in both regions (the owning us-east shard
        # and eu-west) and is one alert in Alertmanager (region is an annotation);
        # the always-firing Watchdog of all three agents is one alert too.
        def agent_alert():
            firing = {k: [x for x in json.loads(harness.get(a.url("/api/v1/alerts"))[2])["alerts"]
                          if x["rule"] == "ProbeFailing" and x["state"] == "firing"
                          and x["labels"].get("target") == BROKEN]
                      for k, a in agents.items()}
            # The agents' own (export-rules' Prometheus copy is per region).
            pf = [x for x in am_alerts() if x["labels"]["alertname"] == "ProbeFailing"
                  and x["labels"].get("target") == BROKEN
                  and x["generatorURL"].endswith("/api/v1/alerts")]
            owner = "us-east-0" if BROKEN in names["us-east-0"] else "us-east-1"
            return (firing, pf) if firing[owner] and firing["eu-west"] and pf else None
        firing, pf = harness.wait_until(agent_alert, timeout=60, interval=1,
                                        what="ProbeFailing from the agents in Alertmanager")
        self.assertEqual(len(pf), 1, pf)
        self.assertNotIn("region", pf[0]["labels"])
        self.assertIn(pf[0]["annotations"].get("agent_region"), ("us-east", "eu-west"))
        watchdogs = [x for x in am_alerts() if x["labels"]["alertname"] == "Watchdog"]
        self.assertEqual(len(watchdogs), 1, watchdogs)

        groups = json.loads(harness.get(f"http://127.0.0.1:{am_port}/api/v2/alerts/groups")[2])
        broken_groups = [g for g in groups if g["labels"].get("target") == BROKEN
                         and g["labels"].get("alertname") == "CalprobeTargetDownAllRegions"]
        self.assertEqual(len(broken_groups), 1)
        self.assertEqual(len(broken_groups[0]["alerts"]), 1)


if __name__ == "__main__":
    harness.main()
