// store/pcap_import.cpp -- see pcap_import.hpp.
#include "store/pcap_import.hpp"

#include <algorithm>
#include <memory>
#include <pcap/pcap.h>
#include <stdexcept>

#include "index/block_indexer.hpp"
#include "index/index_file.hpp"
#include "io/block_builder.hpp"
#include "io/block_writer.hpp"
#include "io/directory_lock.hpp"
#include "io/layout.hpp"
#include "io/memory_blocks.hpp"

namespace stenotype::store {

using namespace io; // the files, layout and block format this module works on

namespace {

// The newest file's id, hidden or not; 0 when there is none.
std::uint64_t newest_file(const std::string& dir) {
  const auto files = list_files(dir);
  return files.empty() ? 0 : files.back().id;
}

// Builds blocks, hands them to the writer and indexer, rotates files.
class importer {
public:
  explicit importer(const import_options& o)
    : opts_(o), pkt_dir_(packet_dir(o.dir, o.thread)), idx_dir_(index_dir(o.dir, o.thread)),
      pool_(std::make_shared<memory_blocks>(pool_blocks, o.block_size)),
      writer_(writer_config{pkt_dir_, o.block_size, pool_blocks, 0, 16ull * o.block_size}),
      builder_(o.block_size) {
    make_directories(idx_dir_);
    last_id_ = newest_file(pkt_dir_);
    take_block();
  }

  void add(std::uint64_t ts_ns, const std::uint8_t* data, std::uint32_t caplen, std::uint32_t len,
           import_stats& stats) {
    if (file_open_ && (ts_ns - std::min(ts_ns, first_ns_) >= opts_.max_file_age_ns))
      finish_file(stats);
    if (!file_open_)
      open_file(ts_ns);
    // A frame that cannot fit any block is cut, keeping its wire length.
    const auto room = static_cast<std::uint32_t>(block_builder::max_frame(opts_.block_size));
    if (caplen > room) {
      caplen = room;
      ++stats.truncated;
    }
    const auto sec = static_cast<std::uint32_t>(ts_ns / 1000000000u);
    const auto nsec = static_cast<std::uint32_t>(ts_ns % 1000000000u);
    if (!builder_blk_->add(sec, nsec, {data, caplen}, len)) {
      flush_block();
      if (offset_ + opts_.block_size > opts_.max_file_bytes)
        finish_file(stats), open_file(ts_ns);
      builder_blk_->add(sec, nsec, {data, caplen}, len);
    }
    max_ns_ = std::max(max_ns_, ts_ns);
    ++stats.packets;
  }

  void finish(import_stats& stats) {
    if (file_open_)
      finish_file(stats);
  }

private:
  static constexpr std::uint32_t pool_blocks = 8;

  void take_block() {
    // Wait for a block whose write has completed.
    for (;;) {
      for (std::uint32_t i = 0; i < pool_blocks; ++i)
        if (pool_->is_free(i)) {
          pool_->mark_taken(i);
          block_index_ = i;
          builder_blk_ = std::make_unique<block_builder>(pool_->block(i));
          return;
        }
      writer_.reap(std::chrono::milliseconds(100));
    }
  }

  void open_file(std::uint64_t ts_ns) {
    // Named by its first packet's time, after every earlier packet: a reader
    // relies on "all packets of a file are older than the next file's name".
    id_ = std::max({ts_ns / 1000, max_ns_ / 1000 + 1, last_id_ + 1});
    last_id_ = id_;
    first_ns_ = ts_ns;
    offset_ = 0;
    file_open_ = true;
    builder_.reset();
  }

  void flush_block() {
    if (builder_blk_->count() == 0)
      return;
    builder_blk_->finish(seq_++);
    auto span = pool_->block(block_index_);
    if (opts_.index)
      index::index_block(builder_, span, offset_);
    writer_.write(id_, offset_, block_handle{pool_, block_index_, span, seq_, builder_blk_->count()});
    offset_ += opts_.block_size;
    take_block();
  }

