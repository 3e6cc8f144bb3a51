// stenotype-ctl json: the status tree as valid JSON, whatever its strings hold
// (an error message quoting a file name with quotes, backslashes, newlines
// or bytes that are not UTF-8).
#include <catch2/catch.hpp>

#include <cmath>

#include "main/status_json.hpp"

using namespace stenotype;

namespace {

std::string quoted(std::string_view s) {
  std::string out;
  append_json_string(s, out);
  return out;
}

} // namespace

TEST_CASE("json strings escape quotes, backslashes and control characters") {
  CHECK(quoted("plain") == "\"plain\"");
  CHECK(quoted("say \"hi\"") == "\"say \\\"hi\\\"\"");
  CHECK(quoted("C:\\dir") == "\"C:\\\\dir\"");
  CHECK(quoted("a\nb\tc\rd\be\ff") == "\"a\\nb\\tc\\rd\\be\\ff\"");
  CHECK(quoted(std::string_view("\x01\x1f\x00", 3)) == "\"\\u0001\\u001f\\u0000\"");
  CHECK(quoted("\x7f/") == "\"\x7f/\""); // DEL and '/' need no escape
}

TEST_CASE("json strings keep UTF-8 and replace bytes that are not") {
  CHECK(quoted("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x93\xa6") == "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x93\xa6\"");
  CHECK(quoted("\xff") == "\"\\ufffd\"");
  CHECK(quoted("a\xc3") == "\"a\\ufffd\"");              // cut short
  CHECK(quoted("\xc0\xaf") == "\"\\ufffd\\ufffd\"");      // overlong '/'
  CHECK(quoted("\xed\xa0\x80") == "\"\\ufffd\\ufffd\\ufffd\""); // a surrogate
  CHECK(quoted("\xf4\x90\x80\x80") == "\"\\ufffd\\ufffd\\ufffd\\ufffd\""); // above U+10FFFF
}

TEST_CASE("the status tree becomes one line of JSON, keys escaped too") {
  caf::settings s;
  caf::put(s, "files-written", int64_t{3});
  caf::put(s, "stopping", false);
  caf::put(s, "last-error", std::string("writer-0: cannot create \"/d/PKT0/.1\": No space left on device\n"));
  caf::settings actor;
  caf::put(actor, "state", std::string("running"));
  caf::put(actor, "restarts", int64_t{0});
  caf::settings actors;
  actors.emplace("we\"ird", std::move(actor));
  s.emplace("actors", std::move(actors));
  caf::put(s, "ratio", 0.5);
  caf::put(s, "nan", std::nan(""));
  caf::put(s, "ids", caf::config_value::list{caf::config_value{int64_t{1}}, caf::config_value{int64_t{2}}});
  CHECK(to_json(s)
        == "{\"actors\":{\"we\\\"ird\":{\"restarts\":0,\"state\":\"running\"}},\"files-written\":3,"
           "\"ids\":[1,2],"
           "\"last-error\":\"writer-0: cannot create \\\"/d/PKT0/.1\\\": No space left on device\\n\","
           "\"nan\":null,\"ratio\":0.5,\"stopping\":false}");
  CHECK(to_json(caf::settings{}) == "{}");
}
