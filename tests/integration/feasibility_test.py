"""The feasibility probe against the real sandbox and a GraphQL-shaped API.

* healthy sandbox -> zero mismatches over many cycles, on the agent's clock
  and on the sandbox's injected clock (now_from: date_header) with windows
  across DST changes both ways (New York spring/fall, Berlin fall);
* each slot fault -> detected with the right class by the first run that
  starts after the fault is set; `errors` -> status failure; `latency` ->
  duration_ms above latency_budget;
* a second API with another shape (single POST endpoint, GraphQL-style
  names, written here, computing its slots from a fixed truth) checked by
  the same probe with only config changes.
Traffic stays on 127.0.0.1; processes are PID-tracked; ports from the kernel.
"""

import datetime as dt
import http.server
import json
import os
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import Agent, Proc, TempDirTestCase, free_port, get, metric_value, wait_until  # noqa: E402

# --- busy calendar shared by the sandbox and the probe ------------------------

BUSY_ICS = "\r\n".join([
    "BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//calprobe//feasibility test//EN",
    # Weekly Thursday 12:00-13:00 New York: inside every window.
    "BEGIN:VEVENT", "UID:weekly-lunch@test", "DTSTAMP:20260101T000000Z",
    "DTSTART;TZID=America/New_York:20260101T120000",
    "DTEND;TZID=America/New_York:20260101T130000",
    "RRULE:FREQ=WEEKLY;BYDAY=TH", "END:VEVENT",
    # One-off Wednesday 2026-03-11 10:00-11:00 EDT (after the spring change).
    "BEGIN:VEVENT", "UID:dentist@test", "DTSTAMP:20260101T000000Z",
    "DTSTART:20260311T140000Z", "DTEND:20260311T150000Z", "END:VEVENT",
    "END:VCALENDAR", ""])


class _Quiet(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):  # noqa: D401 - keep test output clean
        pass


class LocalServer:
    """A ThreadingHTTPServer on 127.0.0.1 (port from the kernel), stopped by the test."""

    def __init__(self, handler_cls):
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler_cls)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path):
        return f"http://127.0.0.1:{self.port}{path}"

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


class IcsHandler(_Quiet):
    def do_GET(self):  # noqa: N802
        body = BUSY_ICS.encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/calendar")
        self.send_header("ETag", '"busy-v1"')
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


# --- the sandbox ---------------------------------------------------------------

NY_RULES = '[{weekdays: [mon, tue, wed, thu, fri], start: "09:00", end: "17:00"}]'
BERLIN_RULES = '[{weekdays: [mon, tue, wed, thu, fri, sat], start: "08:00", end: "12:00"}]'
BLOCKED = '{start: "2026-03-10T13:00:00-04:00", end: "2026-03-10T15:00:00-04:00"}'
HOLD = ("2026-03-06T15:00:00Z", "2026-03-06T15:30:00Z")  # Friday 10:00 EST


class Sandbox:
    def __init__(self, workdir, ics_url):
        self.port = free_port()
        cfg = os.path.join(workdir, "sandbox.yaml")
        with open(cfg, "w") as f:
            f.write(f"""
sandbox:
  listen: 127.0.0.1:{self.port}
providers:
  - id: synth-ny
    timezone: America/New_York
    slot_minutes: 30
    granularity_minutes: 30
    lead_time_hours: 2
    rules: {NY_RULES}
    exceptions: [{{kind: blocked, start: "2026-03-10T13:00:00-04:00", end: "2026-03-10T15:00:00-04:00"}}]
    busy_sources: [{{id: cal1, url: "{ics_url}", poll_interval: 1m}}]
  - id: synth-berlin
    timezone: Europe/Berlin
    slot_minutes: 60
    granularity_minutes: 30
    lead_time_hours: 0
    rules: {BERLIN_RULES}
""")
        self.proc = Proc([harness.CALPROBE, "sandbox", "--config", cfg],
                         os.path.join(workdir, "sandbox.log"))
        try:
            wait_until(lambda: self.busy_loaded(), timeout=20, what="sandbox up with its busy ICS")
        except AssertionError:
            raise AssertionError("sandbox did not start:\n" + self.proc.output())

    def url(self, path):
        return f"http://127.0.0.1:{self.port}{path}"

    def busy_loaded(self):
        status, _, body = get(self.url("/api/providers/synth-ny"), timeout=2)
        return status == 200 and all(s["loaded"] for s in json.loads(body)["busy_sources"])

    def post(self, path, obj):
        status, _, body = harness.http("POST", self.url(path), body=json.dumps(obj).encode(),
                               headers={"Content-Type": "application/json"})
        assert status in (200, 201), (path, status, body)
        return json.loads(body) if body else None

    def set_clock(self, now, freeze=False):
        return self.post("/admin/clock", {"now": now, "freeze": freeze})

    def fault(self, name, **params):
        body = {"fault": name}
        if name != "ok":
            body["provider_id"] = "synth-ny"
        if params:
            body["params"] = params
        return self.post("/admin/faults", body)

    def stop(self):
        self.proc.stop()


