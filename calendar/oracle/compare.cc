#include "calendar/oracle/compare.h"

#include <date/date.h>

#include <algorithm>
#include <cstdlib>

#include "calendar/oracle/tz.h"

namespace calprobe::calendar::oracle {

namespace {

using std::chrono::minutes;
using std::chrono::seconds;

constexpr std::string_view kNames[kSlotClassCount] = {
    "outside_window", "wrong_duration", "dst_shift", "outside_rules", "misaligned",
    "inside_exception", "busy_overlap", "held", "lead_time", "unexplained"};

// "Mon 2027-03-15 17:00 local" for messages.
std::string LocalLabel(const Zone* zone, TimePoint t) {
  if (zone == nullptr) return FormatUtc(t);
  const date::local_seconds l{UtcToLocal(*zone, t)};
  return date::format("%a %Y-%m-%d %H:%M local", l);
}

std::string DeltaLabel(seconds d) {
  const long long m = d.count() / 60;
  return (m < 0 ? "-" : "+") + std::to_string(std::llabs(m) / 60) + "h" +
         (std::llabs(m) % 60 ? std::to_string(std::llabs(m) % 60) + "m" : "");
}

std::optional<std::string> FirstOverlap(const std::vector<Span>& spans, const Slot& slot,
                                        const std::string& name) {
  for (size_t i = 0; i < spans.size(); ++i) {
    if (spans[i].Overlaps(slot)) {
      return "overlaps " + name + "[" + std::to_string(i) + "] " + FormatSpan(spans[i]);
    }
  }
  return std::nullopt;
}

bool Judged(const Slot& s, TimePoint cutoff, seconds tolerance) {
  if (tolerance <= seconds(0)) return true;
  const auto d = s.start > cutoff ? s.start - cutoff : cutoff - s.start;
  return d > tolerance;
}

}  // namespace

std::string_view SlotClassName(SlotClass c) { return kNames[static_cast<int>(c)]; }

Classification ClassifySlot(const ProviderTruth& truth, const Span& window, TimePoint now,
                            const Slot& slot) {
  const Zone* zone = FindZone(truth.timezone);
  if (!window.Contains(slot) || !(slot.start < slot.end)) {
    return {SlotClass::kOutsideWindow, FormatSpan(slot) + " is not inside the window " +
                                           FormatSpan(window)};
  }
  const auto length = std::chrono::duration_cast<minutes>(slot.end - slot.start);
  if (slot.end - slot.start != minutes(truth.slot_minutes)) {
    return {SlotClass::kWrongDuration, "lasts " + std::to_string(length.count()) +
                                           " min, slots last " +
                                           std::to_string(truth.slot_minutes) + " min"};
  }
  std::vector<Span> containing;
  for (const Span& s : OpenSpans(truth, window.start, window.end)) {
    if (s.Contains(slot)) containing.push_back(s);
  }
  if (containing.empty()) {
    return {SlotClass::kOutsideRules, "starts " + LocalLabel(zone, slot.start) +
                                          ", not inside any rule or extra span"};
  }
  const auto step = minutes(std::max(1, truth.granularity_minutes));
  const bool aligned = std::any_of(containing.begin(), containing.end(), [&](const Span& s) {
    return (slot.start - s.start) % step == TimePoint::duration::zero();
  });
  if (!aligned) {
    return {SlotClass::kMisaligned, "span starting " + LocalLabel(zone, containing[0].start) +
                                        " has slots every " +
                                        std::to_string(step.count()) + " min"};
  }
  if (auto hit = FirstOverlap(truth.blocked, slot, "blocked")) {
    return {SlotClass::kInsideException, *hit};
  }
  const std::vector<Span> busy = truth.busy.Instances(slot.start, slot.end, zone);
  if (!busy.empty()) {
    const auto uids = truth.busy.UidsOverlapping(slot.start, slot.end, zone);
    return {SlotClass::kBusyOverlap,
            "overlaps busy event " + (uids.empty() ? std::string() : "UID " + uids.front() + " ") +
                FormatSpan(busy.front())};
  }
  if (auto hit = FirstOverlap(truth.holds, slot, "holds")) return {SlotClass::kHeld, *hit};
  if (auto hit = FirstOverlap(truth.bookings, slot, "bookings")) return {SlotClass::kHeld, *hit};
  const TimePoint cutoff = now + std::chrono::hours(std::max(0, truth.lead_time_hours));
  if (slot.start < cutoff) {
    return {SlotClass::kLeadTime, "starts before the lead-time cutoff " + FormatUtc(cutoff)};
  }
  return {SlotClass::kUnexplained, "the oracle finds no reason; possibly a duplicate"};
}

seconds DstDelta(const ProviderTruth& truth, TimePoint at) {
  const Zone* zone = FindZone(truth.timezone);
  if (zone == nullptr) return seconds(0);
  const date::year y =
      date::year_month_day{date::floor<date::days>(at)}.year();
  const TimePoint jan = date::sys_days{y / date::January / 1};
  const TimePoint jul = date::sys_days{y / date::July / 1};
  const auto d = UtcOffset(*zone, jan) - UtcOffset(*zone, jul);
  return d < seconds(0) ? -d : d;
}

std::optional<DstShift> DetectDstShift(const ProviderTruth& truth,
                                       const std::vector<Slot>& expected,
                                       const std::vector<Slot>& returned, int min_block) {
  if (expected.empty() || returned.empty()) return std::nullopt;
  const seconds delta = DstDelta(truth, expected.front().start);
  if (delta == seconds(0)) return std::nullopt;
  std::vector<Slot> sorted_expected = expected;
  std::sort(sorted_expected.begin(), sorted_expected.end());
  const auto is_expected = [&](const Slot& s) {
    return std::binary_search(sorted_expected.begin(), sorted_expected.end(), s);
  };
  std::optional<DstShift> best;
  for (const seconds d : {delta, -delta}) {
    DstShift shift{d, {}};
    for (const Slot& r : returned) {
      if (!is_expected(r) && is_expected(Slot{r.start - d, r.end - d})) shift.slots.push_back(r);
    }
    if (static_cast<int>(shift.slots.size()) >= std::max(1, min_block) &&
        (!best || shift.slots.size() > best->slots.size())) {
      best = std::move(shift);
    }
  }
  return best;
}

Comparison CompareSlots(const ProviderTruth& truth, const Span& window, TimePoint now,
                        std::vector<Slot> returned, const CompareOptions& options) {
  Comparison c;
  c.expected = ComputeSlots(truth, window.start, window.end, now);
  std::sort(returned.begin(), returned.end());
  const size_t before = returned.size();
  returned.erase(std::unique(returned.begin(), returned.end()), returned.end());
  c.duplicates = static_cast<int>(before - returned.size());

  const TimePoint cutoff = now + std::chrono::hours(std::max(0, truth.lead_time_hours));
  std::vector<Slot> missing, extra;
  std::set_difference(c.expected.begin(), c.expected.end(), returned.begin(), returned.end(),
                      std::back_inserter(missing));
  std::set_difference(returned.begin(), returned.end(), c.expected.begin(), c.expected.end(),
                      std::back_inserter(extra));
  for (const Slot& s : missing) {
    if (Judged(s, cutoff, options.lead_time_tolerance)) {
      c.missing.push_back(s);
    } else {
      ++c.unjudged;
    }
  }
  std::vector<Slot> judged_extra;
  for (const Slot& s : extra) {
    if (Judged(s, cutoff, options.lead_time_tolerance)) {
      judged_extra.push_back(s);
    } else {
      ++c.unjudged;
    }
  }
  c.dst_shift = DetectDstShift(truth, c.expected, judged_extra, options.min_dst_shift_block);
  for (const Slot& s : judged_extra) {
    ExtraSlot e{s, SlotClass::kUnexplained, {}};
    const bool shifted = c.dst_shift && std::binary_search(c.dst_shift->slots.begin(),
                                                           c.dst_shift->slots.end(), s);
    Classification k = ClassifySlot(truth, window, now, s);
    if (shifted && k.cls != SlotClass::kOutsideWindow && k.cls != SlotClass::kWrongDuration) {
      k = {SlotClass::kDstShift, "expected " + FormatSpan({s.start - c.dst_shift->delta,
                                                           s.end - c.dst_shift->delta}) +
                                     " shifted by " + DeltaLabel(c.dst_shift->delta)};
    }
    e.cls = k.cls;
    e.detail = std::move(k.detail);
    ++c.counts[static_cast<int>(e.cls)];
    c.extra.push_back(std::move(e));
  }
  return c;
}

}  // namespace calprobe::calendar::oracle
