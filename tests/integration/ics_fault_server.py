#!/usr/bin/python3
"""A local ICS feed server with HTTP faults, for calprobe's integration tests.

Python standard library only. Listens on 127.0.0.1 (optionally with TLS).

Corpus and faults:
  /health                         200 "ok"
  /feeds/NAME.ics                 tests/data/ics/NAME.ics as text/calendar with ETag and
                                  Last-Modified; 304 on a matching If-None-Match /
                                  If-Modified-Since. Query options:
                                    ct=TYPE            another Content-Type
                                    validators=none    no ETag / Last-Modified
                                    validators=ignore  validators sent, but always 200
                                    gzip=1             Content-Encoding: gzip
  /status/CODE[?retry_after=N]    that status (401 with WWW-Authenticate)
  /redirect/N[?to=PATH]           a chain of N redirects ending at PATH
                                  (default /feeds/clean_google.ics)
  /loop                           redirects to itself
  /redirect-to?url=URL            one redirect to URL (https -> http with --tls)
  /html-login                     an HTML login page with 200 and text/html
  /gzip-bomb                      gzip body that inflates to 256 MiB
  /endless                        chunked body that never ends (stops after 2 GiB)
  /slow                           headers at once, then one byte every 0.25 s
  /close                          closes the connection without a response
  /truncated                      Content-Length larger than the body sent
Switchable per-source feeds (for agent tests):
  /src/ID.ics                     a generated feed (events/version from its state)
  POST /control/src/ID            JSON merged into the source's state:
                                    {"events": N, "version": V, "status": CODE,
                                     "retry_after": S, "validators": "normal|none|ignore",
                                     "file": "NAME.ics"}
  GET /control/stats              JSON request counters per path and status
Run: ics_fault_server.py --port P [--data DIR] [--tls-cert C --tls-key K]
"""

import argparse
import email.utils
import gzip
import hashlib
import http.server
import json
import os
import socketserver
import ssl
import sys
import threading
import time
import urllib.parse
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_DATA = os.path.join(HERE, "..", "data", "ics")
START = time.time()

_lock = threading.Lock()
_sources = {}   # id -> state dict
_stats = {"paths": {}, "status": {}, "conditional": 0, "not_modified": 0}
_bomb = None


def source_state(sid):
    with _lock:
        return dict(_sources.setdefault(sid, {"events": 10, "version": 1, "status": 200,
                                              "retry_after": None, "validators": "normal",
                                              "file": None, "changed": START}))


def update_source(sid, patch):
    with _lock:
        st = _sources.setdefault(sid, {"events": 10, "version": 1, "status": 200,
                                       "retry_after": None, "validators": "normal",
                                       "file": None, "changed": START})
        content_keys = {"events", "version", "file"}
        if any(k in patch and patch[k] != st.get(k) for k in content_keys):
            st["changed"] = time.time()
        st.update(patch)
        return dict(st)


def generated_feed(sid, events, version):
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//calprobe//fault server//EN",
             "X-WR-CALNAME:source " + sid]
    for i in range(events):
        day = 1 + (i % 28)
        lines += ["BEGIN:VEVENT", f"UID:ev-{i}@{sid}.example",
                  "DTSTAMP:20990101T000000Z",
                  f"DTSTART:2099{1 + (i // 28) % 12:02d}{day:02d}T090000Z",
                  f"DTEND:2099{1 + (i // 28) % 12:02d}{day:02d}T100000Z",
                  f"SUMMARY:Event {i} (v{version})" if i == 0 else f"SUMMARY:Event {i}",
                  "END:VEVENT"]
    lines.append("END:VCALENDAR")
    return ("\r\n".join(lines) + "\r\n").encode()


