#pragma once
// Explaining a system under test's slots against the oracle: which expected
// slots are missing, which returned slots are wrong and why.
//
// Classes of a wrong (extra) slot, checked in this order, first match wins:
//   outside_window   not inside [from, to)
//   wrong_duration   end - start != slot_minutes
//   dst_shift        one of a block (>= min_dst_shift_block) of returned
//                    slots that each equal an expected slot moved by the
//                    zone's DST delta (e.g. +-1 h)
//   outside_rules    not inside any open span (rule instance or extra span)
//   misaligned       inside an open span but off its granularity grid
//   inside_exception overlaps a blocked span
//   busy_overlap     overlaps a busy calendar instance
//   held             overlaps a hold or a booking
//   lead_time        starts before now + lead_time_hours
//   unexplained      the oracle cannot say (should not happen)
// Thread safety: reentrant.

#include <array>
#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "calendar/oracle/oracle.h"

namespace calprobe::calendar::oracle {

enum class SlotClass {
  kOutsideWindow,
  kWrongDuration,
  kDstShift,
  kOutsideRules,
  kMisaligned,
  kInsideException,
  kBusyOverlap,
  kHeld,
  kLeadTime,
  kUnexplained,
};
inline constexpr int kSlotClassCount = 10;

// "outside_window", "wrong_duration", "dst_shift", "outside_rules",
// "misaligned", "inside_exception", "busy_overlap", "held", "lead_time",
// "unexplained".
std::string_view SlotClassName(SlotClass c);

struct Classification {
  SlotClass cls = SlotClass::kUnexplained;
  std::string detail;  // human-readable evidence, e.g. the busy span hit
};

// Why `slot` (returned by the system, absent from the oracle) is wrong.
// Never returns kDstShift: that needs the whole returned set (DetectDstShift).
Classification ClassifySlot(const ProviderTruth& truth, const Span& window, TimePoint now,
                            const Slot& slot);

// The zone's DST delta in the year of `at` (0 for zones without DST).
std::chrono::seconds DstDelta(const ProviderTruth& truth, TimePoint at);

struct DstShift {
  std::chrono::seconds delta{0};  // returned = expected + delta
  std::vector<Slot> slots;        // the shifted returned slots
};

// Finds returned slots that equal an expected slot shifted by +-DstDelta.
// Returns nullopt unless at least `min_block` slots share one delta.
std::optional<DstShift> DetectDstShift(const ProviderTruth& truth,
                                       const std::vector<Slot>& expected,
                                       const std::vector<Slot>& returned, int min_block = 2);

struct CompareOptions {
  int min_dst_shift_block = 2;
  // Slots (missing or extra) starting within this distance of the lead-time
  // cutoff are not judged (clock skew between agent and system).
  std::chrono::seconds lead_time_tolerance{0};
};

struct ExtraSlot {
  Slot slot;
  SlotClass cls = SlotClass::kUnexplained;
  std::string detail;
};

struct Comparison {
  std::vector<Slot> expected;   // the oracle's slots
  std::vector<Slot> missing;    // expected, not returned
  std::vector<ExtraSlot> extra; // returned, not expected (sorted by slot)
  std::array<int, kSlotClassCount> counts{};  // extra slots per class
  int duplicates = 0;           // returned more than once (counted once above)
  int unjudged = 0;             // skipped by lead_time_tolerance
  std::optional<DstShift> dst_shift;

  bool ok() const { return missing.empty() && extra.empty(); }
  int count(SlotClass c) const { return counts[static_cast<int>(c)]; }
};

// Compares the returned slots (any order, duplicates allowed) to
// ComputeSlots(truth, window.start, window.end, now).
Comparison CompareSlots(const ProviderTruth& truth, const Span& window, TimePoint now,
                        std::vector<Slot> returned, const CompareOptions& options = {});

}  // namespace calprobe::calendar::oracle
