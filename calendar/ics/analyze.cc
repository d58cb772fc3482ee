// AnalyzeIcs(): the scan loop, content-level checks and BEGIN/END structure.

#include <algorithm>
#include <cstring>

#include "calendar/ics/analyzer.h"
#include "calendar/ics/hash.h"
#include "calendar/ics/text.h"

namespace calprobe::calendar {

Analysis AnalyzeIcs(std::string_view body, const AnalyzeOptions& options) {
  internal::Analyzer analyzer(body, options);
  return analyzer.Run();
}

namespace internal {
namespace {

constexpr Severity kError = Severity::kError;
constexpr Severity kWarning = Severity::kWarning;
constexpr Severity kInfo = Severity::kInfo;

uint64_t UpperHash(std::string_view s, std::string* buf) {
  buf->assign(s);
  for (char& c : *buf) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 32);
  }
  return HashBytes(*buf);
}

// Component names with trailing blanks or a stray CR (from "\r\r\n" line
// ends) still match: clients trim them.
std::string_view TrimRight(std::string_view v) {
  while (!v.empty() && (v.back() == ' ' || v.back() == '\t' || v.back() == '\r')) {
    v.remove_suffix(1);
  }
  return v;
}

Component KindOf(std::string_view upper) {
  if (upper == "VCALENDAR") return Component::kCalendar;
  if (upper == "VEVENT") return Component::kEvent;
  if (upper == "VTIMEZONE") return Component::kTimezone;
  if (upper == "STANDARD" || upper == "DAYLIGHT") return Component::kTzRule;
  if (upper == "VALARM") return Component::kAlarm;
  return Component::kOther;
}

bool IsBlank(std::string_view s) {
  for (char c : s) {
    if (c != ' ' && c != '\t' && c != '\r' && c != '\n') return false;
  }
  return true;
}

std::string DescribeNonIcs(std::string_view body) {
  size_t i = 0;
  while (i < body.size() && (body[i] == ' ' || body[i] == '\t' || body[i] == '\r' ||
                             body[i] == '\n')) {
    ++i;
  }
  std::string_view rest = body.substr(i);
  if (rest.size() >= 2 && ((static_cast<unsigned char>(rest[0]) == 0xFF &&
                            static_cast<unsigned char>(rest[1]) == 0xFE) ||
                           (static_cast<unsigned char>(rest[0]) == 0xFE &&
                            static_cast<unsigned char>(rest[1]) == 0xFF))) {
    return "The body is UTF-16 encoded; iCalendar feeds must be UTF-8.";
  }
  if (!rest.empty() && rest[0] == '<') {
    return "The body looks like HTML/XML (a login page, an error page or a redirect page), not "
           "an iCalendar feed: it starts with \"" + QuoteForMessage(rest, 40) + "\".";
  }
  if (!rest.empty() && (rest[0] == '{' || rest[0] == '[')) {
    return "The body looks like JSON (an API error?), not an iCalendar feed: \"" +
           QuoteForMessage(rest, 60) + "\".";
  }
  if (rest.size() >= 2 && static_cast<unsigned char>(rest[0]) == 0x1F &&
      static_cast<unsigned char>(rest[1]) == 0x8B) {
    return "The body is gzip-compressed data that was not declared with Content-Encoding: "
           "gzip, so clients cannot decompress it.";
  }
  if (rest.substr(0, 5) == "%PDF-") return "The body is a PDF document, not an iCalendar feed.";
  if (rest.size() >= 11 && EqualsIgnoreCase(rest.substr(0, 11), "BEGIN:VCARD")) {
    return "The body is a vCard (contacts), not an iCalendar feed.";
  }
  // Text before the calendar, typically a PHP warning or debug output.
  std::string_view head = body.substr(0, 64 * 1024);
  size_t at = head.find("BEGIN:VCALENDAR");
  if (at != std::string_view::npos && at > 0) {
    int line = 1 + static_cast<int>(std::count(head.begin(), head.begin() + at, '\n'));
    return "The calendar starts only on line " + std::to_string(line) +
           "; it is preceded by other output (a server warning or debug text?): \"" +
           QuoteForMessage(rest, 60) + "\". Clients reject the feed.";
  }
  return "The body does not start with BEGIN:VCALENDAR: \"" + QuoteForMessage(rest, 60) + "\".";
}

}  // namespace

