#include "core/probe.h"

namespace calprobe::core {

Status ProbeRegistry::Register(std::unique_ptr<ProbeFactory> factory) {
  if (Find(factory->type())) {
    return Status::Error("probe type \"" + std::string(factory->type()) + "\" registered twice");
  }
  factories_.push_back(std::move(factory));
  return Status::Ok();
}

const ProbeFactory* ProbeRegistry::Find(std::string_view type) const {
  for (const auto& f : factories_) {
    if (f->type() == type) return f.get();
  }
  return nullptr;
}

std::vector<std::string> ProbeRegistry::Types() const {
  std::vector<std::string> out;
  for (const auto& f : factories_) out.emplace_back(f->type());
  return out;
}

}  // namespace calprobe::core
