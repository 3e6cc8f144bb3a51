// io/ring.cpp -- AF_PACKET TPACKET_V3 setup and block hand-over.
#include "io/ring.hpp"

#include "stenotype/block_format.hpp"

#include <arpa/inet.h>
#include <cerrno>
#include <cstring>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <poll.h>
#include <stdexcept>
#include <linux/membarrier.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <thread>
#include <unistd.h>

#include "stenotype/error.hpp"

namespace stenotype::io {
namespace {

[[noreturn]] void fail(const std::string& what) {
  throw failure(errc_from_errno(errno), what + ": " + std::strerror(errno));
}

tpacket_block_desc* desc(std::uint8_t* block) {
  return reinterpret_cast<tpacket_block_desc*>(block);
}

// block_status is shared with the kernel: read and written atomically with
// acquire/release order, as the kernel's smp_wmb/smp_rmb pairs expect.
std::uint32_t load_status(std::uint8_t* block) {
  return __atomic_load_n(&desc(block)->hdr.bh1.block_status, __ATOMIC_ACQUIRE);
}

} // namespace

void attach_filter(int fd, const std::vector<bpf_instruction>& prog) {
  std::vector<sock_filter> code;
  code.reserve(prog.size());
  for (const auto& i : prog)
    code.push_back(sock_filter{i.code, i.jt, i.jf, i.k});
  sock_fprog fprog{static_cast<unsigned short>(code.size()), code.data()};
  if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &fprog, sizeof fprog) != 0)
    fail("cannot attach BPF filter");
}

