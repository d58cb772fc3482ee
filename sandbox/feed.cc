// RenderFeed and SandboxService's feed endpoints.

#include "sandbox/feed.h"

#include <algorithm>
#include <chrono>
#include <ctime>

#include "core/log.h"
#include "core/secrets.h"
#include "sandbox/service.h"
#include "sandbox/service_internal.h"

namespace calprobe::sandbox {

namespace {

std::string IcsUtc(calendar::oracle::TimePoint t) {
  std::time_t tt =
      std::chrono::system_clock::to_time_t(std::chrono::time_point_cast<std::chrono::seconds>(t));
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[24];
  std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
  return buf;
}

std::string EscapeText(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '\\' || c == ';' || c == ',') out.push_back('\\');
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    if (c == '\r') continue;
    out.push_back(c);
  }
  return out;
}

// Appends one content line, folded at 75 octets (RFC 5545 3.1), without
// splitting a UTF-8 sequence.
void Line(std::string* out, std::string_view line) {
  size_t limit = 75;
  while (line.size() > limit) {
    size_t cut = limit;
    while (cut > 1 && (static_cast<unsigned char>(line[cut]) & 0xC0) == 0x80) --cut;
    out->append(line.substr(0, cut));
    out->append("\r\n ");
    line.remove_prefix(cut);
    limit = 74;  // the leading space counts
  }
  out->append(line);
  out->append("\r\n");
}

}  // namespace

bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;  // token length is not secret
  unsigned char diff = 0;
  for (size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
}

std::string RenderFeed(std::string_view calendar_name, const std::vector<FeedEntry>& entries,
                       calendar::oracle::TimePoint dtstamp) {
  std::string out;
  Line(&out, "BEGIN:VCALENDAR");
  Line(&out, "VERSION:2.0");
  Line(&out, "PRODID:-//calprobe//sandbox//EN");
  Line(&out, "CALSCALE:GREGORIAN");
  Line(&out, "METHOD:PUBLISH");
  Line(&out, "X-WR-CALNAME:" + EscapeText(calendar_name));
  std::string stamp = IcsUtc(dtstamp);
  for (const auto& e : entries) {
    Line(&out, "BEGIN:VEVENT");
    Line(&out, "UID:" + e.uid);
    Line(&out, "DTSTAMP:" + stamp);
    Line(&out, "DTSTART:" + IcsUtc(e.span.start));
    Line(&out, "DTEND:" + IcsUtc(e.span.end));
    Line(&out, e.tentative ? "SUMMARY:Hold" : "SUMMARY:Busy");
    Line(&out, "TRANSP:OPAQUE");
    Line(&out, e.tentative ? "STATUS:TENTATIVE" : "STATUS:CONFIRMED");
    Line(&out, "END:VEVENT");
  }
  Line(&out, "END:VCALENDAR");
  return out;
}

ApiResult<std::string> SandboxService::Feed(const std::string& provider_id,
                                            const std::optional<std::string>& token,
                                            bool include_holds) {
  auto t0 = std::chrono::steady_clock::now();
  std::lock_guard lock(mu_);
  TimePoint now = deps_.clock.Now();
  ExpireLocked(now);
  ProviderState* p = FindLocked(provider_id);
  if (!p) return NotFoundError("provider", provider_id);
  ++feed_requests_;
  auto requested = [&](int status) {
    EmitLocked(NewEvent("cal.ics.feed.requested", p)
                   .With("include_holds", include_holds)
                   .With("status", int64_t{status})
                   .With("duration_ms", std::chrono::duration<double, std::milli>(
                                            std::chrono::steady_clock::now() - t0)
                                            .count()));
  };
  bool right = token && ConstantTimeEquals(*token, p->feed_token);
  if (!deps_.faults.Active("feed_token_not_checked", provider_id)) {
    ApiError e{401, "", "token", {}, nlohmann::json::object()};
    if (!token || token->empty()) {
      e.message = "missing feed token; use the feed URL with ?token=";
    } else if (!right) {
      e.message = "wrong feed token (regenerated tokens replace the old one)";
    } else if (deps_.faults.Active("token_expired", provider_id)) {
      e.message = "feed token expired; regenerate it";
    }
    if (!e.message.empty()) {
      ++feed_rejected_;
      requested(401);
      return e;
    }
  }
  std::vector<FeedEntry> entries;
  for (const auto& [id, b] : bookings_) {
    if (b.provider_id == provider_id)
      entries.push_back({b.id + "@sandbox.calprobe.invalid", b.span, false});
  }
  if (include_holds && !deps_.faults.Active("feed_missing_holds", provider_id)) {
    for (const auto& [id, h] : holds_) {
      if (h.provider_id == provider_id && h.state == HoldState::kActive) {
        entries.push_back({h.id + "@sandbox.calprobe.invalid", h.span, true});
      }
    }
  }
  std::sort(entries.begin(), entries.end(),
            [](const FeedEntry& a, const FeedEntry& b) { return a.span.start < b.span.start; });
  std::string ics = RenderFeed("calprobe sandbox " + provider_id, entries, now);
  requested(200);
  return ics;
}

ApiResult<std::string> SandboxService::RegenerateFeedToken(const std::string& provider_id) {
  std::lock_guard lock(mu_);
  ProviderState* p = FindLocked(provider_id);
  if (!p) return NotFoundError("provider", provider_id);
  p->feed_token = NewToken();
  core::Secrets::Register(p->feed_token);
  EmitLocked(NewEvent("cal.ics.feed.token.regenerated", p).With("reason", std::string("api")));
  core::Log(core::LogLevel::kInfo, "feed token regenerated").Kv("provider", provider_id);
  return p->feed_token;
}

}  // namespace calprobe::sandbox
