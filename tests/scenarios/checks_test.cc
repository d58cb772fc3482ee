// IcsHasEvent: the ics_contains / ics_lacks matcher of scenario steps.

#include "probes/scenario/checks.h"

#include <gtest/gtest.h>

#include <string>

#include "core/clock.h"

namespace calprobe::probes::scenario {
namespace {

std::string Feed(const std::string& dtstart_line) {
  return "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//EN\r\n"
         "BEGIN:VEVENT\r\nUID:hold-1@calprobe\r\nDTSTAMP:20270301T000000Z\r\n" +
         dtstart_line + "\r\nDTEND:20270315T140000Z\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
}

core::TimePoint At(const char* rfc3339) { return *core::ParseRfc3339(rfc3339); }

TEST(ScenarioIcsHasEvent, UtcStartAndUid) {
  const std::string f = Feed("DTSTART:20270315T130000Z");
  EXPECT_TRUE(IcsHasEvent(f, std::string("hold-1@calprobe"), At("2027-03-15T13:00:00Z")));
  EXPECT_FALSE(IcsHasEvent(f, std::string("hold-2@calprobe"), At("2027-03-15T13:00:00Z")));
  EXPECT_FALSE(IcsHasEvent(f, std::nullopt, At("2027-03-15T13:00:01Z")));
}

TEST(ScenarioIcsHasEvent, TzidStartIsReadInItsZone) {
  // 09:00 in New York on 15 March 2027 is EDT (UTC-4): 13:00Z, not 09:00Z.
  const std::string ny = Feed("DTSTART;TZID=America/New_York:20270315T090000");
  EXPECT_TRUE(IcsHasEvent(ny, std::nullopt, At("2027-03-15T13:00:00Z")));
  EXPECT_FALSE(IcsHasEvent(ny, std::nullopt, At("2027-03-15T09:00:00Z")));
  // Quoted and Windows names: 14:00 Berlin (CET, UTC+1) = 13:00Z.
  EXPECT_TRUE(IcsHasEvent(Feed("DTSTART;TZID=\"Europe/Berlin\":20270315T140000"), std::nullopt,
                          At("2027-03-15T13:00:00Z")));
  EXPECT_TRUE(IcsHasEvent(Feed("DTSTART;TZID=W. Europe Standard Time:20270315T140000"),
                          std::nullopt, At("2027-03-15T13:00:00Z")));
  // Spring-forward gap (14 March 2027, 02:00-03:00 in New York): 02:30 reads
  // with the offset before the change, EST (UTC-5) = 07:30Z.
  EXPECT_TRUE(IcsHasEvent(Feed("DTSTART;TZID=America/New_York:20270314T023000"), std::nullopt,
                          At("2027-03-14T07:30:00Z")));
}

TEST(ScenarioIcsHasEvent, FloatingAndUnknownZonesReadAsUtcWallTime) {
  EXPECT_TRUE(IcsHasEvent(Feed("DTSTART:20270315T130000"), std::nullopt,
                          At("2027-03-15T13:00:00Z")));
  EXPECT_TRUE(IcsHasEvent(Feed("DTSTART;TZID=Custom Zone 1:20270315T130000"), std::nullopt,
                          At("2027-03-15T13:00:00Z")));
}

}  // namespace
}  // namespace calprobe::probes::scenario
