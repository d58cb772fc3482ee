#!/usr/bin/python3
"""OAuth 2.0 client credentials against a real token endpoint (Python stdlib
server in this test) that issues short-lived JWTs: the agent renews the
cached token before it expires (no request ever carries an expired token);
when the endpoint starts rejecting the client secret, a credential failure
(calprobe_credential_valid 0, calprobe.credential.revoked) is reported
while the cached token still works. A static bearer JWT close to its exp
raises calprobe.credential.expiring. Planted secrets (client secret, bearer
token, issued access tokens) appear in no output: agent log, /metrics,
/api/v1/targets, the event log."""

import base64
import http.server
import json
import os
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import metric_value  # noqa: E402

CLIENT_ID = "calprobe-agent"
CLIENT_SECRET = "cs-Planted-7f3a9c2e51d84b6f"
LIFETIME = 8.0  # seconds per access token


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def make_jwt(claims):
    header = b64url(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    payload = b64url(json.dumps(claims).encode())
    return f"{header}.{payload}.{b64url(os.urandom(32))}"


def jwt_claims(token):
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


class AuthServer:
    """Token endpoint (/token) and a protected API (/api/resource, /api/partner)."""

    def __init__(self, partner_token):
        self.lock = threading.Lock()
        self.reject_secret = False
        self.issued = []      # (issued_at, exp, token)
        self.uses = []        # (time, exp of the token used, accepted)
        self.partner_token = partner_token
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def reply(self, status, obj):
                body = json.dumps(obj).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self):
                n = int(self.headers.get("Content-Length", "0"))
                form = self.rfile.read(n).decode()
                expected = "Basic " + base64.b64encode(
                    f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
                if self.path != "/token" or "grant_type=client_credentials" not in form:
                    return self.reply(400, {"error": "invalid_request"})
                with server.lock:
                    if server.reject_secret or self.headers.get("Authorization") != expected:
                        return self.reply(401, {"error": "invalid_client",
                                                "error_description": "client authentication failed"})
                    now = time.time()
                    exp = now + LIFETIME
                    token = make_jwt({"sub": CLIENT_ID, "iat": int(now), "exp": exp,
                                      "scope": "availability.read"})
                    server.issued.append((now, exp, token))
                self.reply(200, {"access_token": token, "token_type": "Bearer",
                                 "expires_in": int(LIFETIME)})

            def do_GET(self):
                auth = self.headers.get("Authorization", "")
                now = time.time()
                if self.path == "/api/partner":
                    ok = auth == "Bearer " + server.partner_token
                    return self.reply(200 if ok else 401, {"ok": ok})
                if self.path != "/api/resource" or not auth.startswith("Bearer "):
                    return self.reply(401, {"error": "no token"})
                token = auth[len("Bearer "):]
                with server.lock:
                    known = [i for i in server.issued if i[2] == token]
                    exp = known[0][1] if known else 0
                    accepted = bool(known) and now < exp
                    server.uses.append((now, exp, accepted))
                self.reply(200 if accepted else 401, {"ok": accepted})

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path):
        return f"http://127.0.0.1:{self.port}{path}"

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


