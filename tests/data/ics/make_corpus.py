#!/usr/bin/python3
"""Writes the calprobe ICS test corpus (tests/data/ics/*.ics).

The .ics files are committed; this script documents how they were made and
regenerates them byte for byte. Line numbers asserted by
tests/calendar/ics/corpus_test.cc refer to these files, so edit both
together. Run: python3 tests/data/ics/make_corpus.py
"""

import os

HERE = os.path.dirname(os.path.abspath(__file__))
CRLF = "\r\n"

HDR = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//calprobe//corpus//EN"]
END = ["END:VCALENDAR"]


def fold(line):
    """Folds at 75 octets (CRLF + space), never inside a UTF-8 sequence."""
    data = line.encode("utf-8")
    if len(data) <= 75:
        return [line]
    out, start, limit = [], 0, 75
    while start < len(data):
        end = min(start + limit, len(data))
        while end < len(data) and (data[end] & 0xC0) == 0x80:
            end -= 1
        out.append(data[start:end].decode("utf-8"))
        start, limit = end, 74  # continuation lines carry a leading space
    return [out[0]] + [" " + s for s in out[1:]]


def write(name, lines, eol=CRLF, do_fold=True, raw=None):
    path = os.path.join(HERE, name)
    if raw is not None:
        with open(path, "wb") as f:
            f.write(raw)
        return
    phys = []
    for line in lines:
        phys.extend(fold(line) if do_fold else [line])
    with open(path, "wb") as f:
        f.write((eol.join(phys) + eol).encode("utf-8"))


def event(uid, *props, start="DTSTART:20250106T090000Z", end="DTEND:20250106T100000Z"):
    lines = ["BEGIN:VEVENT", "UID:" + uid, "DTSTAMP:20250101T000000Z"]
    if start:
        lines.append(start)
    if end:
        lines.append(end)
    lines.extend(props)
    lines.append("END:VEVENT")
    return lines


BERLIN = [
    "BEGIN:VTIMEZONE", "TZID:Europe/Berlin", "X-LIC-LOCATION:Europe/Berlin",
    "BEGIN:DAYLIGHT", "TZOFFSETFROM:+0100", "TZOFFSETTO:+0200", "TZNAME:CEST",
    "DTSTART:19700329T020000", "RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU", "END:DAYLIGHT",
    "BEGIN:STANDARD", "TZOFFSETFROM:+0200", "TZOFFSETTO:+0100", "TZNAME:CET",
    "DTSTART:19701025T030000", "RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU", "END:STANDARD",
    "END:VTIMEZONE",
]

NEW_YORK = [
    "BEGIN:VTIMEZONE", "TZID:America/New_York",
    "BEGIN:DAYLIGHT", "TZOFFSETFROM:-0500", "RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=2SU",
    "DTSTART:20070311T020000", "TZNAME:EDT", "TZOFFSETTO:-0400", "END:DAYLIGHT",
    "BEGIN:STANDARD", "TZOFFSETFROM:-0400", "RRULE:FREQ=YEARLY;BYMONTH=11;BYDAY=1SU",
    "DTSTART:20071104T020000", "TZNAME:EST", "TZOFFSETTO:-0500", "END:STANDARD",
    "END:VTIMEZONE",
]

PACIFIC_WINDOWS = [
    "BEGIN:VTIMEZONE", "TZID:Pacific Standard Time",
    "BEGIN:STANDARD", "DTSTART:16010101T020000", "TZOFFSETFROM:-0700", "TZOFFSETTO:-0800",
    "RRULE:FREQ=YEARLY;INTERVAL=1;BYDAY=1SU;BYMONTH=11", "END:STANDARD",
    "BEGIN:DAYLIGHT", "DTSTART:16010101T020000", "TZOFFSETFROM:-0800", "TZOFFSETTO:-0700",
    "RRULE:FREQ=YEARLY;INTERVAL=1;BYDAY=2SU;BYMONTH=3", "END:DAYLIGHT",
    "END:VTIMEZONE",
]


