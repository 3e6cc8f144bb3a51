// query/query_parser.hpp -- stenographer's query language to a query tree.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>

#include "query/query.hpp"

namespace stenotype::query {

/// A malformed query: `column` is 1-based, `what()` says what was expected.
class parse_error : public std::runtime_error {
public:
  parse_error(std::size_t column, const std::string& message)
    : std::runtime_error(message), column_(column) {}
  std::size_t column() const { return column_; }
  /// The one line stenoread prints (after "stenoread: ") and the query
  /// service answers with 400: "query error at column 5: expected ...".
  std::string describe() const { return "query error at column " + std::to_string(column_) + ": " + what(); }

private:
  std::size_t column_;
};

/// Parses `text`. `now_ns` anchors "N m ago" (nanoseconds since the epoch).
/// Throws parse_error.
node_ptr parse_query(const std::string& text, std::uint64_t now_ns);

} // namespace stenotype::query
