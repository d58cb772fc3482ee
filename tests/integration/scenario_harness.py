"""Shared pieces of the scenario / check / feed integration tests: a real
`calprobe sandbox` with providers open around the clock (journeys pick
slots from "now", whatever the day), and `calprobe check` runs."""

import json
import os
import subprocess
import time

from harness import CALPROBE, Proc, free_port, get, http, wait_http_ok

FEED_TOKEN = "journey-feed-token-0001"
REGEN_TOKEN = "journey-regen-token-0001"

SANDBOX_YAML = """
sandbox:
  region: it-region
  threads: 4
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
    feed_token: ${{JOURNEY_FEED_TOKEN}}
    rules:
      - {{weekdays: [mon, tue, wed, thu, fri, sat, sun], start: "00:00", end: "24:00"}}
  - id: synthetic-regen
    role: synthetic
    timezone: UTC
    feed_token: ${{JOURNEY_REGEN_TOKEN}}
    rules:
      - {{weekdays: [mon, tue, wed, thu, fri, sat, sun], start: "08:00", end: "20:00"}}
"""

# The oracle's view of synthetic-test, for the feasibility_check step.
TRUTH_YAML = """
timezone: America/New_York
slot_minutes: 30
granularity_minutes: 30
lead_time_hours: 1
rules:
  - {weekdays: mon-sun, start: "00:00", end: "24:00"}
live_spans:
  - {url: "BASE/api/holds?provider_id=synthetic-test&state=active", list: /holds}
  - {url: "BASE/api/bookings?provider_id=synthetic-test", list: /bookings}
"""


class JourneySandbox:
    def __init__(self, workdir, events_url="", name="sandbox"):
        self.port = free_port()
        self.config_path = os.path.join(workdir, f"{name}.yaml")
        with open(self.config_path, "w") as f:
            f.write(SANDBOX_YAML.format(events_url=events_url))
        self.proc = Proc([CALPROBE, "sandbox", "--config", self.config_path,
                          "--listen", f"127.0.0.1:{self.port}"],
                         os.path.join(workdir, f"{name}.log"),
                         env={"JOURNEY_FEED_TOKEN": FEED_TOKEN, "JOURNEY_REGEN_TOKEN": REGEN_TOKEN})
        try:
            wait_http_ok(self.url("/healthz"), timeout=20)
        except AssertionError:
            raise AssertionError("sandbox did not start:\n" + self.proc.output())

    @property
    def base(self):
        return f"http://127.0.0.1:{self.port}"

    def url(self, path):
        return self.base + path

    def call(self, method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        status, _, raw = http(method, self.url(path), body=data,
                              headers={"Content-Type": "application/json"})
        return status, (json.loads(raw) if raw else None)

    def fault(self, name, **kw):
        body = {"fault": name}
        body.update(kw)
        status, out = self.call("POST", "/admin/faults", body)
        assert status == 200, out

    def clear_faults(self):
        self.call("DELETE", "/admin/faults")

    def active_holds(self, provider="synthetic-test"):
        status, body = self.call("GET", f"/api/holds?provider_id={provider}&state=active")
        assert status == 200, body
        return body["holds"]

    def all_holds(self, provider="synthetic-test"):
        return self.call("GET", f"/api/holds?provider_id={provider}&state=all")[1]["holds"]

    def bookings(self, provider="synthetic-test"):
        return self.call("GET", f"/api/bookings?provider_id={provider}")[1]["bookings"]

    def busy_sources(self, provider="synthetic-test"):
        return self.call("GET", f"/api/providers/{provider}")[1].get("busy_sources", [])

    def stop(self):
        return self.proc.stop()


def write_truth(workdir, sandbox):
    path = os.path.join(workdir, "truth.yaml")
    with open(path, "w") as f:
        f.write(TRUTH_YAML.replace("BASE", sandbox.base))
    return path


def run_check(args, env=None, timeout=120, cwd=None):
    """Runs `calprobe check ARGS`; returns (exit code, stdout, stderr, seconds)."""
    full_env = dict(os.environ)
    full_env.update(env or {})
    t0 = time.monotonic()
    p = subprocess.run([CALPROBE, "check"] + args, capture_output=True, text=True,
                       timeout=timeout, env=full_env, cwd=cwd)
    return p.returncode, p.stdout, p.stderr, time.monotonic() - t0


def scenario_args(sandbox, *names, extra=()):
    args = []
    for n in names:
        args += ["--scenario", n]
    args += ["--set", f"base_url={sandbox.base}", "--set", f"feed_token={FEED_TOKEN}",
             "--progress", "plain"]
    return args + list(extra)
