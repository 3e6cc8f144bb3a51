#include "index/index_file.hpp"

#include "stenotype/block_format.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <stdexcept>
#include <unistd.h>

#include <linux/if_packet.h>

#include "index/block_indexer.hpp"
#include "index/index_format.hpp"
#include "index/leveldb_index.hpp"
#include "io/layout.hpp"

#include <rocksdb/convenience.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/options.h>
#include <rocksdb/sst_file_reader.h>
#include <rocksdb/sst_file_writer.h>
#include <rocksdb/table.h>

#include "stenotype/error.hpp"

namespace stenotype::index {
namespace {

rocksdb::Options sst_options() {
  rocksdb::Options o;
  // Position lists are varint deltas already; LZ4 takes off most of what
  // zstd did at a fraction of its CPU (the index write is on the capture's
  // core). A reader decompresses whatever each block says it holds.
  const auto supported = rocksdb::GetSupportedCompressions();
  auto has = [&](rocksdb::CompressionType t) {
    return std::find(supported.begin(), supported.end(), t) != supported.end();
  };
  o.compression = has(rocksdb::kLZ4Compression) ? rocksdb::kLZ4Compression
                  : has(rocksdb::kZSTD)         ? rocksdb::kZSTD
                                                : rocksdb::kNoCompression;
  rocksdb::BlockBasedTableOptions t;
  t.block_size = 16 * 1024;
  // A query for a host absent from a file costs one filter probe, no block read.
  t.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  t.whole_key_filtering = true;
  o.table_factory.reset(rocksdb::NewBlockBasedTableFactory(t));
  return o;
}

// RocksDB's status carries no errno: its kind is all there is to go by.
errc code_of(const rocksdb::Status& s) {
  return s.IsNoSpace() ? errc::no_space
         : s.IsCorruption() ? errc::damaged_index
         : s.IsPathNotFound() ? errc::not_found
                              : errc::io_error;
}

[[noreturn]] void fail(const std::string& what, const rocksdb::Status& s) {
  throw failure(code_of(s), what + ": " + s.ToString());
}

std::uint64_t get_be(std::string_view v, std::size_t at, int bytes) {
  std::uint64_t x = 0;
  for (int i = 0; i < bytes; ++i)
    x = x << 8 | static_cast<std::uint8_t>(v[at + static_cast<std::size_t>(i)]);
  return x;
}

std::string_view view(const rocksdb::Slice& s) { return {s.data(), s.size()}; }

} // namespace

void write_index_file(const index_builder& builder, const std::string& path) {
  write_index_entries([&](const entry_fn& put) { builder.for_each_entry(put); }, path);
}

void write_index_entries(const std::function<void(const entry_fn&)>& entries, const std::string& path,
                         table_use use) {
  rocksdb::Options options = sst_options();
  if (use == table_use::transient) {
    options.compression = rocksdb::kNoCompression;
    rocksdb::BlockBasedTableOptions t;
    t.block_size = 16 * 1024;
    options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(t));
  }
  rocksdb::SstFileWriter writer{rocksdb::EnvOptions{}, options};
  if (auto s = writer.Open(path); !s.ok())
    fail("cannot create index " + path, s);
  rocksdb::Status status;
  entries([&](std::string_view k, std::string_view v) {
    if (status.ok())
      status = writer.Put(rocksdb::Slice(k.data(), k.size()), rocksdb::Slice(v.data(), v.size()));
  });
  if (!status.ok())
    fail("cannot write index " + path, status);
  if (auto s = writer.Finish(); !s.ok())
    fail("cannot finish index " + path, s);
  // Index files are as private as packet files (RocksDB creates them 0644).
  // Durability is io::publish's job, which syncs the file through its own fd
  // whatever RocksDB's options.
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0 || ::fchmod(fd, 0600) != 0) {
    if (fd >= 0)
      ::close(fd);
    throw std::runtime_error("cannot set the mode of index " + path);
  }
  ::close(fd);
}

