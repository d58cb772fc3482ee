// Checks that need the whole feed: TZID references against VTIMEZONEs and
// the IANA list (VTIMEZONEs may come after the events), floating times,
// overrides without a master, staleness.

#include <algorithm>
#include <cstdint>

#include "calendar/ics/analyzer.h"
#include "calendar/ics/text.h"
#include "calendar/ics/tz_names.h"

namespace calprobe::calendar::internal {
namespace {

constexpr Severity kError = Severity::kError;
constexpr Severity kWarning = Severity::kWarning;
constexpr Severity kInfo = Severity::kInfo;

constexpr std::string_view kWindowsMapHint =
    "Common mappings: Eastern Standard Time -> America/New_York, Central Standard Time -> "
    "America/Chicago, Mountain Standard Time -> America/Denver, Pacific Standard Time -> "
    "America/Los_Angeles, GMT Standard Time -> Europe/London, W. Europe Standard Time -> "
    "Europe/Berlin, Romance Standard Time -> Europe/Paris, Central Europe Standard Time -> "
    "Europe/Budapest, India Standard Time -> Asia/Kolkata, China Standard Time -> "
    "Asia/Shanghai, Tokyo Standard Time -> Asia/Tokyo, AUS Eastern Standard Time -> "
    "Australia/Sydney.";

}  // namespace

void Analyzer::CheckTimezones() {
  std::vector<std::pair<int, std::string_view>> refs;
  refs.reserve(referenced_tzids_.size());
  for (const auto& [name, line] : referenced_tzids_) refs.emplace_back(line, name);
  std::sort(refs.begin(), refs.end());

  for (const auto& ref : refs) {
    const int line = ref.first;
    const std::string_view tzid = ref.second;
    bool defined = std::find(defined_tzids_.begin(), defined_tzids_.end(), tzid) !=
                   defined_tzids_.end();
    std::string_view windows_iana = WindowsToIana(tzid);
    if (defined) {
      if (!windows_iana.empty() && !IsIanaZoneName(tzid)) {
        sink_.Report("tz.windows_tzid", kInfo, line, [&] {
          return std::make_pair(
              "TZID \"" + QuoteForMessage(tzid) +
                  "\" is a Windows zone name; it works because the feed defines a VTIMEZONE "
                  "for it, but clients use that embedded rule instead of their own tz data.",
              "Optionally use the IANA name " + std::string(windows_iana) + " instead.");
        });
      }
      continue;
    }
    auto ci = std::find_if(defined_tzids_.begin(), defined_tzids_.end(),
                           [&](const std::string& d) { return EqualsIgnoreCase(d, tzid); });
    if (ci != defined_tzids_.end()) {
      sink_.Report("tz.case_mismatch", kWarning, line, [&] {
        return std::make_pair(
            "TZID \"" + QuoteForMessage(tzid) + "\" matches VTIMEZONE \"" +
                QuoteForMessage(*ci) + "\" only ignoring case; TZID matching is case-sensitive.",
            "Write the TZID exactly as the VTIMEZONE defines it: " + QuoteForMessage(*ci) + ".");
      });
      continue;
    }
    if (IsIanaZoneName(tzid)) continue;
    if (!windows_iana.empty()) {
      sink_.Report("tz.windows_tzid", kError, line, [&] {
        return std::make_pair(
            "TZID \"" + QuoteForMessage(tzid) +
                "\" is a Windows zone name without a VTIMEZONE: most non-Microsoft clients "
                "treat the times as floating or UTC and shift the events.",
            "Use the IANA name " + std::string(windows_iana) +
                " (or include a VTIMEZONE for it). " + std::string(kWindowsMapHint));
      });
      continue;
    }
    std::string_view iana = IanaNameIgnoringCase(tzid);
    if (!iana.empty()) {
      sink_.Report("tz.case_mismatch", kWarning, line, [&] {
        return std::make_pair(
            "TZID \"" + QuoteForMessage(tzid) + "\" has no VTIMEZONE and matches the IANA zone " +
                std::string(iana) + " only ignoring case; zone lookups are case-sensitive.",
            "Write " + std::string(iana) + " exactly (or include a VTIMEZONE).");
      });
      continue;
    }
    sink_.Report("tz.unknown_tzid", kError, line, [&] {
      return std::make_pair(
          "TZID \"" + QuoteForMessage(tzid) +
              "\" has no VTIMEZONE in the feed and is not an IANA zone name: clients fall back "
              "to floating or UTC time and shift the events.",
          "Use an IANA zone name such as Europe/Berlin or America/New_York, or include a "
          "VTIMEZONE with this TZID. " + std::string(kWindowsMapHint));
    });
  }

  if (x_wr_timezone_line_ != 0) {
    std::string_view x = x_wr_timezone_;
    if (!IsIanaZoneName(x)) {
      std::string_view windows_iana = WindowsToIana(x);
      std::string_view iana = windows_iana.empty() ? IanaNameIgnoringCase(x) : windows_iana;
      std::string_view code =
          !windows_iana.empty() ? "tz.windows_tzid" : !iana.empty() ? "tz.case_mismatch"
                                                                    : "tz.unknown_tzid";
      sink_.Report(code, kWarning, x_wr_timezone_line_, [&] {
        return std::make_pair(
            "X-WR-TIMEZONE:" + QuoteForMessage(x) + " is not an IANA zone name.",
            iana.empty() ? std::string("Use an IANA zone name such as Europe/Berlin.")
                         : "Use " + std::string(iana) + ".");
      });
    }
    if (!floating_lines_.empty()) {
      size_t n = floating_lines_.size();
      sink_.Report("tz.x_wr_timezone_only", kWarning, x_wr_timezone_line_, [&] {
        return std::make_pair(
            std::to_string(n) +
                " event(s) use floating times and rely on the non-standard X-WR-TIMEZONE for "
                "their zone: Google and Apple apply it, Outlook and libical-based clients "
                "show the times in each viewer's own zone.",
            "Write DTSTART/DTEND with TZID=" + QuoteForMessage(x) +
                " and include a VTIMEZONE, or use UTC times (ending in Z).");
      });
      return;
    }
  }
  for (int line : floating_lines_) {
    sink_.Report("tz.floating_time", kWarning, line, [] {
      return std::make_pair(
          std::string("DTSTART is a floating time (no Z, no TZID): every subscriber sees it at "
                      "the same wall-clock time in their own zone."),
          std::string("Add TZID=<IANA zone> (with a VTIMEZONE) or write the time in UTC with "
                      "a trailing Z; floating times are only right for all-day dates."));
    });
  }
}

// Masters are looked up in bucket order (see BucketOrder), then the
// orphans reported in feed order.
void Analyzer::CheckOverrides() {
  const auto& events = result_.snapshot.events;
  EventKey master;
  std::vector<size_t> bucket(overrides_.size());
  for (size_t i = 0; i < overrides_.size(); ++i) {
    master.uid = overrides_[i].first;
    bucket[i] = events.bucket(master);
  }
  std::vector<bool> orphan(overrides_.size());
  const std::vector<size_t> order = BucketOrder(bucket, events.bucket_count());
  constexpr size_t kAhead = 8;  // the UIDs lie in feed order: fetch ahead
  for (size_t k = 0; k < order.size(); ++k) {
    if (k + kAhead < order.size()) __builtin_prefetch(overrides_[order[k + kAhead]].first.data());
    master.uid = overrides_[order[k]].first;
    orphan[order[k]] = events.count(master) == 0;
  }
  for (size_t i = 0; i < overrides_.size(); ++i) {
    if (!orphan[i]) continue;
    const std::string& uid = overrides_[i].first;
    const int line = overrides_[i].second;
    sink_.Report("event.orphan_override", kWarning, line, [&] {
      return std::make_pair(
          "VEVENT with UID " + QuoteForMessage(uid) +
              " has a RECURRENCE-ID but the feed has no master event with that UID.",
          std::string("Publish the master event (with its RRULE) together with its "
                      "overrides, or drop RECURRENCE-ID for a standalone event; clients show "
                      "orphans inconsistently or not at all."));
    });
  }
}

void Analyzer::CheckStaleness() {
  if (options_.now_unix == 0 || !result_.usable || result_.event_count == 0 || has_upcoming_) {
    return;
  }
  int64_t latest = latest_change_ != 0 ? latest_change_ : latest_dtstamp_;
  if (latest != 0 && latest >= options_.now_unix - options_.stale_after_seconds) return;
  int64_t days = options_.stale_after_seconds / 86400;
  sink_.Report("sync.stale_content", kWarning, 0, [&] {
    return std::make_pair(
        "No event is upcoming and none changed in the last " + std::to_string(days) +
            " days: the feed looks frozen (an old export, or a publisher that stopped "
            "updating).",
        std::string("Check that the provider still publishes this calendar and that the "
                    "address is the live subscription URL, not a one-time export."));
  });
}

}  // namespace calprobe::calendar::internal
