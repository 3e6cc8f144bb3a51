// Implementation of stenotype/log.hpp: a level filter and a replaceable sink.
#include "stenotype/log.hpp"

#include <atomic>
#include <cstdarg>
#include <cstdio>
#include <mutex>

namespace stenotype {
namespace {

std::atomic<int> max_level{static_cast<int>(log_level::warning)};
std::mutex sink_mutex; // guards `sink` and keeps lines whole
std::function<void(log_level, std::string_view)> sink;

const char* level_name(log_level l) {
  switch (l) {
    case log_level::error: return "error";
    case log_level::warning: return "warning";
    case log_level::info: return "info";
    default: return "debug";
  }
}

} // namespace

void set_log_level(log_level max) { max_level = static_cast<int>(max); }

log_level current_log_level() { return static_cast<log_level>(max_level.load()); }

void set_log_sink(std::function<void(log_level, std::string_view)> s) {
  std::lock_guard<std::mutex> guard{sink_mutex};
  sink = std::move(s);
}

void log(log_level level, const char* fmt, ...) {
  if (static_cast<int>(level) > max_level.load())
    return;
  char buf[1024];
  va_list ap;
  va_start(ap, fmt);
  std::vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  std::lock_guard<std::mutex> guard{sink_mutex};
  if (sink)
    sink(level, buf);
  else
    std::fprintf(stderr, "stenotype: %s: %s\n", level_name(level), buf);
}

} // namespace stenotype
