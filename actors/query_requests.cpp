// actors/query_requests.cpp -- see query_requests.hpp.
#include "actors/query_requests.hpp"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <map>
#include <mutex>
#include <set>
#include <stdio_ext.h>
#include <sys/socket.h>

#include <httplib.h>

#include "actors/log_throttle.hpp"
#include "actors/steno_limit.hpp"
#include "io/packet_output.hpp"
#include "io/wire_frame.hpp"
#include "query/executor.hpp"
#include "query/query_parser.hpp"
#include "stenotype/log.hpp"

namespace stenotype {
namespace {

using steady = std::chrono::steady_clock;

// Bytes gathered before they go out as one chunk: the TLS layer encrypts
// them in 16 KiB records; fewer, larger chunks cost less per packet.
constexpr std::size_t chunk_bytes = 256 * 1024;
// Room before a chunk for its size line ("40000\r\n") and after it for its
// "\r\n", so that a chunk and its framing go out in one SSL_write.
constexpr std::size_t chunk_head = 16, chunk_tail = 2;
// The TLS records of a chunk, gathered before they go to the socket: one
// write per chunk instead of one per 16 KiB record (each a trip through
// the kernel's TCP stack and, over loopback, the client's wake-up).
constexpr int record_buffer_bytes = chunk_head + chunk_bytes + chunk_tail + 64 * 1024;

std::uint64_t now_ns() {
  timespec now;
  clock_gettime(CLOCK_REALTIME, &now);
  return static_cast<std::uint64_t>(now.tv_sec) * 1000000000u + static_cast<std::uint64_t>(now.tv_nsec);
}

std::string peer_of(const httplib::Request& req) { return req.remote_addr + ":" + std::to_string(req.remote_port); }

// A client's text as it goes into a log line: one line, printable, short
// (a query with newlines must not forge log lines).
std::string loggable(std::string_view text, std::size_t max = 200) {
  std::string out;
  for (const char c : text.substr(0, max))
    out += (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) ? ' ' : c;
  if (text.size() > max)
    out += "...";
  return out;
}

// A refusal: the status and its one line.
void refuse(httplib::Response& res, int status, const std::string& line) {
  res.status = status;
  res.set_content(line + "\n", "text/plain");
}

log_throttle& refusals_log() {
  static log_throttle t;
  return t;
}

void log_refusal(const httplib::Request& req, int status, const std::string& line) {
  std::uint64_t left_out = 0;
  if (refusals_log().admit(left_out))
    LOG_WARN("query service: refused %s %s from %s with %d: %s%s", loggable(req.method, 16).c_str(),
             loggable(req.path, 100).c_str(), peer_of(req).c_str(), status, loggable(line).c_str(),
             log_throttle::note(left_out).c_str());
}

// The value of `key` in the request target's query string ("/query?format=pcapng").
// (Not req.params: for a form-encoded body -- curl -d -- httplib puts the
// body's words there too.)
std::string target_param(const httplib::Request& req, const std::string& key) {
  const auto q = req.target.find('?');
  if (q == std::string::npos)
    return {};
  std::string_view rest{req.target};
  rest.remove_prefix(q + 1);
  while (!rest.empty()) {
    const auto amp = rest.find('&');
    const std::string_view pair = rest.substr(0, amp);
    if (pair.substr(0, key.size()) == key && pair.size() > key.size() && pair[key.size()] == '=')
      return std::string(pair.substr(key.size() + 1));
    if (amp == std::string_view::npos)
      break;
    rest.remove_prefix(amp + 1);
  }
  return {};
}

// The socket of the request's connection, for shutting it down at stop;
// -1 without TLS (the fuzzer).
int socket_of(const httplib::Request& req) {
#ifdef CPPHTTPLIB_OPENSSL_SUPPORT
  if (req.ssl)
    return SSL_get_fd(req.ssl);
#endif
  return -1;
}

// The TLS connection of the request, nullptr without TLS (the fuzzer).
void* tls_of(const httplib::Request& req) {
#ifdef CPPHTTPLIB_OPENSSL_SUPPORT
  return const_cast<SSL*>(req.ssl); // (httplib's, and this connection's thread's alone while it answers)
#else
  (void)req;
  return nullptr;
#endif
}

// While an answer streams, the connection's TLS records are gathered in a
// buffering BIO in front of its socket and go out once per chunk (flush);
// the socket's BIO is put back after, so that httplib finds the connection
// as it left it (the rest of the response, the shutdown).
class record_buffer {
public:
  explicit record_buffer(void* tls) {
#ifdef CPPHTTPLIB_OPENSSL_SUPPORT
    ssl_ = static_cast<SSL*>(tls);
    if (!ssl_)
      return;
    socket_ = SSL_get_wbio(ssl_);
    BIO* buffer = BIO_new(BIO_f_buffer());
    if (!socket_ || !buffer || BIO_set_write_buffer_size(buffer, record_buffer_bytes) != 1) {
      BIO_free(buffer);
      ssl_ = nullptr;
      return;
    }
    BIO_up_ref(socket_);          // the chain's reference (SSL_set0_wbio drops the SSL's)
    BIO_push(buffer, socket_);
    SSL_set0_wbio(ssl_, buffer);
#else
    (void)tls;
#endif
  }
  ~record_buffer() {
#ifdef CPPHTTPLIB_OPENSSL_SUPPORT
    if (!ssl_)
      return;
    flush();
    BIO_up_ref(socket_); // the SSL's reference again; freeing the chain drops the chain's
    SSL_set0_wbio(ssl_, socket_);
#endif
  }
  record_buffer(const record_buffer&) = delete;
  record_buffer& operator=(const record_buffer&) = delete;

