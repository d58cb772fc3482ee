#pragma once
// The single-pass analyzer behind AnalyzeIcs(): drives the Scanner, keeps
// the component stack and per-event state, and dispatches to the lint
// passes (content checks per line, property checks, end-of-event and
// end-of-feed checks). Internal to calendar/ics.

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "calendar/ics/findings.h"
#include "calendar/ics/ics.h"
#include "calendar/ics/scanner.h"
#include "calendar/ics/values.h"

namespace calprobe::calendar::internal {

enum class Component : uint8_t {
  kCalendar,
  kEvent,
  kTimezone,
  kTzRule,  // STANDARD / DAYLIGHT
  kAlarm,
  kOther,   // VTODO, VJOURNAL, VFREEBUSY, X- components
};

enum class Prop : uint8_t {
  kOther,
  kBegin,
  kEnd,
  kVersion,
  kProdid,
  kUid,
  kDtstamp,
  kDtstart,
  kDtend,
  kDuration,
  kRecurrenceId,
  kRrule,
  kExdate,
  kRdate,
  kStatus,
  kTransp,
  kClass,
  kPriority,
  kSequence,
  kLastModified,
  kCreated,
  kTzid,
  kXWrTimezone,
  kRefreshInterval,
  kXPublishedTtl,
};

Prop ClassifyProp(std::string_view name);

// Distinct TZIDs (referenced, and defined by VTIMEZONEs) checked per feed.
inline constexpr size_t kMaxTrackedTzids = 256;
// Longer RRULE values are reported invalid without handing them to libical.
inline constexpr size_t kMaxRruleBytes = 2048;

// The parameters of a date-valued property that the checks use (the first
// TZID and VALUE), read in one pass.
struct DateParams {
  bool has_tzid = false;
  std::string_view tzid;
  std::string_view type;  // VALUE=
};

// A date-valued property as seen on one line.
struct DateProp {
  bool present = false;
  bool valid = false;
  DateTime value;
  std::string tzid;  // reused buffer: no allocation once grown
  int line = 0;
};

struct EventState {
  int begin_line = 0;
  size_t depth = 0;  // stack depth of the VEVENT entry
  uint64_t hash = 0;
  bool has_uid = false;
  std::string uid;
  bool has_recurrence_id = false;
  std::string recurrence_id;
  bool has_dtstamp = false;
  DateProp dtstart;
  DateProp dtend;
  bool has_duration = false;
  bool duration_valid = false;
  int64_t duration_seconds = 0;
  int duration_line = 0;
  bool has_rrule = false;
  std::string rrule;
  int rrule_line = 0;
  int exdate_date_line = 0;      // first EXDATE value of type DATE
  int exdate_datetime_line = 0;  // first EXDATE value of type DATE-TIME
  int64_t last_change = 0;       // max LAST-MODIFIED / CREATED (unix, approx)
  int64_t dtstamp_unix = 0;

  void Reset(int line, size_t stack_depth);
};

// One closed VEVENT's snapshot entry, kept in feed order until the end of
// the feed (see Analyzer::BuildSnapshot). Its key's text is in a shared
// arena (UID then RECURRENCE-ID at key_offset): no allocation per event.
struct PendingEvent {
  size_t key_offset = 0;
  size_t uid_size = 0;
  size_t recurrence_id_size = 0;
  uint64_t hash = 0;  // content hash
  int begin_line = 0;
  bool has_uid = false;
  bool has_recurrence_id = false;
};

// 0..bucket.size()-1 sorted by bucket[i] (stable: a counting sort). Large
// hash maps are read and filled in this order to stay in the cache.
std::vector<size_t> BucketOrder(const std::vector<size_t>& bucket, size_t bucket_count);

struct StackEntry {
  Component kind;
  uint64_t name_hash;  // uppercase component name, to match END
  int line;
};

class Analyzer {
 public:
  Analyzer(std::string_view body, const AnalyzeOptions& options);
  Analysis Run();