  void finish_file(import_stats& stats) {
    flush_block();
    file_open_ = false;
    if (!writer_.finish(id_))
      return;
    ++stats.files;
    if (!opts_.index)
      return;
    index::write_index_file(builder_, idx_dir_ + "/" + hidden_name(id_));
    publish(idx_dir_, hidden_name(id_), final_name(id_));
  }

  import_options opts_;
  std::string pkt_dir_, idx_dir_;
  std::shared_ptr<memory_blocks> pool_;
  block_writer writer_;
  index::index_builder builder_;
  std::unique_ptr<block_builder> builder_blk_;
  std::uint32_t block_index_ = 0;
  std::uint64_t seq_ = 0, id_ = 0, last_id_ = 0, first_ns_ = 0, max_ns_ = 0, offset_ = 0;
  bool file_open_ = false;
};

} // namespace

import_stats import_pcaps(const std::vector<std::string>& pcaps, const import_options& opts,
                          const std::function<void(const std::string&)>& warn) {
  const std::string pkt_dir = packet_dir(opts.dir, opts.thread);
  make_directories(pkt_dir);
  make_directories(index_dir(opts.dir, opts.thread));
  // Refuse a thread folder a capture (or another import) is writing into.
  const directory_lock pkt_lock{pkt_dir}, idx_lock{index_dir(opts.dir, opts.thread)};
  import_stats stats;
  // Open every input first: a bad one is reported before anything is written.
  struct closer {
    void operator()(pcap_t* p) const { pcap_close(p); }
  };
  std::vector<std::unique_ptr<pcap_t, closer>> inputs;
  for (const auto& path : pcaps) {
    char err[PCAP_ERRBUF_SIZE];
    pcap_t* p = pcap_open_offline_with_tstamp_precision(path.c_str(), PCAP_TSTAMP_PRECISION_NANO, err);
    if (!p)
      throw std::runtime_error(path + ": " + err);
    inputs.emplace_back(p);
    if (pcap_datalink(p) != DLT_EN10MB) {
      const char* name = pcap_datalink_val_to_name(pcap_datalink(p));
      throw std::runtime_error(path + ": link type " + (name ? name : std::to_string(pcap_datalink(p)))
                               + " is not Ethernet; only Ethernet captures can be imported");
    }
  }
  std::uint64_t first_ts = UINT64_MAX;
  for (auto& in : inputs) {
    pcap_pkthdr* h;
    const u_char* data;
    if (pcap_next_ex(in.get(), &h, &data) == 1)
      first_ts = std::min(first_ts, std::uint64_t(h->ts.tv_sec) * 1000000000u + std::uint64_t(h->ts.tv_usec));
  }
  if (first_ts != UINT64_MAX && newest_file(pkt_dir) > first_ts / 1000)
    throw std::runtime_error(pkt_dir + " holds files newer than the import's first packet; "
                             "import into another thread folder (--thread)");
  inputs.clear();

  importer imp{opts};
  for (const auto& path : pcaps) {
    char err[PCAP_ERRBUF_SIZE];
    std::unique_ptr<pcap_t, closer> in{pcap_open_offline_with_tstamp_precision(path.c_str(), PCAP_TSTAMP_PRECISION_NANO, err)};
    if (!in)
      throw std::runtime_error(path + ": " + err);
    pcap_pkthdr* h;
    const u_char* data;
    int rc;
    while ((rc = pcap_next_ex(in.get(), &h, &data)) == 1) {
      const std::uint64_t ts = std::uint64_t(h->ts.tv_sec) * 1000000000u + std::uint64_t(h->ts.tv_usec);
      imp.add(ts, data, h->caplen, h->len, stats);
    }
    if (rc == PCAP_ERROR)
      warn(path + ": " + pcap_geterr(in.get()) + " (the packets before it were imported)");
  }
  imp.finish(stats);
  return stats;
}

} // namespace stenotype::store
