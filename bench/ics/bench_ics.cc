// bench_ics: the C++ side of the ICS benchmark (bench/ics/run.sh drives it).
//
//   bench_ics calprobe PREV NEXT [--iterations N]   parse + lint + delta
//   bench_ics analyze  FILE      [--iterations N]   AnalyzeIcs on one file
//   bench_ics libical  FILE      [--iterations N]   icalparser_parse_string
//   bench_ics floor    FILE      [--iterations N]   find lines + FNV-1a every byte
//
// Each mode loads its input(s) into memory outside the timed region, runs the
// timed work N times (default 5; the first run is the warm-up and is kept in
// "all_s" but the best run is reported) and prints one JSON line:
//   {"tool":..., "bytes":..., "best_s":..., "mb_s":..., "all_s":[...],
//    "base_rss_kb":..., "peak_rss_kb":..., ...mode-specific facts}
// bytes = input bytes processed per run (PREV + NEXT for calprobe);
// MB = 10^6 bytes; base_rss_kb = VmRSS before any input is read;
// peak_rss_kb = ru_maxrss (VmHWM) at exit, so peak - base is what the
// work needed on top of the bare process, the body itself included.
//
// "calprobe" mirrors what the ics probe does per poll: the previous poll's
// body is analysed and only its Snapshot is kept (the body and the rest of
// the Analysis are freed) before the next body is read, analysed and diffed.
// File reads sit between the timed regions and are not counted.

#include <libical/ical.h>
#include <sys/resource.h>
#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#ifndef CALPROBE_BENCH_NO_LIBRARY
#include "calendar/ics/ics.h"
#endif