def gzip_bomb():
    global _bomb
    with _lock:
        if _bomb is None:
            c = zlib.compressobj(9, zlib.DEFLATED, 31)
            chunk = b"\0" * (1 << 20)
            parts = [c.compress(chunk) for _ in range(256)]
            parts.append(c.flush())
            _bomb = b"".join(parts)
        return _bomb


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "ics-fault-server/1"
    data_dir = DEFAULT_DATA

    def log_message(self, fmt, *args):  # quiet
        pass

    def count(self, status):
        with _lock:
            path = urllib.parse.urlsplit(self.path).path
            _stats["paths"][path] = _stats["paths"].get(path, 0) + 1
            _stats["status"][str(status)] = _stats["status"].get(str(status), 0) + 1

    def send(self, status, body=b"", ctype="text/plain", headers=None):
        self.count(status)
        self.send_response(status)
        if status != 304:
            self.send_header("Content-Type", ctype)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(0 if status == 304 else len(body)))
        self.end_headers()
        if status != 304 and self.command != "HEAD":
            self.wfile.write(body)

    def serve_calendar(self, body, changed, validators="normal", ctype="text/calendar; charset=utf-8",
                       use_gzip=False):
        etag = '"' + hashlib.sha1(body).hexdigest()[:16] + '"'
        last_modified = email.utils.formatdate(changed, usegmt=True)
        headers = {}
        if validators != "none":
            headers["ETag"] = etag
            headers["Last-Modified"] = last_modified
        if validators == "normal":
            inm = self.headers.get("If-None-Match")
            ims = self.headers.get("If-Modified-Since")
            if inm or ims:
                with _lock:
                    _stats["conditional"] += 1
            fresh = False
            if inm is not None:
                fresh = inm.strip() == etag or inm.strip() == "*"
            elif ims is not None:
                try:
                    fresh = email.utils.parsedate_to_datetime(ims).timestamp() >= int(changed)
                except (TypeError, ValueError):
                    fresh = False
            if fresh:
                with _lock:
                    _stats["not_modified"] += 1
                return self.send(304, headers=headers)
        if use_gzip:
            body = gzip.compress(body)
            headers["Content-Encoding"] = "gzip"
        return self.send(200, body, ctype, headers)

    def do_GET(self):  # noqa: C901 - a routing table
        u = urllib.parse.urlsplit(self.path)
        q = dict(urllib.parse.parse_qsl(u.query))
        path = u.path
        if path == "/health":
            return self.send(200, b"ok\n")
        if path.startswith("/feeds/"):
            name = os.path.basename(path[len("/feeds/"):])
            full = os.path.join(self.data_dir, name)
            if not os.path.isfile(full):
                return self.send(404, b"no such feed\n")
            with open(full, "rb") as f:
                body = f.read()
            return self.serve_calendar(body, int(os.path.getmtime(full)), q.get("validators", "normal"),
                                       q.get("ct", "text/calendar; charset=utf-8"), q.get("gzip") == "1")
        if path.startswith("/src/") and path.endswith(".ics"):
            sid = path[len("/src/"):-len(".ics")]
            st = source_state(sid)
            if st["status"] != 200:
                headers = {}
                if st.get("retry_after") is not None:
                    headers["Retry-After"] = str(st["retry_after"])
                return self.send(int(st["status"]), b"fault\n", headers=headers)
            if st.get("file"):
                with open(os.path.join(self.data_dir, os.path.basename(st["file"])), "rb") as f:
                    body = f.read()
            else:
                body = generated_feed(sid, int(st["events"]), st["version"])
            return self.serve_calendar(body, st["changed"], st.get("validators", "normal"))
        if path.startswith("/status/"):
            code = int(path[len("/status/"):])
            headers = {}
            if "retry_after" in q:
                headers["Retry-After"] = q["retry_after"]
            if code == 401:
                headers["WWW-Authenticate"] = 'Basic realm="calendar"'
            return self.send(code, f"status {code}\n".encode(), headers=headers)
        if path.startswith("/redirect/"):
            n = int(path[len("/redirect/"):])
            to = q.get("to", "/feeds/clean_google.ics")
            loc = to if n <= 1 else f"/redirect/{n - 1}?" + urllib.parse.urlencode({"to": to})
            return self.send(302, b"", headers={"Location": loc})
        if path == "/loop":
            return self.send(302, b"", headers={"Location": "/loop"})
        if path == "/redirect-to":
            return self.send(302, b"", headers={"Location": q["url"]})
        if path == "/html-login":
            return self.send(200, b"<!DOCTYPE html><html><head><title>Sign in</title></head>"
                                  b"<body><form>Password <input type=password></form></body></html>\n",
                             "text/html; charset=utf-8")
        if path == "/gzip-bomb":
            return self.send(200, gzip_bomb(), "text/calendar", {"Content-Encoding": "gzip"})
        if path == "/endless":
            return self.endless()
        if path == "/slow":
            return self.slow()
        if path == "/close":
            self.count(0)
            self.close_connection = True
            return None
        if path == "/truncated":
            self.count(200)
            self.send_response(200)
            self.send_header("Content-Type", "text/calendar")
            self.send_header("Content-Length", "100000")
            self.end_headers()
            self.wfile.write(b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\n" * 20)
            self.wfile.flush()
            self.close_connection = True
            return None
        if path == "/control/stats":
            with _lock:
                body = json.dumps(_stats).encode()
            return self.send(200, body, "application/json")
        return self.send(404, b"unknown path\n")

    def do_POST(self):
        u = urllib.parse.urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b"{}"
        if u.path.startswith("/control/src/"):
            sid = u.path[len("/control/src/"):]
            st = update_source(sid, json.loads(raw or b"{}"))
            return self.send(200, json.dumps(st).encode(), "application/json")
        return self.send(404, b"unknown path\n")

    def endless(self):
        self.count(200)
        self.send_response(200)
        self.send_header("Content-Type", "text/calendar")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        chunk = b"BEGIN:VEVENT\r\nSUMMARY:" + b"x" * 1000 + b"\r\nEND:VEVENT\r\n"
        chunk = chunk * 64
        sent = 0
        try:
            while sent < (2 << 30):
                self.wfile.write(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
                sent += len(chunk)
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError, OSError):
            pass
        self.close_connection = True

    def slow(self):
        self.count(200)
        body = b"BEGIN:VCALENDAR\r\n" * 40
        self.send_response(200)
        self.send_header("Content-Type", "text/calendar")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        try:
            for i in range(len(body)):
                self.wfile.write(body[i:i + 1])
                self.wfile.flush()
                time.sleep(0.25)
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError, OSError):
            pass
        self.close_connection = True


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256


