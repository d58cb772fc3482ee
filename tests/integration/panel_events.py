"""Events that give each of the six dashboard panels data (NDJSON lines).

Used by the panels, browser and demo checks. Times are spread over the last
`minutes` minutes (inside the agent's default 10-minute lateness limit) so
charts get several points.
"""

import datetime
import json
import random


def _ts(t):
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


def panel_events(now=None, minutes=8, providers=("p-nyc", "p-berlin"), region="us-east", seed=7):
    rnd = random.Random(seed)
    now = now or datetime.datetime.now(datetime.timezone.utc)
    out = []

    def ev(name, t, fields, provider=None, role="host", **labels):
        lab = {"provider": provider or rnd.choice(providers), "role": role, "region": region}
        if provider == "":
            del lab["provider"]
        lab.update(labels)
        out.append({"name": name, "time": _ts(t), "labels": lab, "fields": fields})

    for m in range(minutes, 0, -1):
        base = now - datetime.timedelta(minutes=m)
        for i in range(6):
            t = base + datetime.timedelta(seconds=i * 9 + 1)
            p = rnd.choice(providers)
            ev("cal.feasible.generated", t, {"slot_count": 12, "candidate_windows": 4,
                                            "duration_ms": 80 + rnd.random() * 400 + (1500 if i == 5 else 0),
                                            "truncated": i == 3}, p)
            ev("cal.feasible.cache.hit" if i % 3 else "cal.feasible.cache.miss", t, {}, p)
            ev("cal.search.slots_surfaced", t, {"count": 10 + i}, p)
            hid = f"h-{m}-{i}"
            ev("cal.hold.created", t, {"source": "search", "ttl_minutes": 15,
                                       "overlap_detected": i == 4, "hold_id": hid}, p)
            if i in (0, 1, 2):
                ev("cal.hold.converted", t + datetime.timedelta(seconds=40),
                   {"source": "search", "ttl_minutes": 15, "overlap_detected": False, "hold_id": hid}, p)
                ev("cal.booking.instant", t + datetime.timedelta(seconds=40), {"accepted": i != 2}, p)
            if i == 3:
                ev("cal.hold.expired", t, {"source": "search", "ttl_minutes": 15,
                                           "overlap_detected": False, "hold_id": f"old-{m}"}, p)
            ev("cal.ics.poll.ok" if i != 4 else "cal.ics.poll.error", t,
               {"http_status": 200 if i != 4 else 503, "etag_matched": i % 2 == 0,
                "delta_event_count": i, "payload_bytes": 4096 + i, "retry_tier": 0 if i != 4 else 1},
               p, src_id=f"gcal-{p}")
            ev("cal.ics.feed.requested", t, {"include_holds": False, "status": 200 if i else 500}, p)
        ev("cal.rule.updated", base, {"weekday_mask": 31, "timezone": "Europe/Berlin", "lead_time_hours": 2})
        ev("cal.exception.upserted", base, {"kind": "blocked", "span_minutes": 120})
        ev("cal.ics.backlog", base, {"size": 3 + m % 4, "queue_size": 50}, provider="")
        ev("cal.booking.rebooked", base, {"latency_ms": 3000 + 500 * m})
        ev("cal.support.ticket", base, {"tag": "calendar" if m % 2 else "billing"})
        if m % 4 == 0:
            ev("cal.ics.feed.token.regenerated", base, {"reason": "api"})
        ev("calprobe.feasibility.mismatch", base, {"missing": 1, "extra": 0}, origin="synthetic")
    return [json.dumps(e) for e in out]


def post_events(agent_url, token, lines, http):
    body = ("\n".join(lines) + "\n").encode()
    status, _, resp = http("POST", agent_url + "/api/v1/events", body=body,
                           headers={"Authorization": "Bearer " + token,
                                    "Content-Type": "application/x-ndjson"})
    return status, json.loads(resp)
