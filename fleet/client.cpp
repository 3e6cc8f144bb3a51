#include "fleet/client.hpp"

#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>
#include <thread>

#include <caf/all.hpp>
#include <caf/io/all.hpp>
#include <caf/openssl/all.hpp>

#include "fleet/merge.hpp"
#include "fleet/tcp_probe.hpp"
#include "stenotype/error_category.hpp"

namespace stenotype::fleet {
namespace {

using clock = std::chrono::steady_clock;

std::string seconds_text(std::chrono::milliseconds d) {
  const auto ms = d.count();
  return ms % 1000 == 0 ? std::to_string(ms / 1000) + " s" : std::to_string(ms) + " ms";
}

// One sensor's answer: filled by its thread, drained by the merge.
struct stream {
  sensor_address address;
  // Shared with the sensor's thread.
  std::mutex m;
  std::condition_variable cv;
  std::deque<fleet_batch> ready;
  bool ended = false;      // no batch will come any more
  std::string failure;     // why it ended early
  fleet_session session;   // once open: the merge grants credit through it
  std::uint64_t bytes = 0;
  std::atomic<bool> abandoned{false}; // the merge gave up on it (timeout)

  // The merge's side.
  fleet_batch current;
  std::optional<fleet_batch_reader> reader;
  io::packet_ref head{};
  std::uint16_t head_thread = 0;
  bool answered = false;
  int status = 0;
  std::uint64_t packets = 0;

