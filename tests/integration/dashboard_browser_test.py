"""The dashboard in a real browser: headless chromium against a running agent
fed with events. All six panels render with data and drawn charts, probe
targets show their last result and failure reason, no console errors, and
screenshots (wide and narrow) are saved under the build directory
(build/dashboard-screenshots/)."""

import json
import os
import re
import shutil
import subprocess

import harness
import panel_events

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
BUILD_DIR = os.path.dirname(os.path.dirname(os.path.abspath(harness.CALPROBE)))
SHOTS = os.path.join(BUILD_DIR, "dashboard-screenshots")
PANELS = ["availability_intake", "feasibility_engine", "hold_to_confirm",
          "external_calendar_sync", "ics_feed_outbound", "user_impact"]


def chromium(workdir, url, *args, width=1280, height=2600, budget_ms=8000):
    """Runs headless chromium; returns (stdout, console lines from stderr)."""
    cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
           "--user-data-dir=" + os.path.join(workdir, "chromium-profile"),
           "--enable-logging=stderr", "--v=0", f"--virtual-time-budget={budget_ms}",
           f"--window-size={width},{height}", *args, url]
    r = subprocess.run(cmd, capture_output=True, timeout=120)
    err = r.stderr.decode("utf-8", "replace")
    console = [line for line in err.splitlines() if ":CONSOLE" in line]
    return r.stdout.decode("utf-8", "replace"), console, err