def feasibility_target(name, sandbox, provider, truth, interval="1s", timeout=None, **opts):
    extra = "".join(f"      {k}: {v}\n" for k, v in opts.items())
    return f"""
  - name: {name}
    probe: feasibility
    interval: {interval}
{f'    timeout: {timeout}' + chr(10) if timeout else ''}    labels: {{provider: {provider}}}
    feasibility:
      provider_id: {provider}
      request:
        url: "{sandbox.url('/api/providers/{{provider_id}}/feasibility')}?from={{{{from}}}}&to={{{{to}}}}&duration_minutes={{{{duration_minutes}}}}"
      response: {{slots: /slots, start: /start, end: /end, truncated: /truncated, candidate_windows: /candidate_windows}}
      max_slots: 500
{extra}      truth:
{truth}"""


def ny_truth(ics_url, holds=""):
    return f"""        timezone: America/New_York
        slot_minutes: 30
        granularity_minutes: 30
        lead_time_hours: 2
        rules: {NY_RULES}
        blocked: [{BLOCKED}]
        busy_ics: {{url: "{ics_url}", refresh: 1m}}
{holds}"""


BERLIN_TRUTH = f"""        timezone: Europe/Berlin
        slot_minutes: 60
        granularity_minutes: 30
        rules: {BERLIN_RULES}
"""


def agent_config(workdir, targets):
    return f"""
agent:
  store: {os.path.join(workdir, 'agent.db')}
  log_level: debug
targets:{targets}
"""


class FeasibilityTestBase(TempDirTestCase):
    def setUp(self):
        super().setUp()
        self.ics = self.track(LocalServer(IcsHandler))

    def last(self, agent, name):
        for t in agent.targets():
            if t["name"] == name:
                return t.get("last") or {}
        raise AssertionError(f"no target {name}")

    def runs(self, agent, name):
        return metric_value(agent.metrics(), "calprobe_probe_runs_total", target=name) or 0

    def failures(self, agent, name):
        total = 0
        for line in agent.metrics().splitlines():
            if line.startswith("calprobe_probe_failures_total{") and f'target="{name}"' in line:
                total += float(line.rsplit(" ", 1)[1])
        return total

    def wait_runs(self, agent, name, n, timeout=60):
        start = self.runs(agent, name)
        wait_until(lambda: self.runs(agent, name) >= start + n, timeout=timeout,
                   what=f"{n} more runs of {name}")


