"""Shared helpers for calprobe's integration tests.

Integration tests run the real `calprobe` binary against real local servers
(nginx, prometheus, promtool, alertmanager, python http servers written in
the test). Rules (README "Testing"):
  * traffic only to 127.0.0.1 / ::1, bounded in count and time;
  * every process started here is tracked by PID and stopped by PID;
  * ports come from the kernel (bind to port 0), never hard-coded.
Only the Python standard library is used; run with /usr/bin/python3.
"""

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.error
import urllib.request

SOURCE_DIR = os.environ.get(
    "CALPROBE_SOURCE_DIR",
    os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..")))
CALPROBE = os.environ.get("CALPROBE_BIN", os.path.join(SOURCE_DIR, "build", "app", "calprobe"))


def free_port():
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with contextlib.closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http(method, url, body=None, headers=None, timeout=10):
    """Returns (status, headers dict, body bytes); never raises on HTTP errors."""
    req = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


def get(url, **kw):
    return http("GET", url, **kw)


def wait_until(predicate, timeout=20.0, interval=0.1, what="condition"):
    """Polls predicate() until it returns a truthy value; raises on timeout."""
    deadline = time.monotonic() + timeout
    last_exc = None
    while time.monotonic() < deadline:
        try:
            v = predicate()
            if v:
                return v
        except Exception as e:  # noqa: BLE001 - keep polling, report the last one
            last_exc = e
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}"
                         + (f" (last error: {last_exc})" if last_exc else ""))


def wait_http_ok(url, timeout=20.0):
    return wait_until(lambda: get(url, timeout=2)[0] == 200, timeout, what=f"{url} to answer 200")


class Proc:
    """A child process tracked by PID, with its output in a log file."""

    def __init__(self, args, log_path, env=None, cwd=None):
        self.args = args
        self.log_path = log_path
        self._log = open(log_path, "wb")
        full_env = dict(os.environ)
        full_env.update(env or {})
        self.p = subprocess.Popen(args, stdout=self._log, stderr=subprocess.STDOUT,
                                  env=full_env, cwd=cwd, start_new_session=True)
        self.pid = self.p.pid

    def signal(self, sig):
        if self.p.poll() is None:
            os.kill(self.pid, sig)

    def alive(self):
        return self.p.poll() is None

    def stop(self, timeout=10):
        if self.p.poll() is None:
            os.kill(self.pid, signal.SIGTERM)
            try:
                self.p.wait(timeout)
            except subprocess.TimeoutExpired:
                os.kill(self.pid, signal.SIGKILL)
                self.p.wait()
        self._log.close()
        return self.p.returncode

    def kill9(self):
        if self.p.poll() is None:
            os.kill(self.pid, signal.SIGKILL)
            self.p.wait()

    def output(self):
        self._log.flush()
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")


def write_nginx_conf(directory, servers, http_extra=""):
    """Writes DIRECTORY/nginx.conf for a foreground, single-process nginx that
    keeps its pid and temp files in DIRECTORY; `servers` are server blocks."""
    conf = os.path.join(directory, "nginx.conf")
    with open(conf, "w") as f:
        f.write(f"""
daemon off;
master_process off;
worker_processes 1;
pid {directory}/nginx.pid;
error_log {directory}/error.log warn;
events {{ worker_connections 4096; }}
http {{
  access_log off;
  client_body_temp_path {directory}/body;
  proxy_temp_path {directory}/proxy;
  fastcgi_temp_path {directory}/fastcgi;
  uwsgi_temp_path {directory}/uwsgi;
  scgi_temp_path {directory}/scgi;
  keepalive_requests 1000000;
{http_extra}
{servers}
}}
""")
    return conf


def start_nginx(directory, conf):
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    return Proc([nginx, "-c", conf, "-p", directory], os.path.join(directory, "out.log"))


class Nginx:
    """A private nginx on 127.0.0.1:port serving `root` plus /health."""

    def __init__(self, workdir, root=None, extra_locations=""):
        self.port = free_port()
        self.dir = os.path.join(workdir, f"nginx-{self.port}")
        os.makedirs(self.dir, exist_ok=True)
        root = root or self.dir
        conf = write_nginx_conf(self.dir, f"""
  server {{
    listen 127.0.0.1:{self.port};
    root {root};
    location = /health {{ default_type text/plain; return 200 "ok\\n"; }}
    location = /json {{ default_type application/json; return 200 '{{"status":"ok","items":[1,2,3]}}'; }}
    location = /fail {{ return 503; }}
    {extra_locations}
  }}""")
        self.proc = start_nginx(self.dir, conf)
        wait_http_ok(self.url("/health"))

    def url(self, path="/"):
        return f"http://127.0.0.1:{self.port}{path}"

    def stop(self):
        self.proc.stop()


class Agent:
    """The real calprobe binary running `run` on a config written by the test."""

    def __init__(self, workdir, config_text, name="agent", env=None, extra_args=None):
        self.port = free_port()
        self.workdir = workdir
        self.config_path = os.path.join(workdir, f"{name}.yaml")
        self.write_config(config_text)
        self.proc = Proc([CALPROBE, "run", "--config", self.config_path,
                          "--listen", f"127.0.0.1:{self.port}"] + (extra_args or []),
                         os.path.join(workdir, f"{name}.log"), env=env)
        try:
            wait_http_ok(self.url("/readyz"), timeout=20)
        except AssertionError:
            raise AssertionError("agent did not become ready:\n" + self.proc.output())

    def write_config(self, text):
        with open(self.config_path, "w") as f:
            f.write(text)

    def url(self, path):
        return f"http://127.0.0.1:{self.port}{path}"

    def metrics(self):
        status, _, body = get(self.url("/metrics"))
        assert status == 200, status
        return body.decode()

    def targets(self):
        return json.loads(get(self.url("/api/v1/targets"))[2])

    def stop(self):
        return self.proc.stop()


def metric_value(text, name, **labels):
    """Value of the first sample `name{labels…}` (labels matched as a subset)."""
    for line in text.splitlines():
        if line.startswith("#") or not line.startswith(name):
            continue
        head, _, value = line.rpartition(" ")
        if head.split("{")[0] != name:
            continue
        ok = all(f'{k}="{v}"' in head for k, v in labels.items())
        if ok:
            return float(value)
    return None


class TempDirTestCase(unittest.TestCase):
    """A test case with a fresh temporary directory and process cleanup."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="calprobe-it-")
        self._tracked = []

    def track(self, thing):
        self._tracked.append(thing)
        return thing

    def tearDown(self):
        for thing in reversed(self._tracked):
            try:
                thing.stop()
            except Exception as e:  # noqa: BLE001
                print(f"cleanup of {thing!r} failed: {e}", file=sys.stderr)
        if os.environ.get("CALPROBE_KEEP_TMP"):
            print(f"kept {self.tmp}", file=sys.stderr)
        else:
            shutil.rmtree(self.tmp, ignore_errors=True)


def main():
    unittest.main(verbosity=2)
