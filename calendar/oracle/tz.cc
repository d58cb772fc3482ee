#include "calendar/oracle/tz.h"

#include <date/date.h>
#include <date/tz.h>

#include <string>

// One source of zone rules: the system tzdata. Refuse to build against a
// date-tz that would download the IANA database at run time.
#if !defined(USE_OS_TZDB) || !USE_OS_TZDB
#error "calendar/oracle needs date-tz built with USE_OS_TZDB=1 (system /usr/share/zoneinfo)"
#endif
#if defined(HAS_REMOTE_API) && HAS_REMOTE_API
#error "calendar/oracle must not use date-tz's remote (download) API"
#endif

namespace calprobe::calendar::oracle {

namespace {
using date::local_seconds;
using date::sys_seconds;
}  // namespace

const Zone* FindZone(std::string_view iana_name) {
  if (iana_name.empty()) return nullptr;
  try {
    return date::locate_zone(iana_name);
  } catch (const std::exception&) {
    return nullptr;
  }
}

TimePoint LocalToUtc(const Zone& zone, LocalSeconds local, GapPolicy gap) {
  const local_seconds l{local};
  const date::local_info info = zone.get_info(l);
  switch (info.result) {
    case date::local_info::unique:
      return sys_seconds{local - info.first.offset};
    case date::local_info::nonexistent:
      if (gap == GapPolicy::kOffsetBefore) return sys_seconds{local - info.first.offset};
      // The gap ends where the second period begins: first valid instant.
      return info.second.begin;
    case date::local_info::ambiguous:
    default:
      // First occurrence: the earlier period's offset.
      return sys_seconds{local - info.first.offset};
  }
}

LocalSeconds UtcToLocal(const Zone& zone, TimePoint t) {
  const auto s = std::chrono::floor<std::chrono::seconds>(t);
  const date::sys_info info = zone.get_info(s);
  return LocalSeconds(s.time_since_epoch() + info.offset);
}

std::chrono::seconds UtcOffset(const Zone& zone, TimePoint t) {
  return zone.get_info(std::chrono::floor<std::chrono::seconds>(t)).offset;
}

std::string FormatUtc(TimePoint t) {
  return date::format("%Y-%m-%dT%H:%M:%SZ", std::chrono::floor<std::chrono::seconds>(t));
}

std::string FormatSpan(const Span& s) { return FormatUtc(s.start) + "/" + FormatUtc(s.end); }

}  // namespace calprobe::calendar::oracle
