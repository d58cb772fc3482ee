#!/usr/bin/env python3
"""Integration test: scenario targets in the real agent (`calprobe run`)
against the real sandbox: per-step metrics and synthetic events; a journey
that times out still runs its cleanup; a journey whose agent is killed with
SIGKILL is cleaned up when the agent starts again (no holds left)."""

import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Agent, TempDirTestCase, main, metric_value, wait_until  # noqa: E402
from scenario_harness import FEED_TOKEN, JourneySandbox  # noqa: E402

INGEST_TOKEN = "scenario-it-ingest-token"

# Holds a slot for an hour, then waits far longer than any timeout here.
LONG_HOLD = """
scenario: long-hold
vars: {base_url: "http://127.0.0.1:9", provider_id: synthetic-test}
steps:
  - name: pick-slot
    request: {url: "{{base_url}}/api/providers/{{provider_id}}/feasibility?from={{now+2h}}&to={{now+3d}}"}
    capture: {slot_start: /slots/5/start, slot_end: /slots/5/end}
  - name: hold
    request:
      method: POST
      url: "{{base_url}}/api/holds"
      body: {provider_id: "{{provider_id}}", start: "{{slot_start}}", end: "{{slot_end}}", ttl_seconds: 3600}
    expect: {status: 201}
    capture: {hold_id: /hold_id}
  - name: linger
    wait: 10m
cleanup:
  - name: release
    request: {method: DELETE, url: "{{base_url}}/api/holds/{{hold_id}}"}
    expect: {status: [200, 404, 410]}
"""


def log_of(agent):
    with open(agent.proc.log_path, "rb") as f:
        return f.read().decode("utf-8", "replace")


def agent_config(store, targets):
    return f"""
agent:
  store: {store}
  ingest_token: {INGEST_TOKEN}
targets:
{targets}
"""


class ScenarioAgentTest(TempDirTestCase):
    def setUp(self):
        super().setUp()
        self.sb = self.track(JourneySandbox(self.tmp))
        self.journey = os.path.join(self.tmp, "long-hold.yaml")
        with open(self.journey, "w") as f:
            f.write(LONG_HOLD)
        self.store = os.path.join(self.tmp, "agent.db")

    def long_hold_target(self, timeout, interval):
        return f"""
  - name: long-hold
    probe: scenario
    interval: {interval}
    timeout: {timeout}
    scenario:
      file: {self.journey}
      vars: {{base_url: "{self.sb.base}"}}
"""

    def test_journeys_emit_step_metrics_and_synthetic_events(self):
        targets = f"""
  - name: h2c
    probe: scenario
    interval: 3s
    timeout: 2500ms
    labels: {{provider: synthetic-test, role: synthetic}}
    scenario:
      name: hold-to-confirm
      vars: {{base_url: "{self.sb.base}", feed_token: "{FEED_TOKEN}"}}
  - name: outbound-feed
    probe: feed
    interval: 2s
    labels: {{provider: synthetic-test}}
    feed: {{url: "{self.sb.base}/feeds/synthetic-test.ics", token: "{FEED_TOKEN}"}}
"""
        agent = self.track(Agent(self.tmp, agent_config(self.store, targets)))

        def two_runs():
            m = agent.metrics()
            v = metric_value(m, "calprobe_scenario_runs_total", target="h2c", result="success")
            return v is not None and v >= 2 and m
        m = wait_until(two_runs, timeout=30, what="two successful hold-to-confirm journeys")
        self.assertEqual(metric_value(m, "calprobe_scenario_step_success", target="h2c",
                                      step="second-hold-rejected", phase="main"), 1)
        self.assertIsNotNone(metric_value(m, "calprobe_scenario_step_duration_seconds", target="h2c",
                                          step="confirm"))
        self.assertIsNotNone(metric_value(m, "calprobe_scenario_measure_seconds", target="h2c",
                                          measure="hold_to_feed_latency"))
        self.assertEqual(metric_value(m, "calprobe_probe_success", target="h2c"), 1)
        self.assertEqual(metric_value(m, "calprobe_probe_success", target="outbound-feed"), 1)
        # The journey's hold lifecycle events are synthetic, never platform.
        self.assertGreaterEqual(metric_value(m, "calprobe_events_total", event="cal.hold.created",
                                             provider="synthetic-test", origin="synthetic"), 2)
        self.assertIsNone(metric_value(m, "calprobe_events_total", event="cal.hold.created",
                                       origin="platform"))
        self.assertGreaterEqual(metric_value(m, "calprobe_events_total", event="cal.ics.feed.requested",
                                             origin="synthetic"), 2)
        self.assertIn('"second-hold-rejected"', json.dumps(agent.targets()))  # step reports in details
        self.assertNotIn(FEED_TOKEN, json.dumps(agent.targets()) + agent.metrics())
        agent.stop()
        self.assertNotIn(FEED_TOKEN, log_of(agent))
        wait_until(lambda: self.sb.active_holds() == [] and self.sb.bookings() == [], timeout=10,
                   what="no holds or bookings left")

    def test_timed_out_journey_runs_its_cleanup(self):
        agent = self.track(Agent(self.tmp, agent_config(self.store, self.long_hold_target("3s", "8s"))))
        wait_until(lambda: self.sb.active_holds(), timeout=20, what="the journey's hold")
        t0 = time.monotonic()
        wait_until(lambda: self.sb.active_holds() == [], timeout=10, what="the hold released by cleanup")
        self.assertLess(time.monotonic() - t0, 5)
        released = [h for h in self.sb.all_holds() if h["state"] == "released"]
        self.assertGreaterEqual(len(released), 1, self.sb.all_holds())

        def failed():
            return metric_value(agent.metrics(), "calprobe_probe_failures_total", target="long-hold",
                                reason="scenario.timeout")
        wait_until(failed, timeout=10, what="the run recorded as scenario.timeout")
        self.assertEqual(metric_value(agent.metrics(), "calprobe_scenario_step_success", target="long-hold",
                                      step="release", phase="cleanup"), 1)

    def test_sigkilled_journey_is_cleaned_up_at_next_start(self):
        config = agent_config(self.store, self.long_hold_target("25s", "30s"))
        agent = self.track(Agent(self.tmp, config, name="first"))
        held = wait_until(lambda: self.sb.active_holds(), timeout=60, what="the journey's hold")
        time.sleep(0.3)  # the journal is written right after the hold step
        agent.proc.kill9()
        time.sleep(0.5)
        self.assertEqual([h["hold_id"] for h in self.sb.active_holds()], [held[0]["hold_id"]],
                         "the hold outlives the killed agent")
        # Next start, with no scenario targets at all: the journal is replayed at start.
        again = self.track(Agent(self.tmp, agent_config(self.store, """
  - name: health
    probe: http
    interval: 60s
    http: {url: "%s/healthz"}
""" % self.sb.base), name="second"))
        wait_until(lambda: self.sb.active_holds() == [], timeout=10, what="the orphaned hold released")
        self.assertEqual(self.sb.all_holds()[0]["state"], "released")
        wait_until(lambda: "cleaned up after an interrupted journey" in log_of(again), timeout=5,
                   what="the replay logged")
        again.stop()
        # The journal is empty afterwards: a third start sends nothing.
        third = self.track(Agent(self.tmp, agent_config(self.store, "  []"), name="third"))
        time.sleep(0.5)
        third.stop()
        self.assertNotIn("interrupted journey", log_of(third))


if __name__ == "__main__":
    main()
