#!/usr/bin/python3
"""Certificate expiry for https targets of every probe type, against a real
nginx on 127.0.0.1 serving certificates made at test time with `openssl`:
valid, expiring in 3 days, expired, self-signed, wrong host name and an
incomplete chain (intermediate not sent). Each must give the right
calprobe_tls_cert_* gauges, verdict in /api/v1/targets and threshold events."""

import datetime
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import certs  # noqa: E402
import harness  # noqa: E402
from harness import metric_value  # noqa: E402

ICS = ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//calprobe//test//EN\r\n"
       "BEGIN:VEVENT\r\nUID:a@test\r\nDTSTAMP:20270101T000000Z\r\n"
       "DTSTART:20270102T090000Z\r\nDTEND:20270102T100000Z\r\nSUMMARY:x\r\n"
       "END:VEVENT\r\nEND:VCALENDAR\r\n")


class TlsNginx:
    """One nginx process, one TLS server block per (name, chain, key)."""

    def __init__(self, workdir, servers):
        self.dir = os.path.join(workdir, "nginx-tls")
        os.makedirs(self.dir, exist_ok=True)
        with open(os.path.join(self.dir, "feed.ics"), "w") as f:
            f.write(ICS)
        self.ports = {}
        blocks = []
        for name, chain, key in servers:
            port = harness.free_port()
            self.ports[name] = port
            blocks.append(f"""
  server {{
    listen 127.0.0.1:{port} ssl;
    ssl_certificate {chain};
    ssl_certificate_key {key};
    root {self.dir};
    location = /health {{ default_type text/plain; return 200 "ok\\n"; }}
    location = /feed.ics {{ default_type text/calendar; }}
  }}""")
        conf = harness.write_nginx_conf(self.dir, "".join(blocks),
                                        http_extra="  types { text/calendar ics; }")
        self.proc = harness.start_nginx(self.dir, conf)
        for port in self.ports.values():
            harness.wait_until(lambda p=port: _port_open(p), what=f"nginx on {port}")

    def url(self, name, path="/health"):
        return f"https://127.0.0.1:{self.ports[name]}{path}"

    def stop(self):
        self.proc.stop()


def _port_open(port):
    import socket
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def not_after(pem):
    out = certs.subprocess.run(["openssl", "x509", "-in", pem, "-noout", "-enddate"],
                               check=True, capture_output=True, text=True).stdout
    when = out.strip().split("=", 1)[1]
    return datetime.datetime.strptime(when, "%b %d %H:%M:%S %Y GMT").replace(
        tzinfo=datetime.timezone.utc).timestamp()


