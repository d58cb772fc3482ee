#include "probes/ics/poll.h"

#include <algorithm>

#include "probes/ics/credential_class.h"
#include "probes/ics/http_codes.h"

namespace calprobe::probes::ics {
namespace {

using calendar::Severity;

int64_t UnixMs(core::TimePoint t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

// Codes that make Analysis.usable false (docs/diagnosis-codes.md "Usable or not").
constexpr std::string_view kUnusableCodes[] = {
    "content.not_ics",   "content.empty_body",          "content.truncated",
    "content.structure", "content.too_many_components", "content.excessive_nesting"};

std::string UnusableCode(const calendar::Analysis& a) {
  for (std::string_view code : kUnusableCodes) {
    if (a.finding_counts.count(std::string(code))) return std::string(code);
  }
  for (const auto& f : a.findings) {
    if (f.severity == Severity::kError) return f.code;
  }
  return "content.structure";
}

void Fail(PollVerdict* v, SourceState* state, const Options& o, std::string code,
          std::string message, std::optional<std::chrono::seconds> retry_after,
          core::TimePoint now) {
  v->success = false;
  v->error_code = std::move(code);
  v->message = std::move(message);
  state->tier = std::min<int>(state->tier + 1, static_cast<int>(o.retry_tiers.size()));
  v->backoff = BackoffFor(state->tier, o.retry_tiers, retry_after);
  state->backoff_until_ms = UnixMs(now) + v->backoff.count();
  state->last_error = v->error_code;
}

void AddFinding(PollVerdict* v, calendar::Finding f) {
  v->finding_counts[f.code] += 1;
  v->findings.push_back(std::move(f));
}

void Succeed(PollVerdict* v, SourceState* state, core::TimePoint now) {
  v->success = true;
  state->tier = 0;
  state->backoff_until_ms = 0;
  state->last_error.clear();
  state->last_success_ms = UnixMs(now);
  state->credential_failures = 0;
}

}  // namespace

uint64_t SnapshotFingerprint(const calendar::Snapshot& s) {
  uint64_t sum = s.events.size();
  calendar::EventKeyHash kh;
  for (const auto& [key, hash] : s.events) {
    uint64_t x = kh(key) * 0x9e3779b97f4a7c15ull ^ hash;
    x ^= x >> 31;
    x *= 0xbf58476d1ce4e5b9ull;
    x ^= x >> 29;
    sum += x;
  }
  return sum;
}

PollVerdict JudgePoll(const Options& o, const core::HttpResponse& r,
                      const std::function<std::optional<calendar::Snapshot>()>& load_previous,
                      core::TimePoint now, SourceState* state) {
  PollVerdict v;
  v.previous_event_count = state->event_count;
  if (auto f = FetchFinding(r)) {
    std::optional<std::chrono::seconds> retry_after;
    if (r.ok() && (r.status == 429 || r.status == 503)) {
      retry_after = ParseRetryAfter(r.Header("retry-after"), now);
    }
    v.findings.push_back(*f);
    std::string code = f->code, message = f->message;
    // A credential status after earlier successes, seen `streak` times in a
    // row, is a credential problem; transient errors neither add nor reset.
    if (r.ok() && IsCredentialStatus(r.status, o.secret_url)) {
      ++state->credential_failures;
      if (state->last_success_ms > 0 &&
          state->credential_failures >= o.credential_failure_streak) {
        calendar::Finding cf = CredentialFinding(CredentialCode(r.status, o.secret_url), r.status,
                                                 state->credential_failures);
        code = cf.code;
        message = cf.message;
        v.findings.push_back(std::move(cf));
      }
    }
    Fail(&v, state, o, code, message, retry_after, now);
    return v;
  }
  if (r.status == 304) {
    v.etag_matched = true;
    v.event_count = state->event_count;
    v.message = "304 Not Modified";
    Succeed(&v, state, now);
    return v;
  }
  std::string_view ct = r.Header("content-type");
  if (!IsCalendarContentType(ct)) {
    v.findings.push_back(TransportFinding(
        "http.content_type",
        "Content-Type is \"" + std::string(ct.substr(0, 80)) + "\", not text/calendar"));
  }
  calendar::AnalyzeOptions ao;
  ao.max_components = o.max_components;
  ao.now_unix = UnixMs(now) / 1000;
  calendar::Analysis a = calendar::AnalyzeIcs(r.body, ao);
  std::string unusable_code = a.usable ? "" : UnusableCode(a);
  v.finding_counts = std::move(a.finding_counts);
  if (!v.findings.empty()) v.finding_counts["http.content_type"] = 1;
  v.findings.insert(v.findings.end(), std::make_move_iterator(a.findings.begin()),
                    std::make_move_iterator(a.findings.end()));
  v.refresh_interval_seconds = a.refresh_interval_seconds;
  v.event_count = static_cast<int64_t>(a.event_count);
  if (!a.usable) {
    std::string code = std::move(unusable_code);
    std::string msg = "unusable body (" + code + "); previous snapshot kept";
    for (const auto& f : v.findings) {
      if (f.code == code) {
        msg = f.message + " (line " + std::to_string(f.line) + "); previous snapshot kept";
        break;
      }
    }
    Fail(&v, state, o, std::move(code), std::move(msg), std::nullopt, now);
    return v;
  }
  std::optional<calendar::Snapshot> previous = load_previous();
  v.first_poll = !previous.has_value();
  calendar::Snapshot empty;
  v.delta = calendar::ComputeDelta(previous ? *previous : empty, a.snapshot);
  size_t prev_count = previous ? previous->events.size() : 0;
  if (previous) v.previous_event_count = static_cast<int64_t>(prev_count);
  if (previous && prev_count >= static_cast<size_t>(o.mass_deletion_min_events) &&
      static_cast<double>(v.delta.removed) > o.mass_deletion_threshold * prev_count) {
    uint64_t fp = SnapshotFingerprint(a.snapshot);
    state->pending_count = state->pending_hash == fp ? state->pending_count + 1 : 1;
    state->pending_hash = fp;
    if (state->pending_count < o.mass_deletion_confirmations) {
      v.success = false;
      v.error_code = "sync.mass_deletion";
      v.message = std::to_string(v.delta.removed) + " of " + std::to_string(prev_count) +
                  " events removed in one poll (> " +
                  std::to_string(static_cast<int>(o.mass_deletion_threshold * 100)) +
                  " %); previous snapshot kept as the baseline (seen " +
                  std::to_string(state->pending_count) + " of " +
                  std::to_string(o.mass_deletion_confirmations) + " times)";
      state->last_error = v.error_code;
      return v;
    }
    v.mass_deletion_accepted = true;
  }
  state->pending_hash = 0;
  state->pending_count = 0;
  bool sent_validators =
      state->event_count >= 0 && (!state->etag.empty() || !state->last_modified.empty());
  if (r.Header("etag").empty() && r.Header("last-modified").empty()) {
    AddFinding(&v, TransportFinding("http.no_conditional_get",
                                    "no ETag or Last-Modified: every poll downloads the feed"));
  } else if (sent_validators && previous && v.delta.total() == 0 &&
             r.Header("etag") == state->etag) {
    AddFinding(&v, TransportFinding("http.no_conditional_get",
                                    "validators ignored: 200 with unchanged content"));
  }
  state->etag = std::string(r.Header("etag"));
  state->last_modified = std::string(r.Header("last-modified"));
  if (!previous || v.delta.total() > 0 || state->event_count < 0) {
    v.new_snapshot = std::move(a.snapshot);
  }
  state->event_count = v.event_count;
  v.message = std::to_string(v.event_count) + " events; +" + std::to_string(v.delta.added) + " -" +
              std::to_string(v.delta.removed) + " ~" + std::to_string(v.delta.changed);
  Succeed(&v, state, now);
  return v;
}

}  // namespace calprobe::probes::ics
