#pragma once
// GET /api/v1/panels: the six seed panels (Availability Intake, Feasibility
// Engine, Hold to Confirm, External Calendar Sync, ICS Feed Outbound, User
// Impact) as JSON, computed from the per-minute rollups (rollup.h).
// docs/dashboard.md describes every field.

#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "core/clock.h"
#include "core/panels/rollup.h"
#include "core/status.h"

namespace calprobe::core::panels {

struct PanelQuery {
  Filter filter;
  TimePoint from{}, to{};
  int step_minutes = 1;
};

// Reads the query parameters provider, role, region, origin
// (platform|synthetic|all), range (e.g. 1h; default 1h, at most the
// retention) or from/to (RFC 3339), and step (>= 1m; default: at most 120
// points). Returns an error naming the parameter and what it accepts.
// `param(name)` returns a decoded parameter or "".
template <typename ParamFn>
Result<PanelQuery> ParsePanelQuery(ParamFn&& param, TimePoint now, Duration retention);

Result<PanelQuery> ParsePanelQueryMap(const std::map<std::string, std::string>& params,
                                      TimePoint now, Duration retention);

// The panels document for `q` at `now`.
nlohmann::json BuildPanels(const Rollups& rollups, const PanelQuery& q, TimePoint now);

template <typename ParamFn>
Result<PanelQuery> ParsePanelQuery(ParamFn&& param, TimePoint now, Duration retention) {
  std::map<std::string, std::string> m;
  for (const char* k : {"provider", "role", "region", "origin", "range", "from", "to", "step"}) {
    std::string v = param(k);
    if (!v.empty()) m[k] = v;
  }
  return ParsePanelQueryMap(m, now, retention);
}

}  // namespace calprobe::core::panels