class TlsExpiryTest(harness.TempDirTestCase):
    def test_six_certificates(self):
        pki = certs.Pki(self.tmp)
        now = datetime.datetime.now(datetime.timezone.utc)
        t = certs.asn1_time
        day = datetime.timedelta(days=1)
        valid = pki.leaf("valid", "IP:127.0.0.1,DNS:localhost", t(now - day), t(now + 90 * day))
        soon = pki.leaf("soon", "IP:127.0.0.1", t(now - 30 * day), t(now + 3 * day))
        expired = pki.leaf("expired", "IP:127.0.0.1", t(now - 60 * day), t(now - 2 * day))
        wrong = pki.leaf("wronghost", "DNS:wrong.example.test", t(now - day), t(now + 90 * day))
        incomplete = pki.leaf("incomplete", "IP:127.0.0.1", t(now - day), t(now + 60 * day))
        selfsigned = pki.self_signed("selfsigned", "IP:127.0.0.1", 30)
        nginx = self.track(TlsNginx(self.tmp, [
            ("valid", valid[2], valid[1]),
            ("soon", soon[2], soon[1]),
            ("expired", expired[2], expired[1]),
            ("wronghost", wrong[2], wrong[1]),
            ("incomplete", incomplete[0], incomplete[1]),  # leaf only: no intermediate
            ("selfsigned", selfsigned[0], selfsigned[1]),
        ]))
        events_path = os.path.join(self.tmp, "events.ndjson")
        targets = []
        for name in ("valid", "expired", "wronghost", "incomplete", "selfsigned"):
            targets.append(f"""  - name: tls-{name}
    probe: http
    interval: 1s
    timeout: 800ms
    http:
      url: {nginx.url(name)}
      tls: {{ca_file: {pki.root}}}""")
        # The 3-day certificate sits behind an ICS feed: certificates are
        # checked for every probe type, not only http.
        targets.append(f"""  - name: tls-soon
    probe: ics
    interval: 1s
    timeout: 800ms
    labels: {{src_id: soon}}
    ics:
      url: {nginx.url("soon", "/feed.ics")}
      tls: {{ca_file: {pki.root}}}""")
        config = f"""
agent:
  region: test
  store: {self.tmp}/calprobe.db
  event_log: {events_path}
tls:
  inspect_interval: 2s
  warn_before: 21d
  critical_before: 7d
targets:
""" + "\n".join(targets) + "\n"
        agent = self.track(harness.Agent(self.tmp, config))

        def all_inspected():
            ts = {t["name"]: t for t in agent.targets()}
            return all(ts[f"tls-{n}"].get("tls") and ts[f"tls-{n}"]["tls"][0].get("verdict")
                       for n in ("valid", "soon", "expired", "wronghost", "incomplete",
                                 "selfsigned")) and ts
        ts = harness.wait_until(all_inspected, timeout=30, what="every target's TLS view")
        m = agent.metrics()

        def view(name):
            return ts[f"tls-{name}"]["tls"][0]

        def gauge(metric, name):
            host = f"127.0.0.1:{nginx.ports[name]}"
            return metric_value(m, metric, target=f"tls-{name}", host=host, region="test")

        expect = {  # verdict, chain verified, host name matches, level
            "valid": ("ok", True, True, "ok"),
            "soon": ("ok", True, True, "critical"),
            "expired": ("expired", False, True, "expired"),
            "wronghost": ("hostname_mismatch", True, False, "ok"),
            "incomplete": ("incomplete_chain", False, True, "ok"),
            "selfsigned": ("self_signed", False, True, "ok"),
        }
        pems = {"valid": valid[0], "soon": soon[0], "expired": expired[0], "wronghost": wrong[0],
                "incomplete": incomplete[0], "selfsigned": selfsigned[0]}
        for name, (verdict, verified, host_ok, level) in expect.items():
            with self.subTest(cert=name):
                v = view(name)
                self.assertEqual(v["verdict"], verdict, v)
                self.assertEqual(v["chain_verified"], verified, v)
                self.assertEqual(v["hostname_match"], host_ok, v)
                self.assertEqual(v["level"], level, v)
                want = not_after(pems[name])
                self.assertEqual(gauge("calprobe_tls_cert_expiry_timestamp_seconds", name), want)
                self.assertAlmostEqual(gauge("calprobe_tls_cert_days_left", name),
                                       (want - now.timestamp()) / 86400, delta=0.05)
                self.assertEqual(gauge("calprobe_tls_cert_chain_verified", name),
                                 1 if verified else 0)
                self.assertEqual(gauge("calprobe_tls_cert_hostname_match", name),
                                 1 if host_ok else 0)
                host = f"127.0.0.1:{nginx.ports[name]}"
                self.assertEqual(metric_value(m, "calprobe_tls_cert_info", target=f"tls-{name}",
                                              host=host, verdict=verdict), 1)
        self.assertIn("calprobe test intermediate CA", view("valid")["issuer"])
        self.assertEqual(view("valid")["chain_length"], 2)
        self.assertEqual(view("incomplete")["chain_length"], 1)
        self.assertAlmostEqual(view("soon")["days_left"], 3, delta=0.05)
        self.assertLess(view("expired")["days_left"], -1.9)

        # The probes' own verdicts are unchanged by the inspection: curl
        # verifies as configured, so the broken chains fail with http.tls_error.
        harness.wait_until(lambda: all(agent.targets() and t.get("last") for t in agent.targets()),
                           what="a result per target")
        last = {t["name"]: t["last"] for t in agent.targets()}
        self.assertTrue(last["tls-valid"]["success"], last["tls-valid"])
        self.assertTrue(last["tls-soon"]["success"], last["tls-soon"])
        for name in ("expired", "wronghost", "incomplete", "selfsigned"):
            self.assertEqual(last[f"tls-{name}"]["reason"], "http.tls_error", last[f"tls-{name}"])

        # Let every origin be inspected at least twice more, so the event
        # check below also shows that re-inspections do not repeat events.
        first = metric_value(m, "calprobe_tls_inspections_total", result="ok")
        harness.wait_until(
            lambda: metric_value(agent.metrics(), "calprobe_tls_inspections_total",
                                 result="ok") >= first + 12,
            timeout=30, what="two more inspection rounds")

        # Threshold events: crossing into critical (3 days) and expired; the
        # broken chains raise calprobe.tls.cert.invalid; the healthy one none.
        with open(events_path) as f:
            events = [json.loads(line) for line in f if line.strip()]
        tls_events = [e for e in events if e["name"].startswith("calprobe.tls.cert.")]
        by_target = {}
        for e in tls_events:
            by_target.setdefault(e["labels"]["target"], []).append(e)
        self.assertNotIn("tls-valid", by_target)
        soon_ev = by_target["tls-soon"]
        self.assertEqual([(e["name"], e["fields"]["level"]) for e in soon_ev],
                         [("calprobe.tls.cert.expiring", "critical")])
        self.assertEqual(soon_ev[0]["labels"]["probe"], "ics")
        # `usable`: verifies with the dates aside and matches the host (what
        # the TlsCertificateInvalid rule reads; expiry has its own rules).
        usable = {t: evs[-1]["fields"]["usable"] for t, evs in by_target.items()}
        self.assertEqual(usable, {"tls-soon": True, "tls-expired": True, "tls-wronghost": False,
                                  "tls-incomplete": False, "tls-selfsigned": False})
        exp_ev = by_target["tls-expired"]
        self.assertEqual([(e["name"], e["fields"]["level"]) for e in exp_ev],
                         [("calprobe.tls.cert.expiring", "expired")])
        for name, verdict in (("wronghost", "hostname_mismatch"),
                              ("incomplete", "incomplete_chain"),
                              ("selfsigned", "self_signed")):
            ev = by_target[f"tls-{name}"]
            self.assertEqual([(e["name"], e["fields"]["verdict"]) for e in ev],
                             [("calprobe.tls.cert.invalid", verdict)], ev)


if __name__ == "__main__":
    harness.main()
