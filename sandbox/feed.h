#pragma once
// The outbound ICS feed (RFC 5545): bookings as busy VEVENTs, holds as
// tentative ones. Pure rendering, no I/O.

#include <string>
#include <string_view>
#include <vector>

#include "calendar/oracle/types.h"

namespace calprobe::sandbox {

struct FeedEntry {
  std::string uid;  // globally unique, e.g. "b12@sandbox.calprobe.invalid"
  calendar::oracle::Span span;
  bool tentative = false;  // a hold: STATUS:TENTATIVE, SUMMARY:Hold
};

// A VCALENDAR with VERSION, PRODID, CALSCALE, METHOD:PUBLISH, the calendar
// name and one VEVENT per entry (UTC DTSTART/DTEND, DTSTAMP = `dtstamp`,
// TRANSP:OPAQUE). Lines end with CRLF and are folded at 75 octets.
std::string RenderFeed(std::string_view calendar_name, const std::vector<FeedEntry>& entries,
                       calendar::oracle::TimePoint dtstamp);

// Compares secrets in time independent of where they differ.
bool ConstantTimeEquals(std::string_view a, std::string_view b);

}  // namespace calprobe::sandbox