  /// Sends what is gathered; false when the connection failed.
  bool flush() {
#ifdef CPPHTTPLIB_OPENSSL_SUPPORT
    return !ssl_ || BIO_flush(SSL_get_wbio(ssl_)) == 1;
#else
    return true;
#endif
  }

private:
#ifdef CPPHTTPLIB_OPENSSL_SUPPORT
  SSL* ssl_ = nullptr;
  BIO* socket_ = nullptr;
#endif
};

} // namespace

// Connections with a query running, so that a stop can shut them down.
// A socket is closed by the server only after the response (and with it
// the job's release) is gone, so a listed number is never a reused one.
struct query_requests::connections {
  std::mutex mutex;
  std::multiset<int> sockets;
  bool shut = false;

  bool add(int fd) {
    std::lock_guard lock(mutex);
    if (shut)
      return false;
    if (fd >= 0)
      sockets.insert(fd);
    return true;
  }
  void remove(int fd) {
    std::lock_guard lock(mutex);
    if (auto it = sockets.find(fd); it != sockets.end())
      sockets.erase(it);
  }
  void shut_down_all() {
    std::lock_guard lock(mutex);
    shut = true;
    for (const int fd : sockets)
      ::shutdown(fd, SHUT_RDWR);
  }
};

// One query's answer, written into the response by the server's thread.
struct query_requests::job {
  query_requests& owner;
  query::node_ptr q;
  std::string text, peer;
  io::output_format format;
  steno_limit limit;
  int socket;
  void* tls; // the connection's SSL, nullptr without TLS
  steady::time_point started = steady::now();
  httplib::DataSink* sink = nullptr;
  record_buffer* records = nullptr;
  bool sink_failed = false;
  std::uint64_t bytes = 0;
  char buffer[chunk_head + chunk_bytes + chunk_tail]; // the stream's buffer, with room for the framing

  // `t`: the query, as it goes into log lines.
  job(query_requests& o, query::node_ptr query, std::string t, std::string p, io::output_format f, steno_limit l,
      int fd, void* ssl)
    : owner(o), q(std::move(query)), text(std::move(t)), peer(std::move(p)), format(f), limit(l), socket(fd),
      tls(ssl) {}

  // The FILE* the packet writers write to: its buffer goes out as one
  // chunk of the chunked transfer coding (RFC 9112, 7.1). We frame the
  // chunks ourselves, into the server's unframed stream: cpp-httplib's
  // chunked sink copies every chunk twice, which cost a fifth of the
  // service's CPU in an export.
  static ssize_t write_chunk(void* cookie, const char* data, std::size_t n) {
    auto* self = static_cast<job*>(cookie);
    char size_line[24];
    const int len = std::snprintf(size_line, sizeof size_line, "%zx\r\n", n);
    char* const stream_buffer = self->buffer + chunk_head;
    bool ok = !self->sink_failed;
    if (ok && data == stream_buffer && n <= chunk_bytes) {
      // The stream's own buffer (always, but for writes larger than it):
      // the framing around it in place, the chunk in one write.
      char* const start = stream_buffer - len;
      std::memcpy(start, size_line, static_cast<std::size_t>(len));
      std::memcpy(stream_buffer + n, "\r\n", 2);
      ok = self->sink->write(start, static_cast<std::size_t>(len) + n + 2);
    } else if (ok) {
      ok = self->sink->write(size_line, static_cast<std::size_t>(len)) && self->sink->write(data, n)
           && self->sink->write("\r\n", 2);
    }
    if (!ok || (self->records && !self->records->flush())) {
      self->sink_failed = true;
      errno = EPIPE;
      return -1;
    }
    self->bytes += n;
    return static_cast<ssize_t>(n);
  }