// Dispatches on the first letter, then compares the few candidates without
// copying: this runs on every content line.
Prop ClassifyProp(std::string_view name) {
  if (name.empty()) return Prop::kOther;
  const auto is = [name](std::string_view upper) { return EqualsIgnoreCase(name, upper); };
  switch (name[0] & ~0x20) {  // ASCII uppercase; names are [A-Za-z0-9_-]
    case 'B':
      if (is("BEGIN")) return Prop::kBegin;
      break;
    case 'C':
      if (is("CLASS")) return Prop::kClass;
      if (is("CREATED")) return Prop::kCreated;
      break;
    case 'D':
      if (is("DTSTART")) return Prop::kDtstart;
      if (is("DTEND")) return Prop::kDtend;
      if (is("DTSTAMP")) return Prop::kDtstamp;
      if (is("DURATION")) return Prop::kDuration;
      break;
    case 'E':
      if (is("END")) return Prop::kEnd;
      if (is("EXDATE")) return Prop::kExdate;
      break;
    case 'L':
      if (is("LAST-MODIFIED")) return Prop::kLastModified;
      break;
    case 'P':
      if (is("PRODID")) return Prop::kProdid;
      if (is("PRIORITY")) return Prop::kPriority;
      break;
    case 'R':
      if (is("RRULE")) return Prop::kRrule;
      if (is("RECURRENCE-ID")) return Prop::kRecurrenceId;
      if (is("RDATE")) return Prop::kRdate;
      if (is("REFRESH-INTERVAL")) return Prop::kRefreshInterval;
      break;
    case 'S':
      if (is("STATUS")) return Prop::kStatus;
      if (is("SEQUENCE")) return Prop::kSequence;
      break;
    case 'T':
      if (is("TRANSP")) return Prop::kTransp;
      if (is("TZID")) return Prop::kTzid;
      break;
    case 'U':
      if (is("UID")) return Prop::kUid;
      break;
    case 'V':
      if (is("VERSION")) return Prop::kVersion;
      break;
    case 'X':
      if (is("X-WR-TIMEZONE")) return Prop::kXWrTimezone;
      if (is("X-PUBLISHED-TTL")) return Prop::kXPublishedTtl;
      break;
    default:
      break;
  }
  return Prop::kOther;
}

Analyzer::Analyzer(std::string_view body, const AnalyzeOptions& options)
    : body_(body), options_(options), sink_(options.max_findings_per_code) {
  // Real feeds run ~0.5-2 KB per event: size the list once instead of
  // growing it a dozen times on a large feed (bounded by max_components).
  pending_.reserve(std::min<size_t>(body.size() / 1024, options.max_components));
  key_arena_.reserve(pending_.capacity() * 64);  // UIDs run ~40-60 bytes
}

