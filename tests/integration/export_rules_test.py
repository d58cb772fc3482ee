"""`calprobe export-rules --format prometheus`: the real binary's output
passes `promtool check rules` and the hand-written promtool unit tests of
the six seed alerts (tests/promtool/seed-alerts.test.yaml); every series the
exported rules select exists on a running agent's /metrics once it ingested
one event of each kind the rules read; config and usage errors exit 2."""

import json
import os
import re
import shutil
import subprocess
from datetime import datetime, timezone

import harness

TOKEN = "export-rules-token-8812"
PROMTOOL = shutil.which("promtool") or "/usr/bin/promtool"
TEST_FILES = [os.path.join(harness.SOURCE_DIR, "tests", "promtool", name)
              for name in ("seed-alerts.test.yaml", "anomaly-alerts.test.yaml")]

# One valid event per event name the built-in rules read (fields per
# config/events.yaml). Labels cover every group_by of the built-in rules.
SAMPLE_FIELDS = {
    "cal.feasible.generated": {"slot_count": 3, "candidate_windows": 2, "duration_ms": 2500,
                               "truncated": False},
    "cal.hold.created": {"source": "search", "ttl_minutes": 15, "overlap_detected": False},
    "cal.hold.expired": {"source": "search", "ttl_minutes": 15, "overlap_detected": False},
    "cal.ics.poll.ok": {"http_status": 200, "etag_matched": False, "delta_event_count": 1},
    "cal.ics.poll.error": {"http_status": 503, "etag_matched": False, "delta_event_count": 0},
    "cal.ics.backlog": {"size": 120, "queue_size": 100},
    "cal.ics.feed.token.regenerated": {"reason": "rotation"},
    "cal.ics.feed.requested": {"include_holds": False},
    "cal.rule.updated": {"weekday_mask": 31, "timezone": "America/New_York",
                         "lead_time_hours": 2},
    "calprobe.probe.result": {"success": False, "duration_ms": 12, "recent_failures": 3,
                              "recent_runs": 5},
    "calprobe.feasibility.mismatch": {"missing": 1, "extra": 0},
    "calprobe.agent.health": {"ics_backlog": 0, "ics_backlog_limit": 16,
                              "scheduler_lateness_max_seconds": 0.01,
                              "notifications_dead_letter": 0, "targets": 0},
}
TLS = {"host": "h.example", "level": "warning", "verdict": "expiring", "days_left": 10,
       "not_after": "2027-01-01T00:00:00Z", "chain_verified": True, "usable": True}
CREDENTIAL = {"credential": "c1", "kind": "oauth", "state": "expired", "valid": False}
SAMPLE_FIELDS.update({
    "calprobe.tls.cert.expiring": TLS, "calprobe.tls.cert.invalid": TLS,
    "calprobe.tls.cert.recovered": TLS,
    "calprobe.credential.expiring": CREDENTIAL, "calprobe.credential.expired": CREDENTIAL,
    "calprobe.credential.revoked": CREDENTIAL, "calprobe.credential.restored": CREDENTIAL,
    "calprobe.scenario.run": {"scenario": "hold-to-confirm", "success": False, "duration_ms": 120},
})
SYNTHETIC = {name for name in SAMPLE_FIELDS if name.startswith("calprobe.")}

SELECTOR = re.compile(r'(calprobe_[a-z_]+)\{([^}]*)\}')
MATCHER = re.compile(r'(\w+)(=~|=)"((?:[^"\\]|\\.)*)"')


def selectors(rules_text):
    """(metric, {label: [values]}) for every selector in the exported exprs."""
    out = []
    for metric, body in SELECTOR.findall("\n".join(expressions(rules_text))):
        labels = {}
        for name, op, value in MATCHER.findall(body):
            value = value.replace("\\\\", "\\")
            if op == "=~":
                labels[name] = [re.sub(r"\\(.)", r"\1", v) for v in value.split("|")]
            else:
                labels[name] = [value]
        out.append((metric, labels))
    return out


def expressions(rules_text):
    """The lines of every `expr: |-` block."""
    out, inside = [], False
    for line in rules_text.splitlines():
        if line.strip() == "expr: |-":
            inside = True
        elif inside and line.startswith(" " * 10):
            out.append(line.strip())
        else:
            inside = False
    return out


