"""SIGHUP reloads the config; a bad reload is logged and the old targets keep
running; target files are re-read when they change (file_sd) and a broken
target file keeps its previous targets."""

import signal
import time

import harness
from harness import metric_value


class ConfigReloadTest(harness.TempDirTestCase):
    def config(self, nginx, names, extra=""):
        targets = "".join(f"""
  - name: {n}
    probe: http
    interval: 500ms
    http: {{url: "{nginx.url('/health')}"}}
""" for n in names)
        return f"""
agent:
  region: us-east
  store: {self.tmp}/calprobe.db
  target_files_refresh: 1s
target_files:
  - {self.tmp}/targets.d/*.yaml
{extra}targets:{targets}"""

    def runs(self, agent, name):
        return metric_value(agent.metrics(), "calprobe_probe_runs_total", target=name) or 0

    def test_good_and_bad_sighup(self):
        nginx = self.track(harness.Nginx(self.tmp))
        import os
        os.makedirs(f"{self.tmp}/targets.d")
        agent = self.track(harness.Agent(self.tmp, self.config(nginx, ["a", "b"])))
        harness.wait_until(lambda: self.runs(agent, "a") >= 2, what="target a to run")

        # Good reload: b removed, c added.
        agent.write_config(self.config(nginx, ["a", "c"]))
        agent.proc.signal(signal.SIGHUP)
        harness.wait_until(lambda: {t["name"] for t in agent.targets()} == {"a", "c"},
                           what="targets a, c after reload")
        harness.wait_until(lambda: self.runs(agent, "c") >= 1, what="target c to run")
        self.assertIsNone(metric_value(agent.metrics(), "calprobe_probe_success", target="b"))

        # Bad reload: the old targets keep running, the failure is visible.
        agent.write_config(self.config(nginx, ["a", "c"]).replace("interval: 500ms", "interval: soon", 1))
        agent.proc.signal(signal.SIGHUP)
        harness.wait_until(lambda: metric_value(agent.metrics(), "calprobe_config_reloads_total",
                                                result="failure") == 1, what="failed reload counted")
        self.assertEqual(metric_value(agent.metrics(), "calprobe_config_last_reload_successful"), 0)
        before = self.runs(agent, "c")
        harness.wait_until(lambda: self.runs(agent, "c") >= before + 2, what="old targets to keep running")
        self.assertEqual({t["name"] for t in agent.targets()}, {"a", "c"})
        log = agent.proc.output()
        self.assertIn("config reload failed; keeping the previous config", log)
        self.assertIn("targets[0].interval: expected a duration like 30s", log)
        self.assertTrue(agent.proc.alive())

    def test_target_files(self):
        import os
        nginx = self.track(harness.Nginx(self.tmp))
        os.makedirs(f"{self.tmp}/targets.d")
        path = f"{self.tmp}/targets.d/web.yaml"

        def write(names, broken=False):
            body = "".join(f"""- name: {n}
  probe: http
  interval: 500ms
  http: {{url: "{nginx.url('/health')}"}}
""" for n in names)
            if broken:
                body += "- name: x\n  probe: http\n  http: {url: nope}\n"
            with open(path + ".tmp", "w") as f:
                f.write(body)
            os.replace(path + ".tmp", path)

        write(["f1"])
        agent = self.track(harness.Agent(self.tmp, self.config(nginx, ["main"])))
        self.assertEqual({t["name"] for t in agent.targets()}, {"main", "f1"})
        time.sleep(1.1)  # mtime granularity: make the next write observably newer
        write(["f1", "f2"])
        harness.wait_until(lambda: {t["name"] for t in agent.targets()} == {"main", "f1", "f2"},
                           timeout=10, what="f2 from the target file")
        time.sleep(1.1)
        write(["f3"], broken=True)
        harness.wait_until(lambda: metric_value(agent.metrics(), "calprobe_target_file_errors_total") == 1,
                           timeout=10, what="target file error counted")
        self.assertEqual({t["name"] for t in agent.targets()}, {"main", "f1", "f2"})
        self.assertIn("targets[1].http.url: expected an http:// or https:// URL", agent.proc.output())


if __name__ == "__main__":
    harness.main()
