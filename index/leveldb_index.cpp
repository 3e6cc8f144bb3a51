#include "index/leveldb_index.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <stdexcept>
#include <sys/stat.h>
#include <unistd.h>

#include <leveldb/env.h>
#include <leveldb/iterator.h>
#include <leveldb/options.h>
#include <leveldb/table.h>
#include <leveldb/table_builder.h>

#include "index/index_builder.hpp"
#include "index/index_file.hpp"
#include "index/keys.hpp"
#include "io/regular_file.hpp"
#include "stenotype/error.hpp"

namespace stenotype::index {
namespace {

constexpr std::string_view version_record_key{"\0", 1};

// LevelDB's status carries no errno; `err` is the one our file saw, if any.
[[noreturn]] void fail(const std::string& what, const leveldb::Status& s, int err = 0) {
  const errc code = err ? errc_from_errno(err) : s.IsCorruption() ? errc::damaged_index : errc::io_error;
  throw failure(code, what + ": " + s.ToString());
}

[[noreturn]] void fail_errno(const std::string& what) {
  throw failure(errc_from_errno(errno), what + ": " + std::strerror(errno));
}

[[noreturn]] void damaged(const std::string& what) { throw failure(errc::damaged_index, what); }

std::string_view view(const leveldb::Slice& s) { return {s.data(), s.size()}; }
leveldb::Slice slice(std::string_view s) { return {s.data(), s.size()}; }

std::uint32_t get_u32_be(const char* p) {
  const auto* u = reinterpret_cast<const unsigned char*>(p);
  return std::uint32_t{u[0]} << 24 | std::uint32_t{u[1]} << 16 | std::uint32_t{u[2]} << 8 | u[3];
}

void put_u32_be(std::string& out, std::uint32_t v) {
  const char be[4] = {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8),
                      static_cast<char>(v)};
  out.append(be, 4);
}

// The table is appended to our own descriptor: mode 0600 and a real fsync,
// which leveldb::Env's files (0644, no sync unless asked) do not give.
class append_only_file final : public leveldb::WritableFile {
public:
  explicit append_only_file(const std::string& path)
      : fd_(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) {
    if (fd_ < 0)
      fail_errno("cannot create index " + path);
    if (::fchmod(fd_, 0600) != 0) { // O_CREAT's mode does not apply to an existing file
      const int err = errno;
      ::close(fd_);
      errno = err;
      fail_errno("cannot create index " + path);
    }
  }
  ~append_only_file() override {
    if (fd_ >= 0)
      ::close(fd_);
  }
  leveldb::Status Append(const leveldb::Slice& data) override {
    const char* p = data.data();
    std::size_t left = data.size();
    while (left > 0) {
      const ssize_t n = ::write(fd_, p, left);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        return error("write", n < 0 ? errno : EIO);
      p += n;
      left -= static_cast<std::size_t>(n);
    }
    return {};
  }
  leveldb::Status Flush() override { return {}; } // nothing buffered here
  leveldb::Status Sync() override { return ::fsync(fd_) == 0 ? leveldb::Status{} : error("fsync", errno); }
  leveldb::Status Close() override {
    const int fd = fd_;
    fd_ = -1;
    return ::close(fd) == 0 ? leveldb::Status{} : error("close", errno);
  }
  /// The errno of the last failed call (0: none), for the error's code.
  int last_errno() const { return errno_; }

private:
  leveldb::Status error(const char* call, int err) {
    errno_ = err;
    return leveldb::Status::IOError(call, std::strerror(err));
  }

