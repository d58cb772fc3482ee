#!/usr/bin/env python3
"""Integration test: the shipped scenarios (scenarios/*.yaml) run by the real
`calprobe check` against the real `calprobe sandbox`.

Each passes on a healthy sandbox and fails at the right step, with a clear
message, under its matching fault; whatever happens, its cleanup leaves no
hold, booking or busy source behind.
"""

import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import TempDirTestCase, main  # noqa: E402
from scenario_harness import (JourneySandbox, REGEN_TOKEN, run_check, scenario_args,  # noqa: E402
                              write_truth)

# (fault, scenario, failing step, text the message must contain)
FAULTS = [
    ("overlap_not_rejected", "hold-to-confirm", "second-hold-rejected", "status 201, expected 409"),
    ("hold_not_hidden", "hold-to-confirm", "slot-gone-from-feasibility", "JSON /slots still has an item like"),
    ("feed_missing_holds", "hold-to-confirm", "hold-in-feed-with-holds", "the feed has no event with DTSTART"),
    ("hold_never_expires", "hold-expiry", "hold-expired", 'JSON /state = "active", expected "expired"'),
    ("feed_token_not_checked", "feed-security", "no-token-rejected", "status 200, expected 401 or 403"),
    ("token_expired", "feed-security", "right-token-valid-ics", "feed token expired"),
    ("busy_source_ignored", "calendar-connect", "busy-time-gone-from-feasibility",
     "JSON /slots still has an item like"),
]

ALL = ["hold-to-confirm", "hold-expiry", "feed-security", "calendar-connect"]


class ScenariosTest(TempDirTestCase):
    def setUp(self):
        super().setUp()
        self.sb = self.track(JourneySandbox(self.tmp))

    def assert_nothing_left(self):
        self.assertEqual(self.sb.active_holds(), [])
        self.assertEqual(self.sb.bookings(), [])
        self.assertEqual(self.sb.busy_sources(), [])

    def check(self, *names, extra=()):
        out_json = os.path.join(self.tmp, "out.json")
        rc, out, err, secs = run_check(scenario_args(self.sb, *names, extra=list(extra) + ["--json", out_json]))
        with open(out_json) as f:
            report = json.load(f)
        return rc, out, err, report

    def test_all_pass_on_a_healthy_sandbox(self):
        truth = write_truth(self.tmp, self.sb)
        rc, out, err, report = self.check(*ALL, extra=["--set", "regen_provider_id=synthetic-regen",
                                                       "--set", f"truth_file={truth}"])
        self.assertEqual(rc, 0, out + err)
        self.assertEqual(report["passed"], 4, out)
        by = {r["target"]: r for r in report["results"]}
        steps = {s["name"]: s for s in by["hold-to-confirm"]["details"]["steps"]}
        # The oracle judged the feasibility answer before the journey booked anything.
        self.assertEqual(steps["oracle-check"]["status"], "passed", out)
        self.assertEqual(steps["hold-in-feed-with-holds"]["measure"], "hold_to_feed_latency")
        self.assertEqual(steps["release-hold"]["phase"], "cleanup")
        sec = {s["name"]: s["status"] for s in by["feed-security"]["details"]["steps"]}
        self.assertEqual(sec["old-token-rejected"], "passed")
        self.assertEqual(sec["new-token-valid-ics"], "passed")
        # Feed tokens never reach the report, even the regenerated ones.
        text = json.dumps(report) + out + err
        self.assertNotIn("journey-feed-token-0001", text)
        self.assertNotIn(REGEN_TOKEN, text)
        expiry = {s["name"]: s for s in by["hold-expiry"]["details"]["steps"]}
        self.assertLess(expiry["hold-expired"]["seconds"], 2.0, "expiry lateness")
        self.assert_nothing_left()
        # The held hold was confirmed, then the booking deleted; the short one expired.
        states = sorted(h["state"] for h in self.sb.all_holds())
        self.assertEqual(states, ["converted", "expired"], self.sb.all_holds())

    def test_each_fault_fails_the_right_step(self):
        for fault, scenario, step, text in FAULTS:
            with self.subTest(fault=fault):
                self.sb.fault(fault)
                try:
                    rc, out, err, report = self.check(scenario)
                finally:
                    self.sb.clear_faults()
                self.assertEqual(rc, 1, out + err)
                r = report["results"][0]
                self.assertFalse(r["success"])
                self.assertEqual(r["reason"], "assertion", r)
                self.assertEqual(r["details"]["failed_step"], step, r["message"])
                self.assertIn(f" {step}: ", r["message"])
                self.assertIn(text, r["message"])
                # The plain progress line names the step and what was seen.
                self.assertIn(f"FAIL {scenario} (scenario,", out)
                self.assertIn(f"  main {step} failed", out)
                failed = [s for s in r["details"]["steps"] if s["status"] == "failed"]
                self.assertEqual([s["name"] for s in failed], [step])
                self.assertTrue(all(s["status"] != "failed" for s in r["details"]["steps"]
                                    if s["phase"] == "cleanup"))
                self.assert_nothing_left()

    def test_overlap_fault_second_hold_is_released_too(self):
        self.sb.fault("overlap_not_rejected")
        rc, out, err, report = self.check("hold-to-confirm")
        self.assertEqual(rc, 1)
        steps = {s["name"]: s["status"] for s in report["results"][0]["details"]["steps"]}
        self.assertEqual(steps["release-second-hold"], "passed")
        self.assertEqual(steps["release-hold"], "passed")
        self.assertEqual(len([h for h in self.sb.all_holds() if h["state"] == "released"]), 2)
        self.assert_nothing_left()


if __name__ == "__main__":
    main()
