#!/usr/bin/python3
"""Deterministic generator of realistic ICS feeds for the calprobe benchmark
and the fuzz seed corpus.  Standard library only; run with /usr/bin/python3.

    gen_feed.py --events 10000 --seed 1 --out feed-10k.ics \
                --next feed-10k.next.ics --expect feed-10k.expect.json

What a feed holds (shares are of the VEVENTs; overrides count as VEVENTs):
  * five VTIMEZONEs: America/New_York and Europe/Berlin (STANDARD + DAYLIGHT
    with RRULEs), Australia/Sydney (southern DST), Asia/Tokyo and Asia/Kolkata
    (STANDARD only);
  * timed events with TZID (most), UTC events, all-day (VALUE=DATE) events;
  * recurring masters: weekly BYDAY, daily COUNT, monthly BYMONTHDAY + UNTIL
    (UTC, as RFC 5545 requires when DTSTART has a TZID), some with EXDATEs
    (same value type and TZID as DTSTART) and RECURRENCE-ID overrides that
    hit real instances of their master;
  * organizer + attendees with UTF-8 CNs, UTF-8 summaries, locations and
    long DESCRIPTIONs with escaped commas/semicolons/newlines, all folded at
    75 octets (CRLF + one space) without splitting a UTF-8 sequence;
  * CRLF line endings, no BOM; the feed is meant to lint clean.

--next writes the "next poll" of the same calendar: every DTSTAMP bumped
(a content hash must ignore DTSTAMP), --change-pct of the masters/singles
modified (SUMMARY/DESCRIPTION/SEQUENCE/LAST-MODIFIED), --remove-pct removed
(with their overrides), --add-pct new single events added.  --expect writes
the exact delta keyed by (UID, RECURRENCE-ID) that ComputeDelta must find.

The same --seed always produces byte-identical output (no hash(), no clock).
"""

import argparse
import datetime as dt
import json
import random
import sys

CRLF = "\r\n"

VTIMEZONES = {
    "America/New_York": [
        "BEGIN:VTIMEZONE", "TZID:America/New_York",
        "X-LIC-LOCATION:America/New_York",
        "BEGIN:DAYLIGHT", "TZOFFSETFROM:-0500", "TZOFFSETTO:-0400", "TZNAME:EDT",
        "DTSTART:19700308T020000", "RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=2SU",
        "END:DAYLIGHT",
        "BEGIN:STANDARD", "TZOFFSETFROM:-0400", "TZOFFSETTO:-0500", "TZNAME:EST",
        "DTSTART:19701101T020000", "RRULE:FREQ=YEARLY;BYMONTH=11;BYDAY=1SU",
        "END:STANDARD", "END:VTIMEZONE"],
    "Europe/Berlin": [
        "BEGIN:VTIMEZONE", "TZID:Europe/Berlin", "X-LIC-LOCATION:Europe/Berlin",
        "BEGIN:DAYLIGHT", "TZOFFSETFROM:+0100", "TZOFFSETTO:+0200", "TZNAME:CEST",
        "DTSTART:19700329T020000", "RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU",
        "END:DAYLIGHT",
        "BEGIN:STANDARD", "TZOFFSETFROM:+0200", "TZOFFSETTO:+0100", "TZNAME:CET",
        "DTSTART:19701025T030000", "RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU",
        "END:STANDARD", "END:VTIMEZONE"],
    "Australia/Sydney": [
        "BEGIN:VTIMEZONE", "TZID:Australia/Sydney",
        "X-LIC-LOCATION:Australia/Sydney",
        "BEGIN:STANDARD", "TZOFFSETFROM:+1100", "TZOFFSETTO:+1000", "TZNAME:AEST",
        "DTSTART:19700405T030000", "RRULE:FREQ=YEARLY;BYMONTH=4;BYDAY=1SU",
        "END:STANDARD",
        "BEGIN:DAYLIGHT", "TZOFFSETFROM:+1000", "TZOFFSETTO:+1100", "TZNAME:AEDT",
        "DTSTART:19701004T020000", "RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=1SU",
        "END:DAYLIGHT", "END:VTIMEZONE"],
    "Asia/Tokyo": [
        "BEGIN:VTIMEZONE", "TZID:Asia/Tokyo", "X-LIC-LOCATION:Asia/Tokyo",
        "BEGIN:STANDARD", "TZOFFSETFROM:+0900", "TZOFFSETTO:+0900", "TZNAME:JST",
        "DTSTART:19700101T000000", "END:STANDARD", "END:VTIMEZONE"],
    "Asia/Kolkata": [
        "BEGIN:VTIMEZONE", "TZID:Asia/Kolkata", "X-LIC-LOCATION:Asia/Kolkata",
        "BEGIN:STANDARD", "TZOFFSETFROM:+0530", "TZOFFSETTO:+0530", "TZNAME:IST",
        "DTSTART:19700101T000000", "END:STANDARD", "END:VTIMEZONE"],
}
# Weighted: most events in the two DST zones the issue names.
TZ_WEIGHTS = [("America/New_York", 40), ("Europe/Berlin", 35),
              ("Australia/Sydney", 10), ("Asia/Tokyo", 8), ("Asia/Kolkata", 7)]

