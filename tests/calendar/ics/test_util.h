#pragma once
// Helpers shared by the calendar/ics tests.

#include <string>
#include <utility>
#include <vector>

#include "calendar/ics/ics.h"

namespace calprobe::calendar::testing {

// Reads tests/data/ics/<name> (CALPROBE_SOURCE_DIR from ctest, else the
// compile-time source dir). Fails the test if missing.
std::string ReadCorpus(const std::string& name);

// (code, line) of every finding, in report order.
std::vector<std::pair<std::string, int>> CodesAndLines(const Analysis& a);

// Joins lines with CRLF (and a trailing CRLF).
std::string Crlf(const std::vector<std::string>& lines);

// A minimal valid calendar around `body_lines`.
std::string Calendar(const std::vector<std::string>& body_lines);

}  // namespace calprobe::calendar::testing
