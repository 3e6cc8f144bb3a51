#include "index/file_index.hpp"

#include "index/index_format.hpp"
#include "stenotype/error.hpp"

namespace stenotype::index {
namespace {

std::variant<index_reader, leveldb_index_reader, part_set> open_index(const std::string& path, bool verify, io::links l) {
  const auto format = detect_index_format(path, l);
  if (!format)
    throw failure(errc::damaged_index, "index " + path + " is neither a stenotype nor a stenographer index (bad magic)");
  if (*format == index_format::stenographer)
    return leveldb_index_reader{path, verify, l};
  return index_reader{path, verify, l};
}

} // namespace

file_index::file_index(const std::string& path, bool verify, io::links l)
    : path_(path), reader_(open_index(path, verify, l)) {}

file_index::file_index(part_set parts) : path_("partial indexes"), reader_(std::move(parts)) {}

index_format file_index::format() const {
  return std::holds_alternative<leveldb_index_reader>(reader_) ? index_format::stenographer : index_format::native;
}

const file_summary* file_index::summary() const {
  if (const auto* parts = std::get_if<part_set>(&reader_))
    return &parts->summary();
  const auto* native = std::get_if<index_reader>(&reader_);
  return native ? &native->summary() : nullptr;
}

const std::vector<block_times>* file_index::blocks() const {
  if (const auto* parts = std::get_if<part_set>(&reader_))
    return &parts->blocks();
  const auto* native = std::get_if<index_reader>(&reader_);
  return native ? &native->blocks() : nullptr;
}

// (part_set has the same lookup interface, so std::visit serves all three.)
std::vector<std::uint32_t> file_index::lookup(std::string_view key) const {
  return std::visit([&](const auto& r) { return r.lookup(key); }, reader_);
}

std::vector<std::uint32_t> file_index::lookup_range(std::string_view from, std::string_view to) const {
  return std::visit([&](const auto& r) { return r.lookup_range(from, to); }, reader_);
}

void file_index::for_each_key(
  const std::function<void(std::string_view, const std::vector<std::uint32_t>&)>& fn) const {
  if (const auto* parts = std::get_if<part_set>(&reader_)) {
    parts->for_each_key(fn);
    return;
  }
  const bool leveldb = format() == index_format::stenographer;
  std::vector<std::uint32_t> positions;
  const auto each = [&](const auto& r) {
    r.for_each_entry([&](std::string_view key, std::string_view value) {
      if (key.empty() || key[0] == 0)
        return;
      positions.clear();
      if (!(leveldb ? decode_leveldb_positions(value, positions) : decode_positions(value, positions)))
        throw failure(errc::damaged_index, "damaged index " + path_ + ": malformed positions");
      fn(key, positions);
    });
  };
  if (const auto* native = std::get_if<index_reader>(&reader_))
    each(*native);
  else
    each(std::get<leveldb_index_reader>(reader_));
}

} // namespace stenotype::index
