#!/usr/bin/python3
"""Auth failures of external ICS sources, classified against the real agent
and the local fault server: a source that switches from 200 to 401 becomes
credential.expired after the configured streak (not before), 403 becomes
credential.revoked, 410 on a formerly working secret URL becomes
credential.secret_url_revoked, while 503 stays http.server_error and a
source that never worked stays http.auth_required. Recovery restores the
credential. `calprobe diagnose --worked-before` words it for the provider.
The token in the secret URL appears in no output."""

import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import metric_value  # noqa: E402
from ics_fault_server import FaultServer  # noqa: E402

URL_TOKEN = "u7Q2x9PlantedFeedToken41k"
STREAK = 3


class IcsCredentialTest(harness.TempDirTestCase):
    def test_auth_streak_classification(self):
        srv = self.track(FaultServer(self.tmp))
        events_path = os.path.join(self.tmp, "events.ndjson")
        sources = {  # src_id -> URL
            "auth": srv.url("/src/auth.ics"),
            "forbid": srv.url("/src/forbid.ics"),
            "down": srv.url("/src/down.ics"),
            "secret": "${SECRET_FEED_URL}",
            "never": srv.url("/src/never.ics"),
        }
        srv.set_source("never", status=401)
        targets = []
        for sid, url in sources.items():
            targets.append(f"""  - name: feed-{sid}
    probe: ics
    interval: 1s
    timeout: 800ms
    labels: {{src_id: {sid}, provider: p1}}
    ics:
      url: {url}
      retry_tiers: [1s]
      credential_failure_streak: {STREAK}""")
        config = f"""
agent:
  region: test
  store: {self.tmp}/calprobe.db
  log_level: debug
  event_log: {events_path}
targets:
""" + "\n".join(targets) + "\n"
        secret_url = srv.url(f"/src/secret.ics?token={URL_TOKEN}")
        agent = self.track(harness.Agent(self.tmp, config, env={"SECRET_FEED_URL": secret_url}))

        def last(name):
            return [t for t in agent.targets() if t["name"] == name][0]["last"]

        harness.wait_until(lambda: all(last(f"feed-{s}") and last(f"feed-{s}")["success"]
                                       for s in ("auth", "forbid", "down", "secret")),
                           what="every source to succeed once")
        srv.set_source("auth", status=401)
        srv.set_source("forbid", status=403)
        srv.set_source("down", status=503)
        srv.set_source("secret", status=410)
        harness.wait_until(
            lambda: (last("feed-auth")["reason"] == "credential.expired"
                     and last("feed-forbid")["reason"] == "credential.revoked"
                     and last("feed-secret")["reason"] == "credential.secret_url_revoked"),
            timeout=30, what="credential classifications")
        # A few more polls of the 503 source than the streak needs.
        harness.wait_until(lambda: self._errors(events_path, "down") >= STREAK + 2, timeout=30,
                           what="503 polls")

        polls = self._polls(events_path)
        for sid, transport, classified in (("auth", "http.auth_required", "credential.expired"),
                                           ("forbid", "http.forbidden", "credential.revoked"),
                                           ("secret", "http.gone",
                                            "credential.secret_url_revoked")):
            with self.subTest(source=sid):
                codes = [p for p in polls[sid] if p]
                first = codes.index(classified)
                # Exactly streak-1 plain failures before the classification.
                self.assertEqual(codes[:first], [transport] * (STREAK - 1), codes)
                self.assertTrue(all(c == classified for c in codes[first:]), codes)
        self.assertTrue(polls["down"] and all(c == "http.server_error" for c in polls["down"] if c))
        self.assertTrue(all(c == "http.auth_required" for c in polls["never"]), polls["never"])
        # (between polls the probe may report ics.backoff; wait for a poll)
        harness.wait_until(lambda: "the credential it was shared with has expired"
                           in last("feed-auth")["message"], timeout=10, what="provider wording")

        m = agent.metrics()
        for sid, valid in (("auth", 0), ("forbid", 0), ("secret", 0)):
            self.assertEqual(metric_value(m, "calprobe_credential_valid", credential=sid,
                                          kind="ics_feed"), valid)
        self.assertIsNone(metric_value(m, "calprobe_credential_valid", credential="down"))
        self.assertIsNone(metric_value(m, "calprobe_credential_valid", credential="never"))

        # The source's owner fixes access: the credential is restored.
        srv.set_source("auth", status=200)
        harness.wait_until(lambda: metric_value(agent.metrics(), "calprobe_credential_valid",
                                                credential="auth", kind="ics_feed") == 1,
                           timeout=20, what="restored credential")
        events = self._events(events_path)
        cred = [(e["name"], e["fields"]["credential"], e["fields"].get("reason"))
                for e in events if e["name"].startswith("calprobe.credential.")]
        self.assertEqual(sorted(cred), sorted([
            ("calprobe.credential.expired", "auth", "credential.expired"),
            ("calprobe.credential.revoked", "forbid", "credential.revoked"),
            ("calprobe.credential.revoked", "secret", "credential.secret_url_revoked"),
            ("calprobe.credential.restored", "auth", None),
        ]))

        # diagnose: provider-facing wording when the feed worked before.
        diag = subprocess.run([harness.CALPROBE, "diagnose", secret_url, "--worked-before"],
                              capture_output=True, text=True, timeout=30)
        self.assertEqual(diag.returncode, 1, diag.stdout + diag.stderr)
        self.assertIn("credential.secret_url_revoked", diag.stdout)
        self.assertIn("copy the new secret address", diag.stdout)
        diag_json = subprocess.run([harness.CALPROBE, "diagnose", secret_url, "--worked-before",
                                    "--json"], capture_output=True, text=True, timeout=30)
        codes = [f["code"] for f in json.loads(diag_json.stdout)["findings"]]
        self.assertIn("credential.secret_url_revoked", codes)
        down = subprocess.run([harness.CALPROBE, "diagnose", sources["down"], "--worked-before",
                               "--json"], capture_output=True, text=True, timeout=30)
        codes = [f["code"] for f in json.loads(down.stdout)["findings"]]
        self.assertIn("http.server_error", codes)
        self.assertFalse([c for c in codes if c.startswith("credential.")], codes)
        auth = subprocess.run([harness.CALPROBE, "diagnose", sources["forbid"], "--worked-before"],
                              capture_output=True, text=True, timeout=30)
        self.assertIn("credential.revoked", auth.stdout)
        self.assertIn("turn sharing back on", auth.stdout)

        # The planted URL token appears nowhere.
        outputs = {"metrics": agent.metrics(), "targets": json.dumps(agent.targets()),
                   "diagnose": diag.stdout + diag.stderr + diag_json.stdout + diag_json.stderr}
        with open(events_path) as f:
            outputs["events"] = f.read()
        agent.stop()
        with open(agent.proc.log_path, encoding="utf-8", errors="replace") as f:
            outputs["log"] = f.read()
        self.assertIn("secret", outputs["log"])  # the log did mention the source
        for where, text in outputs.items():
            self.assertNotIn(URL_TOKEN, text, f"the feed URL token leaked into {where}")

    @staticmethod
    def _events(path):
        with open(path) as f:
            return [json.loads(line) for line in f if line.strip()]

    def _polls(self, path):
        """src_id -> error_code per poll in order ('' for a success)."""
        out = {}
        for e in self._events(path):
            if e["name"] in ("cal.ics.poll.ok", "cal.ics.poll.error"):
                out.setdefault(e["labels"]["src_id"], []).append(
                    e["fields"].get("error_code", ""))
        return out

    def _errors(self, path, sid):
        return sum(1 for c in self._polls(path).get(sid, []) if c)


if __name__ == "__main__":
    harness.main()
