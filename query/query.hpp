// query/query.hpp -- a parsed stenoread query: a tree of terms joined by
// and/or (stenographer's grammar, docs/QUERY_LANGUAGE.md).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace stenotype::query {

struct node;
using node_ptr = std::shared_ptr<const node>;

struct node {
  enum class kind {
    key,       ///< exact index key (protocol, port, vlan, mpls, host)
    key_range, ///< inclusive key range (net)
    before,    ///< packet time < time_ns
    after,     ///< packet time >= time_ns
    op_and,
    op_or,
  };
  kind k;
  std::string key, key_last; ///< index keys (index/keys.hpp); key_last for ranges
  std::uint64_t time_ns = 0;
  node_ptr left, right;
  std::string text; ///< the term as written, for messages and --explain
};

/// Renders the tree with explicit parentheses, e.g. "((host 1.2.3.4 and port 80) or tcp)".
std::string to_string(const node& n);

} // namespace stenotype::query