WORDS = (
    "sync availability booking slot hold confirm provider calendar review "
    "quarterly planning standup retro roadmap onboarding interview customer "
    "workshop migration incident postmortem budget design sprint demo "
    "release deploy office hours training lunch coffee all-hands offsite "
    "dentist therapy yoga football school pickup flight hotel train "
    "agenda notes dial-in bridge room floor building parking badge "
    "Besprechung Termin Übergabe Größe Straße Café naïve résumé façade "
    "Zoë São Paulo Kraków Łódź Ελληνικά Привет 会議 予定 東京 日程 "
    "회의 مرحبا שלום ✓ 🚀 📅 ☕").split()
FIRST = ["Anna", "José", "Zoë", "Łukasz", "Björn", "Ngozi", "Wei", "Aiko",
         "Priya", "Omar", "Sören", "Chloé", "Dmitri", "Fatima", "Mateo",
         "Ingrid", "Kwame", "Yuki", "Søren", "Álvaro", "李", "Ελένη"]
LAST = ["García", "Müller", "Nowak", "O'Brien", "Dubois", "Rossi", "Kowalczyk",
        "Sato", "Okafor", "Johansson", "Nguyễn", "Smith", "Ivanova", "Tanaka",
        "Fernández", "Żółć", "Schröder", "Patel", "雷", "Παπαδοπούλου"]
DOMAINS = ["example.com", "example.org", "corp.example.net", "mail.example.de"]
LOCATIONS = ["Room 4.12 \\, Building B", "Zoom: https://zoom.example.com/j/123456789",
             "Café Größenwahn\\, Berlin", "会議室 3F", "Main St 12\\; Suite 400",
             "Google Meet: https://meet.example.com/abc-defg-hij", "",
             "Konferenzraum Süd", "Remote", "Sala Łódź"]
WEEKDAYS = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"]
CATEGORIES = ["Work", "Personal", "Travel", "Meeting", "Focus", "Team"]


def fold(line):
    """RFC 5545 3.1: at most 75 octets per physical line (excluding CRLF);
    continuation lines start with one space.  Never splits a UTF-8 sequence."""
    b = line.encode("utf-8")
    if len(b) <= 75:
        return line + CRLF
    out = []
    start, limit = 0, 75
    while len(b) - start > limit:
        end = start + limit
        while end > start and (b[end] & 0xC0) == 0x80:  # inside a UTF-8 sequence
            end -= 1
        out.append(b[start:end])
        start, limit = end, 74
    out.append(b[start:])
    return (CRLF + " ").join(x.decode("utf-8") for x in out) + CRLF


def esc(text):
    return (text.replace("\\", "\\\\").replace(";", "\\;")
            .replace(",", "\\,").replace("\n", "\\n"))


def fmt_local(t):
    return t.strftime("%Y%m%dT%H%M%S")


def fmt_utc(t):
    return t.strftime("%Y%m%dT%H%M%SZ")


def fmt_date(d):
    return d.strftime("%Y%m%d")


