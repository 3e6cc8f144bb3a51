// docs/examples/top_talkers.cpp -- a CAF analysis application embedding the capture.
//
//   top_talkers IFACE DIR SECONDS
//
// Spawns the capture pipeline into the application's own actor_system and
// adds an analysis actor of its own that
//   - subscribes to every ring block (read-only, uncopied, at most 16 on
//     loan per thread: if it falls behind it misses blocks, the capture
//     never waits), and counts IPv4 senders by packets and bytes;
//   - subscribes to "file written" events.
// After SECONDS it prints the pipeline's status, stops the capture (every
// packet flushed, files renamed and indexed) and prints the top talkers.
//
// The whole public API is used here: stenotype/pipeline.hpp (spawn, and
// the one capture handle), stenotype/protocol.hpp (messages),
// stenotype/block_format.hpp (packets), stenotype/error_category.hpp.
#include <algorithm>
#include <cstdio>
#include <string>
#include <unordered_map>
#include <vector>

#include <caf/all.hpp>

#include "stenotype/block_format.hpp"
#include "stenotype/pipeline.hpp"

using namespace stenotype;

namespace {

using report_atom = caf::atom_constant<caf::atom("report")>;

struct talker_counts {
  std::uint64_t packets = 0, bytes = 0;
};

struct talkers_state {
  std::unordered_map<std::uint32_t, talker_counts> by_source; // IPv4 source, host order
  std::uint64_t blocks = 0, packets = 0, files = 0;
  static inline const char* name = "top-talkers";
};

// The IPv4 source of an Ethernet frame (VLAN tags skipped), or 0.
std::uint32_t ipv4_source(const std::uint8_t* f, std::uint32_t len) {
  std::size_t off = 12;
  while (off + 2 <= len) {
    const unsigned type = f[off] << 8 | f[off + 1];
    if (type == 0x8100 || type == 0x88a8) {
      off += 4;
      continue;
    }
    if (type != 0x0800 || off + 2 + 20 > len)
      return 0;
    const std::uint8_t* ip = f + off + 2;
    return std::uint32_t{ip[12]} << 24 | std::uint32_t{ip[13]} << 16 | std::uint32_t{ip[14]} << 8 | ip[15];
  }
  return 0;
}

std::string dotted(std::uint32_t a) {
  return std::to_string(a >> 24) + "." + std::to_string(a >> 16 & 255) + "." +
         std::to_string(a >> 8 & 255) + "." + std::to_string(a & 255);
}

caf::behavior top_talkers(caf::stateful_actor<talkers_state>* self) {
  return {
    // A block on loan from the ring: read it, then let the handle go (at the
    // end of this handler) so the kernel gets the block back.
    [=](block_atom, int /*thread*/, const io::block_handle& block) {
      auto& st = self->state;
      ++st.blocks;
      io::for_each_packet(block.bytes(), [&](const io::packet_ref& p) {
        ++st.packets;
        if (const auto src = ipv4_source(p.frame, p.caplen)) {
          auto& c = st.by_source[src];
          ++c.packets;
          c.bytes += p.wire_len;
        }
      });
    },
    [=](written_atom, const file_event& ev) {
      ++self->state.files;
      std::printf("event: thread %d wrote %s (%llu bytes, %llu blocks)\n", ev.thread, ev.path.c_str(),
                  static_cast<unsigned long long>(ev.bytes), static_cast<unsigned long long>(ev.blocks));
    },
    [=](report_atom) {
      auto& st = self->state;
      std::vector<std::pair<std::uint32_t, talker_counts>> top(st.by_source.begin(), st.by_source.end());
      std::sort(top.begin(), top.end(), [](const auto& a, const auto& b) {
        return a.second.bytes != b.second.bytes ? a.second.bytes > b.second.bytes : a.first < b.first;
      });
      std::string out = "seen: " + std::to_string(st.blocks) + " blocks, " + std::to_string(st.packets) +
                        " packets, " + std::to_string(st.files) + " files\n";
      for (std::size_t i = 0; i < top.size() && i < 5; ++i)
        out += "talker " + dotted(top[i].first) + " packets " + std::to_string(top[i].second.packets) +
               " bytes " + std::to_string(top[i].second.bytes) + "\n";
      return out;
    },
  };
}

} // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: top_talkers IFACE DIR SECONDS\n");
    return 2;
  }
  caf::actor_system_config cfg;
  add_error_category(cfg); // system.render() spells out the capture's errors
  caf::actor_system system{cfg};

  capture_options opts; // the same options as the stenotype command line
  opts.iface = argv[1];
  opts.dir = argv[2];
  opts.blocks = 64;
  opts.blocksize_kb = 64;
  opts.aiops = 8;
  opts.blockage_sec = 1;
  opts.fileage_sec = 1;
  // Seccomp lists and watchdogs are off unless asked for (opts.seccomp,
  // opts.watchdogs): an embedding application decides on its own sandbox.
  capture_actor capture;
  try {
    capture = spawn_pipeline(system, opts);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "top_talkers: %s\n", e.what());
    return 1;
  }
  auto analysis = system.spawn(top_talkers);
  caf::anon_send(capture, subscribe_atom::value, block_atom::value, analysis, std::uint32_t{16});
  caf::anon_send(capture, subscribe_atom::value, written_atom::value, analysis);

  caf::scoped_actor self{system};
  self->receive(caf::after(std::chrono::seconds(std::stoi(argv[3]))) >> [] {});
  self->request(capture, std::chrono::seconds(5), status_atom::value)
    .receive([&](const caf::settings& s) { std::printf("status: %s\n", caf::deep_to_string(s).c_str()); },
             [](const caf::error&) {});
  self->send(capture, stop_atom::value);
  int outcome = 1;
  self->request(capture, caf::infinite, wait_atom::value)
    .receive([&] { outcome = 0; },
             [&](const caf::error& e) { std::printf("capture failed: %s\n", system.render(e).c_str()); });
  self->request(analysis, std::chrono::seconds(5), report_atom::value)
    .receive([&](const std::string& report) { std::printf("%s", report.c_str()); },
             [](const caf::error&) {});
  std::printf("capture ended with %d\n", outcome);
  caf::anon_send_exit(analysis, caf::exit_reason::user_shutdown);
  return outcome;
}
