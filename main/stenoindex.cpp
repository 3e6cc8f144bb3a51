// main/stenoindex.cpp -- (re)build the index of packet files, or show one.
//
//   stenoindex DIR/PKT0/1700000000000000 ...   writes DIR/IDX0/1700000000000000
//   stenoindex --dump DIR/IDX0/1700000000000000
//
// Uses the same code as the capture's indexer, so a rebuilt index equals the
// one written during capture. The new index is written hidden and published
// (io::publish: synced, renamed, directory synced), in --index_format, else
// in the format of the index it replaces, else native. --dump reads either
// format (Google stenographer's LevelDB indexes too), and the partial
// indexes of a file still being written (DIR/IDX<n>/.<micros>.part-<a>-<b>),
// each a native index. The files a capture is still writing, and their
// companions, are not indexed here: the capture does that.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <optional>

#include "index/block_indexer.hpp"
#include "index/file_index.hpp"
#include "index/index_format.hpp"
#include "index/index_file.hpp"
#include "index/key_format.hpp"
#include "io/directory_lock.hpp"
#include "io/layout.hpp"
#include "main/numeric_flags.hpp"
#include "main/parse_command_line.hpp"

using namespace stenotype::index;

namespace {

std::string base_name(const std::string& path) {
  const auto slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

int dump(const std::string& path) {
  const file_index r{path};
  std::printf("format: %s\n", to_string(r.format()));
  if (const auto c = stenotype::io::parse_companion_name(base_name(path));
      c && c->k == stenotype::io::companion_name::kind::part)
    std::printf("partial index of the open file %llu: blocks %u-%u\n", static_cast<unsigned long long>(c->id),
                c->first_block, c->end_block);
  if (const auto* s = r.summary())
    std::printf("file: packets=%llu first_ns=%llu last_ns=%llu blocks=%u block_size=%u\n",
                static_cast<unsigned long long>(s->packets), static_cast<unsigned long long>(s->first_ns),
                static_cast<unsigned long long>(s->last_ns), s->blocks, s->block_size);
  r.for_each_key([](std::string_view key, const std::vector<std::uint32_t>& positions) {
    std::printf("%s: %zu packets\n", describe_key(key).c_str(), positions.size());
  });
  return 0;
}

void rebuild(const std::string& packet_file, std::string out, std::uint32_t block_size, bool force,
             std::optional<index_format> format) {
  const std::string input = base_name(packet_file);
  if (stenotype::io::parse_companion_name(input))
    throw std::runtime_error(packet_file + " belongs to a packet file still being written (fresh queries), "
                             "not a packet file; nothing to index");
  if (stenotype::io::parse_hidden_name(input) && out.empty())
    throw std::runtime_error(packet_file + " is still being written (or was left by a crash: the capture's "
                             "next start recovers it); give --output to index it anyway");
  if (out.empty())
    out = stenotype::io::index_path_for(packet_file);
  if (out.empty())
    throw std::runtime_error(packet_file + " is not in a PKT<n> folder; give --output");
  const bool replacing = stenotype::io::exists(out);
  if (!force && replacing)
    throw std::runtime_error(out + " exists; use --force to replace it");
  if (!format && replacing) {
    try {
      format = detect_index_format(out);
    } catch (const std::exception&) {
    } // unreadable: replaced by a native one
  }
  const auto slash = out.rfind('/');
  const std::string dir = slash == std::string::npos ? "." : slash == 0 ? "/" : out.substr(0, slash);
  const std::string name = slash == std::string::npos ? out : out.substr(slash + 1);
  stenotype::io::make_directories(dir);
  const stenotype::io::directory_lock lock{dir}; // not into a folder a capture writes
  index_builder builder{block_size};
  const auto damaged = index_and_publish(packet_file, builder, dir, name, format.value_or(index_format::native));
  if (damaged)
    std::fprintf(stderr, "stenoindex: warning: %s: %llu damaged block(s) skipped\n",
                 packet_file.c_str(), static_cast<unsigned long long>(damaged));
  std::fprintf(stderr, "stenoindex: %s: %llu packets, %zu keys -> %s (%s)\n", packet_file.c_str(),
               static_cast<unsigned long long>(builder.summary().packets), builder.keys(), out.c_str(),
               to_string(format.value_or(index_format::native)));
}

} // namespace

int main(int argc, char** argv) {
  std::vector<std::string> files;
  std::string output;
  bool force = false, show = false;
  std::string format_text;
  std::uint32_t block_kb = 1024;
  CLI::App app{"stenoindex - build the index of stenotype packet files, or show an index", "stenoindex"};
  app.add_option("files", files, "Packet files (DIR/PKT<n>/<micros>), or index files with --dump")->required();
  app.add_option("--output,-o", output, "Index file to write (default: DIR/IDX<n>/<micros>); one input only");
  stenotype::add_number(app, "--blocksize_kb", block_kb, "Block size of the packet files in KiB", 4u,
                        stenotype::max_blocksize_kb);
  app.add_flag("--force", force, "Replace an existing index");
  app.add_option("--index_format", format_text,
                 "native or stenographer (Google's LevelDB tables); default: the replaced index's, else native")
    ->check(CLI::IsMember({"native", "stenographer"}));
  app.add_flag("--dump", show, "Print an index file's format, summary and keys (either format)");
  const auto check = [&]() -> std::string {
    if (!output.empty() && files.size() != 1)
      return "--output takes exactly one packet file";
    if (block_kb % 4 != 0)
      return "--blocksize_kb must be a multiple of 4";
    return "";
  };
  if (const int rc = stenotype::parse_command_line(app, argc, argv, "stenoindex", check); rc >= 0)
    return rc;
  int rc = 0;
  for (const auto& f : files) {
    try {
      if (show)
        dump(f);
      else
        rebuild(f, output, block_kb * 1024, force, parse_index_format(format_text));
    } catch (const std::exception& e) {
      std::fprintf(stderr, "stenoindex: error: %s\n", e.what());
      rc = 1;
    }
  }
  return rc;
}
