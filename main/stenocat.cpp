// main/stenocat.cpp -- packet files to pcap on stdout (or -w FILE).
//
//   stenocat DIR/PKT0/1700000000000000 ... | tcpdump -nr -
//
// Reads our files and Google stenotype's alike. Damaged blocks are skipped
// with a warning; exit 1 if any file could not be read at all.
#include <CLI/CLI.hpp>
#include <cstdio>

#include "io/packet_file_reader.hpp"
#include "io/pcap_writer.hpp"
#include "main/numeric_flags.hpp"
#include "main/parse_command_line.hpp"

using namespace stenotype::io;

int main(int argc, char** argv) {
  std::vector<std::string> files;
  std::string out_path = "-", format = "pcap";
  std::uint32_t block_kb = 0;
  CLI::App app{"stenocat - write stenotype packet files as pcap", "stenocat"};
  app.add_option("files", files, "Packet files (DIR/PKT<n>/<micros>)")->required();
  app.add_option("-w", out_path, "Output file, '-' for stdout")->capture_default_str();
  app.add_option("--format", format, "pcap (nanosecond) or pcap-us (microsecond)")
    ->check(CLI::IsMember({"pcap", "pcap-us"}))->capture_default_str();
  stenotype::add_number(app, "--blocksize_kb", block_kb, "Block size of the files (0: detect)",
                        0u, stenotype::max_blocksize_kb);
  const auto check = [&]() -> std::string {
    return block_kb % 4 == 0 ? "" : "--blocksize_kb must be a multiple of 4 (or 0: detect)";
  };
  if (const int rc = stenotype::parse_command_line(app, argc, argv, "stenocat", check); rc >= 0)
    return rc;
  std::FILE* out = out_path == "-" ? stdout : std::fopen(out_path.c_str(), "wb");
  if (!out) {
    std::fprintf(stderr, "stenocat: error: cannot write %s\n", out_path.c_str());
    return 1;
  }
  pcap_writer writer{out, format == "pcap" ? pcap_precision::nano : pcap_precision::micro};
  int rc = 0;
  for (const auto& f : files) {
    try {
      packet_file_reader reader{f, std::size_t{block_kb} * 1024};
      reader.for_each_packet([&](const packet_ref& p, std::uint64_t) {
        if (!writer.write(p))
          throw std::runtime_error("write error on output");
      });
      if (reader.damaged_blocks())
        std::fprintf(stderr, "stenocat: warning: %s: %llu damaged block(s) skipped\n", f.c_str(),
                     static_cast<unsigned long long>(reader.damaged_blocks()));
    } catch (const std::exception& e) {
      std::fprintf(stderr, "stenocat: error: %s\n", e.what());
      rc = 1;
    }
  }
  if (!writer.flush() || (out != stdout && std::fclose(out) != 0)) {
    std::fprintf(stderr, "stenocat: error: cannot write %s\n", out_path.c_str());
    return 1;
  }
  return rc;
}
