#include "calendar/ics/values.h"

namespace calprobe::calendar::internal {
namespace {

inline bool Digits(std::string_view v, size_t pos, size_t n, int* out) {
  int r = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    char c = v[i];
    if (c < '0' || c > '9') return false;
    r = r * 10 + (c - '0');
  }
  *out = r;
  return true;
}

}  // namespace

int DaysInMonth(int year, int month) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (month < 1 || month > 12) return 0;
  if (month == 2) {
    bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    return leap ? 29 : 28;
  }
  return kDays[month - 1];
}

// Howard Hinnant's days_from_civil.
int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

int64_t DateTime::ToUnixApprox() const {
  return DaysFromCivil(year, static_cast<unsigned>(month), static_cast<unsigned>(day)) * 86400 +
         hour * 3600 + minute * 60 + second;
}

int64_t DateTime::SortKey() const { return ToUnixApprox(); }

bool ParseDateOrDateTime(std::string_view v, DateTime* out) {
  DateTime d;
  if (v.size() != 8 && v.size() != 15 && v.size() != 16) return false;
  if (!Digits(v, 0, 4, &d.year) || !Digits(v, 4, 2, &d.month) || !Digits(v, 6, 2, &d.day)) {
    return false;
  }
  if (d.month < 1 || d.month > 12 || d.day < 1 || d.day > DaysInMonth(d.year, d.month)) {
    return false;
  }
  if (v.size() == 8) {
    d.is_date = true;
    *out = d;
    return true;
  }
  if (v[8] != 'T') return false;
  if (!Digits(v, 9, 2, &d.hour) || !Digits(v, 11, 2, &d.minute) || !Digits(v, 13, 2, &d.second)) {
    return false;
  }
  if (d.hour > 23 || d.minute > 59 || d.second > 60) return false;
  if (v.size() == 16) {
    if (v[15] != 'Z') return false;
    d.utc = true;
  }
  *out = d;
  return true;
}

bool HasDateShape(std::string_view v) {
  if (v.size() != 8 && v.size() != 15 && v.size() != 16) return false;
  for (size_t i = 0; i < v.size(); ++i) {
    char c = v[i];
    if (i == 8) {
      if (c != 'T') return false;
    } else if (i == 15) {
      if (c != 'Z') return false;
    } else if (c < '0' || c > '9') {
      return false;
    }
  }
  return true;
}

bool ParseDuration(std::string_view v, int64_t* seconds) {
  size_t i = 0;
  int sign = 1;
  if (i < v.size() && (v[i] == '+' || v[i] == '-')) {
    sign = v[i] == '-' ? -1 : 1;
    ++i;
  }
  if (i >= v.size() || v[i] != 'P') return false;
  ++i;
  int64_t total = 0;
  bool in_time = false;
  bool any = false;
  bool weeks = false;
  bool other = false;
  char last = 0;  // enforce designator order D < H < M < S
  while (i < v.size()) {
    if (v[i] == 'T') {
      if (in_time) return false;
      in_time = true;
      ++i;
      continue;
    }
    int64_t n = 0;
    size_t digits = 0;
    while (i < v.size() && v[i] >= '0' && v[i] <= '9') {
      n = n * 10 + (v[i] - '0');
      if (n > 100000000000ll) return false;
      ++i;
      ++digits;
    }
    if (digits == 0 || i >= v.size()) return false;
    char unit = v[i++];
    int64_t mul;
    switch (unit) {
      case 'W':
        if (in_time || any) return false;
        weeks = true;
        mul = 7 * 86400;
        break;
      case 'D':
        if (in_time || last != 0) return false;
        mul = 86400;
        break;
      case 'H':
        if (!in_time || (last != 0 && last != 'D')) return false;
        mul = 3600;
        break;
      case 'M':
        if (!in_time || (last != 0 && last != 'D' && last != 'H')) return false;
        mul = 60;
        break;
      case 'S':
        if (!in_time || last == 'S') return false;
        mul = 1;
        break;
      default:
        return false;
    }
    if (unit != 'W') other = true;
    if (weeks && other) return false;
    last = unit;
    any = true;
    total += n * mul;
  }
  if (!any) return false;
  if (in_time && last == 0) return false;  // "PT" alone; "P1DT" is accepted, as libical does
  *seconds = sign * total;
  return true;
}

bool IsValidInteger(std::string_view v) {
  size_t i = 0;
  if (i < v.size() && (v[i] == '+' || v[i] == '-')) ++i;
  if (i >= v.size() || v.size() - i > 10) return false;
  int64_t n = 0;
  for (; i < v.size(); ++i) {
    if (v[i] < '0' || v[i] > '9') return false;
    n = n * 10 + (v[i] - '0');
  }
  return n <= 2147483648ll;
}

}  // namespace calprobe::calendar::internal
