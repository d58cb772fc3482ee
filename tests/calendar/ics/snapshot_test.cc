// Snapshots and deltas: the content hash ignores DTSTAMP, folding and line
// endings; ComputeDelta counts added / removed / changed; serialisation
// round-trips and rejects garbage.

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "calendar/ics/ics.h"
#include "test_util.h"

namespace calprobe::calendar {
namespace {

using testing::Calendar;

std::vector<std::string> Event(const std::string& uid, const std::string& summary,
                               const std::string& dtstamp = "20250101T000000Z") {
  return {"BEGIN:VEVENT", "UID:" + uid, "DTSTAMP:" + dtstamp, "DTSTART:20250106T090000Z",
          "SUMMARY:" + summary, "END:VEVENT"};
}

std::vector<std::string> Concat(std::vector<std::vector<std::string>> parts) {
  std::vector<std::string> out;
  for (auto& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

Snapshot SnapshotOf(const std::string& body) {
  Analysis a = AnalyzeIcs(body);
  EXPECT_TRUE(a.usable);
  return a.snapshot;
}

const std::string kBase =
    Calendar(Concat({Event("a@x", "Alpha"), Event("b@x", "Beta"), Event("c@x", "Gamma")}));

TEST(IcsSnapshot, IdenticalFeedsHaveNoDelta) {
  Delta d = ComputeDelta(SnapshotOf(kBase), SnapshotOf(kBase));
  EXPECT_EQ(d.total(), 0);
}

TEST(IcsSnapshot, DtstampOnlyChangeIsNoChange) {
  std::string bumped = Calendar(Concat({Event("a@x", "Alpha", "20250301T101010Z"),
                                        Event("b@x", "Beta", "20250301T101010Z"),
                                        Event("c@x", "Gamma", "20250301T101010Z")}));
  EXPECT_EQ(ComputeDelta(SnapshotOf(kBase), SnapshotOf(bumped)).total(), 0);
}

TEST(IcsSnapshot, FoldingAndLineEndingsAreNoChange) {
  std::string folded = kBase;
  folded.replace(folded.find("SUMMARY:Alpha"), 13, "SUMM\r\n ARY:Al\r\n\tpha");
  std::string lf = kBase;
  for (size_t i; (i = lf.find("\r\n")) != std::string::npos;) lf.erase(i, 1);
  Snapshot base = SnapshotOf(kBase);
  EXPECT_EQ(ComputeDelta(base, SnapshotOf(folded)).total(), 0);
  EXPECT_EQ(ComputeDelta(base, SnapshotOf(lf)).total(), 0);
}

TEST(IcsSnapshot, PropertyOrderIsNoChange) {
  std::string reordered = Calendar(Concat(
      {{"BEGIN:VEVENT", "SUMMARY:Alpha", "DTSTART:20250106T090000Z", "UID:a@x",
        "DTSTAMP:20250101T000000Z", "END:VEVENT"},
       Event("b@x", "Beta"), Event("c@x", "Gamma")}));
  EXPECT_EQ(ComputeDelta(SnapshotOf(kBase), SnapshotOf(reordered)).total(), 0);
}

TEST(IcsSnapshot, SummaryChangeIsChanged) {
  std::string changed =
      Calendar(Concat({Event("a@x", "Alpha 2"), Event("b@x", "Beta"), Event("c@x", "Gamma")}));
  Delta d = ComputeDelta(SnapshotOf(kBase), SnapshotOf(changed));
  EXPECT_EQ(d.added, 0);
  EXPECT_EQ(d.removed, 0);
  EXPECT_EQ(d.changed, 1);
}

TEST(IcsSnapshot, AlarmChangeIsChanged) {
  std::string with_alarm = kBase;
  with_alarm.insert(with_alarm.find("END:VEVENT"),
                    "BEGIN:VALARM\r\nACTION:DISPLAY\r\nTRIGGER:-PT5M\r\nEND:VALARM\r\n");
  EXPECT_EQ(ComputeDelta(SnapshotOf(kBase), SnapshotOf(with_alarm)).changed, 1);
}

TEST(IcsSnapshot, AddAndRemove) {
  std::string next =
      Calendar(Concat({Event("a@x", "Alpha"), Event("c@x", "Gamma"), Event("d@x", "Delta"),
                       Event("e@x", "Epsilon")}));
  Delta d = ComputeDelta(SnapshotOf(kBase), SnapshotOf(next));
  EXPECT_EQ(d.added, 2);
  EXPECT_EQ(d.removed, 1);
  EXPECT_EQ(d.changed, 0);
  EXPECT_EQ(d.total(), 3);
  // Against an empty previous snapshot everything is added.
  EXPECT_EQ(ComputeDelta(Snapshot{}, SnapshotOf(next)).added, 4);
}

TEST(IcsSnapshot, OverridesAreSeparateKeys) {
  std::string body = Calendar(Concat(
      {Event("r@x", "Series"),
       {"BEGIN:VEVENT", "UID:r@x", "RECURRENCE-ID:20250113T090000Z",
        "DTSTAMP:20250101T000000Z", "DTSTART:20250113T100000Z", "END:VEVENT"}}));
  Snapshot s = SnapshotOf(body);
  EXPECT_EQ(s.events.size(), 2u);
  EXPECT_EQ(s.events.count({"r@x", "20250113T090000Z"}), 1u);
  std::string without_override = Calendar(Event("r@x", "Series"));
  Delta d = ComputeDelta(s, SnapshotOf(without_override));
  EXPECT_EQ(d.removed, 1);
  EXPECT_EQ(d.changed, 0);
}

TEST(IcsSnapshot, SerializeRoundTrip) {
  Snapshot s = SnapshotOf(testing::ReadCorpus("clean_google.ics"));
  std::string bytes = SerializeSnapshot(s);
  std::optional<Snapshot> back = DeserializeSnapshot(bytes);
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->events, s.events);
  EXPECT_EQ(SerializeSnapshot(*back), bytes);  // deterministic
  std::optional<Snapshot> empty = DeserializeSnapshot(SerializeSnapshot(Snapshot{}));
  ASSERT_TRUE(empty.has_value());
  EXPECT_TRUE(empty->events.empty());
}

TEST(IcsSnapshot, DeserializeRejectsGarbage) {
  std::string good = SerializeSnapshot(SnapshotOf(kBase));
  EXPECT_FALSE(DeserializeSnapshot(""));
  EXPECT_FALSE(DeserializeSnapshot("CPS2"));
  EXPECT_FALSE(DeserializeSnapshot(good.substr(0, good.size() - 1)));
  EXPECT_FALSE(DeserializeSnapshot(good + "x"));
  EXPECT_FALSE(DeserializeSnapshot(std::string("CPS1\xff\xff\xff\xff\x0f", 9)));
  for (size_t cut = 0; cut < good.size(); ++cut) {
    EXPECT_FALSE(DeserializeSnapshot(good.substr(0, cut))) << cut;
  }
}

}  // namespace
}  // namespace calprobe::calendar
