"""A local capture server for notification tests: records every POST and
validates PagerDuty Events API v2, Slack incoming-webhook, Alertmanager v2
and Alertmanager-webhook bodies against the documented shapes. Paths decide
the kind and the answer:

  /pd...     PagerDuty   -> 202 {"status":"success",...}
  /slack...  Slack       -> 200 "ok"
  /am...     Alertmanager v2 (POST .../api/v2/alerts) -> 200
  /hook...   Alertmanager-webhook JSON -> 200
  /bad...    -> 400 (permanent failure)
  /limited.. -> 429 Retry-After: 1 for the first request, then like /pd
  /slackslow.. Slack, recorded on arrival, answered after 2 s (a crash
             while a request is in flight)

It can be stopped and started again on the same port (receiver down, then
up). Stdlib only; binds 127.0.0.1.
"""

import json
import re
import threading
import time
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PD_KEYS = {"routing_key", "event_action", "dedup_key", "payload", "images", "links", "client",
           "client_url"}
PD_PAYLOAD_KEYS = {"summary", "source", "severity", "timestamp", "component", "group", "class",
                   "custom_details"}
RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")


def _parse_time(s):
    assert isinstance(s, str) and RFC3339.match(s), f"not an RFC 3339 time: {s!r}"
    return datetime.fromisoformat(s.replace("Z", "+00:00"))


def validate_pagerduty(b):
    """Raises AssertionError unless b is a valid Events API v2 event."""
    assert isinstance(b, dict), "PagerDuty body must be an object"
    unknown = set(b) - PD_KEYS
    assert not unknown, f"unknown PagerDuty keys {unknown}"
    assert isinstance(b.get("routing_key"), str) and b["routing_key"], "routing_key missing"
    assert b.get("event_action") in ("trigger", "acknowledge", "resolve"), b.get("event_action")
    key = b.get("dedup_key")
    assert isinstance(key, str) and 0 < len(key) <= 255, f"bad dedup_key {key!r}"
    if b["event_action"] == "trigger":
        p = b.get("payload")
        assert isinstance(p, dict), "trigger needs a payload"
        assert not set(p) - PD_PAYLOAD_KEYS, f"unknown payload keys {set(p) - PD_PAYLOAD_KEYS}"
        assert isinstance(p.get("summary"), str) and 0 < len(p["summary"]) <= 1024, "payload.summary"
        assert isinstance(p.get("source"), str) and p["source"], "payload.source"
        assert p.get("severity") in ("critical", "error", "warning", "info"), p.get("severity")
        if "timestamp" in p:
            _parse_time(p["timestamp"])
        if "custom_details" in p:
            assert isinstance(p["custom_details"], dict), "payload.custom_details"
        for link in b.get("links", []):
            assert isinstance(link.get("href"), str) and link["href"].startswith("http"), link
            assert isinstance(link.get("text", ""), str), link


def validate_slack(b):
    """Raises AssertionError unless b is a valid incoming-webhook message."""
    assert isinstance(b, dict), "Slack body must be an object"
    assert isinstance(b.get("text"), str) and b["text"], "text (the notification line) missing"
    if "channel" in b:
        assert isinstance(b["channel"], str) and b["channel"][:1] in "#@C", b["channel"]
    blocks = b.get("blocks", [])
    assert isinstance(blocks, list) and len(blocks) <= 50, "blocks"
    for blk in blocks:
        assert blk.get("type") in ("section", "context", "divider", "header", "actions"), blk
        if blk["type"] == "section":
            assert "text" in blk or "fields" in blk, blk
            if "text" in blk:
                assert blk["text"]["type"] in ("mrkdwn", "plain_text"), blk
                assert 0 < len(blk["text"]["text"]) <= 3000, blk
            for f in blk.get("fields", []):
                assert f["type"] in ("mrkdwn", "plain_text") and 0 < len(f["text"]) <= 2000, f
            assert len(blk.get("fields", [])) <= 10, blk
        if blk["type"] == "context":
            assert 0 < len(blk["elements"]) <= 10, blk


