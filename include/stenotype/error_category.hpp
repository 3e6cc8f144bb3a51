// stenotype/error_category.hpp -- stenotype::errc as a CAF 0.17 error category.
//
// Actors of the pipeline end with, and the capture's `wait` answers with, a
// caf::error of category "stenotype" whose code is an errc and whose context
// is the one-line message (e.g. the file that could not be written). Call
// add_error_category(cfg) on the actor_system_config so that
// actor_system::render() spells these errors out; without it they still
// work, rendered as a bare number.
#pragma once

#include <optional>
#include <string>

#include <caf/actor_system_config.hpp>
#include <caf/atom.hpp>
#include <caf/error.hpp>
#include <caf/make_message.hpp>

#include "stenotype/error.hpp"

namespace stenotype {

inline constexpr caf::atom_value error_category = caf::atom("stenotype");

/// CAF's conversion point (found by argument-dependent lookup): lets an
/// errc be returned or delivered wherever a caf::error is expected.
inline caf::error make_error(errc code) {
  return caf::error{static_cast<std::uint8_t>(code), error_category};
}

/// A code with the message saying what it concerns.
inline caf::error make_error(errc code, std::string what) {
  return caf::error{static_cast<std::uint8_t>(code), error_category, caf::make_message(std::move(what))};
}

/// An exception as an error: its code (code_of) and what().
inline caf::error make_error(const std::exception& e) {
  return make_error(code_of(e), e.what());
}

/// The code of an error of this category; nothing for CAF's own errors (a
/// request that timed out, an actor that is gone) and for "no error".
inline std::optional<errc> code_of(const caf::error& e) {
  if (!e || e.category() != error_category)
    return std::nullopt;
  return static_cast<errc>(e.code());
}

/// The message in an error's context (its first string); empty if none.
inline std::string context_text(const caf::message& context) {
  for (std::size_t i = 0; i < context.size(); ++i)
    if (context.match_element<std::string>(i))
      return context.get_as<std::string>(i);
  return {};
}

inline std::string message_of(const caf::error& e) {
  return e ? context_text(e.context()) : std::string{};
}

/// "no_space: write to DIR/PKT0/.123 failed: No space left on device".
inline std::string render_error(std::uint8_t code, caf::atom_value, const caf::message& context) {
  std::string out{to_string(static_cast<errc>(code))};
  if (auto text = context_text(context); !text.empty())
    out += ": " + text;
  return out;
}

/// Registers the category with CAF, for actor_system::render().
inline void add_error_category(caf::actor_system_config& cfg) {
  cfg.add_error_category(error_category, render_error);
}

} // namespace stenotype
