#include "support/damage.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fcntl.h>
#include <stdexcept>
#include <sys/stat.h>
#include <unistd.h>

#include "index/index_file.hpp"
#include "index/keys.hpp"
#include "io/pcap_writer.hpp"
#include "support/netns.hpp"

namespace stenotype::test {
namespace {

constexpr std::uint64_t t0_sec = 1795773600; // 2026-11-27T10:00:00Z

void must(bool ok, const std::string& what) {
  if (!ok)
    throw std::runtime_error("damage: " + what);
}

void write_pcap(const std::string& path, const std::vector<frame_bytes>& frames, int thread, int threads,
                unsigned gap_ms) {
  std::FILE* f = std::fopen(path.c_str(), "wb");
  must(f != nullptr, "cannot write " + path);
  io::pcap_writer w{f};
  for (std::size_t i = static_cast<std::size_t>(thread); i < frames.size(); i += static_cast<std::size_t>(threads)) {
    const std::uint64_t ns = t0_sec * 1000000000ull + i * gap_ms * 1000000ull;
    const auto len = static_cast<std::uint32_t>(frames[i].size());
    w.write({0, static_cast<std::uint32_t>(ns / 1000000000u), static_cast<std::uint32_t>(ns % 1000000000u), len,
             len, 0, 0, 0, frames[i].data()});
  }
  must(w.flush() && std::fclose(f) == 0, "cannot write " + path);
}

std::string shell_quote(const std::string& s) { return "'" + s + "'"; }

} // namespace

data_set import_data_set(const std::string& stenoimport, const std::string& dir,
                         const std::vector<frame_bytes>& frames, std::size_t block_kb, int threads,
                         unsigned gap_ms, unsigned fileage_sec) {
  for (int t = 0; t < threads; ++t) {
    const std::string pcap = dir + ".t" + std::to_string(t) + ".pcap";
    write_pcap(pcap, frames, t, threads, gap_ms);
    std::string err;
    const int rc = run_process({stenoimport, "--dir=" + dir, "--thread=" + std::to_string(t),
                                "--blocksize_kb=" + std::to_string(block_kb),
                                "--fileage_sec=" + std::to_string(fileage_sec), pcap},
                               60, &err);
    ::unlink(pcap.c_str());
    must(rc == 0, "stenoimport failed (" + std::to_string(rc) + "): " + err);
  }
  data_set d{dir, block_kb * 1024, read_capture_dir(dir, block_kb * 1024)};
  must(d.intact.problems.empty() && d.intact.packets.size() == frames.size(), "the imported data set is not intact");
  return d;
}

data_set copy_data_set(const data_set& d, const std::string& dir) {
  must(std::system(("cp -a " + shell_quote(d.dir) + " " + shell_quote(dir)).c_str()) == 0, "cp -a failed");
  data_set c = d;
  c.dir = dir;
  return c;
}

std::string path_of(const data_set& d, const std::string& file) { return d.dir + "/" + file; }

std::string index_of(const data_set& d, const std::string& file) {
  return d.dir + "/IDX" + file.substr(3);
}

loss cut_to(const data_set& d, const std::string& file, std::uint64_t bytes) {
  must(::truncate(path_of(d, file).c_str(), static_cast<off_t>(bytes)) == 0, "truncate " + file);
  // A partial last block is not read: its packets are gone too.
  return {file, bytes / d.block_size * d.block_size, UINT64_MAX};
}

loss replace_with_directory(const data_set& d, const std::string& file) {
  const std::string p = path_of(d, file);
  must(::unlink(p.c_str()) == 0 && ::mkdir(p.c_str(), 0755) == 0, "directory for " + file);
  return {file, 0, UINT64_MAX};
}

loss replace_with_fifo(const data_set& d, const std::string& file) {
  const std::string p = path_of(d, file);
  must(::unlink(p.c_str()) == 0 && ::mkfifo(p.c_str(), 0644) == 0, "FIFO for " + file);
  return {file, 0, UINT64_MAX};
}

loss replace_with_symlink(const data_set& d, const std::string& file, const std::string& target) {
  const std::string p = path_of(d, file);
  must(::unlink(p.c_str()) == 0 && ::symlink(target.c_str(), p.c_str()) == 0, "symlink for " + file);
  return {file, 0, UINT64_MAX};
}

loss flip_bytes(const data_set& d, const std::string& file, std::uint64_t offset, std::size_t n) {
  const int fd = ::open(path_of(d, file).c_str(), O_RDWR | O_CLOEXEC);
  must(fd >= 0, "open " + file);
  std::vector<std::uint8_t> buf(n);
  bool ok = ::pread(fd, buf.data(), n, static_cast<off_t>(offset)) == static_cast<ssize_t>(n);
  for (auto& b : buf)
    b ^= 0xff;
  ok = ok && ::pwrite(fd, buf.data(), n, static_cast<off_t>(offset)) == static_cast<ssize_t>(n);
  ::close(fd);
  must(ok, "flip bytes of " + file);
  const std::uint64_t block = offset / d.block_size * d.block_size;
  return {file, block, block + d.block_size};
}

void poke_u32(const data_set& d, const std::string& file, std::uint64_t offset, std::uint32_t value) {
  const int fd = ::open(path_of(d, file).c_str(), O_RDWR | O_CLOEXEC);
  const bool ok = fd >= 0 && ::pwrite(fd, &value, 4, static_cast<off_t>(offset)) == 4;
  if (fd >= 0)
    ::close(fd);
  must(ok, "poke " + file);
}

void append_bytes(const data_set& d, const std::string& file, std::size_t n, std::uint8_t fill) {
  const int fd = ::open(path_of(d, file).c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
  const std::vector<std::uint8_t> buf(n, fill);
  const bool ok = fd >= 0 && ::write(fd, buf.data(), n) == static_cast<ssize_t>(n);
  if (fd >= 0)
    ::close(fd);
  must(ok, "append to " + file);
}

void rewrite_summary(const data_set& d, const std::string& file,
                     const std::function<void(index::file_summary&, std::vector<index::block_times>&)>& edit) {
  const std::string idx = index_of(d, file), tmp = idx + ".new";
  std::vector<std::pair<std::string, std::string>> entries;
  index::file_summary s;
  std::vector<index::block_times> blocks;
  {
    const index::index_reader r{idx};
    s = r.summary();
    blocks = r.blocks();
    r.for_each_entry([&](std::string_view k, std::string_view v) { entries.emplace_back(k, v); });
  }
  edit(s, blocks);
  for (auto& [k, v] : entries)
    if (k == index::file_meta_key)
      v = summary_value(s);
    else if (k == index::block_meta_key)
      v = block_table_value(blocks);
  index::write_index_entries(
    [&](const index::entry_fn& put) {
      for (const auto& [k, v] : entries)
        put(k, v);
    },
    tmp);
  must(std::rename(tmp.c_str(), idx.c_str()) == 0, "rename " + tmp);
}

std::vector<const captured_packet*> surviving(const data_set& d, const std::vector<loss>& losses) {
  std::vector<const captured_packet*> out;
  for (const auto& p : d.intact.packets) {
    const std::string file = "PKT" + std::to_string(p.thread) + "/" + p.file;
    const bool lost = std::any_of(losses.begin(), losses.end(), [&](const loss& l) {
      return l.file == file && p.offset >= l.from && p.offset < l.to;
    });
    if (!lost)
      out.push_back(&p);
  }
  std::stable_sort(out.begin(), out.end(), [](const captured_packet* a, const captured_packet* b) {
    return std::uint64_t{a->sec} * 1000000000u + a->nsec < std::uint64_t{b->sec} * 1000000000u + b->nsec;
  });
  return out;
}

} // namespace stenotype::test