void write_index(const index_builder& builder, const std::string& path, index_format format) {
  if (format == index_format::stenographer)
    write_leveldb_index(builder, path);
  else
    write_index_file(builder, path);
}

std::uint64_t index_and_publish(const std::string& packet_file, index_builder& builder,
                                const std::string& dir, const std::string& name, index_format format) {
  const std::uint64_t damaged = index_packet_file(packet_file, builder);
  write_index(builder, dir + "/" + io::hidden_name(name), format);
  io::publish(dir, io::hidden_name(name), name);
  return damaged;
}

bool decode_positions(std::string_view value, std::vector<std::uint32_t>& out) {
  std::uint64_t slot = 0;
  bool first = true;
  std::size_t i = 0;
  while (i < value.size()) {
    std::uint64_t v = 0;
    int shift = 0;
    for (;;) {
      if (i >= value.size() || shift > 28)
        return false;
      const auto b = static_cast<std::uint8_t>(value[i++]);
      v |= std::uint64_t{b & 0x7fu} << shift;
      shift += 7;
      if (!(b & 0x80))
        break;
    }
    slot = first ? v : slot + v;
    if (!first && v == 0)
      return false; // positions strictly increase
    first = false;
    if ((slot << position_shift) > 0xffffffffull)
      return false;
    out.push_back(static_cast<std::uint32_t>(slot << position_shift));
  }
  return true;
}

// RocksDB treats LevelDB's magic as a legacy format and, in Debian's build,
// can abort on such files (stenographer's indexes): refuse anything but a
// current block-based table up front. The file is opened here first, without
// blocking, and must be a regular file: RocksDB's own open() of a FIFO would
// wait forever. (Replacing the file between here and RocksDB's open needs
// write access to the data directory.)
static void check_magic(const std::string& path, io::links l) {
  const auto format = detect_index_format(io::regular_file{path, l}, path);
  if (format == index_format::stenographer)
    throw failure(errc::damaged_index, "index " + path + " is a stenographer (LevelDB) index, not a native one");
  if (!format)
    throw failure(errc::damaged_index, "index " + path + " is not a stenotype index (bad magic)");
}

std::string summary_problem(const file_summary& s, const std::vector<block_times>& blocks) {
  if (!io::valid_block_size(s.block_size))
    return "impossible block size " + std::to_string(s.block_size);
  // Positions are 32-bit: a packet file holds at most 4 GiB.
  if (std::uint64_t{s.blocks} * s.block_size > (std::uint64_t{1} << 32))
    return std::to_string(s.blocks) + " blocks of " + std::to_string(s.block_size) + " bytes exceed 4 GiB";
  if (blocks.size() != s.blocks)
    return "the block table has " + std::to_string(blocks.size()) + " blocks, the summary "
           + std::to_string(s.blocks);
  // The smallest packet record is its tpacket3_hdr alone.
  const std::uint64_t per_block = s.block_size / sizeof(tpacket3_hdr);
  std::uint64_t sum = 0;
  for (const auto& b : blocks) {
    if (b.packets > per_block || (b.packets > 0 && b.first_ns > b.last_ns))
      return "a block table entry cannot describe a block";
    sum += b.packets;
  }
  if (sum != s.packets)
    return "the block table counts " + std::to_string(sum) + " packets, the summary " + std::to_string(s.packets);
  if (s.packets > 0 && s.first_ns > s.last_ns)
    return "the summary's first packet is later than its last";
  return "";
}

