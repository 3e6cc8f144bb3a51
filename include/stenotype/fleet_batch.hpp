// stenotype/fleet_batch.hpp -- packets as a fleet sensor sends them.
//
// A sensor answers a fleet query (stenotype/fleet_protocol.hpp) in batches
// of about 1 MiB of packets in time order. The client grants credit, at
// most two batches ahead of what it has written (fleet_default_credit), so
// a fast sensor never floods the client's memory: a stream costs the client
// at most (credit + 1) batches, however large the answer.
//
// The packets are packed into one string (CAF serializes a string with one
// copy, a vector element by element): per packet a 28-byte header -- sec,
// nsec, caplen, wire_len, status (tp_status), vlan_tci, vlan_tpid, thread
// (the capture thread: DIR/PKT<thread>), all little-endian -- then caplen
// bytes of frame, padded to 4 bytes. The last batch of a query says so and
// carries the sensor's verdict (its io::exit_status: 0 complete, 3 some
// data unreadable, 4 nothing readable) and its warnings.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include <caf/meta/type_name.hpp>

#include "stenotype/block_format.hpp"

namespace stenotype {

/// Bytes of packets after which a sensor sends a batch.
inline constexpr std::size_t fleet_batch_bytes = 1 << 20;
/// Batches a client lets a sensor send ahead of what it has consumed.
inline constexpr std::uint32_t fleet_default_credit = 2;

struct fleet_batch {
  std::string records;       ///< packed packets (see above)
  std::uint32_t packets = 0; ///< in `records`
  bool last = false;         ///< the query's last batch: nothing follows
  int status = 0;            ///< with `last`: the sensor's io::exit_status for its answer
  std::vector<std::string> warnings; ///< what the sensor could not read, as found
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, fleet_batch& x) {
  return f(caf::meta::type_name("stenotype::fleet_batch"), x.records, x.packets, x.last, x.status, x.warnings);
}

inline constexpr std::size_t fleet_record_header = 28;

/// Appends one packet to `b` (the frame as stored; VLAN tags the kernel
/// stripped travel in vlan_tci/status and are put back by the writers).
inline void append_packet(fleet_batch& b, const io::packet_ref& p, std::uint16_t thread) {
  char h[fleet_record_header];
  const std::uint32_t words[5] = {p.sec, p.nsec, p.caplen, p.wire_len, p.status};
  const std::uint16_t halves[4] = {p.vlan_tci, p.vlan_tpid, thread, 0};
  std::memcpy(h, words, sizeof words); // (x86-64 and arm64 are little-endian; see above)
  std::memcpy(h + sizeof words, halves, 6);
  b.records.append(h, fleet_record_header);
  b.records.append(reinterpret_cast<const char*>(p.frame), p.caplen);
  b.records.append((4 - p.caplen % 4) % 4, '\0');
  ++b.packets;
}

/// Reads the packets of a batch back, checking every length against the
/// string: a batch from the network is not trusted.
class fleet_batch_reader {
public:
  explicit fleet_batch_reader(const std::string& records) : data_(records) {}
  /// The next packet into `p` (pointing into the batch) and its thread;
  /// false at the end, or on a malformed record (then malformed() is true).
  bool next(io::packet_ref& p, std::uint16_t& thread) {
    if (at_ == data_.size())
      return false;
    if (data_.size() - at_ < fleet_record_header) {
      bad_ = true;
      return false;
    }
    std::uint32_t words[5];
    std::uint16_t halves[3];
    std::memcpy(words, data_.data() + at_, sizeof words);
    std::memcpy(halves, data_.data() + at_ + sizeof words, sizeof halves);
    const std::size_t padded = (std::size_t{words[2]} + 3) / 4 * 4;
    if (data_.size() - at_ - fleet_record_header < padded || words[1] >= 1000000000u) {
      bad_ = true;
      return false;
    }
    p = io::packet_ref{0, words[0], words[1], words[2], words[3], words[4], halves[0], halves[1],
                   reinterpret_cast<const std::uint8_t*>(data_.data() + at_ + fleet_record_header)};
    thread = halves[2];
    at_ += fleet_record_header + padded;
    return true;
  }
  bool malformed() const { return bad_; }

private:
  const std::string& data_;
  std::size_t at_ = 0;
  bool bad_ = false;
};

} // namespace stenotype