Analysis Analyzer::Run() {
  std::string_view after_bom = body_;
  if (after_bom.size() >= 3 && std::memcmp(after_bom.data(), "\xEF\xBB\xBF", 3) == 0) {
    after_bom.remove_prefix(3);
  }
  if (IsBlank(after_bom)) {
    sink_.Report("content.empty_body", kError, 0, [&] {
      return std::make_pair(
          std::string(body_.empty() ? "The response body is empty (0 bytes)."
                                    : "The response body contains only whitespace."),
          std::string("Serve the full calendar. An empty response is never a valid feed; a "
                      "calendar with no events still needs BEGIN:VCALENDAR ... END:VCALENDAR."));
    });
    sink_.Finish(&result_);
    return std::move(result_);
  }

  Scanner scanner(body_);
  ContentLine cl;
  if (!CheckStart(scanner, &cl)) {
    sink_.Finish(&result_);
    return std::move(result_);
  }
  if (scanner.has_bom()) {
    sink_.Report("content.bom", kWarning, 1, [] {
      return std::make_pair(
          std::string("The feed starts with a UTF-8 byte order mark (EF BB BF)."),
          std::string("Remove the BOM: the first bytes must be \"BEGIN:VCALENDAR\". Several "
                      "clients do not recognise the first line and reject the feed."));
    });
  }
  if (scanner.cr_only()) {
    sink_.Report("content.line_endings", kError, 0, [] {
      return std::make_pair(
          std::string("Lines end with CR only (classic Mac line endings); most parsers see the "
                      "whole feed as one line."),
          std::string("End every line with CRLF (\\r\\n) as RFC 5545 section 3.1 requires."));
    });
  }

  clean_stopped_ = scanner.cr_only();  // CleanPrefix knows only LF line ends
  int last_line = 0;
  do {
    CheckLineContent(cl, scanner.offset());
    last_line = cl.line + cl.physical_lines - 1;
    Prop prop = (cl.has_colon && cl.name_valid && !cl.leading_continuation)
                    ? ClassifyProp(cl.name)
                    : Prop::kOther;
    if (in_event_ && prop != Prop::kDtstamp) {
      event_.hash += MixHash(HashBytes(cl.raw));
    }
    if ((!cl.has_colon || !cl.name_valid || cl.leading_continuation) && stack_.empty()) {
      sink_.Report("content.structure", kError, cl.line, [&] {
        return std::make_pair(
            "Text outside of any component" +
                std::string(saw_calendar_end_ ? " (after END:VCALENDAR): \"" : ": \"") +
                QuoteForMessage(cl.raw) + "\".",
            std::string("Nothing may follow END:VCALENDAR (check for appended debug output or "
                        "HTML)."));
      });
      continue;
    }
    if (!cl.has_colon || !cl.name_valid || cl.leading_continuation) {
      sink_.Report("content.bad_folding", kError, cl.line, [&] {
        std::string why = cl.leading_continuation
                              ? "A continuation line (starting with a space) has no line to continue: "
                              : "This line is not NAME:VALUE; it looks like a continuation of the "
                                "previous line that lost its leading space: ";
        return std::make_pair(
            why + "\"" + QuoteForMessage(cl.raw) + "\".",
            std::string("Fold long lines as CRLF followed by one space (RFC 5545 section 3.1) "
                        "and escape newlines inside values as \\n. Clients drop or garble this "
                        "text."));
      });
      continue;
    }
    switch (prop) {
      case Prop::kBegin:
        if (!HandleBegin(cl)) stopped_ = true;
        break;
      case Prop::kEnd:
        HandleEnd(cl);
        break;
      default:
        HandleProperty(cl, prop);
        break;
    }
  } while (!stopped_ && scanner.Next(&cl));

  FinishFeed(scanner, last_line);
  sink_.Finish(&result_);
  return std::move(result_);
}

bool Analyzer::CheckStart(Scanner& scanner, ContentLine* first) {
  bool ok = scanner.Next(first) && first->has_colon && first->name_valid &&
            !first->leading_continuation && EqualsIgnoreCase(first->name, "BEGIN") &&
            EqualsIgnoreCase(TrimRight(first->value), "VCALENDAR");
  if (ok) return true;
  sink_.Report("content.not_ics", kError, first->line, [&] {
    return std::make_pair(
        DescribeNonIcs(body_),
        std::string("Serve the calendar itself (Content-Type: text/calendar) at this address. "
                    "If this is a login or error page, the feed address is probably private, "
                    "expired or revoked: publish the calendar again and share the new ICS "
                    "address."));
  });
  return false;
}