class HealthySandboxTest(FeasibilityTestBase):
    def test_zero_mismatches_on_the_agent_clock(self):
        sb = self.track(Sandbox(self.tmp, self.ics.url("/busy.ics")))
        targets = (feasibility_target("ny-now", sb, "synth-ny", ny_truth(self.ics.url("/busy.ics")),
                                      window="14d", window_start="now")
                   + feasibility_target("berlin-next", sb, "synth-berlin", BERLIN_TRUTH,
                                        window="7d", window_start="next_day", time_format="local"))
        agent = self.track(Agent(self.tmp, agent_config(self.tmp, targets)))
        for name in ("ny-now", "berlin-next"):
            self.wait_runs(agent, name, 10)
            self.assertEqual(self.failures(agent, name), 0, self.last(agent, name))
            d = self.last(agent, name)["details"]
            self.assertGreater(d["expected"], 20, d)
            self.assertEqual((d["missing"], d["extra"]), (0, 0), d)
            self.assertEqual(d["now_source"], "agent")

    def test_zero_mismatches_across_dst_changes_on_the_sandbox_clock(self):
        sb = self.track(Sandbox(self.tmp, self.ics.url("/busy.ics")))
        opts = dict(window="7d", window_start="next_day", now_from="date_header")
        targets = (feasibility_target("ny", sb, "synth-ny", ny_truth(self.ics.url("/busy.ics")), **opts)
                   + feasibility_target("berlin", sb, "synth-berlin", BERLIN_TRUTH, **opts))
        agent = self.track(Agent(self.tmp, agent_config(self.tmp, targets)))
        phases = [
            # (sandbox now, target whose window crosses a change, expected window)
            ("2026-03-06T15:00:00Z", "ny", ("2026-03-07T05:00:00Z", "2026-03-14T04:00:00Z")),
            ("2026-10-23T10:00:00Z", "berlin", ("2026-10-23T22:00:00Z", "2026-10-30T23:00:00Z")),
            ("2026-10-30T15:00:00Z", "ny", ("2026-10-31T04:00:00Z", "2026-11-07T05:00:00Z")),
        ]
        for now, crossing, window in phases:
            sb.set_clock(now)
            self.wait_runs(agent, "ny", 2)
            self.wait_runs(agent, "berlin", 2)
            before = {n: self.failures(agent, n) for n in ("ny", "berlin")}
            self.wait_runs(agent, crossing, 8)
            for name in ("ny", "berlin"):
                self.assertEqual(self.failures(agent, name), before[name],
                                 (now, name, self.last(agent, name)))
            d = self.last(agent, crossing)["details"]
            self.assertEqual((d["window"]["from"], d["window"]["to"]), window, d)
            self.assertEqual(d["now_source"], "date_header")
            self.assertGreater(d["expected"], 10, d)
            self.assertEqual((d["missing"], d["extra"]), (0, 0), d)


class FaultMatrixTest(FeasibilityTestBase):
    """Sandbox frozen at Thursday 2026-03-05 09:00 EST; the 7-day window crosses 2026-03-08."""

    def test_each_fault_is_detected_with_its_class(self):
        sb = self.track(Sandbox(self.tmp, self.ics.url("/busy.ics")))
        sb.set_clock("2026-03-05T14:00:00Z", freeze=True)
        sb.post("/api/holds", {"provider_id": "synth-ny", "start": HOLD[0], "end": HOLD[1],
                               "ttl_seconds": 86400})
        holds = f'        holds: [{{start: "{HOLD[0]}", end: "{HOLD[1]}"}}]\n'
        targets = feasibility_target("ny", sb, "synth-ny", ny_truth(self.ics.url("/busy.ics"), holds),
                                     interval="2s", timeout="1900ms", window="7d",
                                     window_start="now", now_from="date_header",
                                     latency_budget="1s")
        agent = self.track(Agent(self.tmp, agent_config(self.tmp, targets)))
        self.wait_runs(agent, "ny", 2)
        healthy = self.last(agent, "ny")
        self.assertTrue(healthy["success"], healthy)
        self.assertEqual(healthy["details"]["expected"], healthy["details"]["slot_count"])

        def counts(o):
            return o["details"].get("counts", {}) if o["reason"] == "mismatch" else None

        matrix = [
            ("slots_missing", {},
             lambda o: o["reason"] == "mismatch" and o["details"]["missing"] > 0 and o["details"]["extra"] == 0),
            # 13:00-15:00 EDT on Tuesday: four 30-minute slots.
            ("slots_extra_in_exception", {}, lambda o: counts(o) == {"inside_exception": 4}),
            ("dst_shift", {}, lambda o: (counts(o) or {}).get("dst_shift", 0) >= 2),
            # Frozen at 09:00 EST with a 2 h lead time: 09:00-10:30 come back.
            ("lead_time_ignored", {}, lambda o: counts(o) == {"lead_time": 4}),
            ("hold_not_hidden", {}, lambda o: counts(o) == {"held": 1}),
            ("errors", {"status": 503}, lambda o: o["reason"] == "assertion" and o["http_status"] == 503),
            ("latency", {"ms": 1300},
             lambda o: o["reason"] == "latency" and o["details"]["duration_ms"] > 1000),
        ]
        results = {}
        for name, params, detected in matrix:
            sb.fault(name, **params)
            # The first run that starts after the fault was set must see it:
            # at most one run was already in flight.
            self.wait_runs(agent, "ny", 2, timeout=30)
            out = self.last(agent, "ny")
            results[name] = out
            print(f"{name}: reason={out['reason']} message={out['message']!r}", file=sys.stderr)
            self.assertTrue(detected(out), (name, out))
            if out["reason"] == "mismatch":
                self.assertTrue(out["details"]["wrong_slots"], out)
                self.assertLessEqual(len(out["details"]["wrong_slots"]), 10)
            sb.fault("ok")
            wait_until(lambda: self.last(agent, "ny").get("success"), timeout=30,
                       what=f"recovery after {name}")
        cls = {r["class"] for r in results["dst_shift"]["details"]["wrong_slots"]}
        self.assertIn("dst_shift", cls)
        held = [r for r in results["hold_not_hidden"]["details"]["wrong_slots"] if r["class"] == "held"]
        self.assertEqual(held[0]["start"], HOLD[0])