  // The last chunk: the client learns the answer is whole. Without it (a
  // cut answer) the client sees the connection end mid-body.
  bool write_last_chunk() {
    return !sink_failed && sink->write("0\r\n\r\n", 5) && (!records || records->flush());
  }

  // The whole answer, in one call of the content provider. False: the
  // answer is not whole (the connection is then closed without the final
  // chunk).
  bool run(httplib::DataSink& s) {
    sink = &s;
    record_buffer gathered{tls};
    records = &gathered;
    struct forget { job& j; ~forget() { j.records = nullptr; } } forget_records{*this};
    std::FILE* out = fopencookie(this, "w", cookie_io_functions_t{nullptr, &job::write_chunk, nullptr, nullptr});
    if (!out) {
      LOG_ERROR("query service: %s '%s': cannot make an output stream: %s", peer.c_str(), text.c_str(),
                std::strerror(errno));
      return false;
    }
    std::setvbuf(out, buffer + chunk_head, _IOFBF, chunk_bytes);
    __fsetlocking(out, FSETLOCKING_BYCALLER); // this thread's alone: no lock per fwrite
    bool cancelled = false;
    query::run_stats stats;
    std::size_t warnings = 0;
    {
      const auto writer = io::make_packet_output(out, format, {"", "packets of the stenotype data directory " + owner.cfg_.dir});
      if (!limit.stop_after_header()) {
        stats = query::run_query(
          owner.cfg_.dir, q,
          [&](const io::packet_ref& p) {
            if (owner.stopping_.load(std::memory_order_relaxed) || !writer->write(p)) {
              cancelled = true;
              return false;
            }
            return !limit.stop_after_packet(io::wire_frame_bytes(p));
          },
          [&](const io::problem& problem) {
            if (++warnings <= 10) // (the full list is in stats.problems)
              LOG_WARN("query service: %s '%s': %s", peer.c_str(), text.c_str(), problem.text.c_str());
          });
      }
      if (!writer->flush())
        cancelled = true;
    }
    std::fclose(out); // (nothing left to write: flushed above, or the client is gone)
    const double secs = std::chrono::duration<double>(steady::now() - started).count();
    auto& c = owner.counters_;
    c.packets_sent += stats.packets;
    c.bytes_sent += bytes;
    c.query_nanos += static_cast<std::uint64_t>(secs * 1e9);
    if (cancelled) {
      ++c.queries_cancelled;
      LOG_INFO("query service: %s '%s': ended after %llu packets, %.3f s: %s", peer.c_str(), text.c_str(),
               static_cast<unsigned long long>(stats.packets), secs,
               owner.stopping_ ? "the service stops" : "the client went away");
      return false;
    }
    if (stats.problems.exit_status() != io::exit_status::complete) {
      ++c.queries_incomplete;
      LOG_WARN("query service: %s '%s': answer cut after %llu packets: some data could not be read "
               "(warnings above); the client sees a failed transfer",
               peer.c_str(), text.c_str(), static_cast<unsigned long long>(stats.packets));
      return false;
    }
    if (!write_last_chunk()) {
      ++c.queries_cancelled;
      return false;
    }
    s.done();
    ++c.queries_complete;
    LOG_INFO("query service: %s '%s': %llu packets, %llu bytes in %.3f s", peer.c_str(), text.c_str(),
             static_cast<unsigned long long>(stats.packets), static_cast<unsigned long long>(bytes), secs);
    return true;
  }
};

query_requests::query_requests(query_request_config cfg)
  : cfg_(std::move(cfg)), connections_(std::make_unique<connections>()) {}

query_requests::~query_requests() = default;

void query_requests::cancel_all() {
  stopping_ = true;
  connections_->shut_down_all();
}

void query_requests::install(httplib::Server& server) {
  server.set_payload_max_length(cfg_.max_body_bytes);

  server.Post("/query", [this](const httplib::Request& req, httplib::Response& res) {
    auto bad = [&](const std::string& line) {
      ++counters_.bad_requests;
      log_refusal(req, 400, line);
      refuse(res, 400, line);
    };
    std::int64_t limits[2] = {0, 0};
    const char* names[2] = {"Steno-Limit-Bytes", "Steno-Limit-Packets"};
    for (int i = 0; i < 2; ++i) {
      if (!req.has_header(names[i]))
        continue;
      const std::string v = req.get_header_value(names[i]);
      const auto n = parse_steno_limit(v);
      if (!n)
        return bad(std::string("invalid ") + names[i] + " header '" + v + "': not a non-negative integer");
      limits[i] = *n;
    }
    io::output_format format = io::output_format::pcap_us; // Google's server's
    if (const std::string f = target_param(req, "format"); !f.empty()) {
      const auto parsed = io::parse_output_format(f);
      if (!parsed)
        return bad("unknown format '" + f + "': one of " + io::output_format_names);
      format = *parsed;
    }
    const std::string& text = req.body;
    if (text.find_first_not_of(" \t\r\n") == std::string::npos)
      return bad("empty query: POST the query as the request body");
    query::node_ptr q;
    try {
      q = query::parse_query(text, now_ns());
    } catch (const query::parse_error& e) {
      return bad(e.describe());
    }
    // Admission: a slot for the whole answer, released with the response.
    if (counters_.running.fetch_add(1) >= cfg_.max_queries || stopping_) {
      --counters_.running;
      ++counters_.refused_busy;
      const std::string line = stopping_ ? std::string("the service is stopping")
                                         : "too many queries at once: " + std::to_string(cfg_.max_queries)
                                             + " are running (--query_max_running); try again later";
      log_refusal(req, 503, line);
      res.set_header("Retry-After", "1");
      return refuse(res, 503, line);
    }
    const int fd = socket_of(req);
    if (!connections_->add(fd)) {
      --counters_.running;
      ++counters_.refused_busy;
      return refuse(res, 503, "the service is stopping");
    }
    ++counters_.queries;
    auto j = std::make_shared<job>(*this, std::move(q), loggable(text), peer_of(req), format,
                                   steno_limit{limits[0], limits[1]}, fd, tls_of(req));
    res.set_header("Transfer-Encoding", "chunked"); // framed by job::write_chunk
    res.set_content_provider(
      "application/octet-stream",
      [j](std::size_t, httplib::DataSink& sink) {
        try {
          return j->run(sink);
        } catch (const std::exception& e) { // (run_query reports file problems; this is a bug or no memory)
          LOG_ERROR("query service: %s '%s': %s", j->peer.c_str(), j->text.c_str(), e.what());
          return false;
        }
      },
      [this, j](bool) {
        connections_->remove(j->socket);
        --counters_.running;
      });
  });

  server.Get("/debug/stats", [this](const httplib::Request&, httplib::Response& res) {
    ++counters_.stats_requests;
    std::map<std::string, std::int64_t> values;
    if (cfg_.stats)
      for (auto& [name, v] : cfg_.stats())
        values[name] = v;
    // Google's server's names for its query figures (httputil.Log).
    values["http_request_query_POST_completed"] =
      static_cast<std::int64_t>(counters_.queries + counters_.bad_requests + counters_.refused_busy);
    values["http_request_query_POST_nanos"] = static_cast<std::int64_t>(counters_.query_nanos.load());
    values["http_request_query_POST_bytes"] = static_cast<std::int64_t>(counters_.bytes_sent.load());
    std::string body;
    for (const auto& [name, v] : values)
      body += name + "\t" + std::to_string(v) + "\n";
    res.set_content(body, "text/plain");
  });

  server.set_error_handler([this](const httplib::Request& req, httplib::Response& res) {
    if (!res.body.empty())
      return; // a refusal of ours, already with its line
    std::string line;
    switch (res.status) {
      case 404: line = "no such resource: POST /query or GET /debug/stats"; break;
      case 413: line = "request body too large: a query has at most " + std::to_string(cfg_.max_body_bytes) + " bytes"; break;
      case 400: line = "malformed HTTP request"; break;
      default: line = "request refused (HTTP " + std::to_string(res.status) + ")"; break;
    }
    ++counters_.bad_requests;
    log_refusal(req, res.status, line);
    res.set_content(line + "\n", "text/plain");
  });

  server.set_exception_handler([](const httplib::Request& req, httplib::Response& res, std::exception_ptr ep) {
    std::string what = "unknown exception";
    try {
      std::rethrow_exception(ep);
    } catch (const std::exception& e) {
      what = e.what();
    } catch (...) {
    }
    LOG_ERROR("query service: %s %s from %s: %s", loggable(req.method, 16).c_str(), loggable(req.path, 100).c_str(),
              peer_of(req).c_str(), what.c_str());
    refuse(res, 500, "internal error: " + what);
  });
}

} // namespace stenotype