 private:
  // analyze.cc: driver, content-level checks and BEGIN/END structure.
  bool CheckStart(Scanner& scanner, ContentLine* first);
  // `end_offset`: body offset after the line (Scanner::offset()).
  void CheckLineContent(const ContentLine& cl, size_t end_offset);
  // Returns true iff body_[0, end_offset) is clean (see CleanPrefix),
  // checking further chunks as needed.
  bool ExtendCleanPrefix(size_t end_offset);
  bool HandleBegin(const ContentLine& cl);
  void HandleEnd(const ContentLine& cl);
  void FinishFeed(const Scanner& scanner, int last_line);

  // lint_props.cc: per-property checks.
  void HandleProperty(const ContentLine& cl, Prop prop);
  void HandleCalendarProperty(const ContentLine& cl, Prop prop);
  void HandleEventProperty(const ContentLine& cl, Prop prop, const DateParams& dp);
  void ReadDateProp(const ContentLine& cl, const DateParams& dp, DateProp* out);
  void CheckDateList(const ContentLine& cl, bool is_exdate);
  void NoteTzid(std::string_view tzid, int line);
  // property.invalid; `why` replaces the default "libical drops it" text.
  void ReportInvalid(const ContentLine& cl, std::string_view expected,
                     std::string_view why = {});

  // lint_event.cc: checks when a VEVENT closes, and the snapshot.
  void FinishEvent();
  void BuildSnapshot();  // pending_ -> result_.snapshot, event.duplicate_uid
  void ReportDuplicate(const PendingEvent& p);
  int64_t CheckRrule();  // returns the approximate last instance (unix)
  void CheckExdates();

  // lint_feed.cc: checks that need the whole feed.
  void CheckTimezones();
  void CheckOverrides();
  void CheckStaleness();

  std::string_view body_;
  const AnalyzeOptions& options_;
  FindingSink sink_;
  Analysis result_;

  std::vector<StackEntry> stack_;
  bool structure_broken_ = false;
  bool stopped_ = false;  // a hard limit was hit; the rest is not read
  // body_[0, clean_prefix_) passed CleanPrefix: lines inside need no
  // CheckText. Extended a chunk at a time, until a defect.
  size_t clean_prefix_ = 0;
  bool clean_stopped_ = false;
  int calendars_ = 0;
  size_t objects_ = 0;  // direct children of VCALENDAR except VTIMEZONE
  int calendar_line_ = 0;
  bool calendar_has_version_ = false;
  bool calendar_has_prodid_ = false;
  bool saw_calendar_end_ = false;

  bool in_event_ = false;
  EventState event_;
  std::vector<PendingEvent> pending_;  // snapshot entries in feed order
  std::string key_arena_;              // their keys' text
  std::string_view PendingUid(const PendingEvent& p) const;
  std::string_view PendingRecurrenceId(const PendingEvent& p) const;
  std::string key_buf_;   // uppercased component names
  std::string cstr_buf_;  // NUL-terminated copies for libical

  // Time zones.
  std::vector<std::string> defined_tzids_;
  std::unordered_map<std::string, int> referenced_tzids_;  // TZID -> first line
  std::string last_tzid_;                                  // cache for the common case
  int x_wr_timezone_line_ = 0;
  std::string x_wr_timezone_;
  std::vector<int> floating_lines_;

  // Content-level, reported once per feed.
  int bare_lf_lines_ = 0;
  int first_bare_lf_line_ = 0;
  int extra_cr_lines_ = 0;
  int first_extra_cr_line_ = 0;

  // Overrides to match with masters at the end: (uid, line).
  std::vector<std::pair<std::string, int>> overrides_;

  // Staleness.
  int64_t latest_change_ = 0;
  int64_t latest_dtstamp_ = 0;
  bool has_upcoming_ = false;
};

}  // namespace calprobe::calendar::internal