def clean_feeds():
    google_uid = "5k2v8d0qk1m3n4p5r6s7t8u9v0@google.com"
    write("clean_google.ics", [
        "BEGIN:VCALENDAR", "PRODID:-//Google Inc//Google Calendar 70.9054//EN", "VERSION:2.0",
        "CALSCALE:GREGORIAN", "METHOD:PUBLISH", "X-WR-CALNAME:Team calendar",
        "X-WR-TIMEZONE:Europe/Berlin", "X-WR-CALDESC:",
    ] + BERLIN + [
        "BEGIN:VEVENT", "DTSTART;TZID=Europe/Berlin:20250106T090000",
        "DTEND;TZID=Europe/Berlin:20250106T093000",
        "RRULE:FREQ=WEEKLY;BYDAY=MO,WE,FR;UNTIL=20251231T225959Z",
        "EXDATE;TZID=Europe/Berlin:20250113T090000", "DTSTAMP:20250301T101500Z",
        "UID:" + google_uid, "CREATED:20241220T120000Z", "DESCRIPTION:",
        "LAST-MODIFIED:20250105T080000Z", "LOCATION:", "SEQUENCE:0", "STATUS:CONFIRMED",
        "SUMMARY:Standup", "TRANSP:OPAQUE", "END:VEVENT",
        "BEGIN:VEVENT", "DTSTART;TZID=Europe/Berlin:20250108T100000",
        "DTEND;TZID=Europe/Berlin:20250108T103000", "DTSTAMP:20250301T101500Z",
        "UID:" + google_uid, "RECURRENCE-ID;TZID=Europe/Berlin:20250108T090000",
        "CREATED:20241220T120000Z", "DESCRIPTION:", "LAST-MODIFIED:20250107T080000Z",
        "LOCATION:", "SEQUENCE:1", "STATUS:CONFIRMED", "SUMMARY:Standup (moved)",
        "TRANSP:OPAQUE", "END:VEVENT",
        "BEGIN:VEVENT", "DTSTART;VALUE=DATE:20250301", "DTEND;VALUE=DATE:20250303",
        "DTSTAMP:20250301T101500Z", "UID:1a2b3c4d5e6f7g8h9i0j@google.com",
        "CREATED:20250110T090000Z", "DESCRIPTION:", "LAST-MODIFIED:20250110T090000Z",
        "LOCATION:Lisbon", "SEQUENCE:0", "STATUS:CONFIRMED", "SUMMARY:Offsite",
        "TRANSP:TRANSPARENT", "END:VEVENT",
        "BEGIN:VEVENT", "DTSTART:20250310T150000Z", "DTEND:20250310T160000Z",
        "DTSTAMP:20250301T101500Z", "UID:9z8y7x6w5v4u3t2s1r0q@google.com",
        "ATTENDEE;CUTYPE=INDIVIDUAL;ROLE=REQ-PARTICIPANT;PARTSTAT=ACCEPTED;"
        "CN=Zoë Müller;X-NUM-GUESTS=0:mailto:zoe@example.com",
        "CREATED:20250201T090000Z",
        "DESCRIPTION:Agenda:\\n1. Roadmap\\, Q2 planning\\n2. Hiring update\\n"
        "3. Any other business — café afterwards",
        "LAST-MODIFIED:20250201T090000Z", "LOCATION:Room 4.01", "SEQUENCE:0",
        "STATUS:CONFIRMED", "SUMMARY:Quarterly review", "TRANSP:OPAQUE",
        "BEGIN:VALARM", "ACTION:DISPLAY", "DESCRIPTION:This is an event reminder",
        "TRIGGER:-P0DT0H10M0S", "END:VALARM", "END:VEVENT",
        "END:VCALENDAR",
    ])

    outlook_uid = ("040000008200E00074C5B7101A82E00800000000D0B1D5A1F3A5DA010000000000000000"
                   "10000000B1F5E0B9C7A9B34F9F3A0E6E5C1F2A3B")
    write("clean_outlook.ics", [
        "BEGIN:VCALENDAR", "METHOD:PUBLISH", "PRODID:Microsoft Exchange Server 2010",
        "VERSION:2.0", "X-WR-CALNAME:Calendar", "X-PUBLISHED-TTL:PT1H",
    ] + PACIFIC_WINDOWS + [
        "BEGIN:VEVENT", "DESCRIPTION:\\n",
        "RRULE:FREQ=WEEKLY;UNTIL=20251216T170000Z;INTERVAL=1;BYDAY=TU;WKST=SU",
        "EXDATE;TZID=Pacific Standard Time:20250121T090000",
        "UID:" + outlook_uid, "SUMMARY:Weekly sync",
        "DTSTART;TZID=Pacific Standard Time:20250107T090000",
        "DTEND;TZID=Pacific Standard Time:20250107T093000", "CLASS:PUBLIC", "PRIORITY:5",
        "DTSTAMP:20250301T180000Z", "TRANSP:OPAQUE", "STATUS:CONFIRMED", "SEQUENCE:0",
        "LOCATION:Microsoft Teams Meeting", "X-MICROSOFT-CDO-APPT-SEQUENCE:0",
        "X-MICROSOFT-CDO-BUSYSTATUS:BUSY", "X-MICROSOFT-CDO-INTENDEDSTATUS:BUSY",
        "X-MICROSOFT-CDO-ALLDAYEVENT:FALSE", "X-MICROSOFT-CDO-IMPORTANCE:1",
        "X-MICROSOFT-CDO-INSTTYPE:1", "X-MICROSOFT-DONOTFORWARDMEETING:FALSE",
        "X-MICROSOFT-DISALLOW-COUNTER:FALSE", "END:VEVENT",
        "BEGIN:VEVENT", "DESCRIPTION:\\n", "UID:" + outlook_uid.replace("D0B1", "E1C2"),
        "SUMMARY:Out of office", "DTSTART;VALUE=DATE:20250214",
        "DTEND;VALUE=DATE:20250215", "CLASS:PUBLIC", "PRIORITY:5",
        "DTSTAMP:20250301T180000Z", "TRANSP:TRANSPARENT", "STATUS:CONFIRMED", "SEQUENCE:0",
        "X-MICROSOFT-CDO-BUSYSTATUS:OOF", "X-MICROSOFT-CDO-ALLDAYEVENT:TRUE", "END:VEVENT",
        "END:VCALENDAR",
    ])

    write("clean_apple.ics", [
        "BEGIN:VCALENDAR", "METHOD:PUBLISH", "VERSION:2.0",
        "X-WR-CALNAME:Home", "PRODID:-//Apple Inc.//macOS 14.2//EN",
        "X-APPLE-CALENDAR-COLOR:#1BADF8", "X-WR-TIMEZONE:America/New_York",
        "REFRESH-INTERVAL;VALUE=DURATION:PT4H", "CALSCALE:GREGORIAN",
    ] + NEW_YORK + [
        "BEGIN:VEVENT", "CREATED:20250102T151200Z",
        "UID:6B2E1F0A-3C4D-4E5F-8A9B-0C1D2E3F4A5B",
        "DTEND;TZID=America/New_York:20250115T110000", "TRANSP:OPAQUE",
        "X-APPLE-TRAVEL-ADVISORY-BEHAVIOR:AUTOMATIC", "SUMMARY:Dentist",
        "LAST-MODIFIED:20250102T151300Z", "DTSTAMP:20250102T151300Z",
        "DTSTART;TZID=America/New_York:20250115T100000", "SEQUENCE:1",
        'X-APPLE-STRUCTURED-LOCATION;VALUE=URI;X-ADDRESS="1 Main St: Suite 2\\nSpring'
        'field";X-APPLE-RADIUS=70;X-TITLE="Dr. Smile":geo:40.7128,-74.0060',
        "BEGIN:VALARM", "X-WR-ALARMUID:0E0E0E0E-1111-2222-3333-444455556666",
        "UID:0E0E0E0E-1111-2222-3333-444455556666", "TRIGGER:-PT15M",
        "ATTACH;VALUE=URI:Chord", "ACTION:AUDIO", "X-APPLE-DEFAULT-ALARM:TRUE",
        "ACKNOWLEDGED:20250115T144500Z", "END:VALARM", "END:VEVENT",
        "BEGIN:VEVENT", "CREATED:20240101T100000Z", "UID:B1RTHDAY-0001",
        "RRULE:FREQ=YEARLY", "DTEND;VALUE=DATE:19900516", "TRANSP:TRANSPARENT",
        "SUMMARY:Ana's birthday", "DTSTART;VALUE=DATE:19900515",
        "DTSTAMP:20240101T100000Z", "SEQUENCE:0", "END:VEVENT",
        "END:VCALENDAR",
    ])

    write("empty_calendar.ics", HDR + END)


