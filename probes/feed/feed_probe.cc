#include "probes/feed/feed_probe.h"

#include <set>

#include "calendar/ics/ics.h"
#include "calendar/ics/scanner.h"
#include "core/secrets.h"

namespace calprobe::probes::feed {
namespace {

using core::ConfigNode;

struct Options {
  std::string url;
  std::string token;
  std::string token_param = "token";
  bool token_bearer = false;  // send the token as Authorization: Bearer instead
  std::string include_holds_param = "include_holds";
  std::vector<bool> variants;  // include_holds values fetched, in order
  std::chrono::milliseconds latency_budget{5000};
  uint64_t max_bytes = 8 * 1024 * 1024;
};

// Events of a feed: UIDs, and how many are tentative (holds).
struct FeedEvents {
  std::set<std::string> uids;
  int tentative = 0;
};

FeedEvents ReadEvents(std::string_view body) {
  using calendar::internal::EqualsIgnoreCase;
  FeedEvents out;
  calendar::internal::Scanner scanner(body);
  calendar::internal::ContentLine cl;
  bool in_event = false;
  while (scanner.Next(&cl)) {
    if (EqualsIgnoreCase(cl.name, "BEGIN") && EqualsIgnoreCase(cl.value, "VEVENT"))
      in_event = true;
    else if (EqualsIgnoreCase(cl.name, "END") && EqualsIgnoreCase(cl.value, "VEVENT"))
      in_event = false;
    else if (in_event && EqualsIgnoreCase(cl.name, "UID"))
      out.uids.insert(std::string(cl.value));
    else if (in_event && EqualsIgnoreCase(cl.name, "STATUS") &&
             EqualsIgnoreCase(cl.value, "TENTATIVE"))
      ++out.tentative;
  }
  return out;
}

class FeedProbe final : public core::Probe {
 public:
  explicit FeedProbe(Options o) : o_(std::move(o)) {}

  void Run(core::ProbeContext& ctx, std::function<void(core::ProbeOutcome)> done) override {
    auto st = std::make_shared<RunState>();
    st->done = std::move(done);
    Fetch(ctx, st, 0);
  }

 private:
  struct Fetched {
    bool include_holds = false;
    int status = 0;
    double seconds = 0;
    size_t bytes = 0;
    size_t events = 0;
    FeedEvents feed;
  };
  struct RunState {
    std::vector<Fetched> fetched;
    std::function<void(core::ProbeOutcome)> done;
  };

  core::HttpRequest Request(bool include_holds, std::chrono::milliseconds left) const {
    core::HttpRequest req;
    req.url = o_.url + (o_.url.find('?') == std::string::npos ? "?" : "&") +
              o_.include_holds_param + "=" + (include_holds ? "true" : "false");
    if (!o_.token.empty()) {
      if (o_.token_bearer)
        req.headers.emplace_back("Authorization", "Bearer " + o_.token);
      else
        req.url += "&" + o_.token_param + "=" + o_.token;
    }
    req.timeout =
        std::max(std::min(left, std::chrono::milliseconds(30000)), std::chrono::milliseconds(1));
    req.max_body_bytes = o_.max_bytes + 1;
    return req;
  }

  void Fetch(core::ProbeContext& ctx, std::shared_ptr<RunState> st, size_t i) {
    if (i >= o_.variants.size()) return Finish(st);
    bool holds = o_.variants[i];
    auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(ctx.deadline() - ctx.clock().Now());
    ctx.http().Fetch(Request(holds, left), [this, &ctx, st, i, holds](core::HttpResponse r) {
      core::ProbeOutcome fail;
      fail.http_status = r.status;
      Fetched f;
      f.include_holds = holds;
      f.status = r.status;
      f.seconds = r.timings.total;
      f.bytes = r.body.size();
      core::Event e = ctx.NewEvent("cal.ics.feed.requested");
      e.With("include_holds", holds).With("source", std::string("synthetic"));
      if (r.ok()) e.With("status", int64_t{r.status}).With("duration_ms", r.timings.total * 1000);
      (void)ctx.events().Emit(std::move(e));
      std::string which = std::string("include_holds=") + (holds ? "true" : "false");
      auto stop = [&](std::string reason, std::string msg) {
        fail.reason = std::move(reason);
        fail.message = core::Secrets::Redact(which + ": " + msg);
        fail.details = Details(*st);
        auto done = std::move(st->done);
        done(std::move(fail));
      };
      if (!r.ok()) {
        return stop(std::string(core::TransportErrorCode(r.error)), r.error_message);
      }
      if (r.status != 200) {
        std::string body = r.body.substr(0, 120);
        return stop("assertion", "status " + std::to_string(r.status) + ", expected 200" +
                                     (body.empty() ? "" : " (" + body + ")"));
      }
      if (r.body.size() > o_.max_bytes) {
        return stop("size", std::to_string(r.body.size()) + " bytes, limit " +
                                std::to_string(o_.max_bytes));
      }
      calendar::Analysis a = calendar::AnalyzeIcs(r.body);
      f.events = a.event_count;
      if (!a.usable) return stop("lint", "not a usable calendar");
      for (const auto& finding : a.findings) {
        if (finding.severity == calendar::Severity::kError) {
          return stop("lint", finding.code + " on line " + std::to_string(finding.line) + ": " +
                                  finding.message);
        }
      }
      if (r.timings.total * 1000 > static_cast<double>(o_.latency_budget.count())) {
        return stop("latency", "generated in " +
                                   std::to_string(static_cast<int>(r.timings.total * 1000)) +
                                   " ms, budget " + core::FormatDuration(o_.latency_budget));
      }
      f.feed = ReadEvents(r.body);
      if (!holds && f.feed.tentative > 0) {
        st->fetched.push_back(std::move(f));
        return stop("include_holds", std::to_string(st->fetched.back().feed.tentative) +
                                         " tentative events (holds) in a feed without holds");
      }
      st->fetched.push_back(std::move(f));
      Fetch(ctx, st, i + 1);
    });
  }

