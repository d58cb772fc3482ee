#include "probes/ics/source_state.h"

#include <algorithm>
#include <nlohmann/json.hpp>

namespace calprobe::probes::ics {

std::string EncodeState(const SourceState& s) {
  nlohmann::json j = {{"v", 1},
                      {"etag", s.etag},
                      {"last_modified", s.last_modified},
                      {"tier", s.tier},
                      {"backoff_until_ms", s.backoff_until_ms},
                      {"last_error", s.last_error},
                      {"event_count", s.event_count},
                      {"pending_hash", std::to_string(s.pending_hash)},
                      {"pending_count", s.pending_count},
                      {"last_success_ms", s.last_success_ms},
                      {"credential_failures", s.credential_failures}};
  return j.dump();
}

std::optional<SourceState> DecodeState(std::string_view text) {
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object() || j.value("v", 0) != 1) return std::nullopt;
  try {
    SourceState s;
    s.etag = j.value("etag", "");
    s.last_modified = j.value("last_modified", "");
    s.tier = j.value("tier", 0);
    s.backoff_until_ms = j.value("backoff_until_ms", int64_t{0});
    s.last_error = j.value("last_error", "");
    s.event_count = j.value("event_count", int64_t{-1});
    s.pending_hash = std::stoull(j.value("pending_hash", std::string("0")));
    s.pending_count = j.value("pending_count", 0);
    s.last_success_ms = j.value("last_success_ms", int64_t{0});
    s.credential_failures = j.value("credential_failures", 0);
    return s;
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

SourceState SourceStore::LoadState(const std::string& src_id) {
  std::optional<std::string> text;
  if (store_) {
    auto r = store_->Get(kStateNamespace, src_id);
    if (r.ok()) text = std::move(r.value());
  } else if (auto it = memory_states_.find(src_id); it != memory_states_.end()) {
    text = it->second;
  }
  if (!text) return {};
  return DecodeState(*text).value_or(SourceState{});
}

core::Status SourceStore::SaveState(const std::string& src_id, const SourceState& s) {
  std::string text = EncodeState(s);
  if (!store_) {
    memory_states_[src_id] = std::move(text);
    return core::Status::Ok();
  }
  return store_->Put(kStateNamespace, src_id, text);
}

std::optional<calendar::Snapshot> SourceStore::LoadSnapshot(const std::string& src_id) {
  if (!store_) {
    auto it = memory_snapshots_.find(src_id);
    if (it == memory_snapshots_.end()) return std::nullopt;
    return calendar::DeserializeSnapshot(it->second);
  }
  auto r = store_->Get(kSnapshotNamespace, src_id);
  if (!r.ok() || !r.value()) return std::nullopt;
  return calendar::DeserializeSnapshot(*r.value());
}

core::Status SourceStore::SaveSnapshot(const std::string& src_id, const calendar::Snapshot& s) {
  std::string bytes = calendar::SerializeSnapshot(s);
  if (!store_) {
    memory_snapshots_[src_id] = std::move(bytes);
    return core::Status::Ok();
  }
  return store_->Put(kSnapshotNamespace, src_id, bytes);
}

std::chrono::milliseconds BackoffFor(int tier, const std::vector<std::chrono::milliseconds>& ladder,
                                     std::optional<std::chrono::seconds> retry_after) {
  if (ladder.empty() || tier <= 0) return std::chrono::milliseconds(0);
  size_t i = std::min(static_cast<size_t>(tier), ladder.size()) - 1;
  std::chrono::milliseconds wait = ladder[i];
  if (retry_after) {
    auto ra = std::chrono::duration_cast<std::chrono::milliseconds>(*retry_after);
    wait = std::max(wait, std::min(ra, ladder.back()));
  }
  return wait;
}

}  // namespace calprobe::probes::ics
