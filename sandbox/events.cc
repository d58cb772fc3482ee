#include "sandbox/events.h"

#include "core/event.h"

namespace calprobe::sandbox {

EventQueue::EventQueue(size_t max_queue, bool deliver, size_t keep_recent)
    : max_queue_(max_queue), deliver_(deliver), keep_recent_(keep_recent) {}

core::Status EventQueue::Emit(core::Event event) {
  std::lock_guard lock(mu_);
  recent_.push_back(core::EventToJson(event));
  while (recent_.size() > keep_recent_) recent_.pop_front();
  if (!deliver_ || queue_.size() >= max_queue_) {
    ++stats_.dropped;
    return deliver_ ? core::Status::Error("event queue full") : core::Status::Ok();
  }
  ++stats_.emitted;
  queue_.push_back(std::move(event));
  return core::Status::Ok();
}

std::vector<core::Event> EventQueue::Take(size_t max) {
  std::lock_guard lock(mu_);
  std::vector<core::Event> out;
  while (!queue_.empty() && out.size() < max) {
    out.push_back(std::move(queue_.front()));
    queue_.pop_front();
  }
  return out;
}

void EventQueue::Requeue(std::vector<core::Event> batch) {
  std::lock_guard lock(mu_);
  ++stats_.failed_flushes;
  size_t room = queue_.size() >= max_queue_ ? 0 : max_queue_ - queue_.size();
  size_t keep = std::min(room, batch.size());
  stats_.dropped += batch.size() - keep;
  // Keep the newest of the batch when not all fit; put them back in order.
  for (size_t i = 0; i < keep; ++i) queue_.push_front(std::move(batch[batch.size() - 1 - i]));
}

void EventQueue::MarkSent(size_t n) {
  std::lock_guard lock(mu_);
  stats_.sent += n;
}

EventQueueStats EventQueue::stats() const {
  std::lock_guard lock(mu_);
  EventQueueStats s = stats_;
  s.queued = queue_.size();
  return s;
}

std::vector<std::string> EventQueue::Recent(const std::string& name) const {
  std::lock_guard lock(mu_);
  std::vector<std::string> out;
  std::string needle = "\"name\":\"" + name + "\"";
  for (const auto& line : recent_) {
    if (name.empty() || line.find(needle) != std::string::npos) out.push_back(line);
  }
  return out;
}

std::string EventQueue::ToNdjson(const std::vector<core::Event>& events) {
  std::string body;
  for (const auto& e : events) {
    body += core::EventToJson(e);
    body += '\n';
  }
  return body;
}

}  // namespace calprobe::sandbox
