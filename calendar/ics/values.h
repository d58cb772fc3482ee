#pragma once
// Fast validators for the RFC 5545 value types whose malformed values
// libical silently drops (DATE, DATE-TIME, DURATION, INTEGER), and the
// little calendar arithmetic the linter needs (no time-zone rules: local
// times are treated as UTC, which is close enough for staleness windows).

#include <cstdint>
#include <string_view>

namespace calprobe::calendar::internal {

struct DateTime {
  int year = 0, month = 0, day = 0;
  int hour = 0, minute = 0, second = 0;
  bool is_date = false;  // VALUE=DATE form YYYYMMDD
  bool utc = false;      // trailing 'Z'
  // Seconds since the epoch, reading the wall-clock time as UTC.
  int64_t ToUnixApprox() const;
  // Sortable key: comparable when both values share the same zone kind.
  int64_t SortKey() const;
};

// Parses YYYYMMDD (is_date) or YYYYMMDDTHHMMSS[Z]. Field ranges checked
// (month 1-12, day within the month, hour 0-23, minute 0-59, second 0-60).
bool ParseDateOrDateTime(std::string_view v, DateTime* out);

// True iff `v` has the shape of a DATE or DATE-TIME (digits, 'T', 'Z' in
// the right places) whatever the field values.
bool HasDateShape(std::string_view v);

// Parses an RFC 5545 DURATION ([+-]P[nW] or [+-]P[nD][T[nH][nM][nS]]).
bool ParseDuration(std::string_view v, int64_t* seconds);

// [+-]digits, fits in 32 bits.
bool IsValidInteger(std::string_view v);

int DaysInMonth(int year, int month);
int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d);

}  // namespace calprobe::calendar::internal