class LiveHoldsTest(FeasibilityTestBase):
    """Holds and bookings made on the provider while the probe runs (as scenario probes do)."""

    def test_live_spans_keep_the_probe_right_while_the_provider_is_booked(self):
        sb = self.track(Sandbox(self.tmp, self.ics.url("/busy.ics")))
        live = (f'        live_spans:\n'
                f'          - {{url: "{sb.url("/api/holds?provider_id=synth-ny&state=active")}", list: /holds}}\n'
                f'          - {{url: "{sb.url("/api/bookings?provider_id=synth-ny")}", list: /bookings}}\n')
        ics = self.ics.url("/busy.ics")
        opts = dict(window="7d", window_start="next_day")
        targets = (feasibility_target("live", sb, "synth-ny", ny_truth(ics, live), **opts)
                   + feasibility_target("static", sb, "synth-ny", ny_truth(ics), **opts))
        agent = self.track(Agent(self.tmp, agent_config(self.tmp, targets)))
        self.wait_runs(agent, "live", 2)
        window = self.last(agent, "live")["details"]["window"]
        status, _, body = get(sb.url(f"/api/providers/synth-ny/feasibility?from={window['from']}&to={window['to']}"))
        self.assertEqual(status, 200, body)
        slot = json.loads(body)["slots"][3]
        hold = sb.post("/api/holds", {"provider_id": "synth-ny", "start": slot["start"],
                                      "end": slot["end"], "ttl_seconds": 3600})
        self.wait_runs(agent, "live", 4)
        sb.post(f"/api/holds/{hold['hold_id']}/confirm", {})
        self.wait_runs(agent, "live", 4)
        self.assertEqual(self.failures(agent, "live"), 0, self.last(agent, "live"))
        d = self.last(agent, "live")["details"]
        self.assertEqual((d["missing"], d["extra"], d["live_spans"]), (0, 0, 1), d)
        # Without live_spans the booked slot is reported missing.
        out = self.last(agent, "static")
        self.assertEqual((out["reason"], out["details"]["missing"]), ("mismatch", 1), out)


class BadTruthConfigTest(TempDirTestCase):
    def test_validate_config_names_the_path_of_bad_truth(self):
        cfg = os.path.join(self.tmp, "bad.yaml")
        with open(cfg, "w") as f:
            f.write("""targets:
  - name: ok
    probe: feasibility
    feasibility:
      provider_id: p1
      request: {url: "http://127.0.0.1:1/f?from={{from}}&to={{to}}"}
      truth:
        timezone: America/New_Yrok
        rules:
          - {weekdays: mon-fri, start: "09:00", end: "17:00"}
          - {weekdays: sat, start: "17:00", end: "09:00"}
          - {weekdays: fri, start: "16:00", end: "18:00"}
""")
        import subprocess
        r = subprocess.run([harness.CALPROBE, "validate-config", cfg], capture_output=True,
                           text=True, timeout=30)
        out = r.stdout + r.stderr
        self.assertEqual(r.returncode, 2, out)
        self.assertIn(f"{cfg}:8:19: targets[0].feasibility.truth.timezone: unknown time zone "
                      '"America/New_Yrok"', out)
        self.assertIn(f"{cfg}:11:50: targets[0].feasibility.truth.rules[1].end: end 09:00 is not "
                      "after start 17:00", out)
        self.assertIn(f"{cfg}:12:13: targets[0].feasibility.truth.rules[2]: overlaps "
                      "targets[0].feasibility.truth.rules[0] on Friday", out)


# --- a second API: one POST endpoint, GraphQL-style names ----------------------

GQL_TOKEN = "gql-secret-token-123"
TOKYO = dt.timezone(dt.timedelta(hours=9))  # fixed truth: Asia/Tokyo has no DST


