#include "sandbox/faults.h"

#include <algorithm>
#include <cmath>

namespace calprobe::sandbox {

bool IsFaultName(std::string_view name) {
  return std::find(std::begin(kFaultNames), std::end(kFaultNames), name) != std::end(kFaultNames);
}

core::Status FaultSet::Set(Fault fault) {
  if (!IsFaultName(fault.name)) {
    std::string names;
    for (auto n : kFaultNames) names += (names.empty() ? "" : ", ") + std::string(n);
    return core::Status::Error("fault: unknown fault \"" + fault.name +
                               "\"; known faults: " + names);
  }
  if (fault.name == "ok") {
    Clear();
    return core::Status::Ok();
  }
  if (fault.name == "errors") {
    double rate = fault.Param("rate", 1.0);
    if (!(rate >= 0 && rate <= 1))
      return core::Status::Error("params.rate: expected a share in [0, 1]");
    double status = fault.Param("status", 503);
    if (status < 500 || status > 599 || status != std::floor(status)) {
      return core::Status::Error("params.status: expected a 5xx status code");
    }
  }
  if (fault.name == "latency") {
    double ms = fault.Param("ms", 1000);
    if (!(ms >= 0 && ms <= 60000))
      return core::Status::Error("params.ms: expected 0..60000 milliseconds");
  }
  if (fault.name == "slots_missing") {
    double every = fault.Param("every", 4);
    if (!(every >= 1 && every <= 1000))
      return core::Status::Error("params.every: expected 1..1000");
  }
  std::lock_guard lock(mu_);
  std::erase_if(faults_, [&](const Fault& f) {
    return f.name == fault.name && f.provider_id == fault.provider_id;
  });
  faults_.push_back(std::move(fault));
  ++generation_;
  return core::Status::Ok();
}

void FaultSet::Clear() {
  std::lock_guard lock(mu_);
  faults_.clear();
  error_draws_ = 0;
  ++generation_;
}

std::vector<Fault> FaultSet::List() const {
  std::lock_guard lock(mu_);
  return faults_;
}

std::optional<Fault> FaultSet::Find(std::string_view name, std::string_view provider_id) const {
  std::lock_guard lock(mu_);
  const Fault* global = nullptr;
  for (const auto& f : faults_) {
    if (f.name != name) continue;
    if (!f.provider_id.empty() && f.provider_id == provider_id) return f;
    if (f.provider_id.empty()) global = &f;
  }
  if (global) return *global;
  return std::nullopt;
}

bool FaultSet::NextErrorDraw(double rate) {
  std::lock_guard lock(mu_);
  uint64_t n = error_draws_++;
  return std::floor((n + 1) * rate) > std::floor(n * rate);
}

uint64_t FaultSet::generation() const {
  std::lock_guard lock(mu_);
  return generation_;
}

}  // namespace calprobe::sandbox