def validate_alertmanager(b):
    assert isinstance(b, list) and b, "Alertmanager v2 body must be a non-empty array"
    for a in b:
        assert set(a) <= {"labels", "annotations", "startsAt", "endsAt", "generatorURL"}, set(a)
        assert isinstance(a["labels"], dict) and a["labels"].get("alertname"), a
        assert all(isinstance(v, str) for v in a["labels"].values()), a
        assert all(isinstance(v, str) for v in a.get("annotations", {}).values()), a
        _parse_time(a["startsAt"])
        _parse_time(a["endsAt"])


def validate_webhook(b):
    assert b.get("version") == "4", b.get("version")
    for k in ("groupKey", "status", "receiver", "groupLabels", "commonLabels", "commonAnnotations",
              "externalURL", "alerts", "truncatedAlerts"):
        assert k in b, f"webhook body lacks {k}"
    assert b["status"] in ("firing", "resolved")
    for a in b["alerts"]:
        for k in ("status", "labels", "annotations", "startsAt", "endsAt", "generatorURL", "fingerprint"):
            assert k in a, f"webhook alert lacks {k}"


class CaptureServer:
    def __init__(self, port):
        self.port = port
        self.lock = threading.Lock()
        self.records = []  # dicts: kind, path, body, headers, answered
        self.errors = []   # validation failures (kind, message, body)
        self.limited_seen = 0
        self.server = None
        self.thread = None

    def url(self, path):
        return f"http://127.0.0.1:{self.port}{path}"

    def start(self):
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                pass

            def do_POST(self):
                raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                path = self.path
                status, reply = 200, b"ok"
                try:
                    body = json.loads(raw)
                except ValueError:
                    body = None
                kind = path.strip("/").split("/")[0]
                if kind == "limited":
                    with outer.lock:
                        outer.limited_seen += 1
                        first = outer.limited_seen == 1
                    if first:
                        self.send_response(429)
                        self.send_header("Retry-After", "1")
                        self.send_header("Content-Length", "0")
                        self.end_headers()
                        with outer.lock:
                            outer.records.append({"kind": "limited-429", "path": path, "body": body})
                        return
                    kind = "pd"
                slow = kind == "slackslow"
                if slow:
                    kind = "slack"
                check = {"pd": validate_pagerduty, "slack": validate_slack, "am": validate_alertmanager,
                         "hook": validate_webhook}.get(kind)
                if kind == "bad":
                    status, reply = 400, b'{"status":"invalid event","message":"Event object is invalid"}'
                elif check:
                    try:
                        if self.headers.get("Content-Type") != "application/json":
                            raise AssertionError("Content-Type is not application/json")
                        check(body)
                    except (AssertionError, KeyError, TypeError) as e:
                        with outer.lock:
                            outer.errors.append((kind, str(e), body))
                        status, reply = 400, str(e).encode()
                if kind == "pd" and status == 200:
                    status = 202
                    reply = json.dumps({"status": "success", "message": "Event processed",
                                        "dedup_key": body.get("dedup_key")}).encode()
                with outer.lock:
                    outer.records.append({"kind": kind, "path": path, "body": body,
                                          "headers": dict(self.headers), "status": status})
                if slow:
                    time.sleep(2)
                try:
                    self.send_response(status)
                    self.send_header("Content-Length", str(len(reply)))
                    self.end_headers()
                    self.wfile.write(reply)
                except OSError:  # the agent went away (kill -9) before the answer
                    pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self

    def stop(self):
        if self.server:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    def of(self, kind):
        with self.lock:
            return [r for r in self.records if r["kind"] == kind]

    def pd_events(self):
        """(dedup_key, event_action) per PagerDuty request, in arrival order."""
        return [(r["body"]["dedup_key"], r["body"]["event_action"]) for r in self.of("pd")]