  void end(std::string why) {
    std::lock_guard lock(m);
    if (!ended) {
      ended = true;
      failure = std::move(why);
    }
    cv.notify_all();
  }
};

// What a failed remote_actor most likely means, once TCP got through.
std::string connect_failure(caf::actor_system& sys, const caf::error& e) {
  if (e == caf::sec::unexpected_actor_messaging_interface)
    return "incompatible version: the sensor publishes another interface (" + sys.render(e) + ")";
  return "certificate refused: the TLS handshake failed (" + sys.render(e) + ")";
}

// The sensor's thread: connect, hello, open, then receive batches until
// the last one, the connection's loss, or the merge's giving up.
void receive_stream(stream& s, const client_config& config) {
  const auto& a = s.address;
  if (auto why = tcp_probe(a.host, a.port, config.timeout); !why.empty())
    return s.end("down: " + why);
  caf::actor_system_config cfg;
  cfg.load<caf::io::middleman>();
  cfg.load<caf::openssl::manager>();
  add_fleet_message_types(cfg);
  add_error_category(cfg);
  cfg.set("scheduler.max-threads", 1);
  // Workers that sleep on a condition variable when idle: the default
  // work-stealing ones poll for a while, which with an actor system per
  // sensor (client) or beside the capture (server) burns the CPU others need.
  cfg.set("scheduler.policy", caf::atom("sharing"));
  cfg.set("logger.verbosity", caf::atom("quiet"));
  cfg.openssl_certificate = config.tls.client_cert;
  cfg.openssl_key = config.tls.client_key;
  cfg.openssl_cafile = config.tls.ca_cert;
  // Never destroyed: see client.hpp.
  auto* sys = new caf::actor_system(cfg);
  auto sensor = caf::openssl::remote_actor<fleet_sensor>(*sys, a.host, a.port);
  if (!sensor)
    return s.end(connect_failure(*sys, sensor.error()));
  caf::scoped_actor self{*sys};
  const caf::duration limit{config.timeout};
  std::string failed;
  auto describe = [&](const caf::error& e, const char* step) {
    if (e == caf::sec::request_timeout)
      return "timeout: no answer to " + std::string(step) + " within " + seconds_text(config.timeout);
    if (code_of(e))
      return "refused: " + message_of(e);
    return std::string(step) + " failed: " + sys->render(e);
  };
  self->request(*sensor, limit, fleet_hello_atom::value, fleet_protocol_version)
    .receive(
      [&](std::uint32_t version, const std::string&) {
        if (version != fleet_protocol_version)
          failed = "incompatible version: the sensor speaks fleet protocol " + std::to_string(version) + ", we speak "
                   + std::to_string(fleet_protocol_version);
      },
      [&](const caf::error& e) { failed = describe(e, "hello"); });
  if (!failed.empty())
    return s.end(failed);
  fleet_session session;
  self->request(*sensor, limit, fleet_open_atom::value, config.query, caf::actor_cast<fleet_sink>(self.ptr()))
    .receive([&](const fleet_session& h) { session = h; }, [&](const caf::error& e) { failed = describe(e, "the query"); });
  if (!failed.empty() || !session)
    return s.end(failed.empty() ? "the sensor opened no session" : failed);
  self->monitor(session);
  {
    std::lock_guard lock(s.m);
    s.session = session;
  }
  self->send(session, fleet_pull_atom::value, config.credit);
  for (bool done = false; !done;) {
    self->receive(
      [&](fleet_batch_atom, fleet_batch& b) {
        const bool last = b.last;
        std::lock_guard lock(s.m);
        s.bytes += b.records.size();
        s.ready.push_back(std::move(b));
        if (last)
          s.ended = true, done = true;
        s.cv.notify_all();
      },
      [&](const caf::down_msg& d) {
        s.end("connection lost mid-stream (" + sys->render(d.reason) + ")");
        done = true;
      },
      caf::after(std::chrono::seconds(1)) >> [&] {
        if (s.abandoned) {
          self->send(session, fleet_cancel_atom::value);
          done = true;
        }
      });
  }
}

// The merge's next packet of `s` into s.head; false when its answer ended
// (whole or not). Waits for a batch at most `timeout` after the last one
// came, then gives the sensor up.
bool advance(stream& s, const client_config& config, const fleet_warn& warn, std::size_t index) {
  for (;;) {
    if (s.reader) {
      if (s.reader->next(s.head, s.head_thread)) {
        ++s.packets;
        return true;
      }
      const bool bad = s.reader->malformed(), last = s.current.last;
      s.reader.reset();
      if (bad) {
        s.abandoned = true;
        s.end("malformed batch");
        return false;
      }
      if (last) {
        s.answered = true;
        s.status = s.current.status;
        return false;
      }
      fleet_session session;
      {
        std::lock_guard lock(s.m);
        session = s.session;
      }
      caf::anon_send(session, fleet_pull_atom::value, std::uint32_t{1}); // the batch is written: one more
    }
    std::unique_lock lock(s.m);
    const auto deadline = clock::now() + config.timeout;
    while (s.ready.empty() && !s.ended)
      if (s.cv.wait_until(lock, deadline) == std::cv_status::timeout && s.ready.empty() && !s.ended) {
        s.ended = true;
        s.failure = "timeout: nothing for " + seconds_text(config.timeout);
        s.abandoned = true;
      }
    if (s.ready.empty())
      return false; // ended: s.failure says why
    s.current = std::move(s.ready.front());
    s.ready.pop_front();
    lock.unlock();
    for (const auto& w : s.current.warnings)
      warn(index, w);
    s.reader.emplace(s.current.records);
  }
}

} // namespace

std::vector<sensor_outcome> run_fleet_query(const client_config& config, const fleet_emit& emit,
                                            const fleet_warn& warn) {
  std::vector<std::unique_ptr<stream>> streams;
  for (const auto& a : config.sensors) {
    streams.push_back(std::make_unique<stream>());
    streams.back()->address = a;
  }
  // Detached: a thread stuck in a connect to a dead host must not hold the exit.
  for (auto& s : streams)
    std::thread([&config, p = s.get()] {
      try {
        receive_stream(*p, config);
      } catch (const std::exception& e) {
        p->end(std::string("failed: ") + e.what());
      }
    }).detach();

  time_merge merge;
  for (std::size_t i = 0; i < streams.size(); ++i)
    if (advance(*streams[i], config, warn, i))
      merge.push(i, std::uint64_t{streams[i]->head.sec} * 1000000000u + streams[i]->head.nsec);
  while (!merge.empty()) {
    const std::size_t i = merge.pop();
    stream& s = *streams[i];
    if (!emit(i, s.head_thread, s.head))
      break;
    if (advance(s, config, warn, i))
      merge.push(i, std::uint64_t{s.head.sec} * 1000000000u + s.head.nsec);
  }

  std::vector<sensor_outcome> out;
  for (auto& s : streams) {
    sensor_outcome o;
    o.name = s->address.name;
    o.answered = s->answered;
    o.status = s->status;
    o.packets = s->packets;
    std::lock_guard lock(s->m);
    o.bytes = s->bytes;
    o.failure = s->answered ? "" : (s->failure.empty() ? "its answer was cut short" : s->failure);
    out.push_back(std::move(o));
  }
  return out;
}

} // namespace stenotype::fleet