class FaultServer:
    """Runs this server as a PID-tracked child (harness.Proc) for a test."""

    def __init__(self, workdir, tls_cert=None, tls_key=None, data=DEFAULT_DATA):
        import harness  # only tests need it
        self.port = harness.free_port()
        args = ["/usr/bin/python3", os.path.abspath(__file__), "--port", str(self.port),
                "--data", data]
        self.scheme = "https" if tls_cert else "http"
        if tls_cert:
            args += ["--tls-cert", tls_cert, "--tls-key", tls_key]
        self.proc = harness.Proc(args, os.path.join(workdir, f"fault-{self.port}.log"))
        if tls_cert:
            harness.wait_until(self._tcp_up, what="TLS fault server")
        else:
            harness.wait_http_ok(self.url("/health"))
        self._harness = harness

    def _tcp_up(self):
        import socket
        with socket.create_connection(("127.0.0.1", self.port), timeout=1):
            return True

    def url(self, path):
        return f"{self.scheme}://127.0.0.1:{self.port}{path}"

    def set_source(self, sid, **patch):
        status, _, body = self._harness.http("POST", self.url(f"/control/src/{sid}"),
                                             body=json.dumps(patch).encode())
        assert status == 200, (status, body)
        return json.loads(body)

    def stats(self):
        return json.loads(self._harness.get(self.url("/control/stats"))[2])

    def stop(self):
        self.proc.stop()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--data", default=DEFAULT_DATA)
    ap.add_argument("--tls-cert")
    ap.add_argument("--tls-key")
    args = ap.parse_args()
    Handler.data_dir = os.path.abspath(args.data)
    srv = Server(("127.0.0.1", args.port), Handler)
    if args.tls_cert:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(args.tls_cert, args.tls_key)
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    print(f"listening on 127.0.0.1:{args.port}", flush=True)
    try:
        srv.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
