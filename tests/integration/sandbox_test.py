#!/usr/bin/env python3
"""Integration test: the real `calprobe sandbox` binary over HTTP.

Holds (201/409), confirm, release, expiry with 1-2 s TTLs, feed tokens and
regeneration, every fault observable from outside, the injectable clock,
config errors with paths, and events arriving at a real `calprobe run`
agent (calprobe_events_total in its /metrics).
"""

import json
import os
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (CALPROBE, Agent, Proc, TempDirTestCase, free_port, get, http,  # noqa: E402
                     main, metric_value, wait_http_ok, wait_until)
import subprocess  # noqa: E402

FEED_TOKEN = "synthetic-feed-token-1234"
INGEST_TOKEN = "sandbox-it-ingest-token"

SANDBOX_YAML = """
sandbox:
  region: it-region
  threads: 4
  cache_ttl: 5m
events:
  url: "{events_url}"
  token: ${{CALPROBE_INGEST_TOKEN:-}}
  flush_interval: 200ms
providers:
  - id: synthetic-test
    role: synthetic
    timezone: America/New_York
    slot_minutes: 30
    granularity_minutes: 30
    lead_time_hours: 1
    feed_token: ${{SANDBOX_FEED_TOKEN}}
    rules:
      - {{weekdays: [mon, tue, wed, thu, fri], start: "09:00", end: "17:00"}}
    exceptions:
      - {{kind: blocked, start: "2027-03-16T12:00:00-04:00", end: "2027-03-16T13:00:00-04:00"}}
  - id: p-berlin
    timezone: Europe/Berlin
    rules:
      - {{weekdays: [mon, tue, wed, thu, fri], start: "08:00", end: "12:00"}}
"""

MONDAY = "2027-03-15T00:00:00-04:00"
TUESDAY = "2027-03-16T00:00:00-04:00"
WEDNESDAY = "2027-03-17T00:00:00-04:00"


