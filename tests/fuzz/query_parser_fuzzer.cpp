// libFuzzer target: the stenoread query parser on arbitrary text. Every
// input either parses (and then renders) or throws parse_error; nothing else.
#include <cstddef>
#include <cstdint>
#include <string>

#include "query/query_parser.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    auto q = stenotype::query::parse_query(text, 1'800'000'000'000'000'000ull);
    (void)stenotype::query::to_string(*q);
  } catch (const stenotype::query::parse_error& e) {
    if (e.column() == 0 || e.column() > size + 1)
      __builtin_trap(); // a column outside the query
  }
  return 0;
}
