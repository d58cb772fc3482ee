#include "core/scheduler.h"

#include "core/hash.h"

#include <boost/asio/io_context.hpp>
#include <boost/asio/system_timer.hpp>
#include <deque>
#include <queue>

namespace calprobe::core {

namespace asio = boost::asio;
using std::chrono::milliseconds;

namespace {

struct Entry {
  ScheduleEntry spec;
  size_t index = 0;
  uint64_t generation = 0;
  bool busy = false;  // waiting for a slot or running
};

struct Due {
  TimePoint at;
  std::shared_ptr<Entry> entry;
  bool operator>(const Due& o) const { return at > o.at; }
};

struct TypeState {
  int limit = 256;
  int running = 0;
  std::deque<std::pair<std::shared_ptr<Entry>, TimePoint>> waiting;
};

}  // namespace

struct Scheduler::Impl {
  Impl(asio::io_context& io, StartFn fn) : timer(io), start(std::move(fn)) {}

  void Arm() {
    if (stopped || heap.empty()) return;
    TimePoint next = heap.top().at;
    if (armed && armed_at == next) return;
    armed = true;
    armed_at = next;
    timer.expires_at(next);
    timer.async_wait([this](const boost::system::error_code& ec) {
      armed = false;
      if (ec || stopped) return;
      Fire();
    });
  }

  void Fire() {
    TimePoint now = std::chrono::system_clock::now();
    while (!heap.empty() && heap.top().at <= now) {
      Due d = heap.top();
      heap.pop();
      if (d.entry->generation != generation) continue;
      // Schedule the next run first, so a slow run never shifts the grid.
      TimePoint next = d.at + d.entry->spec.interval;
      if (next <= now) {
        auto behind = (now - next) / d.entry->spec.interval + 1;
        skipped += static_cast<uint64_t>(behind);
        next += d.entry->spec.interval * behind;
      }
      heap.push({next, d.entry});
      if (d.entry->busy) {
        ++skipped;
        continue;
      }
      d.entry->busy = true;
      TypeState& ts = types[d.entry->spec.type];
      if (ts.running < ts.limit) {
        Launch(d.entry, d.at, ts);
      } else {
        ts.waiting.emplace_back(d.entry, d.at);
      }
    }
    Arm();
  }

  void Launch(const std::shared_ptr<Entry>& e, TimePoint scheduled, TypeState& ts) {
    ++ts.running;
    std::string type = e->spec.type;
    start(e->index, scheduled, [this, e, type]() {
      e->busy = false;
      TypeState& t = types[type];
      --t.running;
      while (!t.waiting.empty() && t.running < t.limit) {
        auto [next, at] = t.waiting.front();
        t.waiting.pop_front();
        if (next->generation != generation) {
          next->busy = false;
          continue;
        }
        Launch(next, at, t);
      }
    });
  }

  asio::system_timer timer;
  StartFn start;
  std::priority_queue<Due, std::vector<Due>, std::greater<>> heap;
  std::map<std::string, TypeState> types;
  uint64_t generation = 0;
  uint64_t skipped = 0;
  bool armed = false;
  TimePoint armed_at{};
  bool stopped = false;
};

Scheduler::Scheduler(asio::io_context& io, StartFn start)
    : impl_(std::make_unique<Impl>(io, std::move(start))) {}
Scheduler::~Scheduler() { Stop(); }

void Scheduler::Stop() {
  impl_->stopped = true;
  impl_->timer.cancel();
}

milliseconds Scheduler::Phase(const std::string& id, milliseconds interval) {
  if (interval.count() <= 0) return milliseconds(0);
  return milliseconds(static_cast<int64_t>(StableHash64(id) % static_cast<uint64_t>(interval.count())));
}

TimePoint Scheduler::NextDue(const std::string& id, milliseconds interval, TimePoint now) {
  auto now_ms = std::chrono::duration_cast<milliseconds>(now.time_since_epoch()).count();
  int64_t iv = interval.count();
  int64_t phase = Phase(id, interval).count();
  int64_t base = now_ms - ((now_ms - phase) % iv + iv) % iv;  // latest grid point <= now
  if (base <= now_ms) base += iv;
  return TimePoint(milliseconds(base));
}

void Scheduler::SetEntries(std::vector<ScheduleEntry> entries, std::map<std::string, int> limits,
                           int default_limit) {
  Impl& s = *impl_;
  ++s.generation;
  s.heap = {};
  for (auto& [type, ts] : s.types) {
    for (auto& [e, at] : ts.waiting) e->busy = false;
    ts.waiting.clear();
  }
  TimePoint now = std::chrono::system_clock::now();
  for (size_t i = 0; i < entries.size(); ++i) {
    auto e = std::make_shared<Entry>();
    e->spec = std::move(entries[i]);
    e->index = i;
    e->generation = s.generation;
    auto it = limits.find(e->spec.type);
    s.types[e->spec.type].limit = it != limits.end() ? it->second : default_limit;
    s.heap.push({NextDue(e->spec.id, e->spec.interval, now), e});
  }
  s.armed = false;
  s.timer.cancel();
  s.Arm();
}

std::map<std::string, size_t> Scheduler::Backlog() const {
  std::map<std::string, size_t> out;
  for (const auto& [type, ts] : impl_->types) out[type] = ts.waiting.size();
  return out;
}
std::map<std::string, int> Scheduler::Limits() const {
  std::map<std::string, int> out;
  for (const auto& [type, ts] : impl_->types) out[type] = ts.limit;
  return out;
}
std::map<std::string, int> Scheduler::Running() const {
  std::map<std::string, int> out;
  for (const auto& [type, ts] : impl_->types) out[type] = ts.running;
  return out;
}
uint64_t Scheduler::skipped_runs() const { return impl_->skipped; }

}  // namespace calprobe::core
