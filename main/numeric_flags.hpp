// main/numeric_flags.hpp -- the one way every tool reads a number from its
// command line: decimal digits into the option's own type, range-checked.
//
// CLI11 (2.1) alone converts with strtoull/strtoll in base 0: "010" is 8,
// "0x20" is 32, " 20" and "+20" pass, and a value too large for 64 bits
// saturates instead of failing. A value that is not exactly what the user
// wrote must be refused, not guessed: a uid or a packet count that silently
// becomes another number is worse than an error.
#pragma once

#include <charconv>
#include <cstdint>
#include <concepts>
#include <limits>
#include <optional>
#include <string>
#include <string_view>

#include <CLI/CLI.hpp>

namespace stenotype {

/// The largest block stenotype writes (validate(): 128 MiB); the tools that
/// read its files accept as much, and no more.
inline constexpr std::uint32_t max_blocksize_kb = 128 * 1024;

/// `text` as a T, or nothing unless it is all of: decimal digits, a '-' first
/// only for a signed T, within T's range. No spaces, '+', "0x", or trailing text.
template <std::integral T>
std::optional<T> parse_decimal(std::string_view text) {
  T value{};
  const char* end = text.data() + text.size();
  // from_chars takes no '+' or spaces, and a '-' only for signed types.
  const auto [stop, ec] = std::from_chars(text.data(), end, value, 10);
  if (text.empty() || ec != std::errc{} || stop != end)
    return std::nullopt;
  return value;
}

/// `text` for an error message: control characters as '?', so that an error
/// stays one line whatever was typed.
inline std::string shown(std::string_view text) {
  std::string out(text);
  for (char& c : out)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f)
      c = '?';
  return out;
}

/// "a whole number from LO to HI": the rule every numeric flag's error names.
template <std::integral T>
std::string number_rule(T lo, T hi) {
  return "a whole number from " + std::to_string(lo) + " to " + std::to_string(hi);
}

/// A CLI11 validator for a T in [lo, hi]. On success it rewrites the text to
/// the number's canonical form, so CLI11's own base-0 conversion that follows
/// reads the same number ("010" would be octal to it).
template <std::integral T>
CLI::Validator decimal_in(T lo, T hi) {
  constexpr T type_lo = std::numeric_limits<T>::min(), type_hi = std::numeric_limits<T>::max();
  const bool narrower = lo != type_lo || hi != type_hi;
  return CLI::Validator(
    [lo, hi](std::string& text) -> std::string {
      const auto v = parse_decimal<T>(text);
      if (!v || *v < lo || *v > hi)
        return "expected " + number_rule(lo, hi) + ", got '" + shown(text) + "'";
      text = std::to_string(*v);
      return "";
    },
    narrower ? "in [" + std::to_string(lo) + " - " + std::to_string(hi) + "]" : "");
}

/// Adds `--name` reading into `value` (a T in [lo, hi]; default: all of T),
/// showing its default in --help. A bad value is a CLI11 ValidationError:
/// "--name: expected a whole number from LO to HI, got 'TEXT'".
template <std::integral T>
CLI::Option* add_number(CLI::App& app, const std::string& name, T& value, const std::string& description,
                        T lo = std::numeric_limits<T>::min(), T hi = std::numeric_limits<T>::max()) {
  return app.add_option(name, value, description)->transform(decimal_in(lo, hi))->capture_default_str();
}

} // namespace stenotype
