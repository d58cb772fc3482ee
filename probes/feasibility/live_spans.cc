#include "probes/feasibility/live_spans.h"

#include <algorithm>
#include <memory>

#include "probes/feasibility/response_map.h"

namespace calprobe::probes::feasibility {
namespace {

namespace oracle = calendar::oracle;

struct Fetch {
  core::ProbeContext* ctx;
  std::vector<LiveSpanSource> sources;
  LiveSpansCallback done;
  std::vector<oracle::Span> spans;
};

void Next(const std::shared_ptr<Fetch>& f, size_t i) {
  if (i >= f->sources.size()) return f->done(std::move(f->spans));
  const LiveSpanSource& src = f->sources[i];
  core::HttpRequest req;
  req.url = src.url;
  req.headers = src.headers;
  req.timeout = std::max(std::chrono::duration_cast<std::chrono::milliseconds>(
                             f->ctx->deadline() - f->ctx->clock().Now()),
                         std::chrono::milliseconds(1));
  f->ctx->http().Fetch(std::move(req), [f, i](core::HttpResponse r) {
    const LiveSpanSource& src = f->sources[i];
    std::string error;
    if (!r.ok()) {
      error = std::string(core::TransportErrorCode(r.error)) + ": " + r.error_message;
    } else if (r.status != 200) {
      error = "status " + std::to_string(r.status);
    } else {
      ResponseMapping m;
      m.slots = src.list;
      m.start = src.start;
      m.end = src.end;
      m.truncated.clear();
      m.candidate_windows.clear();
      auto mapped = MapResponse(r.body, m, std::chrono::minutes(0));
      if (mapped.ok()) {
        f->spans.insert(f->spans.end(), mapped->slots.begin(), mapped->slots.end());
      } else {
        error = mapped.error();
      }
    }
    if (!error.empty()) return f->done(core::Status::Error(src.url + ": " + error));
    Next(f, i + 1);
  });
}

}  // namespace

void FetchLiveSpans(core::ProbeContext& ctx, const std::vector<LiveSpanSource>& sources,
                    LiveSpansCallback done) {
  auto f = std::make_shared<Fetch>(Fetch{&ctx, sources, std::move(done), {}});
  Next(f, 0);
}

LiveSpans MergeLiveSpans(std::vector<oracle::Span> before, std::vector<oracle::Span> after) {
  std::sort(before.begin(), before.end());
  before.erase(std::unique(before.begin(), before.end()), before.end());
  std::sort(after.begin(), after.end());
  after.erase(std::unique(after.begin(), after.end()), after.end());
  LiveSpans out;
  std::set_intersection(before.begin(), before.end(), after.begin(), after.end(),
                        std::back_inserter(out.stable));
  std::set_symmetric_difference(before.begin(), before.end(), after.begin(), after.end(),
                                std::back_inserter(out.changed));
  return out;
}

}  // namespace calprobe::probes::feasibility
