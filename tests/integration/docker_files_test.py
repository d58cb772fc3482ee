"""docker/: the files are checked structurally (no container engine here):
YAML and JSON parse; every file, service, host and port one file names in
another exists and agrees; Prometheus and Alertmanager configs pass promtool
and amtool; the Dockerfile's stages and Debian 12 package names are real;
every Grafana query parses (promtool check rules on a generated rule file)
and reads only metrics a running agent exports (its /metrics after events)."""

import json
import os
import re
import shutil
import subprocess

import yaml  # python3-yaml (Debian), see scripts/install-deps.sh

import harness
import panel_events

DOCKER = os.path.join(harness.SOURCE_DIR, "docker")
PROMQL_WORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "and", "or",
                "unless", "bool", "offset", "inf", "nan"}


def load_yaml(path):
    with open(path) as f:
        return yaml.safe_load(f)


def metric_names(expr):
    """Metric names a PromQL expression reads (strings, matchers, ranges and
    grouping clauses removed; identifiers before '(' are functions)."""
    e = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)
    e = re.sub(r"\{[^}]*\}", " ", e)
    e = re.sub(r"\[[^\]]*\]", " ", e)
    e = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", e)
    e = re.sub(r"\boffset\s+\S+", " ", e)
    names = set()
    for m in re.finditer(r"[A-Za-z_:][A-Za-z0-9_:]*", e):
        rest = e[m.end():].lstrip()
        word = m.group(0)
        if rest.startswith("(") or word.lower() in PROMQL_WORDS:
            continue
        names.add(word)
    return names


def grafana_to_promql(expr):
    """Grafana's variables replaced by values Prometheus accepts."""
    return (expr.replace("$__rate_interval", "5m").replace("$__interval", "1m")
            .replace("$region", ".*").replace("$origin", ".*"))


