// main/status_json.hpp -- the capture's status tree as JSON (stenotype-ctl json).
#pragma once

#include <string>
#include <string_view>

#include <caf/config_value.hpp>
#include <caf/settings.hpp>

namespace stenotype {

/// One line of JSON (RFC 8259), no spaces: objects for subtrees, numbers,
/// booleans, arrays for lists, everything else as a string.
std::string to_json(const caf::settings& s);

/// Appends `text` as a JSON string: quoted, with quotes, backslashes and
/// control characters escaped, and bytes that are not UTF-8 (a file name
/// may hold any) replaced by U+FFFD so that the output stays valid JSON.
void append_json_string(std::string_view text, std::string& out);

} // namespace stenotype
