#include "query/file_stream.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <sys/uio.h>
#include <unistd.h>

#include "stenotype/error.hpp"

namespace stenotype::query {
namespace {

// Positions are 32-bit: no stenotype writer makes a larger packet file.
constexpr std::uint64_t max_file_size = std::uint64_t{1} << 32;

} // namespace

file_stream::file_stream(const std::string& path, const index::file_summary* summary,
                         std::optional<selection> candidates, node_ptr q, io::problem_sink report,
                         stream_limits limits)
  : path_(path), file_(path, io::links::refuse), report_(std::move(report)), limits_(limits), q_(std::move(q)) {
  file_size_ = std::min(file_.size(), limits_.readable_bytes);
  std::uint8_t head[io::marked_first_packet] = {};
  const ssize_t n = ::pread(file_.fd(), head, sizeof head, 0);
  if (n < 0)
    throw failure(errc_from_errno(errno), "cannot read " + path + ": " + std::strerror(errno));
  layout_ = io::choose_block_layout(std::span<const std::uint8_t>(head, static_cast<std::size_t>(n)),
                                    summary ? summary->block_size : 0, 0);
  if (summary && !layout_.index_rejected.empty()) {
    report_({io::problem_kind::index_unusable, path_,
             path_ + ": its index does not fit it (" + layout_.index_rejected + "); read whole, in "
               + io::describe(layout_)});
    summary = nullptr;
    candidates.reset();
  }
  if (!layout_.mark_rejected.empty())
    report_({io::problem_kind::block_damaged, path_,
             path_ + ": " + layout_.mark_rejected + "; read in " + io::describe(layout_)});
  block_size_ = static_cast<std::uint32_t>(layout_.block_size);
  if (file_size_ > max_file_size)
    report_({io::problem_kind::block_damaged, path_,
             path_ + " is larger than 4 GiB, which no stenotype writer makes; the rest is not read"});
  blocks_ = static_cast<std::uint32_t>(std::min(file_size_, max_file_size) / block_size_);
  if (auto tail = limits_.growing() ? "" : io::tail_problem(path_, file_size_, block_size_); !tail.empty())
    report_({io::problem_kind::file_truncated, path_, tail});
  sel_ = candidates && !candidates->every_block ? std::move(*candidates) : select_all(blocks_);
  if (summary)
    check_against_index(*summary);
  sel_.blocks.resize(blocks_, false);
  // Every read is planned now and asked of the disk ahead of the reads: a
  // selective file's all at once (the disk serves them in parallel, instead
  // of one round trip per packet in turn), a scan's in a window.
  ahead_ = read_ahead(plan_reads(sel_, blocks_, block_size_, limits_.costs));
  if (ahead_.plan().scan)
    ::posix_fadvise(file_.fd(), 0, 0, POSIX_FADV_SEQUENTIAL);
  plan_direct();
  prefetch(0, limits_.costs.first_window_bytes);
}

void file_stream::plan_direct() {
  const read_plan& plan = ahead_.plan();
  const read_costs& c = limits_.costs;
  if (!plan.scan || c.direct_depth == 0 || block_size_ == 0)
    return;
  // Whole blocks of the span, past the first window (read buffered: warmed
  // up ahead of the merge). The span never reaches past the whole blocks,
  // which for a growing file end at its durable extent.
  const std::uint64_t bs = block_size_;
  const std::uint64_t first_window = (c.first_window_bytes + bs - 1) / bs * bs;
  const std::uint64_t begin = std::max((plan.ranges[0].offset + bs - 1) / bs * bs, first_window);
  const std::uint64_t end = std::min(plan.ranges[0].end(), std::uint64_t{blocks_} * bs) / bs * bs;
  if (end > begin && end - begin >= c.direct_min_bytes) {
    direct_begin_ = begin;
    direct_end_ = end;
  }
}

void file_stream::start_direct() {
  direct_tried_ = true;
  if (direct_end_ <= direct_begin_)
    return;
  // Already in the page cache (a file just read, or just written):
  // reading it buffered is cheaper than from the disk again. Probed where
  // the span begins and in its middle, without waiting for the disk. A
  // file system that cannot say (tmpfs: EOPNOTSUPP, and it is memory
  // anyway) is read buffered.
  alignas(4096) static thread_local std::uint8_t probe[4096];
  int cached = 0;
  const std::uint64_t bs = block_size_;
  for (const std::uint64_t at : {direct_begin_, direct_begin_ + (direct_end_ - direct_begin_) / 2 / bs * bs}) {
    iovec v{probe, sizeof probe};
    const ssize_t got = ::preadv2(file_.fd(), &v, 1, static_cast<off_t>(at), RWF_NOWAIT);
    cached += got == static_cast<ssize_t>(sizeof probe) || (got < 0 && errno != EAGAIN);
  }
  if (cached == 2)
    return;
  direct_ = io::direct_reader::open(file_.fd(), path_, direct_begin_, direct_end_, block_size_,
                                    limits_.costs.direct_depth);
  if (direct_) // its first reads go on while the blocks before it are read buffered
    direct_->start();
}

const std::uint8_t* file_stream::read_direct(std::uint64_t start) {
  if (!direct_ || start < direct_begin_ || start >= direct_end_)
    return nullptr;
  const std::uint8_t* bytes = direct_->read(start);
  if (!bytes) // refused or failed: this block and the rest buffered, where an error is found and reported
    direct_.reset();
  return bytes;
}

void file_stream::check_against_index(const index::file_summary& s) {
  // What the index promises beyond the file's whole blocks cannot be read.
  const std::uint64_t end = std::uint64_t{blocks_} * block_size_;
  if (s.blocks > blocks_ && limits_.growing()) {
    // Indexed from the ring, not yet durable on disk: the next query has them.
    sel_.positions.erase(std::lower_bound(sel_.positions.begin(), sel_.positions.end(), end), sel_.positions.end());
  } else if (s.blocks > blocks_) {
    const auto cut = std::lower_bound(sel_.positions.begin(), sel_.positions.end(), end);
    const auto lost_positions = static_cast<std::uint64_t>(sel_.positions.end() - cut);
    std::uint64_t lost_blocks = 0;
    for (std::size_t b = blocks_; b < sel_.blocks.size(); ++b)
      lost_blocks += sel_.blocks[b];
    sel_.positions.erase(cut, sel_.positions.end());
    report_({io::problem_kind::file_truncated, path_,
             path_ + " holds " + std::to_string(blocks_) + " whole block(s), its index "
               + std::to_string(s.blocks) + ": the file was cut; " + std::to_string(lost_positions)
               + " candidate packet(s) and " + std::to_string(lost_blocks)
               + " candidate block(s) past its end are lost"});
  } else if (s.blocks < blocks_) {
    // Packets the index does not know about: read those blocks whole.
    sel_.blocks.resize(blocks_, false);
    for (std::size_t b = s.blocks; b < blocks_; ++b)
      sel_.blocks[b] = true;
    if (!limits_.partial_index)
      report_({io::problem_kind::index_short, path_,
             path_ + ": its index covers " + std::to_string(s.blocks) + " of its " + std::to_string(blocks_)
               + " blocks; the others are read whole"});
  }
}

void file_stream::prefetch(std::uint64_t offset, std::uint64_t window) {
  ahead_.advance(offset, window, [&](std::uint64_t from, std::uint64_t n) {
    const std::uint64_t to = from + n;
    auto ask = [&](std::uint64_t a, std::uint64_t z) {
      if (a < z)
        ::posix_fadvise(file_.fd(), static_cast<off_t>(a), static_cast<off_t>(z - a), POSIX_FADV_WILLNEED);
    };
    if (direct_end_ > direct_begin_) { // what the direct reader reads is not asked of the page cache
      ask(from, std::min(to, direct_begin_));
      ask(std::max(from, direct_end_), to);
    } else {
      ask(from, to);
    }
  });
}

bool file_stream::read_at(std::uint64_t offset, std::uint8_t* into, std::size_t n) {
  const ssize_t got = ::pread(file_.fd(), into, n, static_cast<off_t>(offset));
  if (got == static_cast<ssize_t>(n))
    return true;
  if (read_errors_++ == 0)
    first_read_error_ = "at byte " + std::to_string(offset) + ": "
                        + (got < 0 ? std::strerror(errno) : "the file got shorter");
  return false;
}

void file_stream::consider(const io::packet_ref& p, bool copy) {
  index::packet_attributes attrs;
  index::parse_packet(p, attrs);
  const std::uint64_t ts = std::uint64_t{p.sec} * 1000000000u + p.nsec;
  if (!matches(*q_, attrs, ts))
    return;
  ready_.push_back(p);
  if (copy) {
    arena_offsets_.push_back(arena_.size());
    arena_.insert(arena_.end(), p.frame, p.frame + p.caplen);
  } else {
    arena_offsets_.push_back(SIZE_MAX);
  }
}

void file_stream::load_block(std::uint32_t b) {
  ready_.clear();
  arena_offsets_.clear();
  arena_.clear();
  ready_pos_ = 0;
  const std::uint64_t end = std::uint64_t{b + 1} * block_size_;
  // Candidate positions inside this block.
  const std::size_t first = next_pos_;
  while (next_pos_ < sel_.positions.size() && sel_.positions[next_pos_] < end)
    ++next_pos_;
  const block_read how = how_to_read(sel_.blocks[b], next_pos_ - first, limits_.costs);
  if (!direct_tried_ && how == block_read::whole)
    start_direct(); // when the stream begins to read (a stream opened only to warm up never does)
  if (how != block_read::none)
    prefetch(std::uint64_t{b} * block_size_, limits_.costs.window_bytes);
  if (how == block_read::whole)
    load_whole_block(b, first);
  else if (how == block_read::packets)
    load_packets(b, first);
}

void file_stream::load_whole_block(std::uint32_t b, std::size_t first) {
  const std::uint64_t start = std::uint64_t{b} * block_size_;
  const std::uint8_t* bytes = read_direct(start);
  if (!bytes) {
    block_.resize(block_size_);
    if (!read_at(start, block_.data(), block_size_)) {
      bad_ += next_pos_ - first;
      return;
    }
    bytes = block_.data();
  }
  const std::span<const std::uint8_t> block(bytes, block_size_);
  if (sel_.blocks[b]) {
    // Every packet is looked at: the block's candidate positions need no test.
    damage_.add(b, start, io::check_block(block, layout_.mark, [&](const io::packet_ref& p) { consider(p, false); }));
    return;
  }
  // Only the candidates: walk the block, test the packets at those offsets.
  std::size_t i = first;
  damage_.add(b, start, io::check_block(block, layout_.mark, [&](const io::packet_ref& p) {
    while (i < next_pos_ && sel_.positions[i] < start + p.offset) {
      ++bad_; // a position between packets: the index does not fit the file
      ++i;
    }
    if (i < next_pos_ && sel_.positions[i] == start + p.offset) {
      consider(p, false);
      ++i;
    }
  }));
  bad_ += next_pos_ - i;
}

void file_stream::load_packets(std::uint32_t b, std::size_t first) {
  // Few candidates: check the block's header and mark, then read each packet
  // on its own.
  const std::uint64_t start = std::uint64_t{b} * block_size_;
  std::uint8_t head[io::marked_first_packet];
  io::block_header bh{};
  if (!read_at(start, head, sizeof head)) {
    bad_ += next_pos_ - first;
    return;
  }
  if (const auto fault = io::check_block_header(head, block_size_, layout_.mark, bh); fault != io::block_fault::none) {
    damage_.add(b, start, {fault, 0, 0});
    bad_ += next_pos_ - first;
    return;
  }
  // Packets lie between the first packet and blk_len (the kernel counts each).
  const std::uint64_t lo = start + bh.offset_to_first_pkt;
  const std::uint64_t end = start + std::min<std::uint64_t>(bh.blk_len, block_size_);
  for (std::size_t i = first; i < next_pos_; ++i) {
    const std::uint64_t pos = sel_.positions[i];
    if (pos < lo || pos + sizeof(tpacket3_hdr) > end) {
      ++bad_;
      continue;
    }
    const std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(end - pos, 2048));
    one_.resize(std::max<std::size_t>(one_.size(), want));
    ssize_t n = ::pread(file_.fd(), one_.data(), want, static_cast<off_t>(pos));
    if (n < static_cast<ssize_t>(sizeof(tpacket3_hdr))) {
      ++bad_;
      continue;
    }
    tpacket3_hdr h;
    std::memcpy(&h, one_.data(), sizeof h);
    const std::uint64_t need = std::uint64_t{h.tp_mac} + h.tp_snaplen;
    // The index's position is believed only where the kernel's record is: it
    // marks every packet TP_STATUS_USER and steps exactly to the next 8-byte
    // boundary past the frame (0 after the last). An index that does not fit
    // the file points into frames, whose bytes rarely pass this.
    const bool kernel_record = (h.tp_status & TP_STATUS_USER)
                               && (h.tp_next_offset == 0 || h.tp_next_offset == ((need + 7) & ~std::uint64_t{7}));
    if (!io::packet_fits(h, static_cast<std::size_t>(std::min(end, file_size_) - pos)) || !kernel_record) {
      ++bad_;
      continue;
    }
    if (need > static_cast<std::uint64_t>(n)) {
      one_.resize(need);
      n = ::pread(file_.fd(), one_.data(), need, static_cast<off_t>(pos));
      if (n < static_cast<ssize_t>(need)) {
        ++bad_;
        continue;
      }
    }
    consider(io::make_packet_ref(h, static_cast<std::uint32_t>(pos - start), one_.data()), true);
  }
  // The arena is complete: point the copied packets at it.
  for (std::size_t k = 0; k < ready_.size(); ++k)
    if (arena_offsets_[k] != SIZE_MAX)
      ready_[k].frame = arena_.data() + arena_offsets_[k];
}

void file_stream::report_damage() {
  if (read_errors_)
    report_({io::problem_kind::file_unreadable, path_,
             "cannot read " + path_ + " " + first_read_error_ + " (" + std::to_string(read_errors_)
               + " failed read(s)); what was there is missing"});
  if (damage_.blocks())
    report_({io::problem_kind::block_damaged, path_, damage_.text(path_)});
  if (bad_)
    report_({io::problem_kind::packets_missing, path_,
             path_ + ": " + std::to_string(bad_) + " index position(s) did not hold a packet (damaged file or index?)"});
}

bool file_stream::next() {
  if (started_ && ready_pos_ < ready_.size())
    ++ready_pos_;
  started_ = true;
  while (ready_pos_ >= ready_.size() && next_block_ < blocks_)
    load_block(next_block_++);
  if (ready_pos_ < ready_.size())
    return true;
  if (!ended_) {
    ended_ = true;
    bad_ += sel_.positions.size() - next_pos_; // past the last whole block: never reached
    report_damage();
  }
  return false;
}

} // namespace stenotype::query
