#pragma once
// Alert rules as data (DESIGN.md "Rules"): what a rule in config/alerts.yaml
// becomes after LoadRules (rule_config.h) validated it. The schema and the
// semantics of the seed's six alerts are documented in docs/alerts.md.
//
// A rule holds one or more conditions (`any_of`); it is true for a group key
// iff any condition is true. A condition reads one signal over a window,
// compares it with a threshold and is false while it has fewer than
// `min_samples` samples (a ratio over 1 event is not a spike) or no value.

#include <chrono>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/event.h"

namespace calprobe::core::rules {

enum class SignalKind {
  kCount,        // events of `events` in the window
  kCountPerKey,  // same, meant with group_by (e.g. per provider)
  kRate,         // events per second over the window
  kRatio,        // count(numerator) / sum(count(denominator...))
  kQuantile,     // quantile q of `field` over the window
  kMaxAge,       // seconds since the key's last event (any of `events`), keys active within
  kAbsence,      // seconds since the last event (any of `events`) in the group
  kLast,         // `field` of the group's latest event, if seen within the window
  kAlways,       // always 1: the Watchdog rule (proves the alert path end to end)
  kAnomaly,      // robust z-score of the window's count (or sum of `field`) against the
                 // same window one, two, ... `seasons` seasons ago (docs/alerts.md)
};

enum class Comparison { kGt, kGe, kLt, kLe };

struct Signal {
  SignalKind kind = SignalKind::kCount;
  std::vector<std::string> events;                  // count/rate/quantile/max_age/absence/last
  std::string numerator;                            // ratio
  std::vector<std::string> denominator;             // ratio
  std::string field;                                // quantile/last
  double q = 0.95;                                  // quantile
  Duration active_within = std::chrono::hours(24);  // max_age
  Duration season = std::chrono::hours(24);         // anomaly: period of the baseline
  int seasons = 7;                                  // anomaly: past seasons compared
};

struct Condition {
  Signal signal;
  Duration window = std::chrono::minutes(5);
  Comparison op = Comparison::kGt;
  double threshold = 0;
  // kLast only: compare with this field of the same latest event instead
  // (e.g. backlog `size` > `queue_size`).
  std::string threshold_field;
  uint64_t min_samples = 0;
};

// Local working hours; a rule with business hours is false outside them.
struct BusinessHours {
  std::string timezone = "UTC";    // IANA name
  std::set<int> weekdays;          // 0 = Sunday .. 6 = Saturday
  int start_minute = 9 * 60;       // local minutes after midnight
  int end_minute = 17 * 60;        // exclusive
  std::set<std::string> holidays;  // local dates "YYYY-MM-DD"
};

struct Rule {
  std::string name;
  std::vector<Condition> any_of;  // at least one
  Duration for_duration{};        // `for:` true this long before firing
  Duration keep_firing_for{};     // stays firing this long after turning false
  std::optional<BusinessHours> business_hours;
  std::string severity;
  std::vector<std::string> origins = {"platform"};  // event origins read
  std::vector<Label> group_by;
  std::vector<std::string> receivers;
  std::string runbook;
  std::map<std::string, std::string> annotations;  // templates
};

const char* ComparisonName(Comparison c);
// Returns true iff `value op threshold`.
bool Compare(double value, Comparison op, double threshold);

}  // namespace calprobe::core::rules
