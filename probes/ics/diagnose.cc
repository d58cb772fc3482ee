#include "probes/ics/diagnose.h"

#include <algorithm>
#include <memory>

#include "core/event.h"
#include "core/secrets.h"
#include "probes/ics/credential_class.h"
#include "probes/ics/http_codes.h"

namespace calprobe::probes::ics {
namespace {

using calendar::Finding;
using calendar::Severity;

HttpStory Story(const core::HttpRequest& q, const core::HttpResponse& r, bool conditional) {
  HttpStory s;
  s.url = core::RedactUrl(q.url);
  s.conditional = conditional;
  s.status = r.status;
  if (!r.ok()) {
    s.error_code = std::string(core::TransportErrorCode(r.error));
    s.error_message = core::Secrets::Redact(r.error_message);
  }
  for (const auto& loc : r.redirect_chain) s.redirects.push_back(core::RedactUrl(loc));
  s.effective_url = core::RedactUrl(r.effective_url);
  s.content_type = r.Header("content-type");
  s.content_encoding = r.Header("content-encoding");
  s.etag = r.Header("etag");
  s.last_modified = r.Header("last-modified");
  s.cache_control = r.Header("cache-control");
  s.expires = r.Header("expires");
  s.retry_after = r.Header("retry-after");
  s.wire_bytes = r.wire_bytes;
  s.body_bytes = r.body.size();
  s.timings = r.timings;
  if (auto e = r.EarliestCertificateExpiry()) s.certificate_expiry = core::FormatRfc3339(*e);
  return s;
}

void AddFinding(Report* rep, Finding f) {
  rep->finding_counts[f.code] += 1;
  rep->findings.push_back(std::move(f));
}

void Analyze(Report* rep, std::string_view body, const DiagnoseOptions& o,
             calendar::Snapshot* snapshot_out) {
  calendar::AnalyzeOptions ao;
  ao.now_unix = o.now_unix;
  ao.max_components = o.max_components;
  calendar::Analysis a = calendar::AnalyzeIcs(body, ao);
  rep->body_read = true;
  rep->event_count = a.event_count;
  rep->component_count = a.component_count;
  rep->usable = a.usable;
  rep->refresh_interval_seconds = a.refresh_interval_seconds;
  for (auto& f : a.findings) rep->findings.push_back(std::move(f));
  for (const auto& [code, n] : a.finding_counts) rep->finding_counts[code] += n;
  if (snapshot_out) *snapshot_out = std::move(a.snapshot);
}

core::HttpRequest MakeRequest(const std::string& url, const DiagnoseOptions& o) {
  core::HttpRequest q;
  q.url = url;
  q.timeout = o.timeout;
  q.max_body_bytes = o.max_body;
  q.max_decompressed_bytes = o.max_decompressed;
  q.max_redirects = o.max_redirects;
  q.headers = o.headers;
  q.verify_tls = !o.insecure;
  q.ca_file = o.ca_file;
  q.capture_certificates = url.rfind("https://", 0) == 0;
  return q;
}

// State of one asynchronous diagnosis.
struct Run : std::enable_shared_from_this<Run> {
  core::HttpClient* http;
  DiagnoseOptions o;
  std::string url;
  std::function<void(Report)> done;
  Report rep;
  std::string first_body;
  calendar::Snapshot first_snapshot;

  void Second(const core::HttpResponse& first) {
    core::HttpRequest q = MakeRequest(url, o);
    std::string etag(first.Header("etag")), lm(first.Header("last-modified"));
    bool conditional = !etag.empty() || !lm.empty();
    if (!etag.empty()) q.headers.emplace_back("If-None-Match", etag);
    if (!lm.empty()) q.headers.emplace_back("If-Modified-Since", lm);
    core::HttpRequest copy = q;
    http->Fetch(std::move(q), [self = shared_from_this(), copy, conditional](core::HttpResponse r) {
      self->OnSecond(copy, conditional, r);
    });
  }