def content_defects():
    write("not_ics_html.ics", None, raw=(
        b"<!DOCTYPE html>\n<html><head><title>Sign in</title></head>\n"
        b"<body><form action=\"/login\">Password: <input type=password></form></body></html>\n"))
    write("not_ics_json.ics", None, raw=b'{"error":{"code":401,"message":"Invalid token"}}\n')
    write("empty_body.ics", None, raw=b"")
    write("bom.ics", None, raw=b"\xef\xbb\xbf" + (CRLF.join(
        HDR + event("bom-1@x") + END) + CRLF).encode())
    # Latin-1 "café" on line 9.
    write("invalid_utf8.ics", None, raw=(CRLF.join(
        HDR + event("latin1@x", "SUMMARY:caf\x00") + END) + CRLF).encode().replace(
            b"caf\x00", b"caf\xe9"))
    # BEL on line 9 (warning), NUL on line 10 (error: libical stops there).
    write("control_chars.ics", None, raw=(CRLF.join(
        HDR + event("ctl@x", "SUMMARY:ring\x07bell", "DESCRIPTION:before\x00after") + END)
        + CRLF).encode())
    write("line_endings_lf.ics", HDR + event("lf@x") + END, eol="\n")
    # Line 10 lost its leading space (a newline that was not escaped).
    write("bad_folding.ics", HDR + event(
        "fold@x", "DESCRIPTION:first line of the text", "second line of the text",
        "SUMMARY:ok") + END)
    write("long_line.ics", HDR + event("long@x", "SUMMARY:" + "x" * 120) + END, do_fold=False)
    # Cut in the middle of the second event.
    lines = HDR + event("t1@x") + ["BEGIN:VEVENT", "UID:t2@x", "DTSTAMP:20250101T000000Z",
                                   "DTSTART:2025010"]
    write("truncated.ics", None, raw=(CRLF.join(lines)).encode())
    # END:VTODO closes the VEVENT opened at line 4 (line 8).
    write("structure.ics", HDR + ["BEGIN:VEVENT", "UID:s1@x", "DTSTAMP:20250101T000000Z",
                                  "DTSTART:20250106T090000Z", "END:VTODO", "END:VEVENT"] + END)
    write("multiple_calendars.ics", HDR + event("m1@x") + END + HDR + event("m2@x") + END)
    nest = ["BEGIN:X-LEVEL%d" % i for i in range(1, 10)]
    write("excessive_nesting.ics", HDR + nest + ["END:X-LEVEL%d" % i for i in range(9, 0, -1)]
          + END)


