#pragma once
// Embedded time-zone name knowledge (no I/O): the IANA zone and link names
// from tzdata, and the CLDR Windows -> IANA mapping for common zones.

#include <string_view>

namespace calprobe::calendar::internal {

// True iff `name` is an IANA zone or link name (exact, case-sensitive).
bool IsIanaZoneName(std::string_view name);

// The correctly-cased IANA name when `name` matches one ignoring ASCII
// case; empty otherwise.
std::string_view IanaNameIgnoringCase(std::string_view name);

// The IANA zone for a Windows time-zone name ("Pacific Standard Time" ->
// "America/Los_Angeles"); empty if not a known Windows name.
std::string_view WindowsToIana(std::string_view windows_name);

}  // namespace calprobe::calendar::internal
