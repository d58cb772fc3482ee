#include "core/event_log.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>

#include "core/log.h"

namespace calprobe::core {

Status InstallEventLog(EventPipeline& pipeline, const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "a");
  if (!f) {
    return Status::Error("agent.event_log: cannot open \"" + path + "\" for appending (" +
                         std::strerror(errno) + ")");
  }
  auto file = std::shared_ptr<std::FILE>(f, [](std::FILE* p) { std::fclose(p); });
  auto warned = std::make_shared<bool>(false);
  pipeline.Subscribe([file, warned, path](const Event& e) {
    std::string line = EventToJson(e);
    line.push_back('\n');
    if (std::fwrite(line.data(), 1, line.size(), file.get()) != line.size() ||
        std::fflush(file.get()) != 0) {
      if (!*warned) Log(LogLevel::kError, "cannot write the event log").Kv("file", path);
      *warned = true;
    }
  });
  return Status::Ok();
}

}  // namespace calprobe::core
