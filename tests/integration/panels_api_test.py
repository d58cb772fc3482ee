"""GET /api/v1/panels on the real agent: the six panels' values from ingested
events, filters (provider, region, origin), parameter errors, and per-minute
history that survives a restart (persisted in the store)."""

import json

import harness
import panel_events


class PanelsApiTest(harness.TempDirTestCase):
    def start(self):
        return self.track(harness.Agent(self.tmp, f"""
agent:
  region: eu-west
  store: {self.tmp}/agent.db
  ingest_token: panels-token
targets: []
"""))

    def panels(self, agent, query=""):
        status, _, body = harness.get(agent.url("/api/v1/panels" + query))
        self.assertEqual(status, 200, body)
        d = json.loads(body)
        return d, {p["id"]: p for p in d["panels"]}

    def test_values_filters_and_restart(self):
        agent = self.start()
        lines = panel_events.panel_events(providers=("p-nyc", "p-berlin"), region="")
        # Without a region label, events count under the agent's region.
        lines = [l.replace('"region": "", ', "") for l in lines]
        status, report = panel_events.post_events(agent.url(""), "panels-token", lines, harness.http)
        self.assertEqual((status, report["rejected"]), (200, 0), report)
        events = [json.loads(l) for l in lines]

        def count(name, pred=lambda e: True):
            return sum(1 for e in events if e["name"] == name and pred(e))

        d, p = self.panels(agent, "?range=15m")
        self.assertEqual(len(d["panels"]), 6)
        self.assertEqual(d["options"]["regions"], ["eu-west"])
        self.assertEqual(d["filters"]["origin"], "platform")
        fe = p["feasibility_engine"]["values"]
        self.assertEqual(fe["invocations"], count("cal.feasible.generated"))
        hits, misses = count("cal.feasible.cache.hit"), count("cal.feasible.cache.miss")
        self.assertAlmostEqual(fe["cache_hit_ratio"], hits / (hits + misses))
        self.assertAlmostEqual(fe["truncated_share"],
                               count("cal.feasible.generated", lambda e: e["fields"]["truncated"]) /
                               count("cal.feasible.generated"))
        self.assertEqual(fe["oracle_mismatches"], count("calprobe.feasibility.mismatch"))
        # p95 within the histogram's error of the exact value.
        durs = sorted(e["fields"]["duration_ms"] for e in events if e["name"] == "cal.feasible.generated")
        exact = durs[int(0.95 * (len(durs) - 1))]
        self.assertLess(abs(fe["duration_p95_ms"] - exact) / exact, 0.05)

        h = p["hold_to_confirm"]["values"]
        self.assertEqual(h["created"], count("cal.hold.created"))
        self.assertEqual(h["converted"], count("cal.hold.converted"))
        self.assertEqual(h["expired"], count("cal.hold.expired"))
        self.assertAlmostEqual(h["overlap_rejection_rate"],
                               count("cal.hold.created", lambda e: e["fields"]["overlap_detected"]) /
                               count("cal.hold.created"))
        # Converted 40 s into a 15-minute TTL; expired holds consumed all of it.
        conv, exp = count("cal.hold.converted"), count("cal.hold.expired")
        self.assertAlmostEqual(h["avg_ttl_consumption"], (conv * 40 / 900 + exp) / (conv + exp), places=3)

        s = p["external_calendar_sync"]
        self.assertEqual(s["values"]["polls_error"], count("cal.ics.poll.error"))
        self.assertEqual(s["values"]["queue_size"], 50)
        self.assertEqual(s["retry_tiers"]["1"], count("cal.ics.poll.error"))
        self.assertEqual({x["src_id"] for x in s["stalest_sources"]}, {"gcal-p-nyc", "gcal-p-berlin"})
        u = p["user_impact"]["values"]
        self.assertEqual(u["slots_surfaced"],
                         sum(e["fields"]["count"] for e in events if e["name"] == "cal.search.slots_surfaced"))
        self.assertEqual(u["support_tickets_calendar"],
                         count("cal.support.ticket", lambda e: e["fields"]["tag"] == "calendar"))
        self.assertAlmostEqual(u["instant_book_acceptance_rate"],
                               count("cal.booking.instant", lambda e: e["fields"]["accepted"]) /
                               count("cal.booking.instant"))
        self.assertEqual(p["ics_feed_outbound"]["values"]["token_regenerations"],
                         count("cal.ics.feed.token.regenerated"))
        # Feed downloads of one provider come every 9 s in panel_events (or a
        # multiple when the other provider was drawn): the median is >= 9 s.
        self.assertGreaterEqual(p["ics_feed_outbound"]["values"]["median_refresh_interval_seconds"], 8.5)
        self.assertEqual(p["availability_intake"]["values"]["providers_configured"], 2)
        for panel in d["panels"]:
            self.assertTrue(panel["has_data"], panel["id"])
            pts = [v for c in panel["charts"] for s_ in c["series"] for _, v in s_["points"] if v]
            self.assertTrue(pts, panel["id"])

        # Filters: one provider; a region with no events; synthetic origin.
        _, one = self.panels(agent, "?range=15m&provider=p-nyc")
        self.assertEqual(one["feasibility_engine"]["values"]["invocations"],
                         count("cal.feasible.generated", lambda e: e["labels"]["provider"] == "p-nyc"))
        _, none = self.panels(agent, "?range=15m&region=us-east")
        self.assertFalse(any(x["has_data"] for k, x in none.items() if k != "availability_intake"))
        _, syn = self.panels(agent, "?range=15m&origin=synthetic")
        self.assertEqual(syn["feasibility_engine"]["values"]["invocations"], 0)
        self.assertEqual(syn["feasibility_engine"]["values"]["oracle_mismatches"],
                         count("calprobe.feasibility.mismatch"))

        for q, msg in [("?range=10x", "range:"), ("?origin=bots", "origin:"), ("?range=48h", "range: at most"),
                       ("?from=2020-01-01T00:00:00Z&range=1h", "range: give either"), ("?step=30s", "step:")]:
            status, _, body = harness.get(agent.url("/api/v1/panels" + q))
            self.assertEqual(status, 400, q)
            self.assertIn(msg, json.loads(body)["error"], q)

        # History survives a restart.
        before = p
        agent.stop()
        agent = self.start()
        _, after = self.panels(agent, "?range=15m")
        for pid in before:
            self.assertEqual(after[pid]["values"], before[pid]["values"], pid)


if __name__ == "__main__":
    harness.main()
