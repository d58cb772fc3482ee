#pragma once
// Persistence of pending/firing alerts in the Store's alert_states table
// (migration 2 in core/store.cc). Internal to core/rules.

#include <string>
#include <vector>

#include "core/rules/engine.h"
#include "core/store.h"

namespace calprobe::core::rules {

// Every persisted instance (any rule name).
Result<std::vector<AlertInstance>> LoadAlertStates(Store& store);
// In one transaction: upserts the pending/firing instances of `changed` and
// deletes the others (inactive/resolved). `keys[i]` is changed[i]'s labels as JSON (the row key).
Status SaveAlertStates(Store& store, const std::vector<AlertInstance>& changed,
                       const std::vector<std::string>& keys);

}  // namespace calprobe::core::rules
