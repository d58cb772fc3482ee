#!/usr/bin/python3
"""`calprobe diagnose`: table-driven over the ICS fault server's endpoints and
the corpus files, asserting diagnosis codes and exit codes."""

import json
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import CALPROBE, SOURCE_DIR, TempDirTestCase, free_port  # noqa: E402
from ics_fault_server import FaultServer  # noqa: E402

CORPUS = os.path.join(SOURCE_DIR, "tests", "data", "ics")


def diagnose(*args, timeout=60):
    p = subprocess.run([CALPROBE, "diagnose", *args], capture_output=True, timeout=timeout)
    return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")


def diagnose_json(*args):
    rc, out, err = diagnose("--json", *args)
    try:
        return rc, json.loads(out)
    except json.JSONDecodeError:
        raise AssertionError(f"not JSON (rc={rc}): {out[:500]} {err[:500]}")


# (path, codes that must be reported, exit code)
URL_CASES = [
    ("/feeds/clean_google.ics", [], 0),
    ("/feeds/clean_outlook.ics", [], 0),
    ("/feeds/clean_google.ics?gzip=1", [], 0),
    ("/feeds/clean_google.ics?validators=none", ["http.no_conditional_get"], 0),
    ("/feeds/clean_google.ics?validators=ignore", ["http.no_conditional_get"], 0),
    ("/feeds/clean_google.ics?ct=application/octet-stream", ["http.content_type"], 0),
    ("/status/401", ["http.auth_required"], 1),
    ("/status/403", ["http.forbidden"], 1),
    ("/status/404", ["http.not_found"], 1),
    ("/status/410", ["http.gone"], 1),
    ("/status/429?retry_after=120", ["http.rate_limited"], 1),
    ("/status/500", ["http.server_error"], 1),
    ("/status/503?retry_after=5", ["http.server_error"], 1),
    ("/redirect/3", [], 0),
    ("/redirect/9", ["http.redirect_limit"], 1),
    ("/loop", ["http.redirect_limit"], 1),
    ("/html-login", ["content.not_ics", "http.content_type"], 1),
    ("/gzip-bomb", ["http.decompression_limit"], 1),
    ("/endless", ["http.too_large"], 1),
    ("/close", ["http.connection_closed"], 1),
    ("/truncated", ["http.truncated_transfer"], 1),
    ("/feeds/truncated.ics", ["content.truncated"], 1),
    ("/feeds/tz_windows_tzid.ics", ["tz.windows_tzid"], 1),
]

# corpus file -> codes that must be reported (subset) and exit code
FILE_CASES = [
    ("clean_google.ics", [], 0),
    ("clean_apple.ics", [], 0),
    ("empty_calendar.ics", ["sync.empty_calendar"], 0),
    ("bom.ics", ["content.bom"], 0),
    ("line_endings_lf.ics", ["content.line_endings"], 0),
    ("long_line.ics", ["content.long_line"], 0),
    ("not_ics_html.ics", ["content.not_ics"], 1),
    ("not_ics_json.ics", ["content.not_ics"], 1),
    ("empty_body.ics", ["content.empty_body"], 1),
    ("invalid_utf8.ics", ["content.invalid_utf8"], 1),
    ("bad_folding.ics", ["content.bad_folding"], 1),
    ("truncated.ics", ["content.truncated"], 1),
    ("structure.ics", ["content.structure"], 1),
    ("duplicate_uid.ics", ["event.duplicate_uid"], 1),
    ("orphan_override.ics", ["event.orphan_override"], None),
    ("tz_unknown_tzid.ics", ["tz.unknown_tzid"], 1),
    ("tz_windows_tzid.ics", ["tz.windows_tzid"], 1),
    ("rrule_invalid.ics", ["rrule.invalid"], 1),
    ("exdate_type_mismatch.ics", ["exdate.type_mismatch"], None),
]