index_reader::index_reader(const std::string& path, bool verify, io::links l) : path_(path) {
  check_magic(path, l);
  rocksdb::Options options = sst_options();
  reader_ = std::make_unique<rocksdb::SstFileReader>(options);
  if (auto s = reader_->Open(path); !s.ok())
    fail("cannot open index " + path, s);
  if (verify)
    if (auto s = reader_->VerifyChecksum(); !s.ok())
      throw failure(errc::damaged_index, "damaged index " + path + ": " + s.ToString());
  rocksdb::ReadOptions ro;
  ro.verify_checksums = true;
  std::unique_ptr<rocksdb::Iterator> it{reader_->NewIterator(ro)};
  it->Seek(rocksdb::Slice(version_key.data(), version_key.size()));
  check(*it);
  if (!it->Valid() || view(it->key()) != version_key || it->value().size() != 4
      || get_be(view(it->value()), 0, 4) != format_version)
    throw std::runtime_error("index " + path + " has no or an unknown format version");
  it->Seek(rocksdb::Slice(block_meta_key.data(), block_meta_key.size()));
  check(*it);
  if (!it->Valid() || view(it->key()) != block_meta_key || it->value().size() % 20 != 0)
    throw std::runtime_error("index " + path + " has no valid block table");
  const auto bv = view(it->value());
  for (std::size_t at = 0; at < bv.size(); at += 20)
    blocks_.push_back({get_be(bv, at, 8), get_be(bv, at + 8, 8),
                       static_cast<std::uint32_t>(get_be(bv, at + 16, 4))});
  it->Seek(rocksdb::Slice(file_meta_key.data(), file_meta_key.size()));
  check(*it);
  if (!it->Valid() || view(it->key()) != file_meta_key || it->value().size() != 32)
    throw std::runtime_error("index " + path + " has no valid file summary");
  const auto fv = view(it->value());
  summary_ = {get_be(fv, 0, 8), get_be(fv, 8, 8), get_be(fv, 16, 8),
              static_cast<std::uint32_t>(get_be(fv, 24, 4)),
              static_cast<std::uint32_t>(get_be(fv, 28, 4))};
  if (const auto why = summary_problem(summary_, blocks_); !why.empty())
    throw std::runtime_error("damaged index " + path + ": " + why);
}

index_reader::~index_reader() = default;
index_reader::index_reader(index_reader&&) noexcept = default;

std::vector<std::uint32_t> index_reader::lookup(std::string_view key) const {
  std::vector<std::uint32_t> out;
  rocksdb::ReadOptions ro;
  ro.verify_checksums = true;
  std::unique_ptr<rocksdb::Iterator> it{reader_->NewIterator(ro)};
  it->Seek(rocksdb::Slice(key.data(), key.size()));
  if (it->Valid() && view(it->key()) == key && !decode_positions(view(it->value()), out))
    throw std::runtime_error("index " + path_ + ": malformed positions");
  check(*it);
  return out;
}

std::vector<std::uint32_t> index_reader::lookup_range(std::string_view from,
                                                      std::string_view to) const {
  std::vector<std::uint32_t> out;
  rocksdb::ReadOptions ro;
  ro.verify_checksums = true;
  std::unique_ptr<rocksdb::Iterator> it{reader_->NewIterator(ro)};
  for (it->Seek(rocksdb::Slice(from.data(), from.size())); it->Valid() && view(it->key()) <= to;
       it->Next())
    if (!decode_positions(view(it->value()), out))
      throw std::runtime_error("index " + path_ + ": malformed positions");
  check(*it);
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

void index_reader::for_each_entry(
  const std::function<void(std::string_view, std::string_view)>& fn) const {
  rocksdb::ReadOptions ro;
  ro.verify_checksums = true;
  std::unique_ptr<rocksdb::Iterator> it{reader_->NewIterator(ro)};
  for (it->SeekToFirst(); it->Valid(); it->Next())
    fn(view(it->key()), view(it->value()));
  check(*it);
}

void index_reader::check(const rocksdb::Iterator& it) const {
  // A block whose checksum does not match ends the iteration with an error
  // status (ReadOptions::verify_checksums): never silently fewer results.
  if (!it.status().ok())
    throw failure(errc::damaged_index, "damaged index " + path_ + ": " + it.status().ToString());
}

} // namespace stenotype::index