namespace {

using Clock = std::chrono::steady_clock;

double Seconds(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

double CpuSeconds(clockid_t clock = CLOCK_THREAD_CPUTIME_ID) {
  timespec ts{};
  clock_gettime(clock, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

// Wall time (what is reported) and the thread's CPU time (shows how much of
// the wall time was spent waiting for a core on a busy machine).
struct Stopwatch {
  Clock::time_point wall0 = Clock::now();
  double cpu0 = CpuSeconds();
  double proc0 = CpuSeconds(CLOCK_PROCESS_CPUTIME_ID);
  double Wall() const { return Seconds(wall0, Clock::now()); }
  double Cpu() const { return CpuSeconds() - cpu0; }
  double ProcCpu() const { return CpuSeconds(CLOCK_PROCESS_CPUTIME_ID) - proc0; }
};

long StatusKb(const char* key) {  // a "Vm...:" line of /proc/self/status, in kB
  FILE* f = std::fopen("/proc/self/status", "r");
  if (f == nullptr) return -1;
  char line[256];
  long v = -1;
  const size_t n = std::strlen(key);
  while (std::fgets(line, sizeof line, f) != nullptr) {
    if (std::strncmp(line, key, n) == 0 && line[n] == ':') {
      v = std::strtol(line + n + 1, nullptr, 10);
      break;
    }
  }
  std::fclose(f);
  return v;
}

long PeakRssKb() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_maxrss;  // kilobytes on Linux
}

std::string ReadFile(const char* path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::fprintf(stderr, "bench_ics: cannot open %s\n", path);
    std::exit(2);
  }
  std::string s;
  in.seekg(0, std::ios::end);
  s.resize(static_cast<size_t>(in.tellg()));
  in.seekg(0);
  in.read(s.data(), static_cast<std::streamsize>(s.size()));
  return s;
}

[[maybe_unused]] size_t FileSize(const char* path) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  return in ? static_cast<size_t>(in.tellg()) : 0;
}

struct Result {
  explicit Result(const char* t) : tool(t) {}
  const char* tool;
  size_t bytes = 0;
  std::vector<double> runs;      // wall seconds
  std::vector<double> cpu_runs;  // thread CPU seconds of the same runs
  std::vector<double> proc_runs;  // process CPU seconds (all threads) of the same runs
  long base_rss_kb = 0;
  std::string extra;  // ,"key":value pairs
};

void Print(const Result& r) {
  const double best = *std::min_element(r.runs.begin(), r.runs.end());
  std::ostringstream all;
  for (size_t i = 0; i < r.runs.size(); ++i) all << (i ? "," : "") << r.runs[i];
  const double best_cpu = *std::min_element(r.cpu_runs.begin(), r.cpu_runs.end());
  const double best_proc = *std::min_element(r.proc_runs.begin(), r.proc_runs.end());
  std::printf(
      "{\"tool\":\"%s\",\"bytes\":%zu,\"best_s\":%.6f,\"mb_s\":%.2f,\"all_s\":[%s],"
      "\"best_cpu_s\":%.6f,\"best_proc_cpu_s\":%.6f,\"base_rss_kb\":%ld,\"peak_rss_kb\":%ld%s}\n",
      r.tool, r.bytes, best, static_cast<double>(r.bytes) / 1e6 / best, all.str().c_str(),
      best_cpu, best_proc, r.base_rss_kb, PeakRssKb(), r.extra.c_str());
}

// ---- floor: find every line, hash every byte (FNV-1a 64, one byte at a time).
Result Floor(const char* path, int iterations, long base) {
  Result r("floor");
  r.base_rss_kb = base;
  const std::string body = ReadFile(path);
  r.bytes = body.size();
  uint64_t h = 0;
  size_t lines = 0;
  for (int it = 0; it < iterations; ++it) {
    const Stopwatch sw;
    const char* p = body.data();
    const char* end = p + body.size();
    uint64_t hash = 1469598103934665603ull;
    size_t n = 0;
    while (p < end) {
      const char* nl = static_cast<const char*>(std::memchr(p, '\n', static_cast<size_t>(end - p)));
      const char* stop = nl ? nl + 1 : end;
      for (; p < stop; ++p) {
        hash ^= static_cast<unsigned char>(*p);
        hash *= 1099511628211ull;
      }
      ++n;
    }
    r.runs.push_back(sw.Wall());
    r.cpu_runs.push_back(sw.Cpu());
    r.proc_runs.push_back(sw.ProcCpu());
    h = hash;
    lines = n;
  }
  char buf[128];
  std::snprintf(buf, sizeof buf, ",\"lines\":%zu,\"hash\":\"%016llx\"", lines,
                static_cast<unsigned long long>(h));
  r.extra = buf;
  return r;
}

// ---- raw libical: one icalparser_parse_string per run (free is not timed).
Result Libical(const char* path, int iterations, long base) {
  Result r("libical");
  r.base_rss_kb = base;
  icalerror_set_errors_are_fatal(0);
  const std::string body = ReadFile(path);
  r.bytes = body.size();
  int vevents = 0, errors = 0;
  double free_s = 0;
  for (int it = 0; it < iterations; ++it) {
    const Stopwatch sw;
    icalcomponent* c = icalparser_parse_string(body.c_str());
    r.runs.push_back(sw.Wall());
    r.cpu_runs.push_back(sw.Cpu());
    r.proc_runs.push_back(sw.ProcCpu());
    if (c == nullptr) {
      std::fprintf(stderr, "bench_ics: libical returned NULL for %s\n", path);
      std::exit(1);
    }
    vevents = icalcomponent_count_components(c, ICAL_VEVENT_COMPONENT);
    errors = 0;
    for (icalcomponent* e = icalcomponent_get_first_component(c, ICAL_VEVENT_COMPONENT);
         e != nullptr; e = icalcomponent_get_next_component(c, ICAL_VEVENT_COMPONENT)) {
      errors += icalcomponent_count_properties(e, ICAL_XLICERROR_PROPERTY);
    }
    const auto f0 = Clock::now();
    icalcomponent_free(c);
    free_s = Seconds(f0, Clock::now());
  }
  char buf[160];
  std::snprintf(buf, sizeof buf, ",\"vevents\":%d,\"x_lic_errors\":%d,\"free_s\":%.6f", vevents,
                errors, free_s);
  r.extra = buf;
  return r;
}

#ifndef CALPROBE_BENCH_NO_LIBRARY
namespace cal = calprobe::calendar;

std::string FindingSummary(const cal::Analysis& a) {
  std::vector<std::pair<std::string, int>> v(a.finding_counts.begin(), a.finding_counts.end());
  std::sort(v.begin(), v.end());
  std::string s = "{";
  for (size_t i = 0; i < v.size(); ++i) {
    s += (i ? ",\"" : "\"") + v[i].first + "\":" + std::to_string(v[i].second);
  }
  return s + "}";
}

// ---- calprobe parse + lint + delta, as one poll after another.
Result Calprobe(const char* prev_path, const char* next_path, int iterations, long base) {
  Result r("calprobe");
  r.base_rss_kb = base;
  r.bytes = FileSize(prev_path) + FileSize(next_path);
  cal::Delta delta;
  size_t ev_prev = 0, ev_next = 0;
  bool usable = true;
  std::string findings_prev, findings_next;
  for (int it = 0; it < iterations; ++it) {
    double t = 0, cpu = 0, proc = 0;
    cal::Snapshot before;
    {
      const std::string body = ReadFile(prev_path);
      const Stopwatch sw;
      cal::Analysis a = cal::AnalyzeIcs(body);
      before = std::move(a.snapshot);
      t += sw.Wall();
      cpu += sw.Cpu();
      proc += sw.ProcCpu();
      ev_prev = a.event_count;
      usable = usable && a.usable;
      findings_prev = FindingSummary(a);
    }  // the previous body and the rest of its Analysis are gone, as in the probe
    {
      const std::string body = ReadFile(next_path);
      const Stopwatch sw;
      cal::Analysis b = cal::AnalyzeIcs(body);
      delta = cal::ComputeDelta(before, b.snapshot);
      t += sw.Wall();
      cpu += sw.Cpu();
      proc += sw.ProcCpu();
      ev_next = b.event_count;
      usable = usable && b.usable;
      findings_next = FindingSummary(b);
    }
    r.runs.push_back(t);
    r.cpu_runs.push_back(cpu);
    r.proc_runs.push_back(proc);
  }
  std::ostringstream x;
  x << ",\"events_prev\":" << ev_prev << ",\"events_next\":" << ev_next
    << ",\"usable\":" << (usable ? "true" : "false") << ",\"delta\":{\"added\":" << delta.added
    << ",\"removed\":" << delta.removed << ",\"changed\":" << delta.changed
    << ",\"total\":" << delta.total() << "},\"findings_prev\":" << findings_prev
    << ",\"findings_next\":" << findings_next;
  r.extra = x.str();
  return r;
}

// ---- AnalyzeIcs on one file (parse + lint + snapshot, no delta).
Result Analyze(const char* path, int iterations, long base) {
  Result r("analyze");
  r.base_rss_kb = base;
  const std::string body = ReadFile(path);
  r.bytes = body.size();
  size_t events = 0, findings = 0;
  for (int it = 0; it < iterations; ++it) {
    const Stopwatch sw;
    cal::Analysis a = cal::AnalyzeIcs(body);
    r.runs.push_back(sw.Wall());
    r.cpu_runs.push_back(sw.Cpu());
    r.proc_runs.push_back(sw.ProcCpu());
    events = a.event_count;
    findings = a.findings.size();
  }
  r.extra = ",\"events\":" + std::to_string(events) + ",\"findings\":" + std::to_string(findings);
  return r;
}
#endif

[[noreturn]] void Usage() {
  std::fprintf(stderr,
               "usage: bench_ics calprobe PREV NEXT [--iterations N]\n"
               "       bench_ics analyze|libical|floor FILE [--iterations N]\n");
  std::exit(2);
}

}  // namespace

