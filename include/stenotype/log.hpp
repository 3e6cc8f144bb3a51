// stenotype/log.hpp -- the library's diagnostics. One line per event on
// stderr by default; an embedding application can redirect them.
#pragma once

#include <functional>
#include <string_view>

namespace stenotype {

enum class log_level : int { error = -1, warning = 0, info = 1, debug = 2 };

/// Lines above this level are dropped. `stenotype` maps -v/-q onto it.
void set_log_level(log_level max);
log_level current_log_level();

/// Replaces the sink (default: "stenotype: <level>: <text>\n" on stderr).
/// The sink may be called from any thread, one line at a time.
void set_log_sink(std::function<void(log_level, std::string_view)> sink);

/// printf-style logging; cheap when the level is filtered out.
void log(log_level level, const char* fmt, ...) __attribute__((format(printf, 2, 3)));

/// A line in Google stenotype's layout, for the log scrapers written for it
/// (Security Onion reads whitespace field 14 of the stats line):
/// "<UTC time with microseconds>Z T:<thread> [<file>:<line>] <text>". The
/// default sink prints it as it is, without "stenotype: <level>: "; a
/// replaced sink receives the whole line.
void log_stamped(log_level level, const char* file, int line, const char* fmt, ...)
  __attribute__((format(printf, 4, 5)));

} // namespace stenotype

#define STENO_LOG(level, ...)                                                  \
  do {                                                                         \
    if (static_cast<int>(level) <= static_cast<int>(::stenotype::current_log_level())) \
      ::stenotype::log(level, __VA_ARGS__);                                    \
  } while (0)
#define LOG_ERROR(...) STENO_LOG(::stenotype::log_level::error, __VA_ARGS__)
#define LOG_WARN(...) STENO_LOG(::stenotype::log_level::warning, __VA_ARGS__)
#define LOG_INFO(...) STENO_LOG(::stenotype::log_level::info, __VA_ARGS__)
#define LOG_DEBUG(...) STENO_LOG(::stenotype::log_level::debug, __VA_ARGS__)
#define LOG_INFO_STAMPED(...)                                                  \
  do {                                                                         \
    if (static_cast<int>(::stenotype::log_level::info) <= static_cast<int>(::stenotype::current_log_level())) \
      ::stenotype::log_stamped(::stenotype::log_level::info, __FILE__, __LINE__, __VA_ARGS__); \
  } while (0)
