// libFuzzer target: the query service's request path without TLS -- raw
// bytes as they would arrive on a connection (request line, headers such
// as Steno-Limit-Packets, a body holding the query, several requests on
// one keep-alive connection) through cpp-httplib's parser into our
// handlers (actors/query_requests.hpp), over an empty data directory. Every
// input must get an answer or a refusal, never a crash, a hang or a leak.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <sys/stat.h>

#include <httplib.h>

#include "actors/query_requests.hpp"
#include "stenotype/log.hpp"

namespace {

// One connection's bytes: the input is read, the answer counted and dropped.
class memory_stream : public httplib::Stream {
public:
  memory_stream(const std::uint8_t* data, std::size_t size) : data_(data), size_(size) {}
  bool is_readable() const override { return at_ < size_; }
  bool is_writable() const override { return true; }
  ssize_t read(char* ptr, std::size_t n) override {
    const std::size_t k = std::min(n, size_ - at_);
    std::memcpy(ptr, data_ + at_, k);
    at_ += k;
    return static_cast<ssize_t>(k);
  }
  ssize_t write(const char*, std::size_t n) override {
    written_ += n;
    return static_cast<ssize_t>(n);
  }
  void get_remote_ip_and_port(std::string& ip, int& port) const override { ip = "192.0.2.1", port = 40000; }
  void get_local_ip_and_port(std::string& ip, int& port) const override { ip = "127.0.0.1", port = 1234; }
  socket_t socket() const override { return INVALID_SOCKET; }
  bool exhausted() const { return at_ >= size_; }

private:
  const std::uint8_t* data_;
  std::size_t size_, at_ = 0, written_ = 0;
};

// process_request is protected: the server as the fuzzer sees it.
class fuzzable_server : public httplib::Server {
public:
  void serve(memory_stream& s) {
    for (int i = 0; i < 8 && !s.exhausted(); ++i) { // keep-alive: the next request on the same bytes
      bool closed = false;
      if (!process_request(s, false, closed, nullptr) || closed)
        break;
    }
  }
};

struct fixture {
  std::string dir;
  fuzzable_server server;
  stenotype::query_requests requests;

  fixture() : dir(make_dir()), requests({dir, 4, 8192, [] {
                                           return std::vector<std::pair<std::string, std::int64_t>>{{"reader-0.packets", 1}};
                                         }}) {
    stenotype::set_log_level(stenotype::log_level::error); // refusals are warnings: not one line per input
    requests.install(server);
  }
  static std::string make_dir() {
    char pattern[] = "/tmp/stenotype-fuzz-XXXXXX";
    const std::string d = ::mkdtemp(pattern);
    ::mkdir((d + "/PKT0").c_str(), 0700);
    ::mkdir((d + "/IDX0").c_str(), 0700);
    return d;
  }
};

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static fixture f;
  memory_stream s{data, size};
  f.server.serve(s);
  if (f.requests.counters().running != 0)
    __builtin_trap(); // an answer's slot was not given back
  return 0;
}
