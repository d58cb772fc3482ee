"""Notifications from the real agent to a local capture server
(tests/integration/notify_capture.py): PagerDuty and Slack payload shapes,
Retry-After on 429, permanent 4xx to the dead-letter list, a receiver that
is down for a while and then up (every notification arrives, PagerDuty never
twice per dedup key and state), kill -9 of the agent while alerts fire (none
lost), and `calprobe webhook-sink` printing deliveries."""

import json
import os
import signal
import time
from datetime import datetime, timezone

import harness
from harness import metric_value
from notify_capture import CaptureServer

TOKEN = "notify-ingest-token-7781"
PD_KEY = "pdroutingkey0123456789abcdefXYZW"  # 32 characters, like a real integration key

# One alert per region, true while cal.feasible.cache.hit events arrived in the
# last 3 s: fires within a second of an event, resolves ~3 s after the last.
RULES = """
rules:
  - name: NotifyRegional
    signal: {kind: count, event: cal.feasible.cache.hit}
    window: 3s
    op: ">"
    threshold: 0
    group_by: [region]
    origins: [platform]
    severity: page
    receivers: [RECEIVERS]
    runbook: ops/runbooks/feasibility-latency.md
    annotations:
      summary: "{{ $value }} cache hits in {{ $labels.region }}"
      action: "Nothing to do: a test alert."
"""


def now_rfc3339():
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def hit(region):
    return json.dumps({"name": "cal.feasible.cache.hit", "time": now_rfc3339(),
                       "labels": {"region": region, "origin": "platform", "provider": "p1"},
                       "fields": {"source": "search"}})