class DiagnoseTest(TempDirTestCase):
    def setUp(self):
        super().setUp()
        self.server = self.track(FaultServer(self.tmp, data=CORPUS))

    def test_url_table(self):
        for path, codes, rc_want in URL_CASES:
            with self.subTest(path=path):
                rc, j = diagnose_json("--timeout", "10s", "--max-body", "4MiB", "--max-redirects", "5",
                                      self.server.url(path))
                found = set(j["finding_counts"])
                for c in codes:
                    self.assertIn(c, found, f"{path}: {sorted(found)}")
                errors = [f["code"] for f in j["findings"] if f["severity"] == "error"]
                self.assertEqual(rc, rc_want, f"{path}: errors={errors}")
                self.assertEqual(j["summary"]["errors"] > 0, rc == 1)
                self.assertIn("http", j)

    def test_conditional_get_is_reported(self):
        rc, j = diagnose_json(self.server.url("/feeds/clean_google.ics"))
        self.assertTrue(j["conditional_get_honoured"])
        self.assertTrue(j["http"]["etag"])
        self.assertEqual(j["second_request"]["status"], 304)
        rc, j = diagnose_json(self.server.url("/feeds/clean_google.ics?validators=ignore"))
        self.assertFalse(j["conditional_get_honoured"])

    def test_slow_body(self):
        rc, j = diagnose_json("--timeout", "2s", self.server.url("/slow"))
        self.assertEqual(rc, 0)  # a warning in docs/diagnosis-codes.md
        self.assertIn("http.slow_body", j["finding_counts"])

    def test_connection_refused(self):
        rc, j = diagnose_json("--timeout", "5s", f"http://127.0.0.1:{free_port()}/x.ics")
        self.assertEqual(rc, 1)
        self.assertIn("http.connection_refused", j["finding_counts"])

    def test_twice_reports_delta(self):
        self.server.set_source("d1", events=5, version=1)
        # The second poll sees the same content: 304 and delta 0.
        rc, j = diagnose_json("--twice", self.server.url("/src/d1.ics"))
        self.assertEqual(rc, 0, j)
        self.assertEqual(j["delta"], {"added": 0, "removed": 0, "changed": 0})
        self.assertTrue(j["conditional_get_honoured"])

    def test_text_and_markdown(self):
        rc, out, _ = diagnose(self.server.url("/status/404"))
        self.assertEqual(rc, 1)
        self.assertIn("http.not_found", out)
        self.assertIn("fix:", out)
        self.assertNotIn("\033[", out)  # not a TTY: no colour
        rc, out, _ = diagnose("--markdown", os.path.join(CORPUS, "tz_windows_tzid.ics"))
        self.assertEqual(rc, 1)
        self.assertIn("| severity | line | code |", out)
        self.assertIn("`tz.windows_tzid`", out)

    def test_file_table(self):
        for name, codes, rc_want in FILE_CASES:
            with self.subTest(file=name):
                rc, j = diagnose_json(os.path.join(CORPUS, name))
                found = set(j["finding_counts"])
                for c in codes:
                    self.assertIn(c, found, f"{name}: {sorted(found)}")
                if rc_want is not None:
                    self.assertEqual(rc, rc_want, f"{name}: {j['findings'][:3]}")
                for f in j["findings"]:
                    self.assertTrue(f["fix"] or f["severity"] == "info", f)

    def test_stdin_and_usage_errors(self):
        with open(os.path.join(CORPUS, "clean_google.ics"), "rb") as f:
            p = subprocess.run([CALPROBE, "diagnose", "--json", "-"], stdin=f, capture_output=True,
                               timeout=30)
        self.assertEqual(p.returncode, 0)
        self.assertEqual(json.loads(p.stdout)["source"], "(stdin)")
        self.assertEqual(diagnose()[0], 2)
        self.assertEqual(diagnose(os.path.join(self.tmp, "missing.ics"))[0], 2)
        self.assertEqual(diagnose("--json", "--markdown", "x.ics")[0], 2)
        self.assertEqual(diagnose("--timeout", "soon", self.server.url("/x"))[0], 2)
        self.assertEqual(diagnose("--twice", os.path.join(CORPUS, "clean_google.ics"))[0], 2)

    def test_https_to_http_redirect(self):
        openssl = shutil.which("openssl")
        if not openssl:
            self.skipTest("openssl CLI not installed")
        cert, key = os.path.join(self.tmp, "cert.pem"), os.path.join(self.tmp, "key.pem")
        subprocess.run([openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                        "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                        "-keyout", key, "-out", cert], check=True, capture_output=True, timeout=60)
        tls = self.track(FaultServer(self.tmp, cert, key, data=CORPUS))
        rc, j = diagnose_json("--ca-file", cert, tls.url("/feeds/clean_google.ics"))
        self.assertEqual(rc, 0, j["findings"])
        self.assertTrue(j["http"]["certificate_expiry"])
        target = self.server.url("/feeds/clean_google.ics")
        rc, j = diagnose_json("--ca-file", cert, tls.url("/redirect-to?url=" + target))
        self.assertEqual(rc, 1)
        self.assertIn("http.redirect_insecure", j["finding_counts"])
        rc, j = diagnose_json(tls.url("/feeds/clean_google.ics"))  # untrusted self-signed
        self.assertIn("http.tls_error", j["finding_counts"])


if __name__ == "__main__":
    harness.main()
