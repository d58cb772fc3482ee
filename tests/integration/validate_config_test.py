"""`calprobe validate-config` on every tests/config/invalid-*.yaml exits 2 and
prints exactly the messages in the file's `# expect:` lines; shipped example
configs exit 0."""

import glob
import os
import subprocess

import harness

CONFIG_DIR = os.path.join(harness.SOURCE_DIR, "tests", "config")


def expectations(path):
    with open(path) as f:
        return [l[len("# expect: "):].rstrip("\n") for l in f if l.startswith("# expect: ")]


class ValidateConfigTest(harness.unittest.TestCase):
    def run_validate(self, path, cwd):
        env = dict(os.environ)
        env.pop("CALPROBE_TEST_SURELY_UNSET_TOKEN", None)
        return subprocess.run([harness.CALPROBE, "validate-config", path], cwd=cwd, env=env,
                              capture_output=True, text=True, timeout=30)

    def test_each_invalid_file_fails_with_its_exact_message(self):
        files = sorted(glob.glob(os.path.join(CONFIG_DIR, "invalid-*.yaml")))
        self.assertGreaterEqual(len(files), 15)
        for path in files:
            name = os.path.basename(path)
            with self.subTest(file=name):
                want = expectations(path)
                self.assertTrue(want, f"{name} has no '# expect:' line")
                r = self.run_validate(name, CONFIG_DIR)
                self.assertEqual(r.returncode, 2, r.stderr)
                self.assertEqual(r.stderr.rstrip("\n").split("\n"), want)
                self.assertEqual(r.stdout, "")

    def test_shipped_configs_are_valid(self):
        env_needed = {"CALPROBE_INGEST_TOKEN": "x" * 16}
        os.environ.update(env_needed)
        for path in sorted(glob.glob(os.path.join(harness.SOURCE_DIR, "config", "demo*.yaml"))):
            with self.subTest(file=os.path.basename(path)):
                r = self.run_validate(path, harness.SOURCE_DIR)
                self.assertEqual(r.returncode, 0, r.stderr)
                self.assertIn(": OK (", r.stdout)

    def test_missing_file_and_usage_errors_exit_2(self):
        r = self.run_validate("/nonexistent/agent.yaml", "/")
        self.assertEqual(r.returncode, 2)
        self.assertIn("/nonexistent/agent.yaml: cannot open file", r.stderr)
        r = subprocess.run([harness.CALPROBE, "validate-config"], capture_output=True, text=True)
        self.assertEqual(r.returncode, 2)
        r = subprocess.run([harness.CALPROBE, "no-such-command"], capture_output=True, text=True)
        self.assertEqual(r.returncode, 2)


if __name__ == "__main__":
    harness.main()
