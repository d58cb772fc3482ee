#!/usr/bin/env python3
"""Integration test: `calprobe check` (the real binary) against the real
sandbox: the demo config end to end in under 60 s, JUnit XML parsed back,
the JSON report, exit codes 0/1/2, --only, --set, plain lines vs a TTY
progress line, and secrets kept out of every output."""

import json
import os
import pty
import subprocess
import sys
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import CALPROBE, SOURCE_DIR, Proc, TempDirTestCase, free_port, main, wait_http_ok  # noqa: E402
from scenario_harness import FEED_TOKEN, JourneySandbox, run_check, scenario_args  # noqa: E402

DEMO_FEED_TOKEN = "it-demo-feed-token-0001"


def read(path):
    with open(path) as f:
        return f.read()


JOURNEYS_TOKEN = "it-demo-journeys-token-2"



class CheckTest(TempDirTestCase):
    def demo_sandbox(self):
        port = free_port()
        env = {"SANDBOX_SYNTHETIC_FEED_TOKEN": DEMO_FEED_TOKEN, "SANDBOX_JOURNEYS_FEED_TOKEN": JOURNEYS_TOKEN}
        proc = self.track(Proc([CALPROBE, "sandbox", "--config", os.path.join(SOURCE_DIR, "config", "sandbox.yaml"),
                                "--listen", f"127.0.0.1:{port}"], os.path.join(self.tmp, "demo-sandbox.log"),
                               env=env))
        wait_http_ok(f"http://127.0.0.1:{port}/healthz")
        env.update({"CALPROBE_DEMO_SANDBOX": f"http://127.0.0.1:{port}", "CALPROBE_STATE_DIR": self.tmp})
        return proc, env, port

    def test_demo_config_passes_in_under_60s_with_junit_and_json(self):
        _, env, port = self.demo_sandbox()
        junit = os.path.join(self.tmp, "junit.xml")
        out_json = os.path.join(self.tmp, "check.json")
        events = os.path.join(self.tmp, "events.ndjson")
        rc, out, err, secs = run_check(
            ["--config", os.path.join(SOURCE_DIR, "config", "demo.yaml"), "--scenario", "hold-expiry",
             "--set", f"base_url=http://127.0.0.1:{port}", "--set", "provider_id=synthetic-journeys",
             "--junit", junit, "--json", out_json, "--events", events, "--progress", "plain"], env=env)
        self.assertEqual(rc, 0, out + err)
        self.assertLess(secs, 60.0)
        print(f"\ncalprobe check --config config/demo.yaml (+hold-expiry): {secs:.2f} s", file=sys.stderr)
        # Summary table: one row per target, then the totals.
        self.assertIn("TARGET", out)
        self.assertIn("8 passed, 0 failed, 0 errors in", out)
        # JUnit: testsuites > testsuite (one per scenario, one per probe type) > testcase.
        root = ET.parse(junit).getroot()
        self.assertEqual(root.tag, "testsuites")
        for attr in ("tests", "failures", "errors", "time"):
            self.assertIn(attr, root.attrib)
        suites = {s.get("name"): s for s in root.findall("testsuite")}
        self.assertEqual(set(suites), {"scenario.journey-hold-to-confirm", "scenario.journey-feed-security",
                                       "scenario.journey-calendar-connect", "scenario.hold-expiry",
                                       "probes.http", "probes.feasibility", "probes.ics", "probes.feed"})
        total = 0
        for s in suites.values():
            for attr in ("tests", "failures", "errors", "time"):
                self.assertIn(attr, s.attrib, s.get("name"))
            cases = s.findall("testcase")
            self.assertEqual(int(s.get("tests")), len(cases))
            self.assertEqual(int(s.get("failures")), 0)
            total += len(cases)
            for c in cases:
                self.assertIn("time", c.attrib)
                self.assertIsNotNone(c.get("classname"))
        self.assertEqual(int(root.get("tests")), total)
        h2c = [c.get("name") for c in suites["scenario.journey-hold-to-confirm"].findall("testcase")]
        self.assertIn("create-hold", h2c)
        self.assertIn("cleanup/release-hold", h2c)
        self.assertIsNotNone(suites["scenario.journey-hold-to-confirm"].find("testcase/skipped"))  # oracle-check
        # JSON report.
        with open(out_json) as f:
            report = json.load(f)
        self.assertTrue(report["success"])
        self.assertEqual(len(report["results"]), 8)
        # Events: synthetic hold lifecycle with the journey's labels, validated by the catalog.
        with open(events) as f:
            evs = [json.loads(line) for line in f]
        created = [e for e in evs if e["name"] == "cal.hold.created"]
        self.assertTrue(any(e["fields"]["overlap_detected"] for e in created))
        self.assertTrue(all(e["labels"]["origin"] == "synthetic" and e["fields"]["source"] == "synthetic"
                            and e["labels"]["provider"] == "synthetic-journeys" for e in created), created)
        self.assertTrue(any(e["name"] == "cal.hold.converted" for e in evs))
        self.assertTrue(any(e["name"] == "cal.hold.expired" for e in evs))
        feed = [e for e in evs if e["name"] == "cal.ics.feed.requested"]
        self.assertEqual({e["fields"]["include_holds"] for e in feed}, {True, False})
        self.assertNotIn("calprobe: event rejected", err)
        for text in (out, err, read(junit), read(out_json), read(events)):
            self.assertNotIn(DEMO_FEED_TOKEN, text)
            self.assertNotIn(JOURNEYS_TOKEN, text)

    def test_failing_run_exits_1_with_failure_elements(self):
        sb = self.track(JourneySandbox(self.tmp))
        sb.fault("token_expired")
        junit = os.path.join(self.tmp, "junit.xml")
        rc, out, err, _ = run_check(scenario_args(sb, "feed-security", "hold-expiry", extra=["--junit", junit]))
        self.assertEqual(rc, 1, out + err)
        self.assertIn("1 passed, 1 failed, 0 errors", out)
        root = ET.parse(junit).getroot()
        self.assertEqual(root.get("failures"), "1")
        suite = [s for s in root.findall("testsuite") if s.get("name") == "scenario.feed-security"][0]
        self.assertEqual(suite.get("failures"), "1")
        failed = [c for c in suite.findall("testcase") if c.find("failure") is not None]
        self.assertEqual([c.get("name") for c in failed], ["right-token-valid-ics"])
        failure = failed[0].find("failure")
        self.assertEqual(failure.get("type"), "assertion")
        self.assertIn("feed token expired", failure.get("message"))
        # The redacted request/response excerpt: the token is never printed.
        self.assertIn("token=<redacted>", failed[0].find("system-out").text)
        self.assertNotIn(FEED_TOKEN, read(junit) + out + err)
        skipped = [c.get("name") for c in suite.findall("testcase") if c.find("skipped") is not None]
        self.assertIn("regenerate-token", skipped)

    def test_unreachable_target_is_an_error_not_a_failure(self):
        port = free_port()
        junit = os.path.join(self.tmp, "junit.xml")
        rc, out, err, _ = run_check(["--scenario", "calendar-connect", "--set", f"base_url=http://127.0.0.1:{port}",
                                     "--junit", junit, "--progress", "plain"])
        self.assertEqual(rc, 1, out + err)
        self.assertIn("ERROR calendar-connect", out)
        root = ET.parse(junit).getroot()
        self.assertEqual((root.get("errors"), root.get("failures")), ("1", "0"))
        err_el = root.find("testsuite/testcase/error")
        self.assertEqual(err_el.get("type"), "http.connection_refused")

    def test_config_errors_exit_2(self):
        bad = os.path.join(self.tmp, "bad-journey.yaml")
        with open(bad, "w") as f:
            f.write("scenario: bad\nvars: {u: 'http://127.0.0.1:9'}\nsteps:\n"
                    "  - name: a\n    request: {url: '{{u}}/{{hold_idd}}'}\n    expekt: {status: 200}\n")
        rc, out, err, _ = run_check(["--scenario", bad])
        self.assertEqual(rc, 2, out + err)
        self.assertIn(f"{bad}:5:20: steps[0].request.url: undefined variable \"{{{{hold_idd}}}}\"", err)
        self.assertIn(f"{bad}:6:5: steps[0].expekt: unknown key \"expekt\"; did you mean \"expect\"?", err)
        cfg = os.path.join(self.tmp, "agent.yaml")
        with open(cfg, "w") as f:
            f.write("targets:\n  - name: j\n    probe: scenario\n    scenario: {name: hold-to-confirm, "
                    "vars: {provider: x}}\n")
        rc, out, err, _ = run_check(["--config", cfg])
        self.assertEqual(rc, 2)
        self.assertIn(f"{cfg}:4:56: targets[0].scenario.vars.provider: scenario \"hold-to-confirm\" declares "
                      "no variable \"provider\"", err)
        rc, out, err, _ = run_check(["--scenario", "hold-expiry", "--only", "nope"])
        self.assertEqual(rc, 2)
        self.assertIn('--only: no target named "nope" (targets: hold-expiry)', err)
        rc, out, err, _ = run_check(["--scenario", "hold-expiry", "--set", "novalue"])
        self.assertEqual(rc, 2)
        rc, out, err, _ = run_check([])
        self.assertEqual(rc, 2)
        rc, out, err, _ = run_check(["--bogus-flag"])
        self.assertEqual(rc, 2)

    def test_only_and_set_in_a_config(self):
        sb = self.track(JourneySandbox(self.tmp))
        cfg = os.path.join(self.tmp, "agent.yaml")
        with open(cfg, "w") as f:
            f.write(f"""
targets:
  - name: health
    probe: http
    http: {{url: "${{base_url}}/healthz"}}
  - name: feed
    probe: feed
    feed: {{url: "${{base_url}}/feeds/synthetic-test.ics", token: "{FEED_TOKEN}"}}
  - name: connect
    probe: scenario
    scenario: {{name: calendar-connect}}
""")
        rc, out, err, _ = run_check(["--config", cfg, "--set", f"base_url={sb.base}", "--only", "health",
                                     "--only", "feed", "--progress", "plain"])
        self.assertEqual(rc, 0, out + err)
        self.assertIn("PASS health (http,", out)
        self.assertIn("PASS feed (feed,", out)
        self.assertNotIn("connect", out)
        self.assertIn("2 passed, 0 failed, 0 errors", out)

    def test_tty_progress_line(self):
        sb = self.track(JourneySandbox(self.tmp))
        master, slave = pty.openpty()
        args = scenario_args(sb, "feed-security", "calendar-connect")
        args.remove("plain")
        args.remove("--progress")
        p = subprocess.Popen([CALPROBE, "check"] + args, stdout=slave, stderr=slave, stdin=slave)
        os.close(slave)
        chunks = []
        while True:
            try:
                data = os.read(master, 4096)
            except OSError:
                break
            if not data:
                break
            chunks.append(data)
        p.wait(timeout=60)
        os.close(master)
        text = b"".join(chunks).decode("utf-8", "replace")
        self.assertEqual(p.returncode, 0, text)
        self.assertIn("\r\x1b[K[0/2]", text)  # the live line, rewritten in place
        self.assertIn("running: ", text)
        self.assertIn("\x1b[32mPASS\x1b[0m feed-security", text)
        self.assertNotIn("  main no-token-rejected", text)  # step lines only in plain mode
        self.assertIn("2 passed, 0 failed, 0 errors", text)


if __name__ == "__main__":
    main()
