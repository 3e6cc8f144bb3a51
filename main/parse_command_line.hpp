// main/parse_command_line.hpp -- the command-line rule every tool follows:
// --help prints and exits 0; a bad command line is one line on stderr and
// exit status 2.
#pragma once

#include <cstdio>
#include <functional>
#include <string>

#include <CLI/CLI.hpp>

namespace stenotype {

/// Parses argv into `app`, then runs `check` (rules between options; it
/// returns an error message or ""). Returns -1 when the tool should go on,
/// else the exit status to return from main.
inline int parse_command_line(CLI::App& app, int argc, char** argv, const char* program,
                              const std::function<std::string()>& check = {}) {
  std::string error;
  try {
    app.parse(argc, argv);
    if (check)
      error = check();
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0)
      return app.exit(e);
    error = e.what();
  }
  if (error.empty())
    return -1;
  std::fprintf(stderr, "%s: error: %s\n", program, error.c_str());
  return 2;
}

} // namespace stenotype