def samples(metrics_text):
    """(name, {label: value}) of every sample line."""
    out = []
    for line in metrics_text.splitlines():
        if not line or line.startswith("#"):
            continue
        head = line.rsplit(" ", 1)[0]
        name, _, rest = head.partition("{")
        out.append((name, dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', rest))))
    return out


class ExportRulesTest(harness.TempDirTestCase):
    def export(self, *args, expect=0):
        p = subprocess.run([harness.CALPROBE, "export-rules", *args], capture_output=True,
                           text=True, timeout=60)
        self.assertEqual(p.returncode, expect, p.stdout + p.stderr)
        return p

    def promtool(self, *args):
        p = subprocess.run([PROMTOOL, *args], capture_output=True, text=True, timeout=300,
                           cwd=self.tmp)
        self.assertEqual(p.returncode, 0, f"promtool {' '.join(args)}:\n{p.stdout}{p.stderr}")
        return p.stdout

    def test_builtin_rules_pass_promtool_check_and_unit_tests(self):
        out = os.path.join(self.tmp, "calprobe-rules.yml")
        p = self.export("--format", "prometheus", "--multi-region", "2", "-o", out)
        exported = re.search(r"exported (\d+) of (\d+) alert rules", p.stderr)
        self.assertTrue(exported and exported.group(1) == exported.group(2), p.stderr)
        with open(out) as f:
            text = f.read()
        for name in ["FeasibilityLatency", "HoldExpirySpike", "IcsPollErrors", "SyncStaleness",
                     "FeedTokenLeakage", "DashboardSilence", "Watchdog", "ProbeFailing",
                     "ProbeFailingMultiRegion", "SlotVolumeAnomaly"]:
            self.assertIn(f"- alert: {name}\n", text)
        # Every alert and recording rule of the file (5 per anomaly condition).
        rules = text.count("\n      - alert: ") + text.count("\n      - record: ")
        self.assertIn(f"SUCCESS: {rules} rules found", self.promtool("check", "rules", out))
        for test_file in TEST_FILES:
            shutil.copy(test_file, self.tmp)
            self.assertIn("SUCCESS", self.promtool("test", "rules", os.path.basename(test_file)))
        # The same export on standard output.
        self.assertEqual(self.export("--format", "prometheus", "--multi-region", "2").stdout, text)

    def test_exported_series_exist_on_a_running_agent(self):
        text = self.export("--format", "prometheus", "--multi-region", "2").stdout
        agent = self.track(harness.Agent(self.tmp, f"""
agent:
  region: us-east
  store: {self.tmp}/calprobe.db
  ingest_token: {TOKEN}
"""))
        events = sorted({e for _, labels in selectors(text) for e in labels.get("event", [])})
        missing = [e for e in events if e not in SAMPLE_FIELDS]
        self.assertEqual(missing, [], "add a sample event for these to SAMPLE_FIELDS")
        now = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        lines = []
        for name in events:
            lines.append(json.dumps({
                "name": name, "time": now, "fields": SAMPLE_FIELDS[name],
                "labels": {"region": "eu-west", "provider": "p1", "src_id": "s1", "target": "t1",
                           "probe": "http",
                           "origin": "synthetic" if name in SYNTHETIC else "platform"}}))
        status, _, body = harness.http("POST", agent.url("/api/v1/events"),
                                       body="\n".join(lines).encode(),
                                       headers={"Authorization": f"Bearer {TOKEN}"})
        self.assertEqual(status, 200, body)
        self.assertEqual(json.loads(body)["rejected"], 0, body)

        metrics = agent.metrics()
        have = samples(metrics)
        checked = 0
        for metric, labels in selectors(text):
            # Every series a selector asks for: each event (and field, origin).
            combos = [{}]
            for name, values in labels.items():
                combos = [dict(c, **{name: v}) for c in combos for v in values]
            for want in combos:
                found = any(n == metric and all(l.get(k) == v for k, v in want.items())
                            for n, l in have)
                self.assertTrue(found, f"no sample {metric}{want} on /metrics:\n{metrics}")
                checked += 1
        self.assertGreater(checked, 20)
        # Names outside selectors (engine start) exist too.
        exprs = "\n".join(expressions(text))
        for metric in set(re.findall(r'(?<!")\b(calprobe_[a-z_]+)\b(?!")', exprs)):
            self.assertTrue(any(n == metric for n, _ in have), f"{metric} not on /metrics")
        # The region of the events, not the agent's, labels them.
        self.assertIn('calprobe_rule_events_total{event="cal.hold.created",region="eu-west",'
                      'origin="platform"} 1', metrics)
        # /metrics stays valid exposition with the new families.
        with open(os.path.join(self.tmp, "metrics.txt"), "w") as f:
            f.write(metrics)
        p = subprocess.run([PROMTOOL, "check", "metrics"], input=metrics, capture_output=True,
                           text=True, timeout=60)
        self.assertEqual((p.returncode, p.stdout + p.stderr), (0, ""))

    def test_config_rules_files_replace_builtins_and_untranslatable_conditions_are_named(self):
        rules = os.path.join(self.tmp, "team-rules.yaml")
        with open(rules, "w") as f:
            f.write("""rules:
  - name: HoldExpirySpike
    signal: {kind: ratio, numerator: cal.hold.expired, denominator: [cal.hold.created]}
    window: 5m
    threshold: 0.5
    min_samples: 3
    group_by: [region]
  - name: BacklogTwice
    any_of:
      - signal: {kind: count, event: cal.ics.poll.error}
        threshold: 100
      - signal: {kind: last, event: cal.ics.backlog, field: size}
        threshold: 10
        min_samples: 2
""")
        config = os.path.join(self.tmp, "agent.yaml")
        with open(config, "w") as f:
            f.write("agent: {region: us-east}\nalerts:\n  rule_files: [team-rules.yaml]\n")
        out = os.path.join(self.tmp, "calprobe-rules.yml")
        p = self.export("--format", "prometheus", "--config", config, "-o", out)
        with open(out) as f:
            text = f.read()
        self.assertIn(f"# from the alert rules of {config}.", text)
        self.assertIn("increase(calprobe_rule_events_total{event=\"cal.hold.expired\","
                      "origin=\"platform\"}[5m])) / ", text)
        self.assertEqual(text.count("- alert: HoldExpirySpike\n"), 1)
        self.assertIn("      # BacklogTwice: left out (fires on the other conditions only): "
                      "any_of[1]: min_samples 2 on a last signal (one sample per group) never "
                      "holds\n", text)
        self.assertIn("BacklogTwice: left out", p.stderr)
        n = text.count("\n      - alert: ") + text.count("\n      - record: ")
        self.assertIn(f"SUCCESS: {n} rules found", self.promtool("check", "rules", out))

        # Only the rules file.
        p = self.export("--format", "prometheus", "--rules", rules, "--no-builtin")
        self.assertEqual(p.stdout.count("- alert: "), 2, p.stdout)

    def test_usage_and_config_errors_exit_2(self):
        bad = os.path.join(self.tmp, "bad.yaml")
        with open(bad, "w") as f:
            f.write("rules:\n  - name: A\n    signal: {kind: median, event: x}\n    threshold: 1\n")
        cases = [
            (["--format", "grafana"], 'unknown format "grafana" (supported: prometheus)'),
            (["--format", "prometheus", "--no-builtin"], "--no-builtin without --rules"),
            (["--format", "prometheus", "--config", bad, "--rules", bad],
             "do not combine it with --rules"),
            (["--format", "prometheus", "--multi-region", "1"], "2 or more"),
            (["--format", "prometheus", "--rules", bad],
             'bad.yaml:3:20: rules[0].signal.kind: unknown signal kind "median"'),
            (["--format", "prometheus", "--rules", os.path.join(self.tmp, "none.yaml")],
             "none.yaml: cannot open file"),
            (["--format", "prometheus", "-o", os.path.join(self.tmp, "no", "dir", "x.yml")],
             "cannot write"),
            ([], "--format is required"),
        ]
        for args, message in cases:
            p = self.export(*args, expect=2)
            self.assertIn(message, p.stderr, args)
            self.assertEqual(p.stdout, "", args)
        self.assertFalse(os.path.exists(os.path.join(self.tmp, "no")))


if __name__ == "__main__":
    harness.main()