// Checking the body for bad UTF-8 and control characters a chunk at a time
// (SIMD, ~64 KB or a thousand lines per call) instead of line by line: most
// feeds are clean, and then CheckText runs on no line at all. The chunk just
// checked is still in the (L2) cache when the scanner reads it, so the body
// comes from RAM once. Chunks end after an LF, where the check can restart
// (no character spans a line end).
bool Analyzer::ExtendCleanPrefix(size_t end_offset) {
  constexpr size_t kChunkBytes = 64 * 1024;
  while (end_offset > clean_prefix_ && !clean_stopped_) {
    size_t chunk_end = body_.size();
    if (body_.size() - clean_prefix_ > kChunkBytes) {
      const void* lf = std::memchr(body_.data() + clean_prefix_ + kChunkBytes, '\n',
                                   body_.size() - clean_prefix_ - kChunkBytes);
      if (lf != nullptr) chunk_end = static_cast<const char*>(lf) - body_.data() + 1;
    }
    const std::string_view chunk = body_.substr(clean_prefix_, chunk_end - clean_prefix_);
    const size_t clean = CleanPrefix(chunk);
    clean_prefix_ += clean;
    clean_stopped_ = clean < chunk.size();
  }
  return end_offset <= clean_prefix_;
}

void Analyzer::CheckLineContent(const ContentLine& cl, size_t end_offset) {
  const bool clean = end_offset <= clean_prefix_ || ExtendCleanPrefix(end_offset);
  const TextIssues t = clean ? TextIssues{} : CheckText(cl.raw);
  if (t.invalid_utf8) {
    sink_.Report("content.invalid_utf8", kError, cl.line, [&] {
      return std::make_pair(
          "Invalid UTF-8 in \"" + QuoteForMessage(cl.raw) + "\".",
          std::string("Encode the feed as UTF-8 (RFC 5545 section 3.1.4). Text in Latin-1 or "
                      "Windows-1252 is garbled or makes strict clients reject the feed."));
    });
  }
  if (t.control) {
    sink_.Report("content.control_chars", t.nul ? kError : kWarning, cl.line, [&] {
      std::string what = t.nul ? "A NUL byte" : "A control character";
      return std::make_pair(
          what + " in \"" + QuoteForMessage(cl.raw) + "\"" +
              (t.nul ? ": libical-based clients stop reading the feed here." : "."),
          std::string("Remove control characters (U+0000-U+001F except TAB, U+007F) from "
                      "values; escape newlines as \\n."));
    });
  }
  if (cl.long_line != 0) {
    sink_.Report("content.long_line", kInfo, cl.long_line, [&] {
      return std::make_pair(
          std::string("A line is longer than 75 octets (RFC 5545 says lines SHOULD be folded)."),
          std::string("Fold lines longer than 75 octets: CRLF followed by a single space."));
    });
  }
  if (cl.bare_lf_line != 0) {
    if (first_bare_lf_line_ == 0) first_bare_lf_line_ = cl.bare_lf_line;
    ++bare_lf_lines_;
  }
  if (cl.extra_cr_line != 0) {
    if (first_extra_cr_line_ == 0) first_extra_cr_line_ = cl.extra_cr_line;
    ++extra_cr_lines_;
  }
  if (cl.raw.size() > options_.max_property_bytes) {
    sink_.Report("property.oversized", kWarning, cl.line, [&] {
      return std::make_pair(
          "Property " + QuoteForMessage(cl.name, 40) + " is " + std::to_string(cl.raw.size()) +
              " bytes unfolded (limit " + std::to_string(options_.max_property_bytes) + ").",
          std::string("Do not embed large data (inline ATTACH, huge DESCRIPTION) in a feed: "
                      "link to it with a URI. Clients truncate or drop oversized properties."));
    });
  }
}