ring::ring(const capture_options& opts, int thread) : packet_source(opts.block_size()) {
  iface_ = opts.iface;
  block_count_ = opts.blocks;
  // One more slot than the ring has blocks: the spare block's.
  held_ = std::make_unique<std::atomic<bool>[]>(block_count_ + 1);
  leases_ = std::make_unique<std::atomic<std::uint32_t>[]>(block_count_ + 1);
  // ETH_P_ALL only after the filter is in place would race packets in; bind
  // with protocol 0 first (receives nothing), then switch to ETH_P_ALL.
  fd_ = ::socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
  if (fd_ < 0)
    fail("cannot open AF_PACKET socket (needs root or CAP_NET_RAW)");
  try {
    int version = TPACKET_V3;
    if (setsockopt(fd_, SOL_PACKET, PACKET_VERSION, &version, sizeof version) != 0)
      fail("cannot select TPACKET_V3");
    if (!opts.filter.empty())
      attach_filter(fd_, opts.filter);

    tpacket_req3 req{};
    req.tp_block_size = static_cast<unsigned>(block_size());
    req.tp_block_nr = block_count_;
    req.tp_frame_size = 2048; // unused by V3 beyond this consistency check
    req.tp_frame_nr = static_cast<unsigned>(block_size() / req.tp_frame_size * block_count_);
    // stenotype's timeout: a block is retired at the latest after blockage_sec.
    req.tp_retire_blk_tov = opts.blockage_sec * 1000 - 1;
    req.tp_feature_req_word = 0;
    // A private area per block, which the kernel leaves alone: the reader
    // writes our block mark there (stenotype/block_format.hpp), so that a
    // packet file says its own block size. Packets start after it.
    req.tp_sizeof_priv = block_mark_size;
    if (setsockopt(fd_, SOL_PACKET, PACKET_RX_RING, &req, sizeof req) != 0)
      fail("cannot create a ring of " + std::to_string(block_count_) + " blocks of "
           + std::to_string(block_size()) + " bytes");
    map_size_ = block_size() * block_count_;
    void* m = ::mmap(nullptr, map_size_, PROT_READ | PROT_WRITE,
                     MAP_SHARED | MAP_LOCKED | MAP_POPULATE, fd_, 0);
    if (m == MAP_FAILED) // MAP_LOCKED needs CAP_IPC_LOCK or a high RLIMIT_MEMLOCK
      m = ::mmap(nullptr, map_size_, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd_, 0);
    if (m == MAP_FAILED)
      fail("cannot map the packet ring");
    map_ = static_cast<std::uint8_t*>(m);
    // Not populated: it costs no memory unless a stop finds packets in the open block.
    void* spare = ::mmap(nullptr, block_size(), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (spare == MAP_FAILED)
      fail("cannot map a spare block");
    spare_ = static_cast<std::uint8_t*>(spare);

    unsigned ifindex = if_nametoindex(opts.iface.c_str());
    if (ifindex == 0)
      fail("no interface '" + opts.iface + "'");
    sockaddr_ll addr{};
    addr.sll_family = AF_PACKET;
    addr.sll_protocol = htons(ETH_P_ALL);
    addr.sll_ifindex = static_cast<int>(ifindex);
    if (bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
      fail("cannot bind to interface '" + opts.iface + "'");

    if (opts.promiscuous) {
      packet_mreq mreq{};
      mreq.mr_ifindex = static_cast<int>(ifindex);
      mreq.mr_type = PACKET_MR_PROMISC;
      if (setsockopt(fd_, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mreq, sizeof mreq) != 0)
        fail("cannot enable promiscuous mode on '" + opts.iface + "'");
    }
    if (opts.threads > 1 || opts.fanout_id > 0) {
      int id = opts.fanout_id > 0 ? opts.fanout_id : (getpid() & 0xffff);
      int arg = (id & 0xffff) | (opts.fanout_type << 16);
      if (setsockopt(fd_, SOL_PACKET, PACKET_FANOUT, &arg, sizeof arg) != 0)
        fail("cannot join fanout group " + std::to_string(id) + " (thread "
             + std::to_string(thread) + ")");
    }
  } catch (...) {
    if (spare_)
      ::munmap(spare_, block_size());
    if (map_)
      ::munmap(map_, map_size_);
    ::close(fd_);
    throw;
  }
}

ring::~ring() {
  if (spare_)
    ::munmap(spare_, block_size());
  if (map_)
    ::munmap(map_, map_size_);
  if (fd_ >= 0)
    ::close(fd_);
}

bool ring::next_ready() const {
  return !held_[next_].load(std::memory_order_acquire) && (load_status(block_at(next_)) & TP_STATUS_USER);
}

std::span<std::uint8_t> ring::try_next(std::uint32_t& index) {
  if (open_taken_)
    return {}; // the block after the open one can only be empty; and the open one may yet be retired
  if (!next_ready())
    return quiet_ ? take_open(index) : std::span<std::uint8_t>{};
  std::uint8_t* b = block_at(next_);
  held_[next_].store(true, std::memory_order_relaxed);
  lent();
  index = next_;
  next_ = (next_ + 1) % block_count_;
  return {b, block_size()};
}

void ring::wait(std::chrono::milliseconds timeout) {
  if (next_ready())
    return;
  if (device_gone_) {
    // Reported once; now the reader drains what the kernel still retires
    // on its timer (the socket gives no more readiness events).
    ::poll(nullptr, 0, static_cast<int>(timeout.count()));
    return;
  }
  if (link_error_)
    check_bound(); // the link went down earlier: has the device gone since?
  pollfd pfd{fd_, POLLIN | POLLERR, 0};
  count_poll();
  const int n = ::poll(&pfd, 1, static_cast<int>(timeout.count()));
  if (n > 0 && !(pfd.revents & POLLERR) && !next_ready()) {
    // The kernel reports POLLIN while the block before the one it fills is
    // still ours -- i.e. whenever the writer or indexer holds a block, which
    // under load is always: not news. Sleep a little instead of spinning on
    // poll() (a block holds ~1 ms of traffic even at 1 GB/s; the ring
    // absorbs the wait).
    ::poll(nullptr, 0, 1);
    return;
  }
  if (n <= 0 || !(pfd.revents & POLLERR))
    return;
  // A socket error (ENETDOWN when the link goes down, which also happens
  // first when the device is deleted) stays readable until fetched; fetch
  // it so poll() blocks again, and from now on watch for the device going.
  int err = 0;
  socklen_t len = sizeof err;
  ::getsockopt(fd_, SOL_SOCKET, SO_ERROR, &err, &len);
  link_error_ = true;
  check_bound();
  ::poll(nullptr, 0, static_cast<int>(timeout.count())); // down: no packets will come for now
}

void ring::check_bound() {
  // When the device is unregistered the kernel unbinds the socket (its
  // ifindex becomes -1); a link that is merely down stays bound.
  sockaddr_ll bound{};
  socklen_t blen = sizeof bound;
  if (::getsockname(fd_, reinterpret_cast<sockaddr*>(&bound), &blen) != 0 || bound.sll_ifindex <= 0) {
    device_gone_ = true;
    throw failure(errc::interface_gone, "interface '" + iface_ + "' disappeared");
  }
}

void ring::release(std::uint32_t index) {
  if (index == block_count_) { // the spare: the kernel never sees it
    returned();
    held_[index].store(false, std::memory_order_release);
    return;
  }
  std::uint8_t* block = block_at(index);
  // The kernel resets num_pkts when it opens the block again; clearing it here
  // lets pending_packets() tell a released block from one being filled.
  desc(block)->hdr.bh1.num_pkts = 0;
  __atomic_store_n(&desc(block)->hdr.bh1.block_status, TP_STATUS_KERNEL, __ATOMIC_RELEASE);
  returned();
  held_[index].store(false, std::memory_order_release);
}

std::uint32_t ring::pending_packets() const {
  if (open_taken_)
    return 0;
  std::uint8_t* b = block_at(next_);
  if (held_[next_].load(std::memory_order_acquire) || (load_status(b) & TP_STATUS_USER))
    return 0;
  return __atomic_load_n(&desc(b)->hdr.bh1.num_pkts, __ATOMIC_ACQUIRE);
}

void ring::stop_intake() {
  // "ret #0": accept nothing. Replaces the capture filter, if any.
  attach_filter(fd_, {bpf_instruction{BPF_RET | BPF_K, 0, 0, 0}});
  // The kernel delivers a packet to the socket (tpacket_rcv: filter, room in
  // the open block, copy, headers) inside one RCU read-side critical
  // section, and the filter swap is an RCU pointer update. MEMBARRIER_CMD_GLOBAL
  // is synchronize_rcu(): when it returns, every delivery that may have seen
  // the old filter has finished, and every later one sees "drop all". The
  // open block's packet count and contents are final.
  if (::syscall(SYS_membarrier, MEMBARRIER_CMD_GLOBAL, 0, 0) == 0) {
    quiet_ = true;
  } else {
    // No grace period to wait for (nohz_full: EINVAL; seccomp or an old
    // kernel: ENOSYS): give deliveries in flight a moment, and leave the
    // open block to the kernel's timer.
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

std::span<std::uint8_t> ring::take_open(std::uint32_t& index) {
  // The block at next_ is not retired; if we do not hold it, it is the
  // kernel's open block (blocks are opened and retired in ring order, and a
  // released block has num_pkts 0 until the kernel opens it again).
  std::uint8_t* b = block_at(next_);
  if (held_[next_].load(std::memory_order_acquire))
    return {}; // the ring is full: the kernel has no open block
  const auto n = __atomic_load_n(&desc(b)->hdr.bh1.num_pkts, __ATOMIC_ACQUIRE);
  if (n == 0)
    return {};
  // A copy, not the block itself: the kernel still counts this block as
  // its own and its retire timer may close it at any moment -- writing the
  // last packet's next offset, the last timestamp and the status into it --
  // while the writer's DMA reads it. The copy is ours alone.
  std::memcpy(spare_, b, block_size());
  // Complete the copy as the kernel's prb_close_block would: num_pkts,
  // blk_len and offset_to_first_pkt are kept up to date per packet (and set
  // when the block is opened); closing adds the end of the packet chain,
  // the last packet's time and the status.
  auto& h = desc(spare_)->hdr.bh1;
  const std::size_t size = std::min<std::size_t>(block_size(), h.blk_len);
  std::size_t off = h.offset_to_first_pkt;
  tpacket3_hdr* last = nullptr;
  std::uint32_t kept = 0;
  while (kept < n && off + sizeof(tpacket3_hdr) <= size) {
    auto* p = reinterpret_cast<tpacket3_hdr*>(spare_ + off);
    if (std::size_t{p->tp_mac} + p->tp_snaplen > size - off)
      break; // cannot happen after the grace period; keep what is whole
    last = p;
    ++kept;
    if (p->tp_next_offset == 0)
      break;
    off += p->tp_next_offset;
  }
  h.num_pkts = kept;
  if (last) {
    last->tp_next_offset = 0;
    h.ts_last_pkt.ts_sec = last->tp_sec;
    h.ts_last_pkt.ts_nsec = last->tp_nsec;
  }
  h.block_status = TP_STATUS_USER | TP_STATUS_BLK_TMO; // as retired on its timer
  open_taken_ = true;
  held_[block_count_].store(true, std::memory_order_relaxed);
  lent();
  index = block_count_;
  return {spare_, block_size()};
}

ring_stats ring::read_stats() {
  tpacket_stats_v3 st{};
  socklen_t len = sizeof st;
  if (getsockopt(fd_, SOL_PACKET, PACKET_STATISTICS, &st, &len) != 0)
    return {};
  return {st.tp_packets, st.tp_drops, st.tp_freeze_q_cnt};
}

} // namespace stenotype::io
