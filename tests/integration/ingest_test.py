"""POST /api/v1/events: NDJSON with a bad line returns 200 with a per-line
error report, good events are counted in calprobe_events_total, no token is
401, and oversized bodies get 413."""

import datetime
import json

import harness
from harness import metric_value

TOKEN = "ingest-secret-0123456789"


def now(offset_s=0):
    t = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=offset_s)
    return t.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


class IngestTest(harness.TempDirTestCase):
    def setUp(self):
        super().setUp()
        cfg = f"""
agent:
  region: us-east
  store: {self.tmp}/calprobe.db
  ingest_token: ${{CALPROBE_INGEST_TOKEN}}
  ingest_max_body: 64KiB
  max_event_lateness: 10m
  max_event_future_skew: 2m
"""
        self.agent = self.track(harness.Agent(self.tmp, cfg, env={"CALPROBE_INGEST_TOKEN": TOKEN}))

    def post(self, body, token=TOKEN):
        headers = {"Content-Type": "application/x-ndjson"}
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        return harness.http("POST", self.agent.url("/api/v1/events"), body=body.encode(), headers=headers)

    def test_good_and_bad_lines(self):
        lines = [
            {"name": "cal.hold.created", "time": now(), "labels": {"provider": "p1", "region": "us-east"},
             "fields": {"source": "search", "ttl_minutes": 15, "overlap_detected": False, "hold_id": "h1"}},
            "this is not json",
            {"name": "cal.hold.created", "time": now(), "labels": {"provider": "p1"},
             "fields": {"source": "search", "ttl_minutes": "15", "overlap_detected": False}},
            {"name": "cal.nope", "time": now(), "fields": {}},
            {"name": "cal.feasible.generated", "time": now(), "labels": {"provider": "p2", "role": "host", "region": "us-east"},
             "fields": {"slot_count": 12, "candidate_windows": 3, "duration_ms": 140.5, "truncated": False}},
            {"name": "cal.feasible.generated", "time": now(-3600), "labels": {"provider": "p2"},
             "fields": {"slot_count": 1, "candidate_windows": 1, "duration_ms": 1, "truncated": False}},
            {"name": "cal.feasible.generated", "time": now(3600), "labels": {"provider": "p2"},
             "fields": {"slot_count": 1, "candidate_windows": 1, "duration_ms": 1, "truncated": False}},
            {"name": "cal.hold.created", "time": now(), "labels": {"tenant": "x"},
             "fields": {"source": "s", "ttl_minutes": 1, "overlap_detected": True}},
            {"name": "cal.hold.expired", "time": now(), "labels": {"provider": "p1"},
             "fields": {"source": "search", "ttl_minutes": 15, "overlap_detected": False, "colour": "red"}},
        ]
        body = "\n".join(l if isinstance(l, str) else json.dumps(l) for l in lines) + "\n\n"
        status, _, resp = self.post(body)
        self.assertEqual(status, 200, resp)
        report = json.loads(resp)
        self.assertEqual(report["accepted"], 2)
        self.assertEqual(report["rejected"], 7)
        errors = {e["line"]: e["error"] for e in report["errors"]}
        self.assertEqual(sorted(errors), [2, 3, 4, 6, 7, 8, 9])
        self.assertIn("not valid JSON", errors[2])
        self.assertIn('field "ttl_minutes" of cal.hold.created must be number', errors[3])
        self.assertIn('unknown event "cal.nope"', errors[4])
        self.assertIn("lateness limit", errors[6])
        self.assertIn("ahead of the agent's clock", errors[7])
        self.assertIn('unknown label "tenant"', errors[8])
        self.assertIn('unknown field "colour"', errors[9])

        text = self.agent.metrics()
        self.assertEqual(metric_value(text, "calprobe_events_total", event="cal.hold.created",
                                      provider="p1", region="us-east", origin="platform"), 1)
        self.assertEqual(metric_value(text, "calprobe_events_total", event="cal.feasible.generated",
                                      provider="p2", role="host"), 1)
        self.assertEqual(metric_value(text, "calprobe_events_rejected_total", reason="too_late"), 1)
        self.assertEqual(metric_value(text, "calprobe_events_rejected_total", reason="unknown_event"), 1)

    def test_auth(self):
        ev = json.dumps({"name": "cal.feasible.cache.hit", "time": now()}) + "\n"
        self.assertEqual(self.post(ev, token=None)[0], 401)
        status, headers, body = self.post(ev, token="wrong")
        self.assertEqual(status, 401)
        self.assertNotIn(TOKEN, body.decode())
        self.assertEqual(self.post(ev)[0], 200)
        self.assertNotIn(TOKEN, self.agent.metrics())
        self.assertNotIn(TOKEN, self.agent.proc.output())

    def test_body_limit(self):
        ev = json.dumps({"name": "cal.feasible.cache.hit", "time": now()}) + "\n"
        status, _, body = self.post(ev * 2000)  # ~130 KB > 64 KiB
        self.assertEqual(status, 413)
        self.assertIn(b"ingest_max_body", body)


if __name__ == "__main__":
    harness.main()
