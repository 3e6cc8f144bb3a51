// main/stenocat.cpp -- packet files to pcap on stdout (or -w FILE).
//
//   stenocat DIR/PKT0/1700000000000000 ... | tcpdump -nr -
//
// Reads our files and Google stenotype's alike. The block size of a file is
// what it says itself (its block mark), else --blocksize_kb, else 1 MiB
// (Google's only size); it is never guessed from the bytes. Damaged blocks
// are skipped with a warning naming the file.
//
// Exit status (io/read_problem.hpp; docs/OPERATIONS.md): 0 every packet of
// every file; 1 the output could not be written; 2 bad command line; 3 some
// data could not be read (warnings name it); 4 no file could be read at all.
#include <CLI/CLI.hpp>
#include <cstdio>

#include "io/packet_file_reader.hpp"
#include "io/pcap_writer.hpp"
#include "main/numeric_flags.hpp"
#include "main/parse_command_line.hpp"

using namespace stenotype::io;

namespace {
struct output_error {}; // the pcap could not be written: stop at once
} // namespace

int main(int argc, char** argv) {
  std::vector<std::string> files;
  std::string out_path = "-", format = "pcap";
  std::uint32_t block_kb = 0;
  CLI::App app{"stenocat - write stenotype packet files as pcap", "stenocat"};
  app.add_option("files", files, "Packet files (DIR/PKT<n>/<micros>)")->required();
  app.add_option("-w", out_path, "Output file, '-' for stdout")->capture_default_str();
  app.add_option("--format", format, "pcap (nanosecond) or pcap-us (microsecond)")
    ->check(CLI::IsMember({"pcap", "pcap-us"}))->capture_default_str();
  stenotype::add_number(app, "--blocksize_kb", block_kb,
                        "Block size of files without a block mark (Google stenotype's, older ones); 0: 1024",
                        0u, stenotype::max_blocksize_kb);
  const auto check = [&]() -> std::string {
    if (block_kb != 0 && !valid_block_size(std::uint64_t{block_kb} * 1024))
      return "--blocksize_kb must be a multiple of 4 from 4 to " + std::to_string(max_block_size / 1024);
    return "";
  };
  if (const int rc = stenotype::parse_command_line(app, argc, argv, "stenocat", check); rc >= 0)
    return rc;
  std::FILE* out = out_path == "-" ? stdout : std::fopen(out_path.c_str(), "wb");
  if (!out) {
    std::fprintf(stderr, "stenocat: error: cannot write %s\n", out_path.c_str());
    return exit_status::output_failed;
  }
  pcap_writer writer{out, format == "pcap" ? pcap_precision::nano : pcap_precision::micro};
  problem_list problems;
  std::size_t unreadable = 0;
  const problem_sink warn = [&](const problem& p) {
    problems.add(p);
    std::fprintf(stderr, "stenocat: warning: %s\n", p.text.c_str());
  };
  for (const auto& f : files) {
    try {
      packet_file_reader reader{f, block_kb * 1024};
      reader.for_each_packet(
        [&](const packet_ref& p, std::uint64_t) {
          if (!writer.write(p))
            throw output_error{};
        },
        warn);
    } catch (const output_error&) {
      std::fprintf(stderr, "stenocat: error: cannot write %s\n", out_path.c_str());
      return exit_status::output_failed;
    } catch (const std::exception& e) {
      ++unreadable;
      warn({problem_kind::file_unreadable, f, e.what()});
    }
  }
  if (!writer.flush() || (out != stdout && std::fclose(out) != 0)) {
    std::fprintf(stderr, "stenocat: error: cannot write %s\n", out_path.c_str());
    return exit_status::output_failed;
  }
  if (unreadable == files.size()) {
    std::fprintf(stderr, "stenocat: error: no file could be read\n");
    return exit_status::not_read;
  }
  return problems.exit_status();
}