  int fd_;
  int errno_ = 0;
};

// Reads with pread: no mmap (a file shortened under a mapping is a SIGBUS),
// and a read past the end is a short read that LevelDB reports as corruption.
// Opened as io::regular_file: a FIFO under an index's name never blocks.
class pread_file final : public leveldb::RandomAccessFile {
public:
  pread_file(const std::string& path, io::links l) : file_(path, l) {}
  std::uint64_t size() const { return file_.size(); }
  leveldb::Status Read(std::uint64_t offset, std::size_t n, leveldb::Slice* result,
                       char* scratch) const override {
    std::size_t got = 0;
    while (got < n) {
      const ssize_t r = ::pread(file_.fd(), scratch + got, n - got, static_cast<off_t>(offset + got));
      if (r < 0 && errno == EINTR)
        continue;
      if (r < 0) {
        *result = leveldb::Slice(scratch, 0);
        return leveldb::Status::IOError("pread", std::strerror(errno));
      }
      if (r == 0)
        break; // end of file
      got += static_cast<std::size_t>(r);
    }
    *result = leveldb::Slice(scratch, got);
    return {};
  }

private:
  io::regular_file file_;
};

// The footer (48 bytes: two block handles as varints, padding, magic) has no
// checksum, and LevelDB allocates a block's stated size before reading it: a
// damaged handle could ask for exabytes, and LevelDB is built without
// exceptions. So the handles are checked against the file size first; the
// blocks they point to are checksummed.
constexpr std::size_t footer_size = 48;
constexpr std::size_t block_trailer_size = 5; // type byte + crc32c

bool get_varint64(const std::uint8_t*& p, const std::uint8_t* end, std::uint64_t& v) {
  v = 0;
  for (unsigned shift = 0; shift <= 63 && p < end; shift += 7) {
    const std::uint8_t b = *p++;
    v |= std::uint64_t{b & 0x7fu} << shift;
    if (!(b & 0x80))
      return true;
  }
  return false;
}

bool footer_handles_fit(const pread_file& file) {
  if (file.size() < footer_size)
    return false;
  std::uint8_t footer[footer_size];
  leveldb::Slice got;
  if (!file.Read(file.size() - footer_size, footer_size, &got, reinterpret_cast<char*>(footer)).ok()
      || got.size() != footer_size)
    return false;
  const std::uint64_t limit = file.size() - footer_size;
  const std::uint8_t* p = footer;
  const std::uint8_t* end = footer + footer_size - 8; // the magic is not part of the handles
  for (int handle = 0; handle < 2; ++handle) {
    std::uint64_t offset, size;
    if (!get_varint64(p, end, offset) || !get_varint64(p, end, size))
      return false;
    if (offset > limit || size > limit - offset || limit - offset - size < block_trailer_size)
      return false;
  }
  return true;
}

leveldb::Options table_options() {
  leveldb::Options o; // every other option at LevelDB's default, as Google's stenotype leaves them
  o.compression = leveldb::kNoCompression;
  o.paranoid_checks = true; // reading: verify the index block's checksum at open
  return o;
}

leveldb::ReadOptions checked_reads() {
  leveldb::ReadOptions ro;
  ro.verify_checksums = true;
  ro.fill_cache = false;
  return ro;
}

} // namespace

// --- writer ---------------------------------------------------------------

struct leveldb_index_writer::state {
  std::string path;
  append_only_file file;
  leveldb::Options options = table_options();
  leveldb::TableBuilder table{options, &file};
  std::string last_key{version_record_key}; // the constructor writes it first
  std::string value;
  bool finished = false;

  explicit state(const std::string& p) : path(p), file(p) {}
  ~state() {
    if (!finished)
      table.Abandon();
  }
  void check(const char* what) const {
    if (!table.status().ok())
      fail(std::string(what) + " " + path, table.status(), file.last_errno());
  }
};

leveldb_index_writer::leveldb_index_writer(const std::string& path) : s_(std::make_unique<state>(path)) {
  std::string version;
  put_u32_be(version, stenographer_format_major);
  put_u32_be(version, stenographer_format_minor);
  s_->table.Add(slice(version_record_key), version);
  s_->check("cannot write index");
}

leveldb_index_writer::~leveldb_index_writer() = default;

void leveldb_index_writer::add(std::string_view key, std::span<const std::uint32_t> positions) {
  state& s = *s_;
  if (s.finished)
    throw std::logic_error("index " + s.path + ": add() after finish()");
  if (key.empty() || key[0] == 0)
    throw std::invalid_argument("index " + s.path + ": type-0 keys are reserved for the version record");
  if (key <= std::string_view(s.last_key))
    throw std::invalid_argument("index " + s.path + ": keys out of order");
  if (positions.empty())
    throw std::invalid_argument("index " + s.path + ": a key without positions");
  s.value.clear();
  for (std::size_t i = 0; i < positions.size(); ++i) {
    if (i > 0 && positions[i] <= positions[i - 1])
      throw std::invalid_argument("index " + s.path + ": positions not strictly ascending");
    put_u32_be(s.value, positions[i]);
  }
  s.table.Add(slice(key), s.value);
  s.last_key.assign(key);
  s.check("cannot write index");
}

void leveldb_index_writer::finish() {
  state& s = *s_;
  if (s.finished)
    throw std::logic_error("index " + s.path + ": finish() twice");
  s.finished = true; // Finish() or Abandon(), never both
  if (auto st = s.table.Finish(); !st.ok())
    fail("cannot finish index " + s.path, st, s.file.last_errno());
  if (auto st = s.file.Sync(); !st.ok())
    fail("cannot sync index " + s.path, st, s.file.last_errno());
  if (auto st = s.file.Close(); !st.ok())
    fail("cannot close index " + s.path, st, s.file.last_errno());
}

