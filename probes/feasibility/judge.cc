#include "probes/feasibility/judge.h"

#include <algorithm>

namespace calprobe::probes::feasibility {

namespace oracle = calendar::oracle;

namespace {

// The oracle labels any block of extra slots that each equal an expected slot
// moved by the DST delta `dst_shift`, before looking for a removal reason. A
// slot that overlaps an exception, a busy event or a hold, or starts before
// the lead-time cutoff, has a concrete explanation: prefer it, and drop the
// remaining dst_shift labels when fewer than a block are left.
void PreferConcreteClasses(const oracle::ProviderTruth& truth, const oracle::Span& window,
                           core::TimePoint now, int min_block, oracle::Comparison* c) {
  auto reclassify = [&](oracle::ExtraSlot& e, bool only_concrete) {
    oracle::Classification k = oracle::ClassifySlot(truth, window, now, e.slot);
    const bool concrete =
        k.cls == oracle::SlotClass::kInsideException || k.cls == oracle::SlotClass::kBusyOverlap ||
        k.cls == oracle::SlotClass::kHeld || k.cls == oracle::SlotClass::kLeadTime;
    if (only_concrete && !concrete) return false;
    --c->counts[static_cast<int>(oracle::SlotClass::kDstShift)];
    ++c->counts[static_cast<int>(k.cls)];
    e.cls = k.cls;
    e.detail = std::move(k.detail);
    return true;
  };
  int left = 0;
  for (auto& e : c->extra) {
    if (e.cls == oracle::SlotClass::kDstShift && !reclassify(e, true)) ++left;
  }
  if (left > 0 && left < min_block) {
    for (auto& e : c->extra) {
      if (e.cls == oracle::SlotClass::kDstShift) reclassify(e, false);
    }
  }
}

}  // namespace

Verdict Judge(const oracle::ProviderTruth& truth, const oracle::Span& window, core::TimePoint now,
              const MappedResponse& response, const JudgeOptions& options) {
  Verdict v;
  oracle::CompareOptions co;
  co.lead_time_tolerance = options.skew_tolerance;
  v.comparison = oracle::CompareSlots(truth, window, now, response.slots, co);
  PreferConcreteClasses(truth, window, now, co.min_dst_shift_block, &v.comparison);
  if (!options.unjudged_spans.empty()) {
    auto touched = [&](const oracle::Slot& s) {
      return std::any_of(options.unjudged_spans.begin(), options.unjudged_spans.end(),
                         [&](const oracle::Span& u) { return u.Overlaps(s); });
    };
    auto& c = v.comparison;
    const size_t before = c.missing.size() + c.extra.size();
    std::erase_if(c.missing, touched);
    std::erase_if(c.extra, [&](const oracle::ExtraSlot& e) {
      if (!touched(e.slot)) return false;
      --c.counts[static_cast<int>(e.cls)];
      return true;
    });
    c.unjudged += static_cast<int>(before - c.missing.size() - c.extra.size());
  }
  const auto& expected = v.comparison.expected;
  const size_t returned = response.slots.size();
  std::optional<oracle::TimePoint> judged_until;  // missing slots after this are not judged
  if (options.max_slots > 0) {
    const size_t limit = static_cast<size_t>(options.max_slots);
    v.expect_truncated = expected.size() > limit;
    if (v.expect_truncated) judged_until = expected[limit - 1].start;
    if (returned > limit) {
      v.truncation_errors = 1;
      v.truncation_message = "returned " + std::to_string(returned) + " slots, above the limit " +
                             std::to_string(limit);
    } else if (response.truncated && *response.truncated != v.expect_truncated) {
      v.truncation_errors = 1;
      v.truncation_message =
          v.expect_truncated
              ? "truncated=false, but the oracle has " + std::to_string(expected.size()) +
                    " slots (limit " + std::to_string(limit) + ")"
              : "truncated=true, but the oracle has only " + std::to_string(expected.size()) +
                    " slots (limit " + std::to_string(limit) + ")";
    }
  } else if (response.truncated.value_or(false) && returned > 0) {
    // Limit unknown: judge up to the last slot the system returned.
    judged_until = std::max_element(response.slots.begin(), response.slots.end())->start;
  }
  if (judged_until) {
    auto& missing = v.comparison.missing;
    const auto limit = *judged_until;
    missing.erase(std::remove_if(missing.begin(), missing.end(),
                                 [&](const oracle::Slot& s) { return s.start > limit; }),
                  missing.end());
    v.judged_expected = static_cast<int>(std::count_if(
        expected.begin(), expected.end(), [&](const oracle::Slot& s) { return s.start <= limit; }));
  } else {
    v.judged_expected = static_cast<int>(expected.size());
  }
  return v;
}

std::string Verdict::Summary() const {
  std::string s = std::to_string(missing()) + " missing, " + std::to_string(extra()) + " extra";
  std::string classes;
  for (int i = 0; i < oracle::kSlotClassCount; ++i) {
    if (comparison.counts[i] == 0) continue;
    classes += (classes.empty() ? "" : ", ") +
               std::string(oracle::SlotClassName(static_cast<oracle::SlotClass>(i))) + " " +
               std::to_string(comparison.counts[i]);
  }
  if (!classes.empty()) s += " (" + classes + ")";
  if (truncation_errors) s += "; " + truncation_message;
  return s;
}

nlohmann::json VerdictDetails(const Verdict& v, const JudgeOptions& options) {
  const auto& c = v.comparison;
  nlohmann::json counts = nlohmann::json::object();
  for (int i = 0; i < oracle::kSlotClassCount; ++i) {
    if (c.counts[i] != 0) {
      counts[std::string(oracle::SlotClassName(static_cast<oracle::SlotClass>(i)))] = c.counts[i];
    }
  }
  struct Row {
    oracle::Slot slot;
    std::string cls, detail;
  };
  std::vector<Row> rows;
  for (const auto& e : c.extra) {
    rows.push_back({e.slot, std::string(oracle::SlotClassName(e.cls)), e.detail});
  }
  for (const auto& m : c.missing) rows.push_back({m, "missing", "the oracle expects this slot"});
  std::sort(rows.begin(), rows.end(), [](const Row& a, const Row& b) { return a.slot < b.slot; });
  nlohmann::json wrong = nlohmann::json::array();
  for (size_t i = 0; i < rows.size() && i < options.max_listed; ++i) {
    wrong.push_back({{"start", oracle::FormatUtc(rows[i].slot.start)},
                     {"end", oracle::FormatUtc(rows[i].slot.end)},
                     {"class", rows[i].cls},
                     {"detail", rows[i].detail}});
  }
  nlohmann::json d = {
      {"expected", c.expected.size()},
      {"judged_expected", v.judged_expected},
      {"missing", v.missing()},
      {"extra", v.extra()},
      {"counts", counts},
      {"unjudged", c.unjudged},
      {"duplicates", c.duplicates},
      {"wrong_slots", wrong},
      {"wrong_slots_omitted", rows.size() > wrong.size() ? rows.size() - wrong.size() : 0},
      {"truncation",
       {{"limit", options.max_slots},
        {"expected", v.expect_truncated},
        {"ok", v.truncation_errors == 0}}}};
  if (v.truncation_errors) d["truncation"]["message"] = v.truncation_message;
  if (c.dst_shift && c.count(oracle::SlotClass::kDstShift) > 0) {
    d["dst_shift_seconds"] = static_cast<int64_t>(c.dst_shift->delta.count());
  }
  return d;
}

void AddMismatchFields(const Verdict& v, core::Event* event) {
  event->With("missing", static_cast<int64_t>(v.missing()))
      .With("extra", static_cast<int64_t>(v.extra()));
  for (int i = 0; i < oracle::kSlotClassCount; ++i) {
    if (v.comparison.counts[i] == 0) continue;
    event->With(std::string(oracle::SlotClassName(static_cast<oracle::SlotClass>(i))),
                static_cast<int64_t>(v.comparison.counts[i]));
  }
  if (v.truncation_errors) event->With("truncation", static_cast<int64_t>(v.truncation_errors));
}

}  // namespace calprobe::probes::feasibility