def structure_defects():
    write("missing_version_prodid.ics", ["BEGIN:VCALENDAR"] + event("v@x") + END)
    write("event_missing_props.ics", HDR + [
        "BEGIN:VEVENT", "DTSTAMP:20250101T000000Z", "DTSTART:20250106T090000Z", "END:VEVENT",
        "BEGIN:VEVENT", "UID:nostamp@x", "DTSTART:20250106T090000Z", "END:VEVENT",
        "BEGIN:VEVENT", "UID:nostart@x", "DTSTAMP:20250101T000000Z", "SUMMARY:when?",
        "END:VEVENT",
    ] + END)
    write("dtend_and_duration.ics", HDR + event("dd@x", "DURATION:PT1H") + END)
    write("end_before_start.ics", HDR + event(
        "ebs1@x", end="DTEND:20250106T080000Z") + event(
        "ebs2@x", "DURATION:-PT30M", end=None) + [
        "BEGIN:VEVENT", "UID:ebs3@x", "DTSTAMP:20250101T000000Z",
        "DTSTART;TZID=Europe/Berlin:20250106T090000",
        "DTEND;TZID=America/New_York:20250106T080000", "END:VEVENT"] + END)
    write("duplicate_uid.ics", HDR + event("dup@x", "SUMMARY:one") + event(
        "dup@x", "SUMMARY:two") + event("dup@x", "RECURRENCE-ID:20250113T090000Z",
                                        start="DTSTART:20250113T090000Z",
                                        end="DTEND:20250113T100000Z") + event(
        "dup@x", "RECURRENCE-ID:20250113T090000Z", start="DTSTART:20250113T090000Z",
        end="DTEND:20250113T100000Z") + END)
    write("orphan_override.ics", HDR + event(
        "orphan@x", "RECURRENCE-ID:20250113T090000Z", start="DTSTART:20250113T100000Z",
        end="DTEND:20250113T110000Z") + END)
    write("invalid_values.ics", HDR + event(
        "iv@x", "STATUS:DONE", "TRANSP:BUSY", "CLASS:SECRET", "PRIORITY:12") + END)
    write("property_invalid.ics", HDR + [
        "BEGIN:VEVENT", "UID:pi1@x", "DTSTAMP:20250101T000000Z",
        "DTSTART:2025-01-06 09:00", "DTEND:20250230T100000Z", "END:VEVENT",
        "BEGIN:VEVENT", "UID:pi2@x", "DTSTAMP:20250101T000000Z",
        "DTSTART:20250106T090000Z", "DURATION:1 hour", "SEQUENCE:one",
        "EXDATE:20250113T090000Z,tomorrow", "LAST-MODIFIED:yesterday", "END:VEVENT",
    ] + END)


