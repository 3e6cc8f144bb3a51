// main/stenoimport.cpp -- pcap/pcapng files into indexed packet files.
//
//   stenoimport --dir=/data old-capture.pcap more.pcapng
//   stenoread --dir=/data 'host 10.1.2.3'
#include <CLI/CLI.hpp>
#include <cstdio>

#include "main/numeric_flags.hpp"
#include "store/pcap_import.hpp"
#include "main/parse_command_line.hpp"

int main(int argc, char** argv) {
  stenotype::store::import_options opts;
  std::vector<std::string> files;
  std::uint32_t block_kb = 1024, filesize_mb = 4096, fileage_sec = 60;
  bool no_index = false;
  CLI::App app{"stenoimport - turn pcap/pcapng captures (Ethernet) into stenotype's indexed packet files",
               "stenoimport"};
  app.add_option("--dir", opts.dir, "Data directory (as stenotype --dir)")->required();
  app.add_option("files", files, "Captures to import, in time order")->required();
  stenotype::add_number(app, "--thread", opts.thread, "Write DIR/PKT<n> and DIR/IDX<n>", 0, 9999);
  stenotype::add_number(app, "--blocksize_kb", block_kb, "Block size in KiB (multiple of 4)", 4u, 65536u);
  stenotype::add_number(app, "--filesize_mb", filesize_mb, "Rotate files at this size", 2u, 4096u);
  stenotype::add_number(app, "--fileage_sec", fileage_sec, "Rotate files spanning this much packet time", 1u,
                        86400u * 365);
  app.add_flag("--no_index", no_index, "Write no indexes");
  const auto check = [&]() -> std::string {
    if (block_kb % 4 != 0)
      return "--blocksize_kb must be a multiple of 4";
    return "";
  };
  if (const int rc = stenotype::parse_command_line(app, argc, argv, "stenoimport", check); rc >= 0)
    return rc;
  opts.block_size = block_kb * 1024;
  opts.max_file_bytes = std::uint64_t{filesize_mb} << 20;
  opts.max_file_age_ns = std::uint64_t{fileage_sec} * 1000000000u;
  opts.index = !no_index;
  bool warned = false;
  try {
    const auto stats = stenotype::store::import_pcaps(files, opts, [&](const std::string& w) {
      warned = true;
      std::fprintf(stderr, "stenoimport: warning: %s\n", w.c_str());
    });
    std::fprintf(stderr, "stenoimport: %llu packets into %llu file(s)%s\n",
                 static_cast<unsigned long long>(stats.packets), static_cast<unsigned long long>(stats.files),
                 stats.truncated ? " (some frames cut to the block size)" : "");
  } catch (const std::exception& e) {
    std::fprintf(stderr, "stenoimport: error: %s\n", e.what());
    return 1;
  }
  return warned ? 1 : 0;
}
