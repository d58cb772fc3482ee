#pragma once
// Reading a feasibility response whose shape is configured: JSON pointers
// (RFC 6901) to the slot list, to start/end inside one slot, to the
// truncated flag, the candidate-window count and an error list (GraphQL's
// /errors). Timestamps are RFC 3339 with an offset or Z.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "calendar/oracle/types.h"
#include "core/clock.h"
#include "core/status.h"

namespace calprobe::probes::feasibility {

struct ResponseMapping {
  std::string slots = "/slots";  // array of slot elements
  std::string start = "/start";  // inside an element; "" = the element itself
  std::string end = "/end";      // inside an element; empty optional = start + slot length
  bool has_end = true;
  std::string truncated = "/truncated";  // "" (here and below): not read
  bool truncated_required = false;       // true when configured explicitly
  std::string candidate_windows = "/candidate_windows";
  bool candidate_windows_required = false;
  std::string errors;  // empty: not checked; else a non-empty value there fails the run
};

struct MappedResponse {
  std::vector<calendar::oracle::Slot> slots;  // in response order
  std::optional<bool> truncated;
  std::optional<int64_t> candidate_windows;
};

// Maps `body`. Errors say where: "body is not JSON", "/slots is missing",
// "/slots/3/start: \"9am\" is not RFC 3339", "/errors: Unknown field ...".
core::Result<MappedResponse> MapResponse(std::string_view body, const ResponseMapping& mapping,
                                         std::chrono::minutes slot_length);

// Returns true iff `pointer` is a syntactically valid JSON pointer.
bool ValidPointer(std::string_view pointer);

// Parses an HTTP Date header (IMF-fixdate, RFC 9110: "Sun, 06 Nov 1994
// 08:49:37 GMT"). nullopt on anything else.
std::optional<core::TimePoint> ParseHttpDate(std::string_view s);

}  // namespace calprobe::probes::feasibility