bool Analyzer::HandleBegin(const ContentLine& cl) {
  uint64_t name_hash = UpperHash(TrimRight(cl.value), &key_buf_);
  Component kind = KindOf(key_buf_);
  ++result_.component_count;
  // Calendar objects (direct children of VCALENDAR other than VTIMEZONE:
  // VEVENT, VTODO, ...) are limited to max_components; all components
  // (VALARMs, STANDARD/DAYLIGHT, ... included) to 4x that plus 1000.
  bool object = stack_.size() == 1 && stack_[0].kind == Component::kCalendar &&
                kind != Component::kTimezone && kind != Component::kCalendar;
  if (object) ++objects_;
  const size_t max_all = options_.max_components * 4 + 1000;
  if (objects_ > options_.max_components || result_.component_count > max_all) {
    bool all = objects_ <= options_.max_components;
    sink_.Report("content.too_many_components", kError, cl.line, [&] {
      return std::make_pair(
          "More than " + std::to_string(all ? max_all : options_.max_components) +
              (all ? " components (alarms and time-zone rules included)"
                   : " calendar objects (events, to-dos, ...)") +
              "; the rest of the feed was not read.",
          std::string("Publish a bounded window (e.g. past 6 months to next 2 years) or split "
                      "the calendar; clients time out or refuse feeds this large."));
    });
    structure_broken_ = true;
    return false;
  }
  if (stack_.size() + 1 > static_cast<size_t>(options_.max_nesting)) {
    sink_.Report("content.excessive_nesting", kError, cl.line, [&] {
      return std::make_pair(
          "Components are nested more than " + std::to_string(options_.max_nesting) +
              " levels deep; the rest of the feed was not read.",
          std::string("Real calendars nest at most 3 levels (VCALENDAR > VEVENT > VALARM). Fix "
                      "the generator's BEGIN/END pairing."));
    });
    structure_broken_ = true;
    return false;
  }
  if (kind == Component::kCalendar) {
    if (!stack_.empty()) {
      sink_.Report("content.structure", kError, cl.line, [&] {
        return std::make_pair(
            std::string("BEGIN:VCALENDAR inside another component."),
            std::string("Close every component before starting a new VCALENDAR."));
      });
      structure_broken_ = true;
    } else {
      ++calendars_;
      if (calendars_ > 1) {
        sink_.Report("content.multiple_calendars", kWarning, cl.line, [] {
          return std::make_pair(
              std::string("A second VCALENDAR object in the same feed; many clients read only "
                          "the first one."),
              std::string("Serve exactly one VCALENDAR containing all events."));
        });
      }
      calendar_line_ = cl.line;
      calendar_has_version_ = false;
      calendar_has_prodid_ = false;
    }
  } else if (stack_.empty()) {
    sink_.Report("content.structure", kError, cl.line, [&] {
      return std::make_pair(
          "BEGIN:" + QuoteForMessage(cl.value, 40) + " outside of VCALENDAR.",
          std::string("Every component must be inside BEGIN:VCALENDAR ... END:VCALENDAR."));
    });
    structure_broken_ = true;
  }
  stack_.push_back(StackEntry{kind, name_hash, cl.line});
  if (kind == Component::kEvent) {
    ++result_.event_count;
    if (in_event_) {
      sink_.Report("content.structure", kError, cl.line, [] {
        return std::make_pair(std::string("VEVENT nested inside another VEVENT."),
                              std::string("Close each VEVENT with END:VEVENT before the next."));
      });
      structure_broken_ = true;
    } else {
      in_event_ = true;
      event_.Reset(cl.line, stack_.size());
    }
  }
  return true;
}

