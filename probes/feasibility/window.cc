#include "probes/feasibility/window.h"

#include <cstdio>

#include "calendar/oracle/tz.h"

namespace calprobe::probes::feasibility {

namespace oracle = calendar::oracle;
using std::chrono::floor;
using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;

oracle::Span ComputeWindow(const WindowSpec& spec, const std::string& timezone,
                           core::TimePoint now) {
  const oracle::Zone* zone = oracle::FindZone(timezone);
  if (spec.start == WindowStart::kNow || zone == nullptr) {
    const core::TimePoint from = floor<minutes>(now);
    return {from, from + spec.length};
  }
  int64_t day = oracle::LocalDay(oracle::UtcToLocal(*zone, now));
  if (spec.start == WindowStart::kNextDay) ++day;
  const core::TimePoint from = oracle::LocalToUtc(*zone, oracle::DayStart(day));
  constexpr std::chrono::milliseconds kDay = hours(24);
  if (spec.length.count() % kDay.count() == 0) {
    const int64_t days = spec.length / kDay;
    return {from, oracle::LocalToUtc(*zone, oracle::DayStart(day + days))};
  }
  return {from, from + spec.length};
}

std::string FormatTime(core::TimePoint t, TimeFormat format, const std::string& timezone) {
  seconds offset{0};
  const oracle::Zone* zone = oracle::FindZone(timezone);
  if (format == TimeFormat::kLocal && zone != nullptr) offset = oracle::UtcOffset(*zone, t);
  const auto local = floor<seconds>(t) + offset;
  const auto day = floor<std::chrono::days>(local);
  const std::chrono::year_month_day ymd{day};
  const std::chrono::hh_mm_ss hms{local - day};
  char buf[40];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02d", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                static_cast<int>(hms.hours().count()), static_cast<int>(hms.minutes().count()),
                static_cast<int>(hms.seconds().count()));
  std::string out = buf;
  if (format == TimeFormat::kUtc || zone == nullptr) return out + "Z";
  const int64_t m = offset.count() / 60;
  std::snprintf(buf, sizeof buf, "%c%02d:%02d", m < 0 ? '-' : '+',
                static_cast<int>(std::abs(m) / 60), static_cast<int>(std::abs(m) % 60));
  return out + buf;
}

}  // namespace calprobe::probes::feasibility