class OAuthCredentialTest(harness.TempDirTestCase):
    def test_refresh_before_expiry_and_rejected_secret(self):
        partner_exp = time.time() + 48 * 3600
        partner_token = make_jwt({"sub": "partner", "exp": partner_exp})
        srv = self.track(AuthServer(partner_token))
        events_path = os.path.join(self.tmp, "events.ndjson")
        config = f"""
agent:
  region: test
  store: {self.tmp}/calprobe.db
  log_level: debug
  event_log: {events_path}
credentials:
  - name: platform
    type: oauth2_client_credentials
    token_url: {srv.url("/token")}
    client_id: {CLIENT_ID}
    client_secret: ${{OAUTH_CLIENT_SECRET}}
    scope: availability.read
    refresh_before: 3s
  - name: partner
    type: bearer
    token: ${{PARTNER_BEARER}}
    warn_before: 72h
targets:
  - name: platform-api
    probe: http
    interval: 500ms
    timeout: 400ms
    http:
      url: {srv.url("/api/resource")}
      auth: platform
  - name: partner-credential
    probe: credential
    interval: 1s
    timeout: 800ms
    credential:
      name: partner
      check_url: {srv.url("/api/partner")}
"""
        agent = self.track(harness.Agent(self.tmp, config, env={
            "OAUTH_CLIENT_SECRET": CLIENT_SECRET, "PARTNER_BEARER": partner_token}))

        # Phase 1: 2.5 token lifetimes of traffic every 500 ms.
        time.sleep(LIFETIME * 2.5)
        with srv.lock:
            issued = list(srv.issued)
            uses = list(srv.uses)
        self.assertGreaterEqual(len(issued), 3, issued)
        self.assertGreater(len(uses), 20)
        self.assertTrue(all(u[2] for u in uses),
                        f"a request carried an expired or unknown token: "
                        f"{[u for u in uses if not u[2]]}")
        for (_, prev_exp, _), (at, _, _) in zip(issued, issued[1:]):
            self.assertLess(at, prev_exp, "a token was renewed only after it had expired")
            self.assertGreater(at, prev_exp - 3.0 - 1.0, "renewed far earlier than refresh_before")
        m = agent.metrics()
        self.assertEqual(metric_value(m, "calprobe_credential_valid", credential="platform",
                                      kind="oauth2"), 1)
        gauge = metric_value(m, "calprobe_credential_expiry_timestamp_seconds",
                             credential="platform", kind="oauth2")
        self.assertAlmostEqual(gauge, issued[-1][1], delta=1.0)

        # Static bearer JWT: exp decoded (no signature check), inside 72 h.
        self.assertAlmostEqual(
            metric_value(m, "calprobe_credential_expiry_timestamp_seconds", credential="partner",
                         kind="bearer"), partner_exp, delta=0.01)
        partner = [t for t in agent.targets() if t["name"] == "partner-credential"][0]["last"]
        self.assertFalse(partner["success"])
        self.assertEqual(partner["reason"], "credential.expiring", partner)
        self.assertEqual(partner["details"]["check"], "accepted")
        self.assertAlmostEqual(partner["details"]["hours_left"], 48, delta=0.1)

        # Phase 2: the endpoint starts rejecting the client secret.
        with srv.lock:
            srv.reject_secret = True
            cached_exp = srv.issued[-1][1]
        seen_invalid = harness.wait_until(
            lambda: metric_value(agent.metrics(), "calprobe_credential_valid",
                                 credential="platform", kind="oauth2") == 0 and time.time(),
            timeout=LIFETIME + 5, interval=0.05, what="calprobe_credential_valid 0")
        self.assertLess(seen_invalid, cached_exp,
                        "the rejection was reported only after the cached token expired")
        # Meanwhile requests kept working with the cached token.
        with srv.lock:
            before_exp = [u for u in srv.uses if u[0] < cached_exp]
        self.assertTrue(all(u[2] for u in before_exp))
        # Once the cached token is gone the probe fails with a credential reason.
        def probe_failed():
            t = [t for t in agent.targets() if t["name"] == "platform-api"][0]["last"]
            return t if not t["success"] else None
        last = harness.wait_until(probe_failed, timeout=LIFETIME + 5, what="probe failure")
        self.assertEqual(last["reason"], "credential.revoked", last)
        m = agent.metrics()
        self.assertGreaterEqual(metric_value(m, "calprobe_credential_token_fetches_total",
                                             credential="platform",
                                             result="credential.revoked"), 1)

        with open(events_path) as f:
            events = [json.loads(line) for line in f if line.strip()]
        cred = [(e["name"], e["fields"]["credential"], e["fields"]["kind"]) for e in events
                if e["name"].startswith("calprobe.credential.")]
        self.assertIn(("calprobe.credential.revoked", "platform", "oauth2"), cred)
        self.assertIn(("calprobe.credential.expiring", "partner", "bearer"), cred)
        self.assertEqual(cred.count(("calprobe.credential.revoked", "platform", "oauth2")), 1)
        revoked = [e for e in events if e["name"] == "calprobe.credential.revoked"][0]
        self.assertEqual(revoked["fields"]["reason"], "credential.revoked")

        # Planted secrets never leave the process.
        with srv.lock:
            tokens = [i[2] for i in srv.issued]
        with open(events_path) as f:
            event_text = f.read()
        outputs = {
            "metrics": agent.metrics(),
            "targets": json.dumps(agent.targets()),
            "events": event_text,
        }
        agent.stop()
        with open(agent.proc.log_path, encoding="utf-8", errors="replace") as f:
            outputs["log"] = f.read()
        self.assertIn("credential", outputs["log"])  # the log did talk about them
        for where, text in outputs.items():
            for secret in [CLIENT_SECRET, partner_token] + tokens:
                self.assertNotIn(secret, text, f"a secret leaked into {where}")
            self.assertNotIn(CLIENT_SECRET[3:15], text, f"part of the secret leaked into {where}")

    def test_example_config_is_valid(self):
        env = dict(os.environ, PLATFORM_CLIENT_SECRET="x" * 8, PARTNER_TOKEN="x" * 8,
                   LEGACY_API_KEY="x" * 8, ADMIN_PASSWORD="x" * 8)
        path = os.path.join(harness.SOURCE_DIR, "config", "examples", "credentials.yaml")
        r = subprocess.run([harness.CALPROBE, "validate-config", path], env=env,
                           capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 0, r.stderr)
        # Without the secret in the environment it is an error naming the variable.
        env.pop("ADMIN_PASSWORD")
        r = subprocess.run([harness.CALPROBE, "validate-config", path], env=env,
                           capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 2)
        self.assertIn("credentials[3].password: environment variable ADMIN_PASSWORD is not set",
                      r.stderr)


if __name__ == "__main__":
    harness.main()
