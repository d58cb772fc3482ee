"""`calprobe replay`: the real binary over NDJSON files generated here, with
the built-in rules (config/alerts.yaml) and with a rules file; text and JSON
output; exit 2 on usage and config errors."""

import json
import os
import subprocess
import tempfile
from datetime import datetime, timedelta, timezone

import harness

T0 = datetime(2027, 3, 17, 15, 0, 0, tzinfo=timezone.utc)  # Wed 11:00 New York


def ts(t):
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def event(name, t, labels=None, fields=None, origin="platform"):
    l = dict(labels or {})
    l["origin"] = origin
    return json.dumps({"name": name, "time": ts(t), "labels": l, "fields": fields or {}})


def feasible(t, ms, region="us-east", origin="platform"):
    return event("cal.feasible.generated", t, {"region": region},
                 {"slot_count": 3, "candidate_windows": 2, "duration_ms": ms, "truncated": False},
                 origin)


class ReplayTest(harness.unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()

    def tearDown(self):
        self.dir.cleanup()

    def write(self, name, lines):
        path = os.path.join(self.dir.name, name)
        with open(path, "w") as f:
            f.write("\n".join(lines) + "\n")
        return path

    def replay(self, *args):
        return subprocess.run([harness.CALPROBE, "replay", *args], capture_output=True, text=True,
                              timeout=120)

    def transitions(self, *args):
        r = self.replay("--json", *args)
        self.assertEqual(r.returncode, 0, r.stderr)
        return [json.loads(l) for l in r.stdout.splitlines()]

    def test_feasibility_latency_fires_after_five_minutes_and_resolves(self):
        lines = [feasible(T0 + timedelta(seconds=10 * i), 2500 if i < 36 else 100)
                 for i in range(48)]
        # Synthetic slow requests never count.
        lines += [feasible(T0 + timedelta(seconds=10 * i), 9000, "eu", "synthetic")
                  for i in range(48)]
        got = [t for t in self.transitions(self.write("e.ndjson", lines))
               if t["rule"] == "FeasibilityLatency"]
        self.assertEqual([(t["from"], t["to"]) for t in got],
                         [("inactive", "pending"), ("pending", "firing"), ("firing", "resolved")])
        self.assertEqual(got[0]["at"], "2027-03-17T15:00:00.000Z")
        self.assertEqual(got[1]["at"], "2027-03-17T15:05:00.000Z")
        self.assertEqual(got[1]["labels"], {"region": "us-east"})
        self.assertEqual(got[1]["severity"], "page")
        self.assertEqual(got[1]["value"], 2500)

    def test_near_misses_never_fire(self):
        lines = [feasible(T0 + timedelta(seconds=10 * i), 1999) for i in range(60)]
        for i in range(100):
            lines.append(event("cal.hold.created", T0, {"region": "eu"},
                               {"source": "search", "ttl_minutes": 15, "overlap_detected": False}))
        for i in range(19):  # 0.19
            lines.append(event("cal.hold.expired", T0 + timedelta(seconds=60), {"region": "eu"},
                               {"source": "search", "ttl_minutes": 15, "overlap_detected": False}))
        for i in range(3):  # 3 regenerations
            lines.append(event("cal.ics.feed.token.regenerated", T0 + timedelta(hours=i),
                               {"provider": "p1"}))
        for i in range(7):  # keeps Dashboard Silence quiet (every 20 min)
            lines.append(event("cal.rule.updated", T0 + timedelta(minutes=20 * i),
                               {"provider": "p1"},
                               {"weekday_mask": 31, "timezone": "UTC", "lead_time_hours": 2}))
        r = self.replay(self.write("near.ndjson", lines))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout, "")

    def test_text_output_and_until(self):
        lines = [event("cal.ics.poll.ok", T0, {"src_id": "s1", "region": "eu"},
                       {"http_status": 200, "etag_matched": True, "delta_event_count": 0}),
                 feasible(T0, 100)]
        path = self.write("stale.ndjson", lines)
        r = self.replay(path, "--until", "2027-03-17T15:46:00Z")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout.splitlines(), [
            '2027-03-17T15:30:10.000Z DashboardSilence{} inactive -> firing value=1810 '
            'severity=warning',
            '2027-03-17T15:45:10.000Z SyncStaleness{src_id="s1"} inactive -> firing value=2710 '
            'severity=warning',
        ])
        self.assertIn("replayed 2 events", r.stderr)

    def test_rules_file(self):
        rules = self.write("rules.yaml", [
            "rules:",
            "  - name: ManyHolds",
            "    signal: {kind: count, event: cal.hold.created}",
            "    window: 1m",
            "    threshold: 2",
            "    group_by: [provider]",
            "    origins: [platform, synthetic]",
            "    annotations: {summary: '{{ $labels.provider }}: {{ $value }}'}",
        ])
        lines = [event("cal.hold.created", T0 + timedelta(seconds=i), {"provider": "p9"},
                       {"source": "s", "ttl_minutes": 5, "overlap_detected": False},
                       "synthetic" if i % 2 else "platform") for i in range(3)]
        got = self.transitions("--rules", rules, self.write("h.ndjson", lines),
                               "--until", "2027-03-17T15:02:00Z")
        self.assertEqual([(t["to"], t["at"], t["annotations"]["summary"]) for t in got], [
            ("firing", "2027-03-17T15:00:02.000Z", "p9: 3"),
            ("resolved", "2027-03-17T15:01:00.000Z", "p9: 2"),
        ])

    def test_usage_and_config_errors_exit_2(self):
        events = self.write("ok.ndjson", [feasible(T0, 1)])
        bad_rules = self.write("bad.yaml", ["rules:", "  - name: X", "    signal: {kind: nope}"])
        r = self.replay("--rules", bad_rules, events)
        self.assertEqual(r.returncode, 2)
        self.assertIn("bad.yaml:3:20: rules[0].signal.kind: unknown signal kind \"nope\"", r.stderr)
        bad_events = self.write("bad.ndjson", [feasible(T0, 1), "{not json"])
        r = self.replay(bad_events)
        self.assertEqual(r.returncode, 2)
        self.assertTrue(r.stderr.startswith(bad_events + ":2: "), r.stderr)
        r = self.replay(events, "--start", "yesterday")
        self.assertEqual(r.returncode, 2)
        self.assertIn("--start: expected an RFC 3339 time", r.stderr)
        self.assertEqual(self.replay().returncode, 2)
        self.assertEqual(self.replay(os.path.join(self.dir.name, "missing")).returncode, 2)


if __name__ == "__main__":
    harness.unittest.main()
