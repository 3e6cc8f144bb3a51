// Implementation of stenotype/log.hpp: a level filter and a replaceable sink.
#include "stenotype/log.hpp"

#include <atomic>
#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <chrono>
#include <pthread.h>
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

// One line to the sink, or to stderr: with our prefix, or as it is.
void emit(log_level level, const char* text, bool stamped) {
  std::lock_guard<std::mutex> guard{sink_mutex};
  if (sink)
    sink(level, text);
  else if (stamped)
    std::fprintf(stderr, "%s\n", text);
  else
    std::fprintf(stderr, "stenotype: %s: %s\n", level_name(level), text);
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
  emit(level, buf, false);
}

void log_stamped(log_level level, const char* file, int line, const char* fmt, ...) {
  if (static_cast<int>(level) > max_level.load())
    return;
  // As stenotype/util.h's LogLine: "%Y-%m-%dT%H:%M:%S.<usec>Z T:<pthread_self() >> 8, hex> [file:line] ".
  // Calendar arithmetic, not gmtime_r/strftime: those read the time zone
  // files once (tzset), which the role threads' seccomp lists do not allow.
  using namespace std::chrono;
  const auto now = time_point_cast<microseconds>(system_clock::now());
  const auto day = floor<days>(now);
  const year_month_day ymd{day};
  const hh_mm_ss<microseconds> tod{now - day};
  char buf[1024];
  const char* base = std::strrchr(file, '/');
  const auto tid = static_cast<std::uint32_t>(::pthread_self()) >> 8; // its low bits are always 0
  auto n = static_cast<std::size_t>(std::snprintf(
    buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02lld.%06lldZ T:%06x [%s:%d] ", static_cast<int>(ymd.year()),
    static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()), static_cast<int>(tod.hours().count()),
    static_cast<int>(tod.minutes().count()), static_cast<long long>(tod.seconds().count()),
    static_cast<long long>(tod.subseconds().count()), tid, base ? base + 1 : file, line));
  if (n < sizeof buf) {
    va_list ap;
    va_start(ap, fmt);
    std::vsnprintf(buf + n, sizeof buf - n, fmt, ap);
    va_end(ap);
  }
  emit(level, buf, true);
}

} // namespace stenotype