class Gen:
    def __init__(self, seed, base):
        self.r = random.Random(seed)
        self.base = base  # first DTSTART day of the calendar window

    def words(self, n):
        r = self.r
        return " ".join(r.choice(WORDS) for _ in range(n))

    def person(self):
        r = self.r
        f, l = r.choice(FIRST), r.choice(LAST)
        ascii_f = "".join(c for c in f.lower() if c.isascii() and c.isalpha()) or "user"
        ascii_l = "".join(c for c in l.lower() if c.isascii() and c.isalpha()) or "x"
        email = "%s.%s%d@%s" % (ascii_f, ascii_l, r.randrange(100), r.choice(DOMAINS))
        return "%s %s" % (f, l), email

    def description(self):
        r = self.r
        if r.random() < 0.12:
            return None
        parts = []
        target = int(r.triangular(60, 760, 100))
        size = 0
        while size < target:
            s = self.words(r.randint(6, 18))
            s = s[0].upper() + s[1:]
            s += r.choice([".", ".", ",", ";", "!", "?", ":"])
            if r.random() < 0.2:
                s += "\n"
            parts.append(s)
            size += len(s.encode("utf-8")) + 1
        if r.random() < 0.3:
            parts.append("\nJoin: https://meet.example.com/%08x?pwd=%016x"
                         % (r.getrandbits(32), r.getrandbits(64)))
        return " ".join(parts)

    def master(self, idx):
        """One master or single event as a dict (rendered later, so the
        next-poll variant can modify fields)."""
        r = self.r
        ev = {"uid": "%08x-%04x-4%03x-b%03x-%012x@calprobe.bench"
                     % (r.getrandbits(32), r.getrandbits(16), r.getrandbits(12),
                        r.getrandbits(12), r.getrandbits(48)),
              "seq": r.choice([0, 0, 0, 1, 2]),
              "summary": self.words(r.randint(2, 7)).title(),
              "desc": self.description(),
              "loc": r.choice(LOCATIONS),
              "status": r.choice(["CONFIRMED"] * 8 + ["TENTATIVE", "CANCELLED"]),
              "transp": r.choice(["OPAQUE"] * 4 + ["TRANSPARENT"]),
              "cats": r.sample(CATEGORIES, r.randint(0, 2)),
              "created": self.base - dt.timedelta(days=r.randint(30, 900),
                                                  seconds=r.randint(0, 86399)),
              "alarm": r.random() < 0.25,
              "rrule": None, "exdates": [], "overrides": []}
        ev["modified"] = ev["created"] + dt.timedelta(days=r.randint(0, 29),
                                                      seconds=r.randint(0, 86399))
        ev["organizer"] = self.person()
        ev["attendees"] = [self.person() for _ in range(r.choice([0, 0, 0, 1, 2, 2, 3, 5]))]
        kind = r.random()
        day = self.base + dt.timedelta(days=r.randint(0, 540))
        if kind < 0.10:                       # all-day
            ev["kind"] = "date"
            ev["start"] = day.date()
            ev["end"] = ev["start"] + dt.timedelta(days=r.choice([1, 1, 1, 2, 3]))
        else:
            start = dt.datetime(day.year, day.month, day.day,
                                r.randint(7, 19), r.choice([0, 15, 30, 45]))
            ev["start"] = start
            ev["end"] = start + dt.timedelta(minutes=r.choice([15, 30, 30, 45, 60, 60, 90, 120]))
            if kind < 0.16:
                ev["kind"] = "utc"
            else:
                ev["kind"] = "tz"
                ev["tzid"] = r.choices([t for t, _ in TZ_WEIGHTS],
                                       [w for _, w in TZ_WEIGHTS])[0]
        # Recurrence for ~28 % of masters.
        rk = r.random()
        if rk < 0.13:
            wd = ev["start"].weekday()
            days = sorted({wd} | set(r.sample(range(5), r.randint(0, 2))))
            rule = "FREQ=WEEKLY;BYDAY=" + ",".join(WEEKDAYS[d] for d in days)
            if r.random() < 0.5:
                rule = "FREQ=WEEKLY;INTERVAL=%d;BYDAY=%s" % (r.choice([1, 2]),
                                                            WEEKDAYS[wd])
                ev["step"] = ("w", int(rule.split("INTERVAL=")[1].split(";")[0]))
            else:
                ev["step"] = ("w", 1)
            if r.random() < 0.3:
                c = r.randint(10, 60)
                rule += ";COUNT=%d" % c
                per_week = 1 if "INTERVAL" in rule else len(days)
                ev["count"] = max(2, c // per_week)  # instances start + k weeks, k < this
            ev["rrule"] = rule
        elif rk < 0.21:
            n = r.randint(5, 40)
            ev["rrule"] = "FREQ=DAILY;COUNT=%d" % n
            ev["step"] = ("d", 1)
            ev["count"] = n
        elif rk < 0.28:
            s = ev["start"]
            if s.day > 28:
                s = s.replace(day=28)
                ev["end"] = ev["end"] - (ev["start"] - s)
                ev["start"] = s
            until = s + dt.timedelta(days=r.randint(120, 720))
            if ev["kind"] == "date":
                ev["rrule"] = "FREQ=MONTHLY;BYMONTHDAY=%d;UNTIL=%s" % (s.day, fmt_date(until))
            else:
                ev["rrule"] = "FREQ=MONTHLY;BYMONTHDAY=%d;UNTIL=%s" % (
                    s.day, fmt_utc(until + dt.timedelta(hours=23)))
            ev["step"] = ("m", 1)
            ev["count"] = 4
        if ev["rrule"]:
            limit = ev.get("count", 30)
            ks = sorted(r.sample(range(1, max(2, limit)), min(limit - 1, 4)))
            if r.random() < 0.4:
                ev["exdates"] = [self.instance(ev, k) for k in ks[:r.randint(1, 3)]]
            if r.random() < 0.3:
                rest = [k for k in ks if self.instance(ev, k) not in ev["exdates"]]
                for k in rest[:r.randint(1, 2)]:
                    ev["overrides"].append(self.override(ev, k))
        return ev

    def instance(self, ev, k):
        kind, n = ev["step"]
        s = ev["start"]
        if kind == "d":
            return s + dt.timedelta(days=k * n)
        if kind == "w":
            return s + dt.timedelta(weeks=k * n)
        y, m = divmod(s.month - 1 + k, 12)
        return s.replace(year=s.year + y, month=m + 1)

    def override(self, ev, k):
        r = self.r
        rid = self.instance(ev, k)
        shift = dt.timedelta(days=r.choice([0, 0, 1])) if ev["kind"] == "date" \
            else dt.timedelta(minutes=r.choice([-60, 30, 60, 120]))
        return {"rid": rid, "start": rid + shift,
                "end": rid + shift + (ev["end"] - ev["start"]),
                "summary": ev["summary"] + " (" + self.words(2) + ")",
                "desc": self.description() if r.random() < 0.5 else ev["desc"],
                "seq": ev["seq"] + 1}


def when(ev, name, value):
    if ev["kind"] == "date":
        return "%s;VALUE=DATE:%s" % (name, fmt_date(value))
    if ev["kind"] == "utc":
        return "%s:%s" % (name, fmt_utc(value))
    return "%s;TZID=%s:%s" % (name, ev["tzid"], fmt_local(value))


def render_common(out, ev, fields, dtstamp):
    out.append(fold("UID:" + ev["uid"]))
    out.append(fold("DTSTAMP:" + fmt_utc(dtstamp)))
    if "rid" in fields:
        out.append(fold(when(ev, "RECURRENCE-ID", fields["rid"])))
    out.append(fold(when(ev, "DTSTART", fields["start"])))
    out.append(fold(when(ev, "DTEND", fields["end"])))


def render(ev, dtstamp):
    out = ["BEGIN:VEVENT" + CRLF]
    render_common(out, ev, ev, dtstamp)
    if ev["rrule"]:
        out.append(fold("RRULE:" + ev["rrule"]))
    for x in ev["exdates"]:
        out.append(fold(when(ev, "EXDATE", x)))
    out.append(fold("CREATED:" + fmt_utc(ev["created"])))
    out.append(fold("LAST-MODIFIED:" + fmt_utc(ev["modified"])))
    out.append(fold("SEQUENCE:%d" % ev["seq"]))
    out.append(fold("STATUS:" + ev["status"]))
    out.append(fold("SUMMARY:" + esc(ev["summary"])))
    if ev["desc"] is not None:
        out.append(fold("DESCRIPTION:" + esc(ev["desc"])))
    if ev["loc"]:
        out.append(fold("LOCATION:" + ev["loc"]))
    if ev["cats"]:
        out.append(fold("CATEGORIES:" + ",".join(ev["cats"])))
    out.append(fold("TRANSP:" + ev["transp"]))
    name, mail = ev["organizer"]
    if ev["attendees"]:
        out.append(fold('ORGANIZER;CN="%s":mailto:%s' % (name, mail)))
        for i, (an, am) in enumerate(ev["attendees"]):
            ps = ["ACCEPTED", "NEEDS-ACTION", "TENTATIVE", "DECLINED"][(i * 7 + len(am)) % 4]
            out.append(fold('ATTENDEE;CUTYPE=INDIVIDUAL;ROLE=REQ-PARTICIPANT;PARTSTAT=%s;'
                            'RSVP=TRUE;CN="%s";X-NUM-GUESTS=0:mailto:%s' % (ps, an, am)))
    if ev["alarm"]:
        out += ["BEGIN:VALARM" + CRLF, "ACTION:DISPLAY" + CRLF,
                fold("DESCRIPTION:" + esc(ev["summary"])),
                "TRIGGER:-PT15M" + CRLF, "END:VALARM" + CRLF]
    out.append("END:VEVENT" + CRLF)
    for o in ev["overrides"]:
        out.append("BEGIN:VEVENT" + CRLF)
        render_common(out, ev, o, dtstamp)
        out.append(fold("SEQUENCE:%d" % o["seq"]))
        out.append(fold("STATUS:CONFIRMED"))
        out.append(fold("SUMMARY:" + esc(o["summary"])))
        if o["desc"] is not None:
            out.append(fold("DESCRIPTION:" + esc(o["desc"])))
        out.append(fold("TRANSP:" + ev["transp"]))
        out.append("END:VEVENT" + CRLF)
    return "".join(out)


def keys(ev):
    def rid(o):
        return when(ev, "RECURRENCE-ID", o["rid"]).split(":", 1)[1]
    return [(ev["uid"], "")] + [(ev["uid"], rid(o)) for o in ev["overrides"]]


def calendar(events, dtstamp, name):
    head = ["BEGIN:VCALENDAR", "VERSION:2.0",
            "PRODID:-//calprobe//bench gen_feed 1.0//EN", "CALSCALE:GREGORIAN",
            "METHOD:PUBLISH", "X-WR-CALNAME:" + esc(name),
            "X-WR-TIMEZONE:Europe/Berlin", "REFRESH-INTERVAL;VALUE=DURATION:PT1H",
            "X-PUBLISHED-TTL:PT1H"]
    parts = [fold(h) for h in head]
    for tz in VTIMEZONES.values():
        parts.append("".join(fold(x) for x in tz))
    for ev in events:
        parts.append(render(ev, dtstamp))
    parts.append("END:VCALENDAR" + CRLF)
    return "".join(parts)


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--events", type=int, required=True,
                    help="number of VEVENTs (overrides included)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", required=True)
    ap.add_argument("--next", help="also write the next-poll variant here")
    ap.add_argument("--expect", help="write the expected delta (JSON) here")
    ap.add_argument("--change-pct", type=float, default=3.0)
    ap.add_argument("--remove-pct", type=float, default=1.0)
    ap.add_argument("--add-pct", type=float, default=1.0)
    a = ap.parse_args()

    base = dt.datetime(2027, 1, 4, 0, 0, 0)
    g = Gen(a.seed, base)
    events, n = [], 0
    while n < a.events:
        ev = g.master(len(events))
        room = a.events - n
        ev["overrides"] = ev["overrides"][:room - 1]
        events.append(ev)
        n += 1 + len(ev["overrides"])
    stamp1 = dt.datetime(2027, 1, 3, 12, 0, 0)
    body = calendar(events, stamp1, "calprobe bench %d" % a.events)
    with open(a.out, "w", encoding="utf-8", newline="") as f:
        f.write(body)
    info = {"file": a.out, "bytes": len(body.encode("utf-8")), "vevents": n,
            "masters": len(events)}

    if a.next:
        r = random.Random(a.seed * 7919 + 17)
        m = len(events)
        pick = list(range(m))
        r.shuffle(pick)
        n_rm = round(m * a.remove_pct / 100)
        n_ch = round(m * a.change_pct / 100)
        removed = set(pick[:n_rm])
        changed = set(pick[n_rm:n_rm + n_ch])
        exp = {"added": 0, "removed": 0, "changed": 0}
        nxt = []
        for i, ev in enumerate(events):
            if i in removed:
                exp["removed"] += len(keys(ev))
                continue
            if i in changed:
                ev = dict(ev)
                ev["seq"] += 1
                ev["modified"] = stamp1
                if r.random() < 0.5:
                    ev["summary"] = ev["summary"] + " — moved"
                else:
                    ev["desc"] = (ev["desc"] or "") + " Updated agenda: " + g.words(8)
                exp["changed"] += 1  # the master only; its overrides are unchanged
            nxt.append(ev)
        n_add = round(m * a.add_pct / 100)
        for _ in range(n_add):
            ev = g.master(0)
            ev["rrule"], ev["exdates"], ev["overrides"] = None, [], []
            pos = r.randrange(len(nxt) + 1)
            nxt.insert(pos, ev)
            exp["added"] += 1
        stamp2 = stamp1 + dt.timedelta(minutes=15)
        body2 = calendar(nxt, stamp2, "calprobe bench %d" % a.events)
        with open(a.next, "w", encoding="utf-8", newline="") as f:
            f.write(body2)
        exp["total"] = exp["added"] + exp["removed"] + exp["changed"]
        info.update({"next": a.next, "next_bytes": len(body2.encode("utf-8")),
                     "next_vevents": sum(len(keys(e)) for e in nxt),
                     "expected_delta": exp})
    if a.expect:
        with open(a.expect, "w") as f:
            json.dump(info, f, indent=1, sort_keys=True)
            f.write("\n")
    json.dump(info, sys.stdout, sort_keys=True)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
