#pragma once
// Business hours in a local time zone (Howard Hinnant's date-tz over the
// system tzdata, the same zone source as calendar/oracle).

#include <optional>
#include <string>
#include <string_view>

#include "core/clock.h"
#include "core/rules/rule.h"

namespace calprobe::core::rules {

// Returns true iff `name` is a known IANA time zone.
bool KnownTimezone(std::string_view name);
// Returns true iff `s` is a valid date "YYYY-MM-DD".
bool ParseLocalDate(std::string_view s);

// Returns the UTC instant the business-hours interval containing `t` opened
// (today's local start), or nullopt when `t` is outside business hours
// (wrong weekday, a holiday, before start or at/after end). An unknown zone
// reads as never open.
std::optional<TimePoint> OpenSince(const BusinessHours& bh, TimePoint t);

}  // namespace calprobe::core::rules