def tz_defects():
    write("tz_unknown_tzid.ics", HDR + event(
        "tzu@x", start="DTSTART;TZID=Mountain Time (Custom):20250106T090000",
        end="DTEND;TZID=Mountain Time (Custom):20250106T100000") + END)
    write("tz_windows_tzid.ics", HDR + event(
        "tzw@x", start="DTSTART;TZID=Pacific Standard Time:20250106T090000",
        end="DTEND;TZID=Pacific Standard Time:20250106T100000") + END)
    write("tz_case_mismatch.ics", HDR + event(
        "tzc@x", start="DTSTART;TZID=america/new_york:20250106T090000",
        end="DTEND;TZID=america/new_york:20250106T100000") + NEW_YORK + event(
        "tzc2@x", start="DTSTART;TZID=AMERICA/NEW_YORK:20250107T090000",
        end="DTEND;TZID=AMERICA/NEW_YORK:20250107T100000") + END)
    write("tz_floating_time.ics", HDR + event(
        "fl1@x", start="DTSTART:20250106T090000", end="DTEND:20250106T100000") + event(
        "fl2@x", start="DTSTART;VALUE=DATE:20250107", end="DTEND;VALUE=DATE:20250108") + END)
    write("tz_x_wr_timezone_only.ics", HDR + ["X-WR-TIMEZONE:Europe/Berlin"] + event(
        "xw1@x", start="DTSTART:20250106T090000", end="DTEND:20250106T100000") + event(
        "xw2@x", start="DTSTART:20250107T090000", end="DTEND:20250107T100000") + END)


