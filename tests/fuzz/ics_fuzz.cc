// libFuzzer target for the ICS reader/linter (calendar/ics). Built only with
// -DCALPROBE_FUZZ=ON and clang; run with tests/fuzz/run.sh (docs/fuzzing.md).
//
// Per input: AnalyzeIcs with small limits (so the limit paths are exercised
// on inputs of a few KB), checks of the ics.h contract that ASan/UBSan cannot
// see, a SerializeSnapshot -> DeserializeSnapshot roundtrip, ComputeDelta
// against an empty snapshot (and itself), and DeserializeSnapshot on the raw
// input (the store's bytes are untrusted too). A broken invariant aborts with
// a message, which libFuzzer reports as a crash with the input saved.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <unordered_map>

#include "calendar/ics/ics.h"

namespace cal = calprobe::calendar;

namespace {

[[noreturn]] void Fail(const char* what, const std::string& detail = {}) {
  std::fprintf(stderr, "ics_fuzz: invariant broken: %s%s%s\n", what, detail.empty() ? "" : ": ",
               detail.c_str());
  std::abort();
}

void CheckAnalysis(const cal::Analysis& a, std::string_view body, const cal::AnalyzeOptions& opt) {
  // Upper bound for a physical line number: every LF and every CR may end a line.
  size_t breaks = 0;
  for (char c : body) breaks += (c == '\n' || c == '\r');
  std::unordered_map<std::string, size_t> kept;
  bool error = false;
  for (size_t i = 0; i < a.findings.size(); ++i) {
    const cal::Finding& f = a.findings[i];
    if (f.code.empty()) Fail("finding without a code");
    if (f.line < 0 || static_cast<size_t>(f.line) > breaks + 1)
      Fail("finding line out of range", f.code + " line " + std::to_string(f.line));
    if (cal::SeverityName(f.severity).empty()) Fail("severity without a name", f.code);
    if (i > 0) {
      const cal::Finding& p = a.findings[i - 1];
      if (p.line > f.line || (p.line == f.line && p.code > f.code))
        Fail("findings not sorted by (line, code)", p.code + " before " + f.code);
    }
    error = error || f.severity == cal::Severity::kError;
    ++kept[f.code];
  }
  for (const auto& [code, n] : kept) {
    if (n > opt.max_findings_per_code)
      Fail("more findings kept than max_findings_per_code", code);
    auto it = a.finding_counts.find(code);
    if (it == a.finding_counts.end() || it->second < 0 || static_cast<size_t>(it->second) < n)
      Fail("finding_counts below the findings kept", code);
  }
  if (a.has_error() != error) Fail("has_error() disagrees with the findings");
  if (a.snapshot.events.size() > a.event_count)
    Fail("snapshot holds more keys than VEVENTs seen");
}

void CheckSnapshot(const cal::Snapshot& s) {
  const std::string bytes = cal::SerializeSnapshot(s);
  const std::optional<cal::Snapshot> back = cal::DeserializeSnapshot(bytes);
  if (!back) Fail("DeserializeSnapshot rejected SerializeSnapshot's output");
  if (back->events != s.events) Fail("snapshot roundtrip changed the snapshot");

  const int n = static_cast<int>(s.events.size());
  const cal::Snapshot empty;
  const cal::Delta added = cal::ComputeDelta(empty, s);
  if (added.added != n || added.removed != 0 || added.changed != 0)
    Fail("delta from an empty snapshot is not all-added");
  const cal::Delta removed = cal::ComputeDelta(s, empty);
  if (removed.removed != n || removed.added != 0 || removed.changed != 0)
    Fail("delta to an empty snapshot is not all-removed");
  if (cal::ComputeDelta(s, *back).total() != 0) Fail("delta against itself is not empty");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);

  cal::AnalyzeOptions opt;
  opt.max_components = 64;
  opt.max_nesting = 4;
  opt.max_property_bytes = 2048;
  opt.max_findings_per_code = 3;
  opt.now_unix = 1798761600;  // 2027-01-01T00:00:00Z: exercise the time-based checks

  const cal::Analysis a = cal::AnalyzeIcs(body, opt);
  CheckAnalysis(a, body, opt);
  CheckSnapshot(a.snapshot);

  // Same input, same answer (catches reads of uninitialised or stale state).
  if (size <= 4096) {
    const cal::Analysis again = cal::AnalyzeIcs(body, opt);
    if (again.snapshot.events != a.snapshot.events || again.findings.size() != a.findings.size() ||
        again.usable != a.usable || again.event_count != a.event_count)
      Fail("AnalyzeIcs is not deterministic");
  }

  // Hostile store bytes: must be rejected or yield a snapshot that roundtrips.
  if (const std::optional<cal::Snapshot> s = cal::DeserializeSnapshot(body)) CheckSnapshot(*s);
  return 0;
}
