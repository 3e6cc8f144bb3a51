// main/status_json.cpp -- see status_json.hpp.
#include "main/status_json.hpp"

#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>

namespace stenotype {
namespace {

// Length of the well-formed UTF-8 sequence at the start of `s`, or 0
// (RFC 3629: no overlong forms, no surrogates, nothing above U+10FFFF).
std::size_t utf8_sequence(std::string_view s) {
  const auto byte = [&](std::size_t i) { return static_cast<unsigned char>(s[i]); };
  const unsigned c = byte(0);
  std::size_t n = 0;
  unsigned lo = 0x80, hi = 0xbf; // allowed range of the second byte
  if (c >= 0xc2 && c <= 0xdf)
    n = 2;
  else if (c >= 0xe0 && c <= 0xef)
    n = 3, lo = c == 0xe0 ? 0xa0 : 0x80, hi = c == 0xed ? 0x9f : 0xbf;
  else if (c >= 0xf0 && c <= 0xf4)
    n = 4, lo = c == 0xf0 ? 0x90 : 0x80, hi = c == 0xf4 ? 0x8f : 0xbf;
  if (n == 0 || s.size() < n || byte(1) < lo || byte(1) > hi)
    return 0;
  for (std::size_t i = 2; i < n; ++i)
    if ((byte(i) & 0xc0) != 0x80)
      return 0;
  return n;
}

void append_number(double d, std::string& out) {
  if (!std::isfinite(d)) { // JSON has no inf or nan
    out += "null";
    return;
  }
  char buf[32];
  const auto res = std::to_chars(buf, buf + sizeof buf, d);
  out.append(buf, res.ptr);
}

void append_value(const caf::config_value& v, std::string& out);

void append_object(const caf::settings& s, std::string& out) {
  out += '{';
  bool first = true;
  for (const auto& [k, v] : s) {
    if (!first)
      out += ',';
    first = false;
    append_json_string(std::string_view(k.data(), k.size()), out);
    out += ':';
    append_value(v, out);
  }
  out += '}';
}

void append_value(const caf::config_value& v, std::string& out) {
  if (auto i = caf::get_if<int64_t>(&v)) {
    out += std::to_string(*i);
  } else if (auto b = caf::get_if<bool>(&v)) {
    out += *b ? "true" : "false";
  } else if (auto d = caf::get_if<double>(&v)) {
    append_number(*d, out);
  } else if (auto s = caf::get_if<std::string>(&v)) {
    append_json_string(*s, out);
  } else if (auto m = caf::get_if<caf::settings>(&v)) {
    append_object(*m, out);
  } else if (auto l = caf::get_if<caf::config_value::list>(&v)) {
    out += '[';
    for (std::size_t i = 0; i < l->size(); ++i) {
      if (i > 0)
        out += ',';
      append_value((*l)[i], out);
    }
    out += ']';
  } else {
    append_json_string(caf::to_string(v), out);
  }
}

} // namespace

void append_json_string(std::string_view text, std::string& out) {
  out += '"';
  for (std::size_t i = 0; i < text.size();) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x80) {
      switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\b': out += "\\b"; break;
        case '\f': out += "\\f"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        default:
          if (c < 0x20) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\u%04x", c);
            out += buf;
          } else {
            out += static_cast<char>(c);
          }
      }
      ++i;
    } else if (const std::size_t n = utf8_sequence(text.substr(i)); n > 0) {
      out.append(text.substr(i, n));
      i += n;
    } else {
      out += "\\ufffd";
      ++i;
    }
  }
  out += '"';
}

std::string to_json(const caf::settings& s) {
  std::string out;
  append_object(s, out);
  return out;
}

} // namespace stenotype
