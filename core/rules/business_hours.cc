#include "core/rules/business_hours.h"

#include <date/date.h>
#include <date/tz.h>

#include <cstdio>
#include <exception>

namespace calprobe::core::rules {
namespace {

const date::time_zone* Zone(std::string_view name) {
  if (name.empty()) return nullptr;
  try {
    return date::locate_zone(name);
  } catch (const std::exception&) {
    return nullptr;
  }
}

}  // namespace

bool KnownTimezone(std::string_view name) { return Zone(name) != nullptr; }

bool ParseLocalDate(std::string_view s) {
  if (s.size() != 10 || s[4] != '-' || s[7] != '-') return false;
  int y = 0, m = 0, d = 0;
  for (size_t i : {0u, 1u, 2u, 3u, 5u, 6u, 8u, 9u}) {
    if (s[i] < '0' || s[i] > '9') return false;
  }
  y = std::stoi(std::string(s.substr(0, 4)));
  m = std::stoi(std::string(s.substr(5, 2)));
  d = std::stoi(std::string(s.substr(8, 2)));
  return date::year_month_day{date::year{y}, date::month{static_cast<unsigned>(m)},
                              date::day{static_cast<unsigned>(d)}}
      .ok();
}

std::optional<TimePoint> OpenSince(const BusinessHours& bh, TimePoint t) {
  const date::time_zone* zone = Zone(bh.timezone);
  if (zone == nullptr) return std::nullopt;
  const auto sys = std::chrono::time_point_cast<std::chrono::seconds>(t);
  const auto local = zone->to_local(sys);
  const auto day = date::floor<date::days>(local);
  const date::year_month_day ymd{day};
  const unsigned wd = date::weekday{day}.c_encoding();  // 0 = Sunday
  if (!bh.weekdays.count(static_cast<int>(wd))) return std::nullopt;
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()));
  if (bh.holidays.count(buf)) return std::nullopt;
  const auto minute = std::chrono::duration_cast<std::chrono::minutes>(local - day).count();
  if (minute < bh.start_minute || minute >= bh.end_minute) return std::nullopt;
  const auto start_local = day + std::chrono::minutes(bh.start_minute);
  // A start inside a DST gap opens at the first valid instant.
  const date::local_info info = zone->get_info(start_local);
  if (info.result == date::local_info::nonexistent) {
    return TimePoint(info.second.begin);
  }
  return TimePoint(start_local.time_since_epoch() - info.first.offset);
}

}  // namespace calprobe::core::rules