class NotifyTest(harness.TempDirTestCase):
    def setUp(self):
        super().setUp()
        self.cap = CaptureServer(harness.free_port())
        self.track(self.cap)
        self.env = {"CALPROBE_TEST_PD_KEY": PD_KEY,
                    "CALPROBE_TEST_SLACK_URL": self.cap.url("/slack/T000/B000/XXXXSECRET")}

    def write_rules(self, receivers):
        path = os.path.join(self.tmp, "rules.yaml")
        with open(path, "w") as f:
            f.write(RULES.replace("RECEIVERS", ", ".join(receivers)))
        return path

    def config(self, receivers, extra_receivers=""):
        rules = self.write_rules(receivers)
        return f"""
agent:
  region: us-east
  store: {self.tmp}/calprobe.db
  ingest_token: {TOKEN}
alerts:
  builtin: false
  rule_files: [{rules}]
  evaluation_interval: 1s
notifications:
  runbook_base_url: https://git.example.test/calprobe/blob/main
  dashboard_url: http://127.0.0.1:3000/d/calprobe
  retry: {{initial_backoff: 100ms, max_backoff: 1s, give_up_after: 10m}}
receivers:
  - name: pd
    type: pagerduty
    url: {self.cap.url("/pd/v2/enqueue")}
    routing_key: ${{CALPROBE_TEST_PD_KEY}}
  - name: slack
    type: slack
    url: ${{CALPROBE_TEST_SLACK_URL}}
  - name: hook
    type: webhook
    url: {self.cap.url("/hook")}
{extra_receivers}
"""

    def agent(self, cfg, name="agent"):
        return self.track(harness.Agent(self.tmp, cfg, name=name, env=self.env))

    def post(self, agent, lines):
        status, _, body = harness.http("POST", agent.url("/api/v1/events"),
                                       body="\n".join(lines).encode(),
                                       headers={"Authorization": f"Bearer {TOKEN}"})
        self.assertEqual(status, 200, body)
        self.assertEqual(json.loads(body)["rejected"], 0, body)

    def alerts(self, agent):
        return json.loads(harness.get(agent.url("/api/v1/alerts"))[2])

    def assert_pd_sequences(self, keys):
        """Each key got exactly trigger then resolve, never the same (key, action) twice."""
        events = self.cap.pd_events()
        self.assertEqual(len(events), len(set(events)), f"duplicate PagerDuty events: {events}")
        for k in keys:
            self.assertEqual([a for kk, a in events if kk == k], ["trigger", "resolve"], events)

    def test_payload_shapes_retry_after_and_dead_letters(self):
        self.cap.start()
        extra = f"""  - name: pd-bad
    type: pagerduty
    url: {self.cap.url("/bad")}
    routing_key: ${{CALPROBE_TEST_PD_KEY}}
  - name: pd-limited
    type: pagerduty
    url: {self.cap.url("/limited")}
    routing_key: ${{CALPROBE_TEST_PD_KEY}}
"""
        agent = self.agent(self.config(["pd", "slack", "hook", "pd-bad", "pd-limited"], extra))
        self.post(agent, [hit("us-east"), hit("us-east")])
        key = "calprobe/NotifyRegional/region=us-east"
        harness.wait_until(lambda: (key, "resolve") in self.cap.pd_events(), timeout=30,
                           what="PagerDuty trigger and resolve")
        harness.wait_until(lambda: len(self.cap.of("slack")) == 2, what="Slack firing and resolved")
        harness.wait_until(lambda: len(self.cap.of("hook")) == 2, what="webhook firing and resolved")
        self.assertEqual(self.cap.errors, [])

        # PagerDuty: trigger and resolve with the deterministic dedup_key;
        # pd and pd-limited (after its 429) each got both, in order.
        for prefix in ("/pd/", "/limited"):
            self.assertEqual([(r["body"]["dedup_key"], r["body"]["event_action"])
                              for r in self.cap.of("pd") if r["path"].startswith(prefix)],
                             [(key, "trigger"), (key, "resolve")], prefix)
        trigger = [r for r in self.cap.of("pd") if r["path"].startswith("/pd/")][0]["body"]
        self.assertEqual(trigger["routing_key"], PD_KEY)
        p = trigger["payload"]
        self.assertEqual(p["severity"], "critical")
        self.assertEqual(p["source"], "calprobe/us-east")
        self.assertEqual(p["summary"], "2 cache hits in us-east")
        self.assertEqual(p["custom_details"]["labels"], {"region": "us-east"})
        self.assertEqual(trigger["links"][0]["href"],
                         "https://git.example.test/calprobe/blob/main/ops/runbooks/feasibility-latency.md")
        self.assertEqual(trigger["links"][1]["href"], "http://127.0.0.1:3000/d/calprobe")
        limited = self.cap.of("limited-429")
        self.assertEqual(len(limited), 1)

        # Slack: readable firing and resolved messages in the seed's channel.
        firing, resolved = [r["body"] for r in self.cap.of("slack")]
        self.assertEqual(firing["channel"], "#calendars-observability")
        self.assertEqual(firing["text"], ":red_circle: FIRING: 2 cache hits in us-east")
        blocks = json.dumps(firing["blocks"])
        for want in ["NotifyRegional", "region=us-east", "*Value*\\n2", "Runbook>", "Dashboard>",
                     "Nothing to do: a test alert."]:
            self.assertIn(want, blocks)
        self.assertTrue(resolved["text"].startswith(":large_green_circle: RESOLVED: "))

        # Webhook: Alertmanager webhook shape.
        hook = self.cap.of("hook")[0]
        self.assertEqual(hook["body"]["status"], "firing")
        self.assertEqual(hook["body"]["groupKey"], key)
        self.assertIn("Idempotency-Key", hook["headers"])

        # The permanent 400 went to the dead-letter list (API and metrics).
        def dead():
            return self.alerts(agent).get("dead_letters", [])
        d = harness.wait_until(lambda: len(dead()) == 2 and dead(), what="two dead letters")
        self.assertEqual({x["receiver"] for x in d}, {"pd-bad"})
        self.assertEqual({x["state"] for x in d}, {"firing", "resolved"})
        self.assertIn("http 400", d[0]["reason"])
        m = agent.metrics()
        self.assertEqual(metric_value(m, "calprobe_notifications_dead_letter", receiver="pd-bad"), 2)
        self.assertEqual(metric_value(m, "calprobe_notifications_total", receiver="pd",
                                      result="delivered"), 2)
        self.assertEqual(metric_value(m, "calprobe_notifications_total", receiver="pd-limited",
                                      result="retry"), 1)
        self.assertEqual(metric_value(m, "calprobe_notifications_outbox_pending", receiver="pd"), 0)
        # Once the receiver is fixed (new URL, SIGHUP), its dead letters are
        # sent again: the resolve; the firing one is dropped, its alert having
        # resolved meanwhile (re-sending it would re-open an incident).
        retry_url = agent.url("/api/v1/notifications/dead-letters/retry")
        status, _, _ = harness.http("POST", retry_url + "?receiver=pd-bad", body=b"")
        self.assertEqual(status, 401)
        auth = {"Authorization": f"Bearer {TOKEN}"}
        status, _, body = harness.http("POST", retry_url + "?receiver=nope", body=b"", headers=auth)
        self.assertEqual(status, 404, body)
        self.assertIn("no receiver named", json.loads(body)["error"])
        agent.write_config(self.config(["pd", "slack", "hook", "pd-bad", "pd-limited"],
                                       extra.replace(self.cap.url("/bad"),
                                                     self.cap.url("/pd/fixed/v2/enqueue"))))
        agent.proc.signal(signal.SIGHUP)
        harness.wait_until(lambda: metric_value(agent.metrics(), "calprobe_config_reloads_total",
                                                result="success") == 1, what="reload")
        status, _, body = harness.http("POST", retry_url + "?receiver=pd-bad", body=b"", headers=auth)
        self.assertEqual(status, 200, body)
        self.assertEqual(json.loads(body), {"requeued": 1, "dropped": 1})
        harness.wait_until(lambda: [r["body"]["event_action"] for r in self.cap.of("pd")
                                    if r["path"].startswith("/pd/fixed")] == ["resolve"],
                           what="the dead resolve delivered to the fixed receiver")
        harness.wait_until(lambda: dead() == [], what="no dead letters left")
        self.assertEqual(metric_value(agent.metrics(), "calprobe_notifications_dead_letter",
                                      receiver="pd-bad") or 0, 0)

        # Secrets never leave the process in logs, metrics or the API.
        api = harness.get(agent.url("/api/v1/alerts"))[2].decode()
        for text in (agent.proc.output(), m, api):
            self.assertNotIn(PD_KEY, text)
            self.assertNotIn("XXXXSECRET", text)

    def test_receiver_down_then_up_every_notification_arrives(self):
        # The capture server is down: nothing listens on its port.
        am = f"""  - name: am
    type: alertmanager
    urls: [{self.cap.url("/am")}]
"""
        agent = self.agent(self.config(["pd", "slack", "hook"], am))
        regions = ["us-east", "eu-west", "ap-south"]
        self.post(agent, [hit(r) for r in regions])
        # Each alert fires and resolves while the receivers are down.
        harness.wait_until(
            lambda: metric_value(agent.metrics(), "calprobe_notifications_outbox_pending",
                                 receiver="pd") == 6, timeout=30, what="6 PagerDuty deliveries pending")
        harness.wait_until(lambda: metric_value(agent.metrics(), "calprobe_notifications_total",
                                                receiver="pd", result="retry") >= 6,
                           what="failed attempts retried")
        self.assertIn("notification delivery failed; will retry", agent.proc.output())
        time.sleep(2)
        self.cap.start()
        keys = [f"calprobe/NotifyRegional/region={r}" for r in regions]
        harness.wait_until(lambda: len(self.cap.pd_events()) >= 6 and len(self.cap.of("slack")) >= 6
                           and len(self.cap.of("hook")) >= 6, timeout=30, what="every notification")
        time.sleep(2)  # nothing more may come
        self.assertEqual(self.cap.errors, [])
        self.assert_pd_sequences(keys)
        self.assertEqual(len(self.cap.of("slack")), 6)
        self.assertEqual(len(self.cap.of("hook")), 6)
        # Alertmanager: per alert (label set) firing then resolved, once each.
        seen = {}
        for rec in self.cap.of("am"):
            for a in rec["body"]:
                ends = datetime.fromisoformat(a["endsAt"].replace("Z", "+00:00"))
                state = "resolved" if ends <= datetime.now(timezone.utc) else "firing"
                seen.setdefault(a["labels"]["region"], []).append(state)
        self.assertEqual(seen, {r: ["firing", "resolved"] for r in regions})
        self.assertEqual(self.alerts(agent)["dead_letters"], [])
        self.assertEqual(metric_value(agent.metrics(), "calprobe_notifications_outbox_pending",
                                      receiver="pd"), 0)

    def test_kill9_while_alerts_fire_loses_none(self):
        cfg = self.config(["pd", "slack"])
        agent = self.agent(cfg)
        keys = {r: f"calprobe/NotifyRegional/region={r}" for r in ("us-east", "eu-west")}

        def firing(a):
            return {x["labels"]["region"] for x in self.alerts(a)["alerts"] if x["state"] == "firing"}

        def pending(a):
            return metric_value(a.metrics(), "calprobe_notifications_outbox_pending", receiver="pd")

        # us-east fires while the receivers are up: delivered before the crash.
        self.cap.start()
        deadline = time.monotonic() + 30
        while metric_value(agent.metrics(), "calprobe_notifications_total", receiver="pd",
                           result="delivered") != 1:
            self.assertLess(time.monotonic(), deadline, "us-east trigger not delivered")
            self.post(agent, [hit("us-east")])
            time.sleep(0.3)
        # Receivers go down; eu-west fires too (its deliveries stay in the outbox).
        self.cap.stop()
        deadline = time.monotonic() + 30
        while not (firing(agent) == {"us-east", "eu-west"} and pending(agent) == 1):
            self.assertLess(time.monotonic(), deadline, "eu-west did not fire with its delivery pending")
            self.post(agent, [hit("us-east"), hit("eu-west")])
            time.sleep(0.3)
        agent.proc.kill9()
        self.cap.start()
        agent2 = self.agent(cfg, name="agent2")
        # eu-west's trigger comes from the outbox, then both resolves (the
        # restarted agent's signals are empty, so both alerts resolve);
        # us-east's trigger is not sent again.
        harness.wait_until(lambda: len(self.cap.pd_events()) >= 4, timeout=30,
                           what="eu-west trigger and both resolves after the restart")
        time.sleep(2)
        self.assertEqual(self.cap.errors, [])
        self.assert_pd_sequences(keys.values())
        # Slack cannot deduplicate: at most one repeat per crash (none here:
        # nothing was in flight at the crash).
        slack = [r["body"]["text"] for r in self.cap.of("slack")]
        for region in keys:
            fired = [t for t in slack if "FIRING" in t and region in t]
            self.assertTrue(1 <= len(fired) <= 2, slack)
        self.assertEqual(pending(agent2), 0)
        self.assertIn("notifications pending from the previous run; sending", agent2.proc.output())

    def test_kill9_with_a_request_in_flight_repeats_slack_once(self):
        # Slack answers after 2 s; the agent is killed after Slack received
        # the firing message but before it answered.
        self.env["CALPROBE_TEST_SLACK_URL"] = self.cap.url("/slackslow/T000/B000/XXXXSECRET")
        cfg = self.config(["pd", "slack"])
        self.cap.start()
        agent = self.agent(cfg)
        key = "calprobe/NotifyRegional/region=us-east"
        self.post(agent, [hit("us-east")])
        harness.wait_until(lambda: self.cap.of("slack") and metric_value(
            agent.metrics(), "calprobe_notifications_total", receiver="pd", result="delivered") == 1,
                           timeout=20, what="Slack request in flight and PagerDuty trigger delivered")
        self.assertEqual(len(self.cap.of("slack")), 1)  # still unanswered
        agent.proc.kill9()
        self.agent(cfg, name="agent2")
        harness.wait_until(lambda: any("RESOLVED" in r["body"]["text"] for r in self.cap.of("slack")),
                           timeout=30, what="Slack resolved after the restart")
        time.sleep(2.5)
        texts = [r["body"]["text"] for r in self.cap.of("slack")]
        # Exactly one repeat of the message in flight at the crash, in order.
        self.assertEqual([t.split(":")[1] for t in texts],
                         ["red_circle", "red_circle", "large_green_circle"], texts)
        self.assertEqual(texts[0], texts[1])
        # PagerDuty, delivered before the crash, is not sent again.
        self.assert_pd_sequences([key])
        self.assertEqual(self.cap.errors, [])

    def test_clean_stop_waits_for_the_request_in_flight(self):
        # The same, but SIGTERM: the agent waits for Slack's answer, so the
        # next start sends nothing again.
        self.env["CALPROBE_TEST_SLACK_URL"] = self.cap.url("/slackslow/T000/B000/XXXXSECRET")
        cfg = self.config(["pd", "slack"])
        self.cap.start()
        agent = self.agent(cfg)
        self.post(agent, [hit("us-east")])
        harness.wait_until(lambda: self.cap.of("slack"), timeout=20, what="Slack request in flight")
        self.assertEqual(agent.stop(), 0)
        self.agent(cfg, name="agent2")
        harness.wait_until(lambda: any("RESOLVED" in r["body"]["text"] for r in self.cap.of("slack")),
                           timeout=30, what="Slack resolved after the restart")
        time.sleep(2.5)
        texts = [r["body"]["text"] for r in self.cap.of("slack")]
        self.assertEqual([t.split(":")[1] for t in texts], ["red_circle", "large_green_circle"], texts)
        self.assert_pd_sequences(["calprobe/NotifyRegional/region=us-east"])

    def test_webhook_sink_prints_deliveries(self):
        sink_port = harness.free_port()
        sink = self.track(harness.Proc([harness.CALPROBE, "webhook-sink", "--listen",
                                        f"127.0.0.1:{sink_port}"], os.path.join(self.tmp, "sink.log")))
        harness.wait_until(lambda: "listening on" in sink.output(), what="sink listening")
        self.env["CALPROBE_TEST_SLACK_URL"] = f"http://127.0.0.1:{sink_port}/slack"
        cfg = self.config(["pd", "slack"]).replace(self.cap.url("/pd/v2/enqueue"),
                                                   f"http://127.0.0.1:{sink_port}/pd")
        agent = self.agent(cfg)
        self.post(agent, [hit("us-east")])
        out = harness.wait_until(lambda: (lambda o: o if o.count("RESOLVED") >= 1 and
                                          "PagerDuty resolve" in o else None)(sink.output()),
                                 timeout=30, what="sink output")
        self.assertIn("PagerDuty trigger dedup_key=calprobe/NotifyRegional/region=us-east "
                      "severity=critical source=calprobe/us-east", out)
        self.assertIn("Slack #calendars-observability :red_circle: FIRING: 1 cache hits in us-east", out)
        self.assertEqual(metric_value(agent.metrics(), "calprobe_notifications_total", receiver="pd",
                                      result="delivered"), 2)

    def test_example_receivers_config_is_valid_and_secrets_required(self):
        path = os.path.join(harness.SOURCE_DIR, "config", "examples", "receivers.yaml")
        env = dict(os.environ, PAGERDUTY_ROUTING_KEY="k1-0000", PAGERDUTY_SECURITY_KEY="k2-0000",
                   INCIDENT_BOT_SECRET="s3-0000",
                   SLACK_WEBHOOK_URL="https://hooks.slack.com/services/T0/B0/X0")
        p = harness.subprocess.run([harness.CALPROBE, "validate-config", path], env=env,
                                   capture_output=True, text=True, timeout=30)
        self.assertEqual(p.returncode, 0, p.stderr)
        del env["PAGERDUTY_ROUTING_KEY"]
        p = harness.subprocess.run([harness.CALPROBE, "validate-config", path], env=env,
                                   capture_output=True, text=True, timeout=30)
        self.assertEqual(p.returncode, 2)
        self.assertIn("receivers[0].routing_key:", p.stderr)
        self.assertIn("PAGERDUTY_ROUTING_KEY", p.stderr)


if __name__ == "__main__":
    harness.main()
