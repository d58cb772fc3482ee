// Deterministic mutation smoke test: thousands of damaged variants of the
// corpus must analyse without crashing and keep the Analysis invariants.
// (The libFuzzer target in tests/fuzz goes further; this runs in ctest.)

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "calendar/ics/ics.h"
#include "test_util.h"

namespace calprobe::calendar {
namespace {

const char* const kSeeds[] = {"clean_google.ics", "clean_outlook.ics", "clean_apple.ics",
                              "duplicate_uid.ics", "rrule_no_instances.ics",
                              "tz_case_mismatch.ics"};
const std::string kInserts[] = {"\r\n", "\n", "\r", " ", ":", ";", "\"", std::string("\0", 1),
                                "\xff",         "\xe2\x82",     "BEGIN:VEVENT\r\n",
                                "END:VEVENT\r\n", "END:VCALENDAR\r\n", "\r\n ",
                                "RRULE:FREQ=SECONDLY\r\n", "TZID=x:",   "RECURRENCE-ID:2025\r\n"};

int PhysicalLines(const std::string& s) {
  return static_cast<int>(std::count(s.begin(), s.end(), '\n') +
                          std::count(s.begin(), s.end(), '\r') + 1);
}

void CheckInvariants(const std::string& body, const Analysis& a) {
  ASSERT_TRUE(std::is_sorted(a.findings.begin(), a.findings.end(),
                             [](const Finding& x, const Finding& y) {
                               return x.line != y.line ? x.line < y.line : x.code < y.code;
                             }));
  std::map<std::string, int> seen;
  for (const Finding& f : a.findings) {
    ++seen[f.code];
    ASSERT_GE(f.line, 0);
    ASSERT_LE(f.line, PhysicalLines(body));
    ASSERT_LE(f.message.size(), 1200u);
  }
  for (const auto& entry : seen) {
    ASSERT_GE(a.finding_counts.at(entry.first), entry.second);
    ASSERT_LE(entry.second, 20);
  }
  ASSERT_LE(a.snapshot.events.size(), a.event_count);
  std::optional<Snapshot> back = DeserializeSnapshot(SerializeSnapshot(a.snapshot));
  ASSERT_TRUE(back.has_value());
  ASSERT_EQ(back->events, a.snapshot.events);
}

TEST(IcsMutation, DamagedFeedsKeepInvariants) {
  std::mt19937_64 rng(20261128);
  for (const char* seed : kSeeds) {
    const std::string original = testing::ReadCorpus(seed);
    for (int round = 0; round < 300; ++round) {
      std::string body = original;
      int edits = 1 + static_cast<int>(rng() % 6);
      for (int e = 0; e < edits && !body.empty(); ++e) {
        size_t pos = rng() % body.size();
        switch (rng() % 5) {
          case 0:
            body[pos] = static_cast<char>(rng() & 0xFF);
            break;
          case 1: {
            body.insert(pos, kInserts[rng() % std::size(kInserts)]);
            break;
          }
          case 2:
            body.erase(pos, 1 + rng() % 40);
            break;
          case 3:
            body.resize(pos);
            break;
          default:
            body.insert(pos, body.substr(rng() % body.size(), rng() % 200));
            break;
        }
      }
      SCOPED_TRACE(std::string(seed) + " round " + std::to_string(round));
      CheckInvariants(body, AnalyzeIcs(body));
      if (HasFatalFailure()) return;
    }
  }
}

}  // namespace
}  // namespace calprobe::calendar