def rrule_defects():
    write("rrule_invalid.ics", HDR + event("ri1@x", "RRULE:FREQ=WEEKLY;BYDAY=MONDAY") + event(
        "ri2@x", "RRULE:FREQ=DAILY;COUNT=5;UNTIL=20250201T000000Z") + END)
    write("rrule_until_type_mismatch.ics", HDR + BERLIN + [
        "BEGIN:VEVENT", "UID:ru1@x", "DTSTAMP:20250101T000000Z",
        "DTSTART;TZID=Europe/Berlin:20250106T090000", "RRULE:FREQ=DAILY;UNTIL=20250131",
        "END:VEVENT",
        "BEGIN:VEVENT", "UID:ru2@x", "DTSTAMP:20250101T000000Z",
        "DTSTART;TZID=Europe/Berlin:20250106T090000",
        "RRULE:FREQ=DAILY;UNTIL=20250131T090000", "END:VEVENT",
    ] + END)
    write("rrule_unbounded_high_frequency.ics", HDR + event(
        "rh1@x", "RRULE:FREQ=MINUTELY;INTERVAL=5") + event(
        "rh2@x", "RRULE:FREQ=HOURLY;COUNT=10") + END)
    write("rrule_no_instances.ics", HDR + event(
        "rn1@x", "RRULE:FREQ=DAILY;UNTIL=20241231T000000Z") + event(
        "rn2@x", "RRULE:FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30,31") + event(
        "rn3@x", "RRULE:FREQ=DAILY;COUNT=0") + END)
    write("exdate_type_mismatch.ics", HDR + event(
        "ex1@x", "RRULE:FREQ=DAILY;COUNT=10", "EXDATE;VALUE=DATE:20250108") + event(
        "ex2@x", "RRULE:FREQ=DAILY;COUNT=10", "EXDATE:20250108T000000Z",
        start="DTSTART;VALUE=DATE:20250106", end="DTEND;VALUE=DATE:20250107") + END)


def sync_defects():
    write("stale_content.ics", HDR + [
        "BEGIN:VEVENT", "UID:old@x", "DTSTAMP:20200101T000000Z",
        "LAST-MODIFIED:20200101T000000Z", "DTSTART:20200106T090000Z",
        "DTEND:20200106T100000Z", "END:VEVENT"] + END)


def mixed_defects():
    """A realistic broken export: several defects at once, LF line endings."""
    write("broken_provider.ics", [
        "BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Acme Booking//Export 1.2//EN",
        "X-WR-TIMEZONE:Europe/Berlin",
        "BEGIN:VEVENT", "UID:b1@acme", "DTSTART:20250106T090000", "DTEND:20250106T100000",
        "SUMMARY:Yoga class", "RRULE:FREQ=WEEKLY;BYDAY=MO;UNTIL=20250630", "END:VEVENT",
        "BEGIN:VEVENT", "UID:b2@acme", "DTSTAMP:20250101T000000Z",
        "DTSTART;TZID=W. Europe Standard Time:20250107T180000",
        "DTEND;TZID=W. Europe Standard Time:20250107T190000", "SUMMARY:Pilates",
        "RRULE:FREQ=WEEKLY;BYDAY=TUESDAY", "STATUS:BOOKED", "END:VEVENT",
        "BEGIN:VEVENT", "UID:b2@acme", "DTSTAMP:20250101T000000Z",
        "DTSTART:20250108T170000Z", "DTEND:20250108T160000Z", "SUMMARY:Spinning",
        "END:VEVENT",
        "END:VCALENDAR",
    ], eol="\n")


if __name__ == "__main__":
    clean_feeds()
    content_defects()
    structure_defects()
    tz_defects()
    rrule_defects()
    sync_defects()
    mixed_defects()