void Analyzer::HandleEnd(const ContentLine& cl) {
  uint64_t name_hash = UpperHash(TrimRight(cl.value), &key_buf_);
  size_t match = stack_.size();
  for (size_t i = stack_.size(); i > 0; --i) {
    if (stack_[i - 1].name_hash == name_hash) {
      match = i - 1;
      break;
    }
  }
  if (match == stack_.size()) {
    sink_.Report("content.structure", kError, cl.line, [&] {
      return std::make_pair("END:" + QuoteForMessage(cl.value, 40) + " without a matching BEGIN.",
                            std::string("Pair every END with the BEGIN of the same component."));
    });
    structure_broken_ = true;
    return;
  }
  if (match + 1 != stack_.size()) {
    const StackEntry& open = stack_.back();
    sink_.Report("content.structure", kError, cl.line, [&] {
      return std::make_pair("END:" + QuoteForMessage(cl.value, 40) +
                                " closes a component while another one opened at line " +
                                std::to_string(open.line) + " is still open.",
                            std::string("Close components in reverse order of opening."));
    });
    structure_broken_ = true;
  }
  while (stack_.size() > match) {
    StackEntry top = stack_.back();
    if (in_event_ && stack_.size() == event_.depth) FinishEvent();
    stack_.pop_back();
    if (top.kind == Component::kCalendar && stack_.empty()) {
      saw_calendar_end_ = true;
      if (!calendar_has_version_) {
        sink_.Report("calendar.missing_version", kError, top.line, [] {
          return std::make_pair(
              std::string("VCALENDAR has no VERSION property."),
              std::string("Add VERSION:2.0 right after BEGIN:VCALENDAR; clients such as Outlook "
                          "reject calendars without it."));
        });
      }
      if (!calendar_has_prodid_) {
        sink_.Report("calendar.missing_prodid", kWarning, top.line, [] {
          return std::make_pair(
              std::string("VCALENDAR has no PRODID property."),
              std::string("Add PRODID:-//Your Company//Your Product//EN (required by RFC 5545; "
                          "some clients use it to work around generator quirks)."));
        });
      }
    }
  }
}

void Analyzer::FinishFeed(const Scanner& scanner, int last_line) {
  (void)scanner;
  bool truncated = false;
  if (!stopped_ && !stack_.empty()) {
    truncated = true;
    const StackEntry& open = stack_.back();
    sink_.Report("content.truncated", kError, last_line, [&] {
      return std::make_pair(
          "The feed ends while a component opened at line " + std::to_string(open.line) +
              " is still open (no END:VCALENDAR): the transfer was cut or the generator "
              "crashed.",
          std::string("Make sure the whole calendar is generated before sending it (no "
                      "streaming of partial output, no response size limit, no timeout)."));
    });
  }
  BuildSnapshot();
  if (bare_lf_lines_ > 0) {
    sink_.Report("content.line_endings", kWarning, first_bare_lf_line_, [&] {
      return std::make_pair(
          std::to_string(bare_lf_lines_) + " line(s) end with LF only instead of CRLF.",
          std::string("End every line with CRLF (\\r\\n) as RFC 5545 section 3.1 requires; "
                      "strict clients reject or misread LF-only feeds."));
    });
  }
  if (extra_cr_lines_ > 0) {
    sink_.Report("content.line_endings", kWarning, first_extra_cr_line_, [&] {
      return std::make_pair(
          std::to_string(extra_cr_lines_) +
              " line(s) end with CR CR LF (line endings converted twice); strict parsers see "
              "a stray CR at the end of every value.",
          std::string("End every line with exactly one CRLF (\\r\\n); do not convert line "
                      "endings of text that already has CRLF."));
    });
  }
  result_.usable = !structure_broken_ && !truncated && !stopped_ && calendars_ > 0;
  if (result_.usable && result_.event_count == 0) {
    sink_.Report("sync.empty_calendar", kInfo, 0, [] {
      return std::make_pair(
          std::string("The calendar is valid but contains no events."),
          std::string("Nothing to fix if the calendar is really empty. Otherwise check the "
                      "sharing settings (busy-only or date-window filters) of the published "
                      "calendar."));
    });
  }
  CheckTimezones();
  CheckOverrides();
  CheckStaleness();
}

}  // namespace internal
}  // namespace calprobe::calendar