class Sandbox:
    def __init__(self, workdir, events_url="", env=None):
        self.port = free_port()
        self.config_path = os.path.join(workdir, "sandbox.yaml")
        with open(self.config_path, "w") as f:
            f.write(SANDBOX_YAML.format(events_url=events_url))
        full_env = {"SANDBOX_FEED_TOKEN": FEED_TOKEN}
        full_env.update(env or {})
        self.proc = Proc([CALPROBE, "sandbox", "--config", self.config_path,
                          "--listen", f"127.0.0.1:{self.port}"],
                         os.path.join(workdir, "sandbox.log"), env=full_env)
        try:
            wait_http_ok(self.url("/healthz"), timeout=20)
        except AssertionError:
            raise AssertionError("sandbox did not start:\n" + self.proc.output())

    def url(self, path):
        return f"http://127.0.0.1:{self.port}{path}"

    def call(self, method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        status, headers, raw = http(method, self.url(path), body=data,
                                    headers={"Content-Type": "application/json"})
        try:
            parsed = json.loads(raw) if raw else None
        except ValueError:
            parsed = raw.decode("utf-8", "replace")
        return status, headers, parsed

    def feasibility(self, frm=MONDAY, to=TUESDAY, provider="synthetic-test"):
        q = f"from={frm}&to={to}".replace("+", "%2B")
        status, headers, body = self.call("GET", f"/api/providers/{provider}/feasibility?{q}")
        assert status == 200, (status, body)
        return body

    def starts(self, **kw):
        return [s["start"] for s in self.feasibility(**kw)["slots"]]

    def fault(self, name, **kw):
        body = {"fault": name}
        body.update(kw)
        status, _, out = self.call("POST", "/admin/faults", body)
        assert status == 200, out

    def clock(self, now):
        status, _, out = self.call("POST", "/admin/clock", {"now": now})
        assert status == 200, out

    def hold(self, start, end, ttl=60, provider="synthetic-test"):
        return self.call("POST", "/api/holds", {"provider_id": provider, "start": start, "end": end,
                                                "ttl_seconds": ttl, "source": "synthetic"})

    def feed(self, token=FEED_TOKEN, include_holds=False):
        q = f"include_holds={'true' if include_holds else 'false'}"
        if token is not None:
            q += f"&token={token}"
        status, headers, raw = get(self.url(f"/feeds/synthetic-test.ics?{q}"))
        return status, raw.decode("utf-8", "replace")

    def stop(self):
        return self.proc.stop()


class SandboxTest(TempDirTestCase):
    def setUp(self):
        super().setUp()
        self.sb = self.track(Sandbox(self.tmp))
        # Monday of the first US summer-time week, 06:00 local.
        self.sb.clock("2027-03-15T10:00:00Z")

    def test_feasibility_cache_and_date_header(self):
        body = self.sb.feasibility()
        self.assertEqual(len(body["slots"]), 16)
        self.assertEqual(body["slots"][0], {"start": "2027-03-15T09:00:00-04:00",
                                            "end": "2027-03-15T09:30:00-04:00"})
        self.assertEqual(body["cache"], "miss")
        self.assertFalse(body["truncated"])
        self.assertEqual(body["candidate_windows"], 16)
        self.assertEqual(self.sb.feasibility()["cache"], "hit")
        status, headers, _ = self.sb.call("GET", "/healthz")
        self.assertTrue(headers["Date"].startswith("Mon, 15 Mar 2027 10:00:"), headers["Date"])
        status, _, err = self.sb.call("GET", "/api/providers/synthetic-test/feasibility?to=" + TUESDAY)
        self.assertEqual((status, err["param"]), (400, "from"))

    def test_hold_overlap_confirm_release(self):
        status, _, h = self.sb.hold("2027-03-15T14:00:00Z", "2027-03-15T14:30:00Z")
        self.assertEqual(status, 201, h)
        self.assertIn("expires_at", h)
        self.assertNotIn("2027-03-15T10:00:00-04:00", self.sb.starts())
        status, _, dup = self.sb.hold("2027-03-15T14:15:00Z", "2027-03-15T14:45:00Z")
        self.assertEqual(status, 409)
        self.assertTrue(dup["overlap_detected"])
        status, _, b = self.sb.call("POST", f"/api/holds/{h['hold_id']}/confirm")
        self.assertEqual(status, 200, b)
        status, _, bookings = self.sb.call("GET", "/api/bookings?provider_id=synthetic-test")
        self.assertEqual([x["booking_id"] for x in bookings["bookings"]], [b["booking_id"]])
        self.assertEqual(self.sb.call("DELETE", f"/api/bookings/{b['booking_id']}")[0], 200)
        self.assertIn("2027-03-15T10:00:00-04:00", self.sb.starts())
        status, _, h2 = self.sb.hold("2027-03-15T15:00:00Z", "2027-03-15T15:30:00Z")
        self.assertEqual(self.sb.call("DELETE", f"/api/holds/{h2['hold_id']}")[0], 200)
        self.assertEqual(self.sb.call("POST", f"/api/holds/{h2['hold_id']}/confirm")[0], 410)

    def test_short_ttl_expiry(self):
        t0 = time.monotonic()
        status, _, h = self.sb.hold("2027-03-15T14:00:00Z", "2027-03-15T14:30:00Z", ttl=1)
        self.assertEqual(status, 201)
        wait_until(lambda: self.sb.call("GET", f"/api/holds/{h['hold_id']}")[2]["state"] == "expired",
                   timeout=5, interval=0.05, what="the 1 s hold to expire")
        self.assertLess(time.monotonic() - t0, 3.0)
        self.assertIn("2027-03-15T10:00:00-04:00", self.sb.starts())
        self.assertEqual(self.sb.call("POST", f"/api/holds/{h['hold_id']}/confirm")[0], 410)
        _, _, ev = self.sb.call("GET", "/admin/events?name=cal.hold.expired")
        self.assertEqual(ev["events"][-1]["fields"]["hold_id"], h["hold_id"])

    def test_feed_tokens_and_regeneration(self):
        _, _, h = self.sb.hold("2027-03-15T14:00:00Z", "2027-03-15T14:30:00Z", ttl=600)
        self.assertEqual(self.sb.feed(token=None)[0], 401)
        self.assertEqual(self.sb.feed(token="not-the-token")[0], 401)
        status, ics = self.sb.feed()
        self.assertEqual(status, 200)
        self.assertTrue(ics.startswith("BEGIN:VCALENDAR\r\n"))
        self.assertNotIn(h["hold_id"] + "@", ics)
        status, ics = self.sb.feed(include_holds=True)
        self.assertIn(f"UID:{h['hold_id']}@", ics)
        self.assertIn("STATUS:TENTATIVE\r\n", ics)
        status, _, regen = self.sb.call("POST", "/api/providers/synthetic-test/feed-token/regenerate")
        self.assertEqual(status, 200)
        self.assertEqual(self.sb.feed()[0], 401)
        self.assertEqual(self.sb.feed(token=regen["token"])[0], 200)
        log = self.sb.proc.output()
        self.assertNotIn(regen["token"], log)
        self.assertNotIn(FEED_TOKEN, log)

    def test_every_fault_is_observable(self):
        base = self.sb.starts()
        self.assertEqual(len(base), 16)
        # latency
        self.sb.fault("latency", params={"ms": 400})
        t0 = time.monotonic()
        self.sb.feasibility()
        self.assertGreaterEqual(time.monotonic() - t0, 0.4)
        self.sb.fault("ok")
        # latency sleeps in one worker thread: concurrent requests are not serialised
        self.sb.fault("latency", params={"ms": 600})
        results = []
        threads = [threading.Thread(target=lambda: results.append(self.sb.call("GET", "/api/providers")[0]))
                   for _ in range(3)]
        t0 = time.monotonic()
        for t in threads:
            t.start()
        for t in threads:
            t.join(10)
        self.assertEqual(results, [200, 200, 200])
        self.assertLess(time.monotonic() - t0, 1.5)
        self.sb.fault("ok")
        # errors: half of the requests fail
        self.sb.fault("errors", params={"rate": 0.5})
        codes = [self.sb.call("GET", "/api/providers")[0] for _ in range(10)]
        self.assertEqual(codes.count(503), 5, codes)
        self.sb.fault("ok")
        # slots_missing
        self.sb.fault("slots_missing", provider_id="synthetic-test")
        self.assertEqual(len(self.sb.starts()), 12)
        self.sb.fault("ok")
        # slots_extra_in_exception (Tuesday 12:00-13:00 is blocked)
        tue = self.sb.starts(frm=TUESDAY, to=WEDNESDAY)
        self.assertNotIn("2027-03-16T12:00:00-04:00", tue)
        self.sb.fault("slots_extra_in_exception")
        self.assertIn("2027-03-16T12:00:00-04:00", self.sb.starts(frm=TUESDAY, to=WEDNESDAY))
        self.sb.fault("ok")
        # dst_shift across the 2027-03-14 change: Friday right, Monday an hour late
        self.sb.clock("2027-03-10T12:00:00Z")
        shifted = self.sb.starts(frm="2027-03-12T00:00:00-05:00", to=TUESDAY)
        self.assertEqual(shifted[0], "2027-03-12T09:00:00-05:00")
        self.sb.fault("dst_shift")
        shifted = self.sb.starts(frm="2027-03-12T00:00:00-05:00", to=TUESDAY)
        self.assertEqual(shifted[0], "2027-03-12T09:00:00-05:00")
        self.assertIn("2027-03-15T16:30:00-04:00", shifted)
        self.assertNotIn("2027-03-15T09:00:00-04:00", shifted)
        self.sb.fault("ok")
        self.sb.clock("2027-03-15T10:00:00Z")
        # lead_time_ignored
        self.sb.clock("2027-03-15T15:10:00Z")  # 11:10 local, cutoff 12:10
        self.assertEqual(self.sb.starts()[0], "2027-03-15T12:30:00-04:00")
        self.sb.fault("lead_time_ignored")  # slots inside the lead time (not the past) come back
        self.assertEqual(self.sb.starts()[0], "2027-03-15T11:30:00-04:00")
        self.sb.fault("ok")
        self.sb.clock("2027-03-15T10:00:00Z")
        # hold_not_hidden: the held slot stays in (stale) answers
        self.sb.fault("hold_not_hidden")
        self.sb.feasibility()
        _, _, h = self.sb.hold("2027-03-15T13:00:00Z", "2027-03-15T13:30:00Z", ttl=600)
        self.assertIn("2027-03-15T09:00:00-04:00", self.sb.starts())
        self.sb.fault("ok")
        self.assertNotIn("2027-03-15T09:00:00-04:00", self.sb.starts())
        # overlap_not_rejected
        self.sb.fault("overlap_not_rejected")
        self.assertEqual(self.sb.hold("2027-03-15T13:00:00Z", "2027-03-15T13:30:00Z")[0], 201)
        self.sb.fault("ok")
        self.assertEqual(self.sb.hold("2027-03-15T13:00:00Z", "2027-03-15T13:30:00Z")[0], 409)
        # hold_never_expires
        self.sb.fault("hold_never_expires")
        _, _, h = self.sb.hold("2027-03-15T19:00:00Z", "2027-03-15T19:30:00Z", ttl=1)
        time.sleep(1.5)
        self.assertEqual(self.sb.call("GET", f"/api/holds/{h['hold_id']}")[2]["state"], "active")
        self.sb.fault("ok")
        wait_until(lambda: self.sb.call("GET", f"/api/holds/{h['hold_id']}")[2]["state"] == "expired",
                   timeout=5, what="the overdue hold to expire once the fault is cleared")
        # feed_missing_holds
        _, _, h = self.sb.hold("2027-03-15T20:00:00Z", "2027-03-15T20:30:00Z", ttl=600)
        self.assertIn(f"UID:{h['hold_id']}@", self.sb.feed(include_holds=True)[1])
        self.sb.fault("feed_missing_holds")
        self.assertNotIn(f"UID:{h['hold_id']}@", self.sb.feed(include_holds=True)[1])
        self.sb.fault("ok")
        # feed_token_not_checked
        self.sb.fault("feed_token_not_checked")
        self.assertEqual(self.sb.feed(token=None)[0], 200)
        self.sb.fault("ok")
        # token_expired
        self.sb.fault("token_expired", provider_id="synthetic-test")
        status, body = self.sb.feed()
        self.assertEqual(status, 401)
        self.assertIn("expired", body)
        self.sb.fault("ok")
        self.assertEqual(self.sb.feed()[0], 200)
        status, _, faults = self.sb.call("GET", "/admin/faults")
        self.assertEqual(faults["faults"], [])

    def test_runtime_rules_exceptions_and_busy_source(self):
        status, _, err = self.sb.call("PUT", "/api/providers/synthetic-test/rules",
                                      {"rules": [{"weekdays": ["mon"], "start": "17:00", "end": "09:00"}]})
        self.assertEqual(status, 400)
        self.assertEqual(err["param"], "rules[0].end")
        status, _, out = self.sb.call("PUT", "/api/providers/synthetic-test/rules",
                                      {"rules": [{"weekdays": ["mon"], "start": "10:00", "end": "12:00"}]})
        self.assertEqual(status, 200, out)
        self.assertEqual(len(self.sb.starts()), 4)
        status, _, ex = self.sb.call("POST", "/api/providers/synthetic-test/exceptions",
                                     {"kind": "blocked", "start": "2027-03-15T10:00:00-04:00",
                                      "end": "2027-03-15T11:00:00-04:00"})
        self.assertEqual(status, 201, ex)
        self.assertEqual(self.sb.starts(), ["2027-03-15T11:00:00-04:00", "2027-03-15T11:30:00-04:00"])
        # calendar-connect: an external busy ICS source, here another provider's feed served by the
        # sandbox itself (a booking in p-berlin's feed becomes busy time for synthetic-test).
        status, _, h = self.sb.hold("2027-03-15T15:30:00Z", "2027-03-15T16:00:00Z", ttl=600, provider="p-berlin")
        self.assertEqual(status, 201, h)
        self.assertEqual(self.sb.call("POST", f"/api/holds/{h['hold_id']}/confirm")[0], 200)
        _, _, berlin = self.sb.call("GET", "/admin/providers/p-berlin")
        src_url = self.sb.url(f"/feeds/p-berlin.ics?token={berlin['feed_token']}")
        status, _, src = self.sb.call("POST", "/api/providers/synthetic-test/busy-sources",
                                      {"id": "berlin-feed", "url": src_url, "poll_interval": "1s"})
        self.assertEqual(status, 201, src)
        wait_until(lambda: "2027-03-15T11:30:00-04:00" not in self.sb.starts(), timeout=10,
                   what="the external busy time to leave feasibility")
        _, _, ev = self.sb.call("GET", "/admin/events?name=cal.ics.poll.ok")
        self.assertEqual(ev["events"][-1]["labels"]["src_id"], "berlin-feed")
        self.assertNotIn(berlin["feed_token"], self.sb.proc.output())


class SandboxConfigTest(TempDirTestCase):
    def test_bad_config_exits_2_with_path(self):
        path = os.path.join(self.tmp, "bad.yaml")
        with open(path, "w") as f:
            f.write("providers:\n  - id: p\n    timezone: Mars/Olympus\n    rules:\n"
                    "      - {weekdays: [mon], start: \"17:00\", end: \"09:00\"}\n")
        r = subprocess.run([CALPROBE, "sandbox", "--config", path], capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn(f"{path}:3:15: providers[0].timezone: unknown time zone", r.stderr)
        shipped = os.path.join(os.environ.get("CALPROBE_SOURCE_DIR", "."), "config", "sandbox.yaml")
        r = subprocess.run([CALPROBE, "sandbox", "--config", shipped, "--check-config"],
                           capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 0, r.stderr)


class SandboxEventsTest(TempDirTestCase):
    def test_events_reach_a_real_agent(self):
        agent_port_env = {"CALPROBE_INGEST_TOKEN": INGEST_TOKEN}
        agent = self.track(Agent(self.tmp, f"""
agent:
  region: it-region
  store: {self.tmp}/agent.db
  ingest_token: ${{CALPROBE_INGEST_TOKEN}}
targets: []
""", env=agent_port_env))
        sb = self.track(Sandbox(self.tmp, events_url=agent.url("/api/v1/events"), env=agent_port_env))
        sb.feasibility(frm="2030-01-07T00:00:00-05:00", to="2030-01-08T00:00:00-05:00")
        status, _, h = sb.hold("2030-01-07T15:00:00Z", "2030-01-07T15:30:00Z", ttl=600)
        self.assertEqual(status, 201, h)
        self.assertEqual(sb.hold("2030-01-07T15:00:00Z", "2030-01-07T15:30:00Z")[0], 409)
        self.assertEqual(sb.call("POST", f"/api/holds/{h['hold_id']}/confirm")[0], 200)
        sb.feed()

        def counted():
            m = agent.metrics()
            created = metric_value(m, "calprobe_events_total", event="cal.hold.created",
                                   provider="synthetic-test")
            converted = metric_value(m, "calprobe_events_total", event="cal.hold.converted")
            generated = metric_value(m, "calprobe_events_total", event="cal.feasible.generated")
            feed = metric_value(m, "calprobe_events_total", event="cal.ics.feed.requested")
            return created == 2 and converted == 1 and generated == 1 and feed == 1
        wait_until(counted, timeout=15, what="sandbox events in the agent's calprobe_events_total")
        m = agent.metrics()
        self.assertEqual(metric_value(m, "calprobe_events_total", event="cal.hold.created",
                                      region="it-region", role="synthetic"), 2)
        _, _, stats = sb.call("GET", "/admin/stats")
        self.assertEqual(stats["events"]["dropped"], 0)
        self.assertNotIn(INGEST_TOKEN, sb.proc.output())

        # Agent down: the flush fails, the batch goes back to the bounded queue
        # and is delivered once an agent listens on the same address again.
        agent.stop()
        sb.feasibility(frm="2030-01-08T00:00:00-05:00", to="2030-01-09T00:00:00-05:00")
        wait_until(lambda: sb.call("GET", "/admin/stats")[2]["events"]["failed_flushes"] >= 1,
                   timeout=10, what="a failed flush while the agent is down")
        self.assertTrue(sb.proc.alive())
        self.assertGreaterEqual(sb.call("GET", "/admin/stats")[2]["events"]["queued"], 2)
        again = self.track(Proc([CALPROBE, "run", "--config", agent.config_path,
                                 "--listen", f"127.0.0.1:{agent.port}"],
                                os.path.join(self.tmp, "agent2.log"), env=agent_port_env))
        wait_http_ok(agent.url("/readyz"), timeout=20)
        wait_until(lambda: metric_value(agent.metrics(), "calprobe_events_total",
                                        event="cal.feasible.generated") == 1,
                   timeout=15, what="the queued events to reach the restarted agent")
        self.assertEqual(sb.call("GET", "/admin/stats")[2]["events"]["dropped"], 0)
        self.assertTrue(again.alive())


if __name__ == "__main__":
    main()
