#include "test_util.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

namespace calprobe::calendar::testing {

std::string ReadCorpus(const std::string& name) {
  const char* env = std::getenv("CALPROBE_SOURCE_DIR");
  std::string root = env != nullptr ? env : CALPROBE_SOURCE_DIR_DEFAULT;
  std::string path = root + "/tests/data/ics/" + name;
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in.good()) << "missing corpus file " << path;
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<std::pair<std::string, int>> CodesAndLines(const Analysis& a) {
  std::vector<std::pair<std::string, int>> out;
  for (const Finding& f : a.findings) out.emplace_back(f.code, f.line);
  return out;
}

std::string Crlf(const std::vector<std::string>& lines) {
  std::string out;
  for (const std::string& l : lines) out += l + "\r\n";
  return out;
}

std::string Calendar(const std::vector<std::string>& body_lines) {
  std::vector<std::string> lines = {"BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//t//t//EN"};
  lines.insert(lines.end(), body_lines.begin(), body_lines.end());
  lines.push_back("END:VCALENDAR");
  return Crlf(lines);
}

}  // namespace calprobe::calendar::testing
