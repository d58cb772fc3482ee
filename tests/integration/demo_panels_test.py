"""The demo's pieces as scripts/demo.sh starts them (config/demo.yaml agent,
config/sandbox.yaml sandbox with simulated traffic), on ports the kernel
picks: every one of the six dashboard panels has data within a minute, and
the dashboard page is served. Also checks that demo.sh turns the traffic on
and prints the dashboard URL."""

import json
import os
import re
import time

import harness


class DemoPanelsTest(harness.TempDirTestCase):
    def test_panels_fill_within_a_minute(self):
        with open(os.path.join(harness.SOURCE_DIR, "scripts", "demo.sh")) as f:
            demo = f.read()
        self.assertIn('SANDBOX_TRAFFIC_INTERVAL="${SANDBOX_TRAFFIC_INTERVAL:-1s}"', demo)
        self.assertRegex(demo, r"calprobe dashboard:\s+\$dashboard")

        sandbox_port = harness.free_port()
        env = {"CALPROBE_STATE_DIR": self.tmp, "CALPROBE_INGEST_TOKEN": "demo-test-token",
               "SANDBOX_SYNTHETIC_FEED_TOKEN": "demo-feed-token-0001",
               "CALPROBE_DEMO_SANDBOX": f"http://127.0.0.1:{sandbox_port}",
               "SANDBOX_TRAFFIC_INTERVAL": "1s"}
        os.environ.update(env)  # the agent's config reads them at start
        with open(os.path.join(harness.SOURCE_DIR, "config", "demo.yaml")) as f:
            config = f.read()
        # Relative rule/target files in demo.yaml resolve next to the copy.
        config_dir = os.path.join(harness.SOURCE_DIR, "config")
        for name in os.listdir(config_dir):
            src = os.path.join(config_dir, name)
            if os.path.isfile(src) and not os.path.exists(os.path.join(self.tmp, name)):
                os.symlink(src, os.path.join(self.tmp, name))
        agent = self.track(harness.Agent(self.tmp, config, name="demo-agent", env=env))
        start = time.monotonic()
        self.track(harness.Proc(
            [harness.CALPROBE, "sandbox", "--config", os.path.join(config_dir, "sandbox.yaml"),
             "--listen", f"127.0.0.1:{sandbox_port}"],
            os.path.join(self.tmp, "sandbox.log"),
            env=dict(env, CALPROBE_EVENTS_URL=agent.url("/api/v1/events"))))

        def filled():
            status, _, body = harness.get(agent.url("/api/v1/panels?range=15m"))
            if status != 200:
                return None
            panels = json.loads(body)["panels"]
            missing = [p["id"] for p in panels if not p["has_data"]]
            return panels if not missing else None

        panels = harness.wait_until(filled, timeout=60, interval=1, what="all six panels have data")
        elapsed = time.monotonic() - start
        print(f"all six panels had data after {elapsed:.1f} s")
        by_id = {p["id"]: p["values"] for p in panels}
        self.assertGreater(by_id["user_impact"]["slots_surfaced"], 0)
        self.assertGreater(by_id["hold_to_confirm"]["created"], 0)
        self.assertGreater(by_id["feasibility_engine"]["invocations"], 0)
        status, _, page = harness.get(agent.url("/"))
        self.assertEqual(status, 200)
        self.assertIn(b'id="panels"', page)
        self.assertTrue(re.search(rb"region <b>[a-z-]+</b>", page))


if __name__ == "__main__":
    harness.main()