  void Finish(const std::shared_ptr<RunState>& st) {
    core::ProbeOutcome o;
    o.http_status = st->fetched.empty() ? 0 : st->fetched.back().status;
    o.details = Details(*st);
    const Fetched* without = nullptr;
    const Fetched* with = nullptr;
    for (const auto& f : st->fetched) (f.include_holds ? with : without) = &f;
    if (with && without) {
      for (const auto& uid : without->feed.uids) {
        if (!with->feed.uids.count(uid)) {
          o.reason = "include_holds";
          o.message =
              "event " + uid + " is in the feed without holds but not in the feed with holds";
          auto done = std::move(st->done);
          return done(std::move(o));
        }
      }
    }
    o.success = true;
    auto done = std::move(st->done);
    done(std::move(o));
  }

  static nlohmann::json Details(const RunState& st) {
    nlohmann::json list = nlohmann::json::array();
    for (const auto& f : st.fetched) {
      list.push_back({{"include_holds", f.include_holds},
                      {"status", f.status},
                      {"seconds", f.seconds},
                      {"bytes", f.bytes},
                      {"events", f.events},
                      {"tentative", f.feed.tentative}});
    }
    return {{"fetches", list}};
  }

  Options o_;
};

class Factory final : public core::ProbeFactory {
 public:
  std::string_view type() const override { return "feed"; }

  std::unique_ptr<core::Probe> Create(const ConfigNode& n, const core::TargetInfo&) const override {
    if (!n.defined()) {
      n.Error("the feed probe needs options (at least url:)");
      return nullptr;
    }
    if (!n.ExpectMap()) return nullptr;
    size_t before = n.errors()->size();
    Options o;
    o.url = n.RequiredString("url");
    if (!o.url.empty() && o.url.rfind("http://", 0) != 0 && o.url.rfind("https://", 0) != 0) {
      n["url"].Error("expected an http:// or https:// URL");
    }
    o.token = n.String("token", "");
    if (!o.token.empty()) core::Secrets::Register(o.token);
    if (n.Has("token_param") && n.Has("token_header")) {
      n["token_header"].Error("give token_param: or token_header: bearer, not both");
    }
    o.token_param = n.String("token_param", o.token_param);
    if (n.Has("token_header")) {
      std::string h = n.String("token_header");
      if (h != "bearer")
        n["token_header"].Error(
            "the only supported value is \"bearer\" (Authorization: Bearer TOKEN)");
      o.token_bearer = true;
    }
    o.include_holds_param = n.String("include_holds_param", o.include_holds_param);
    std::string holds = n.String("include_holds", "both");
    if (holds == "both")
      o.variants = {false, true};
    else if (holds == "true")
      o.variants = {true};
    else if (holds == "false")
      o.variants = {false};
    else
      n["include_holds"].Error("expected true, false or both, got \"" + holds + "\"");
    o.latency_budget = n.Duration("latency_budget", o.latency_budget);
    o.max_bytes = n.Bytes("max_size", o.max_bytes);
    n.RejectUnknownKeys();
    if (n.errors()->size() != before) return nullptr;
    return std::make_unique<FeedProbe>(std::move(o));
  }
};

}  // namespace

std::unique_ptr<core::ProbeFactory> NewFactory() { return std::make_unique<Factory>(); }

}  // namespace calprobe::probes::feed