class DashboardBrowserTest(harness.TempDirTestCase):
    def setUp(self):
        super().setUp()
        if not os.path.exists(CHROMIUM):
            self.fail("chromium is not installed (scripts/install-deps.sh installs it)")
        self.nginx = self.track(harness.Nginx(self.tmp))
        self.agent = self.track(harness.Agent(self.tmp, f"""
agent:
  region: us-east
  store: {self.tmp}/agent.db
  ingest_token: browser-token
targets:
  - name: web-health
    probe: http
    interval: 1s
    http: {{url: "{self.nginx.url('/health')}"}}
  - name: web-broken
    probe: http
    interval: 1s
    http: {{url: "{self.nginx.url('/fail')}"}}
"""))
        status, report = panel_events.post_events(self.agent.url(""), "browser-token",
                                                  panel_events.panel_events(), harness.http)
        self.assertEqual(status, 200)
        self.assertEqual(report["rejected"], 0, report)
        harness.wait_until(lambda: all(t.get("last") for t in self.agent.targets()),
                           what="both targets probed")

        def probe_failing():
            d = json.loads(harness.get(self.agent.url("/api/v1/alerts"))[2])
            return any(a["rule"] == "ProbeFailing" and a["state"] == "firing" for a in d["alerts"])
        harness.wait_until(probe_failing, timeout=60, interval=0.5, what="ProbeFailing firing")

    def test_console_check_sees_errors(self):
        # The console check below is only worth something if it sees errors.
        page = os.path.join(self.tmp, "broken.html")
        with open(page, "w") as f:
            f.write("<html><body><script>console.error('boom'); missingFn();</script></body></html>")
        _, console, _ = chromium(self.tmp, "file://" + page, "--dump-dom")
        self.assertTrue(any("missingFn" in c for c in console), console)

    def check_dom(self, dom, console, err):
        self.assertEqual(console, [], "console messages:\n" + "\n".join(console))
        m = re.search(r'<div id="js-errors"[^>]*data-count="(\d+)"', dom)
        self.assertIsNotNone(m, dom[:2000])
        self.assertEqual(m.group(1), "0", dom[m.start():m.start() + 500])
        self.assertRegex(dom, r'<body[^>]*data-loaded="[1-9]', "page never finished a refresh")
        sections = re.split(r'<section class="card panel" ', dom)[1:]
        found = {}
        for s in sections:
            pid = re.match(r'data-panel="([a-z_]+)" data-has-data="(true|false)"', s)
            self.assertIsNotNone(pid, s[:200])
            body = s.split("</section>")[0]
            found[pid.group(1)] = (pid.group(2), body)
        self.assertEqual(sorted(found), sorted(PANELS))
        for pid, (has, body) in found.items():
            self.assertEqual(has, "true", f"{pid} has no data")
            charts = re.findall(r'<svg[^>]*class="chart"[^>]*data-values="(\d+)"', body)
            self.assertGreaterEqual(len(charts), 1, pid)
            self.assertTrue(all(int(n) > 0 for n in charts[:1]), f"{pid}: first chart has no points")
            lines = re.findall(r'<polyline points="([^"]+)"', body)
            self.assertTrue(any(len(p.split()) >= 3 for p in lines), f"{pid}: no line drawn")
            # Current values: no KPI of a panel with data is entirely "–".
            kpis = re.findall(r'data-kpi="[a-z0-9_]+"><div class="v">([^<]*)<', body)
            self.assertGreaterEqual(len(kpis), 3, pid)
            self.assertTrue(any(k not in ("–", "0") for k in kpis), f"{pid}: {kpis}")
        # Firing alerts with their runbook links (the always-firing Watchdog is not listed).
        alerts = dom.split('id="alerts"')[1].split("</section>")[0]
        self.assertIn('data-alert="ProbeFailing"', alerts)
        self.assertIn('web-broken', alerts)
        self.assertIn('href="/ops/runbooks/calprobe-probe-failing.md"', alerts)
        self.assertNotIn('data-alert="Watchdog"', alerts)
        # Probe targets with last result and failure reason.
        targets = dom.split('id="targets"')[1].split("</section>")[0]
        self.assertIn("<td>web-health</td><td>http</td><td class=\"ok\">ok</td>", targets)
        self.assertIn("<td>web-broken</td><td>http</td><td class=\"fail\">FAIL</td>"
                      "<td>assertion</td><td>status 503, expected 2xx</td>", targets)
        return found

    def test_dashboard_renders_six_panels(self):
        os.makedirs(SHOTS, exist_ok=True)
        url = self.agent.url("/?range=15m")
        dom, console, err = chromium(self.tmp, url, "--dump-dom")
        found = self.check_dom(dom, console, err)
        # Values from the events sent (panel_events.py: 8 minutes x 6 feasibility runs).
        self.assertIn('data-kpi="invocations"><div class="v">48<', found["feasibility_engine"][1])
        self.assertIn('data-kpi="created"><div class="v">48<', found["hold_to_confirm"][1])
        self.assertIn("region <b>us-east</b>", dom)

        # Filters from the address: one provider's numbers.
        events = [json.loads(l) for l in panel_events.panel_events()]
        nyc = sum(1 for e in events if e["name"] == "cal.feasible.generated"
                  and e["labels"]["provider"] == "p-nyc")
        dom_nyc, console, err = chromium(self.tmp, self.agent.url("/?range=15m&provider=p-nyc"), "--dump-dom")
        found_nyc = self.check_dom(dom_nyc, console, err)
        self.assertIn(f'data-kpi="invocations"><div class="v">{nyc}<', found_nyc["feasibility_engine"][1])
        self.assertLess(nyc, 48)  # the filter matters
        # Auto-refresh: 25 s of (virtual) time refresh the page at least twice more.
        dom_later, _, _ = chromium(self.tmp, url, "--dump-dom", budget_ms=25000)
        loaded = int(re.search(r'data-loaded="(\d+)"', dom_later).group(1))
        self.assertGreaterEqual(loaded, 3)

        wide = os.path.join(SHOTS, "dashboard-wide.png")
        _, console, _ = chromium(self.tmp, url, f"--screenshot={wide}")
        self.assertEqual(console, [])
        self.assertGreater(os.path.getsize(wide), 20000)

        # Narrow window (chromium's smallest headless width is 500 px): same
        # content, nothing wider than the viewport.
        dom, console, err = chromium(self.tmp, url, "--dump-dom", width=500, height=4000)
        self.check_dom(dom, console, err)
        m = re.search(r'data-scroll-width="(\d+)" data-viewport-width="(\d+)"', dom)
        self.assertIsNotNone(m)
        self.assertLessEqual(int(m.group(1)), int(m.group(2)), "page overflows a narrow window")
        narrow = os.path.join(SHOTS, "dashboard-narrow.png")
        chromium(self.tmp, url, f"--screenshot={narrow}", width=500, height=4000)
        self.assertGreater(os.path.getsize(narrow), 20000)
        print(f"screenshots: {wide} {narrow}")


if __name__ == "__main__":
    harness.main()
