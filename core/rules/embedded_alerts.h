#pragma once
// config/alerts.yaml compiled into the binary (core/rules/CMakeLists.txt).
#include <string_view>

namespace calprobe::core {
extern const std::string_view kEmbeddedAlertRules;       // config/alerts.yaml
extern const std::string_view kEmbeddedProbeAlertRules;  // config/probe-alerts.yaml
}  // namespace calprobe::core