  void OnSecond(const core::HttpRequest& copy, bool conditional, const core::HttpResponse& r) {
    rep.second = Story(copy, r, conditional);
    if (auto f = FetchFinding(r)) {
      f->message = "second request: " + f->message;
      AddFinding(&rep, std::move(*f));
    } else if (r.status == 304) {
      if (conditional) rep.conditional_honoured = true;
      if (o.twice) rep.delta = calendar::Delta{};
    } else {
      bool identical = r.body == first_body;
      if (conditional) {
        rep.conditional_honoured = false;
        if (identical) {
          AddFinding(&rep, TransportFinding("http.no_conditional_get",
                                            "validators ignored: If-None-Match / "
                                            "If-Modified-Since got 200 with an identical body"));
        }
      }
      if (o.twice) {
        calendar::AnalyzeOptions ao;
        ao.max_components = o.max_components;
        calendar::Analysis a = calendar::AnalyzeIcs(r.body, ao);
        if (a.usable && rep.usable) rep.delta = calendar::ComputeDelta(first_snapshot, a.snapshot);
      }
    }
    Finish();
  }

  void Finish() {
    // http.* findings first (line 0), then content findings by line.
    std::stable_sort(rep.findings.begin(), rep.findings.end(),
                     [](const Finding& a, const Finding& b) {
                       bool ha = a.code.rfind("http.", 0) == 0, hb = b.code.rfind("http.", 0) == 0;
                       if (ha != hb) return ha;
                       return a.line < b.line;
                     });
    auto cb = std::move(done);
    cb(std::move(rep));
  }
};

}  // namespace

int Report::Count(Severity s) const {
  return static_cast<int>(std::count_if(findings.begin(), findings.end(),
                                        [s](const Finding& f) { return f.severity == s; }));
}

Report DiagnoseBody(std::string source, std::string_view body, const DiagnoseOptions& o) {
  Report rep;
  rep.source = std::move(source);
  Analyze(&rep, body, o, nullptr);
  return rep;
}

void DiagnoseUrl(core::HttpClient& http, std::string url, const DiagnoseOptions& o,
                 std::function<void(Report)> done) {
  auto run = std::make_shared<Run>();
  run->http = &http;
  run->o = o;
  run->url = NormalizeFeedUrl(url);
  run->done = std::move(done);
  run->rep.source = core::RedactUrl(url);
  run->rep.is_url = true;
  core::HttpRequest q = MakeRequest(run->url, o);
  core::HttpRequest copy = q;
  http.Fetch(std::move(q), [run, copy](core::HttpResponse r) {
    Report& rep = run->rep;
    rep.first = Story(copy, r, false);
    if (auto f = FetchFinding(r)) {
      AddFinding(&rep, std::move(*f));
      bool secret = LooksLikeSecretUrl(run->url);
      if (run->o.worked_before && r.ok() && IsCredentialStatus(r.status, secret)) {
        AddFinding(&rep, CredentialFinding(CredentialCode(r.status, secret), r.status, 1));
      }
      auto keep = run;  // Finish() may release the last other reference
      keep->Finish();
      return;
    }
    if (!IsCalendarContentType(r.Header("content-type"))) {
      std::string ct(r.Header("content-type"));
      AddFinding(&rep, TransportFinding("http.content_type",
                                        ct.empty() ? "no Content-Type header"
                                                   : "Content-Type is \"" + ct.substr(0, 80) +
                                                         "\", not text/calendar"));
    }
    bool validators = !r.Header("etag").empty() || !r.Header("last-modified").empty();
    if (!validators) {
      AddFinding(&rep, TransportFinding("http.no_conditional_get",
                                        "no ETag or Last-Modified: every poll downloads and "
                                        "re-parses the whole feed"));
    }
    Analyze(&rep, r.body, run->o, &run->first_snapshot);
    if (validators || run->o.twice) {
      run->first_body = std::move(r.body);
      run->Second(r);  // the second request's callback holds the Run
      return;
    }
    auto keep = run;
    keep->Finish();
  });
}

}  // namespace calprobe::probes::ics