def tokyo_slots(start, end, drop_first=False, add_saturday=False):
    """Mon-Fri 10:00-16:00 Tokyo, 60-minute slots, inside [start, end)."""
    out = []
    day = start.astimezone(TOKYO).replace(hour=0, minute=0, second=0, microsecond=0)
    while day < end:
        if day.weekday() < 5 or (add_saturday and day.weekday() == 5):
            for h in range(10, 16):
                s = day.replace(hour=h)
                if s >= start and s + dt.timedelta(hours=1) <= end:
                    out.append(s)
        day += dt.timedelta(days=1)
    return out[1:] if drop_first else out


class GraphQlHandler(_Quiet):
    mode = "healthy"

    def do_POST(self):  # noqa: N802
        if self.path != "/graphql" or self.headers.get("Authorization") != f"Bearer {GQL_TOKEN}":
            return self._reply(401, {"errors": [{"message": "unauthenticated"}]})
        req = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        v = req["variables"]
        if "availability" not in req["query"] or v["minutes"] != 60:
            return self._reply(200, {"errors": [{"message": "bad query"}], "data": None})
        start = dt.datetime.fromisoformat(v["range"]["start"])
        end = dt.datetime.fromisoformat(v["range"]["end"])
        slots = tokyo_slots(start, end, drop_first=self.mode == "missing",
                            add_saturday=self.mode == "weekend")
        items = [{"begins": s.isoformat(), "ends": (s + dt.timedelta(hours=1)).isoformat()} for s in slots]
        self._reply(200, {"data": {"provider": {"id": v["provider"], "availability": {
            "items": items, "isTruncated": False, "windowsConsidered": len(items)}}}})

    def _reply(self, status, obj):
        body = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class GraphQlShapeTest(FeasibilityTestBase):
    def test_same_probe_other_shape(self):
        api = self.track(LocalServer(GraphQlHandler))
        target = f"""
  - name: gql
    probe: feasibility
    interval: 1s
    feasibility:
      provider_id: tokyo-1
      request:
        method: POST
        url: "{api.url('/graphql')}"
        headers: {{Authorization: "Bearer ${{GQL_TOKEN}}"}}
        body:
          query: "query($provider: ID!, $range: Range!, $minutes: Int!) {{ provider(id: $provider) {{ availability(range: $range, minutes: $minutes) {{ items {{ begins ends }} isTruncated windowsConsidered }} }} }}"
          variables:
            provider: "{{{{provider_id}}}}"
            range: {{start: "{{{{from}}}}", end: "{{{{to}}}}"}}
            minutes: "{{{{duration_minutes}}}}"
      response:
        errors: /errors
        slots: /data/provider/availability/items
        start: /begins
        end: /ends
        truncated: /data/provider/availability/isTruncated
        candidate_windows: /data/provider/availability/windowsConsidered
      time_format: local
      window: 10d
      window_start: next_day
      truth:
        timezone: Asia/Tokyo
        slot_minutes: 60
        rules: [{{weekdays: mon-fri, start: "10:00", end: "16:00"}}]
"""
        agent = self.track(Agent(self.tmp, agent_config(self.tmp, target), env={"GQL_TOKEN": GQL_TOKEN}))
        self.wait_runs(agent, "gql", 5)
        self.assertEqual(self.failures(agent, "gql"), 0, self.last(agent, "gql"))
        d = self.last(agent, "gql")["details"]
        self.assertGreater(d["expected"], 30, d)
        self.assertEqual(d["candidate_windows"], d["slot_count"])

        GraphQlHandler.mode = "weekend"
        try:
            self.wait_runs(agent, "gql", 2)
            out = self.last(agent, "gql")
            self.assertEqual(out["reason"], "mismatch", out)
            self.assertEqual(out["details"]["counts"], {"outside_rules": out["details"]["extra"]}, out)
            GraphQlHandler.mode = "missing"
            self.wait_runs(agent, "gql", 2)
            out = self.last(agent, "gql")
            self.assertEqual((out["reason"], out["details"]["missing"], out["details"]["extra"]),
                             ("mismatch", 1, 0), out)
        finally:
            GraphQlHandler.mode = "healthy"
        # The token is a secret: never shown in the targets API.
        self.assertNotIn(GQL_TOKEN, json.dumps(agent.targets()))


if __name__ == "__main__":
    harness.main()