int main(int argc, char** argv) {
  const long base = StatusKb("VmRSS");
  std::vector<std::string_view> args(argv + 1, argv + argc);
  int iterations = 5;
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--iterations" && i + 1 < args.size()) {
      iterations = std::max(1, std::atoi(std::string(args[i + 1]).c_str()));
      args.erase(args.begin() + static_cast<long>(i), args.begin() + static_cast<long>(i) + 2);
      --i;
    }
  }
  if (args.size() < 2) Usage();
  const std::string mode(args[0]);
  const std::string file(args[1]);
  if (mode == "floor") {
    Print(Floor(file.c_str(), iterations, base));
  } else if (mode == "libical") {
    Print(Libical(file.c_str(), iterations, base));
  } else if (mode == "calprobe" || mode == "analyze") {
#ifdef CALPROBE_BENCH_NO_LIBRARY
    std::fprintf(stderr,
                 "bench_ics: built without calprobe_calendar_ics (it had no sources at "
                 "configure time); re-run cmake once calendar/ics is implemented\n");
    return 3;
#else
    if (mode == "analyze") {
      Print(Analyze(file.c_str(), iterations, base));
    } else {
      if (args.size() < 3) Usage();
      Print(Calprobe(file.c_str(), std::string(args[2]).c_str(), iterations, base));
    }
#endif
  } else {
    Usage();
  }
  return 0;
}