class DockerFilesTest(harness.TempDirTestCase):
    def setUp(self):
        super().setUp()
        self.compose = load_yaml(os.path.join(DOCKER, "compose.yaml"))
        self.services = self.compose["services"]

    def container_port(self, service):
        """The port a compose service listens on inside its container."""
        svc = self.services[service]
        cmd = " ".join(str(c) for c in svc.get("command", []) or [])
        m = re.search(r"--listen\s+[\d.]+:(\d+)", cmd) or re.search(r"web\.listen-address=\S*:(\d+)", cmd)
        if m:
            return int(m.group(1))
        image = svc.get("image", "")
        return {"prom/prometheus": 9090, "prom/alertmanager": 9093, "grafana/grafana": 3000}.get(
            image.split(":")[0])

    def host_port_ok(self, host_port):
        host, port = host_port.rsplit(":", 1)
        self.assertIn(host, self.services, f"{host_port}: no compose service {host}")
        self.assertEqual(self.container_port(host), int(port), f"{host_port}: {host} listens elsewhere")

    def test_compose_is_consistent(self):
        host_ports = []
        for name, svc in self.services.items():
            if "build" in svc:
                b = svc["build"]
                ctx = os.path.normpath(os.path.join(DOCKER, b["context"]))
                self.assertTrue(os.path.isfile(os.path.join(ctx, b["dockerfile"])), name)
            for v in svc.get("volumes", []) or []:
                src = v.split(":")[0]
                if src.startswith("."):
                    self.assertTrue(os.path.exists(os.path.join(DOCKER, src)), f"{name}: {src}")
                else:
                    self.assertIn(src, self.compose["volumes"], f"{name}: named volume {src}")
            for p in svc.get("ports", []) or []:
                host, container = (int(x) for x in str(p).split(":"))
                host_ports.append(host)
                self.assertEqual(self.container_port(name), container, f"{name}: port {p}")
            cmd = [str(c) for c in svc.get("command", []) or []]
            for i, c in enumerate(cmd):  # config files the image copies from config/
                if c == "--config":
                    self.assertTrue(cmd[i + 1].startswith("/etc/calprobe/"), cmd[i + 1])
                    rel = cmd[i + 1][len("/etc/calprobe/"):]
                    self.assertTrue(os.path.isfile(os.path.join(harness.SOURCE_DIR, "config", rel)), rel)
            for dep in (svc.get("depends_on") or []):
                self.assertIn(dep, self.services, f"{name} depends on {dep}")
            env = svc.get("environment") or {}
            for k, v in env.items():
                for m in re.finditer(r"http://([a-z0-9-]+:\d+)", str(v)):
                    self.host_port_ok(m.group(1))
        self.assertEqual(len(host_ports), len(set(host_ports)), "host ports collide")
        # Agents in two regions, us-east sharded 0/2 and 1/2.
        runs = [" ".join(s["command"]) for s in self.services.values()
                if s.get("command") and s["command"][0] == "run"]
        self.assertEqual(sorted(re.search(r"--region (\S+)", r).group(1) for r in runs),
                         ["eu-west", "us-east", "us-east"])
        self.assertEqual(sorted(re.search(r"--shard (\S+)", r).group(1) for r in runs if "us-east" in r),
                         ["0/2", "1/2"])
        self.assertIn("export-rules --format prometheus",
                      " ".join(self.services["export-rules"]["entrypoint"]))

    def test_prometheus_and_alertmanager_configs(self):
        prom = load_yaml(os.path.join(DOCKER, "prometheus", "prometheus.yml"))
        scraped = [t for job in prom["scrape_configs"] if job["job_name"] == "calprobe"
                   for sc in job["static_configs"] for t in sc["targets"]]
        agents = [n for n, s in self.services.items() if s.get("command") and s["command"][0] == "run"]
        self.assertEqual(sorted(t.split(":")[0] for t in scraped), sorted(agents))
        for t in scraped:
            self.host_port_ok(t)
        for am in prom["alerting"]["alertmanagers"]:
            for t in am["static_configs"][0]["targets"]:
                self.host_port_ok(t)
        # Every rule_files entry is mounted into the prometheus container.
        mounts = {v.split(":")[1]: v.split(":")[0] for v in self.services["prometheus"]["volumes"]}
        local = dict(prom)
        local_rules = []
        for rf in prom["rule_files"]:
            src = next((s for d, s in mounts.items() if rf == d or rf.startswith(d.rstrip("/") + "/")), None)
            self.assertIsNotNone(src, f"rule file {rf} not mounted")
            if src.startswith("."):
                local_rules.append(os.path.join(DOCKER, src))
        # promtool on a copy whose paths point at the repository's files.
        local["rule_files"] = local_rules
        cfg = os.path.join(self.tmp, "prometheus.yml")
        with open(cfg, "w") as f:
            yaml.safe_dump(local, f)
        r = subprocess.run(["promtool", "check", "config", cfg], capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        r = subprocess.run(["amtool", "check-config", os.path.join(DOCKER, "alertmanager", "alertmanager.yml")],
                           capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)

    def test_export_rules_output_passes_promtool(self):
        usage = subprocess.run([harness.CALPROBE, "--help"], capture_output=True, text=True)
        if "export-rules" not in usage.stdout + usage.stderr:
            self.skipTest("this calprobe has no export-rules command yet (compose.yaml runs it)")
        r = subprocess.run([harness.CALPROBE, "export-rules", "--format", "prometheus"],
                           capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        path = os.path.join(self.tmp, "calprobe-alerts.yml")
        with open(path, "w") as f:
            f.write(r.stdout)
        r = subprocess.run(["promtool", "check", "rules", path], capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)

    def test_dockerfile(self):
        with open(os.path.join(DOCKER, "Dockerfile")) as f:
            text = f.read()
        froms = re.findall(r"^FROM\s+(\S+)(?:\s+AS\s+(\S+))?", text, re.M)
        self.assertGreaterEqual(len(froms), 2, "multi-stage")
        self.assertTrue(all(img.startswith("debian:12") for img, _ in froms), froms)
        stage = froms[0][1]
        self.assertIn(f"COPY --from={stage} ", text)
        pkgs = set()
        for block in re.findall(r"apt-get install -y --no-install-recommends(.*?)(?:&&|$)", text, re.S):
            pkgs |= {p for p in re.split(r"[\s\\]+", block) if p}
        self.assertIn("libcurl4", pkgs)
        if shutil.which("apt-cache"):
            r = subprocess.run(["apt-cache", "show", "--no-all-versions", *sorted(pkgs)],
                               capture_output=True, text=True)
            found = set(re.findall(r"^Package: (\S+)", r.stdout, re.M))
            self.assertEqual(sorted(pkgs - found), [], "not Debian packages here")
        # The runtime stage has every shared library the binary links.
        r = subprocess.run(["ldd", harness.CALPROBE], capture_output=True, text=True)
        for lib in ("libcurl.so.4", "libyaml-cpp.so.0.7", "libical.so.3", "libsqlite3.so.0"):
            self.assertIn(lib, r.stdout)

    def test_grafana_queries_parse_and_use_exported_metrics(self):
        ds = load_yaml(os.path.join(DOCKER, "grafana", "provisioning", "datasources", "prometheus.yml"))
        uid = ds["datasources"][0]["uid"]
        self.host_port_ok(ds["datasources"][0]["url"].split("//")[1])
        prov = load_yaml(os.path.join(DOCKER, "grafana", "provisioning", "dashboards", "calprobe.yml"))
        mounts = {v.split(":")[1]: v.split(":")[0] for v in self.services["grafana"]["volumes"]}
        dash_mount = next(d for d, s in mounts.items() if s.endswith("calprobe-dashboard.json"))
        self.assertEqual(os.path.dirname(dash_mount), prov["providers"][0]["options"]["path"])
        with open(os.path.join(DOCKER, "grafana", "calprobe-dashboard.json")) as f:
            dash = json.load(f)
        exprs = []
        titles = [p["title"] for p in dash["panels"] if p["type"] == "row"]
        for title in ["Availability Intake", "Feasibility Engine", "Hold to Confirm",
                      "External Calendar Sync", "ICS Feed Outbound", "User Impact"]:
            self.assertIn(title, titles)
        for p in dash["panels"]:
            if p["type"] == "row":
                continue
            self.assertEqual(p["datasource"]["uid"], uid, p["title"])
            self.assertTrue(p["targets"], p["title"])
            for t in p["targets"]:
                exprs.append((p["title"], t["expr"]))
        for v in dash["templating"]["list"]:
            if v["type"] == "query":
                m = re.match(r"label_values\((\w+),\s*(\w+)\)", v["definition"])
                exprs.append(("variable " + v["name"], m.group(1)))
        rules = {"groups": [{"name": "grafana", "rules": [
            {"record": f"grafana:query_{i}", "expr": grafana_to_promql(e)} for i, (_, e) in enumerate(exprs)]}]}
        path = os.path.join(self.tmp, "grafana-queries.rules.yml")
        with open(path, "w") as f:
            yaml.safe_dump(rules, f)
        r = subprocess.run(["promtool", "check", "rules", path], capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn(f"SUCCESS: {len(exprs)} rules found", r.stdout)

        # The metric families a running agent exports, after events of every panel.
        agent = self.track(harness.Agent(self.tmp, f"""
agent:
  region: us-east
  store: {self.tmp}/agent.db
  ingest_token: docker-token
targets: []
"""))
        status, report = panel_events.post_events(agent.url(""), "docker-token",
                                                  panel_events.panel_events(), harness.http)
        self.assertEqual((status, report["rejected"]), (200, 0), report)
        families = {}
        for line in agent.metrics().splitlines():
            m = re.match(r"# TYPE (\S+) (\S+)", line)
            if m:
                families[m.group(1)] = m.group(2)
        exported = set(families)
        for name, kind in families.items():
            if kind == "histogram":
                exported |= {name + "_bucket", name + "_sum", name + "_count"}
        used = set()
        for title, e in exprs:
            names = metric_names(e)
            self.assertTrue(names, f"{title}: no metric in {e}")
            for n in names:
                self.assertIn(n, exported, f"{title}: {n} is not exported by the agent ({e})")
            used |= names
        self.assertGreaterEqual(len(used), 15)
        # The cross-region rules read exported metrics too.
        rules = load_yaml(os.path.join(DOCKER, "prometheus", "calprobe-global.rules.yml"))
        for g in rules["groups"]:
            for rule in g["rules"]:
                for n in metric_names(rule["expr"]):
                    self.assertIn(n, exported, rule["alert"])


class MetricNamesTest(harness.unittest.TestCase):
    def test_metric_names(self):
        self.assertEqual(metric_names('histogram_quantile(0.95, sum by (le) (rate(a_bucket{x="y"}[5m])))'),
                         {"a_bucket"})
        self.assertEqual(metric_names('count_values("tier", b) / on (x) c and d offset 5m'),
                         {"b", "c", "d"})


if __name__ == "__main__":
    harness.main()