void write_leveldb_index(const index_builder& builder, const std::string& path) {
  leveldb_index_writer writer{path};
  std::vector<std::uint32_t> positions;
  builder.for_each_entry([&](std::string_view key, std::string_view value) {
    if (key.empty() || key[0] == static_cast<char>(key_type::meta))
      return; // our own metadata: no such records in stenographer's format
    positions.clear();
    if (!decode_positions(value, positions))
      throw std::logic_error("index " + path + ": the builder produced malformed positions");
    writer.add(key, positions);
  });
  writer.finish();
}

bool decode_leveldb_positions(std::string_view value, std::vector<std::uint32_t>& out) {
  if (value.size() % 4 != 0)
    return false;
  const std::size_t first = out.size();
  for (std::size_t at = 0; at < value.size(); at += 4) {
    const std::uint32_t pos = get_u32_be(value.data() + at);
    if (out.size() > first && pos <= out.back())
      return false;
    out.push_back(pos);
  }
  return true;
}

// --- reader ---------------------------------------------------------------

struct leveldb_index_reader::state {
  std::string path;
  pread_file file;
  leveldb::Options options = table_options();
  std::unique_ptr<leveldb::Table> table;

  state(const std::string& p, io::links l) : path(p), file(p, l) {}

  std::unique_ptr<leveldb::Iterator> iterator() const {
    return std::unique_ptr<leveldb::Iterator>(table->NewIterator(checked_reads()));
  }
  // A block whose checksum does not match ends the iteration with an error
  // status: never silently fewer results.
  void check(const leveldb::Iterator& it) const {
    if (!it.status().ok())
      damaged("damaged index " + path + ": " + it.status().ToString());
  }
  [[noreturn]] void malformed(std::string_view key) const {
    damaged("damaged index " + path + ": malformed positions of key of type "
            + std::to_string(key.empty() ? -1 : static_cast<unsigned char>(key[0])));
  }
};

leveldb_index_reader::leveldb_index_reader(const std::string& path, bool verify, io::links l)
    : s_(std::make_unique<state>(path, l)) {
  state& s = *s_;
  if (!footer_handles_fit(s.file))
    damaged("index " + path + " is not a LevelDB table (bad footer)");
  leveldb::Table* table = nullptr;
  if (auto st = leveldb::Table::Open(s.options, &s.file, s.file.size(), &table); !st.ok())
    fail("cannot open index " + path, st);
  s.table.reset(table);

  auto it = s.iterator();
  it->Seek(slice(version_record_key));
  s.check(*it);
  if (!it->Valid() || view(it->key()) != version_record_key || it->value().size() != 8)
    damaged("index " + path + " has no stenographer version record");
  if (const auto major = get_u32_be(it->value().data()); major != stenographer_format_major)
    damaged("index " + path + " has format version " + std::to_string(major) + ", not "
            + std::to_string(stenographer_format_major));
  minor_ = get_u32_be(it->value().data() + 4);
  if (!verify)
    return;
  // Every block once (checksums), every key in order, every value well formed.
  std::string last{version_record_key};
  std::vector<std::uint32_t> scratch;
  for (it->Next(); it->Valid(); it->Next()) {
    const auto key = view(it->key());
    if (key <= std::string_view(last))
      damaged("damaged index " + path + ": keys out of order");
    scratch.clear();
    if (key[0] == 0 || !decode_leveldb_positions(view(it->value()), scratch) || scratch.empty())
      s.malformed(key);
    last.assign(key);
  }
  s.check(*it);
}

leveldb_index_reader::~leveldb_index_reader() = default;
leveldb_index_reader::leveldb_index_reader(leveldb_index_reader&&) noexcept = default;
leveldb_index_reader& leveldb_index_reader::operator=(leveldb_index_reader&&) noexcept = default;

std::vector<std::uint32_t> leveldb_index_reader::lookup(std::string_view key) const {
  std::vector<std::uint32_t> out;
  auto it = s_->iterator();
  it->Seek(slice(key));
  s_->check(*it);
  if (it->Valid() && view(it->key()) == key && !decode_leveldb_positions(view(it->value()), out))
    s_->malformed(key);
  return out;
}

std::vector<std::uint32_t> leveldb_index_reader::lookup_range(std::string_view from,
                                                              std::string_view to) const {
  std::vector<std::uint32_t> out;
  auto it = s_->iterator();
  for (it->Seek(slice(from)); it->Valid() && view(it->key()) <= to; it->Next())
    if (!decode_leveldb_positions(view(it->value()), out))
      s_->malformed(view(it->key()));
  s_->check(*it);
  // Each key's list is ascending; their union is not.
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

void leveldb_index_reader::for_each_entry(
  const std::function<void(std::string_view, std::string_view)>& fn) const {
  auto it = s_->iterator();
  for (it->SeekToFirst(); it->Valid(); it->Next())
    fn(view(it->key()), view(it->value()));
  s_->check(*it);
}

} // namespace stenotype::index
