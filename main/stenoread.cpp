// main/stenoread.cpp -- answer a stenographer query from the files, as pcap.
//
//   stenoread --dir=/data 'host 10.1.2.3 and port 443 and after 10m ago' -w out.pcap
//   stenoread --dir=/data 'tcp and net 10.0.0.0/8' | tcpdump -nr -
//
// Exit status: 0 answered (also when nothing matched), 1 the answer could
// not be written or a file was damaged, 2 bad command line or query (see
// exit_status below; stenoread(1), docs/OPERATIONS.md).
#include <CLI/CLI.hpp>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <optional>
#include <sys/stat.h>

#include "io/pcap_writer.hpp"
#include "query/executor.hpp"
#include "query/query_parser.hpp"
#include "main/parse_command_line.hpp"
#include "stenotype/error.hpp"

using namespace stenotype;

namespace {

// The exit status for what went wrong, nothing = the query was answered.
int exit_status(std::optional<errc> problem) {
  if (!problem)
    return 0;
  switch (*problem) {
    case errc::bad_option:
    case errc::bad_query: return 2;
    default: return 1;
  }
}

// Problems after which the answer may lack packets; the others (no index:
// the file is scanned instead) only cost time.
bool answer_incomplete(errc code) {
  return code == errc::damaged_packet_file || code == errc::damaged_index;
}

} // namespace

int main(int argc, char** argv) {
  std::string dir, out_path = "-", format = "pcap";
  std::vector<std::string> words;
  bool explain = false, quiet = false;
  CLI::App app{"stenoread - read the packets matching a query from stenotype's files, as pcap.\n"
               "Query language (docs/QUERY_LANGUAGE.md):\n"
               "  host IP | net IP/BITS | net IP mask MASK | port N | ip proto N |\n"
               "  tcp | udp | icmp | vlan N | mpls N | before TIME | after TIME | ( ... )\n"
               "  joined by and/&& and or/|| (equal precedence, left to right);\n"
               "  TIME: RFC 3339 (2026-11-27T10:02:00Z) or 'N m ago' / 'N h ago'.",
               "stenoread"};
  app.add_option("--dir", dir, "Data directory given to stenotype --dir")->required();
  app.add_option("query", words, "The query (one argument, or several joined by spaces)")->required();
  app.add_option("-w", out_path, "Write the pcap to this file ('-': stdout)")->capture_default_str();
  app.add_option("--format", format, "pcap (nanosecond stamps) or pcap-us (microsecond, for old tools)")
    ->check(CLI::IsMember({"pcap", "pcap-us"}))->capture_default_str();
  app.add_flag("--explain", explain, "Print how the query was understood, then run it");
  app.add_flag("-q,--quiet", quiet, "No summary line on stderr");
  if (const int rc = stenotype::parse_command_line(app, argc, argv, "stenoread"); rc >= 0)
    return rc;
  std::string text;
  for (const auto& w : words) {
    if (!text.empty())
      text += ' ';
    text += w;
  }

  timespec now;
  clock_gettime(CLOCK_REALTIME, &now);
  query::node_ptr q;
  try {
    q = query::parse_query(text, static_cast<std::uint64_t>(now.tv_sec) * 1000000000u
                                   + static_cast<std::uint64_t>(now.tv_nsec));
  } catch (const query::parse_error& e) {
    std::fprintf(stderr, "stenoread: query error at column %zu: %s\n", e.column(), e.what());
    return exit_status(errc::bad_query);
  }
  if (explain)
    std::fprintf(stderr, "stenoread: query: %s\n", query::to_string(*q).c_str());
  struct stat st;
  if (::stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    std::fprintf(stderr, "stenoread: error: no data directory %s\n", dir.c_str());
    return exit_status(errc::bad_option);
  }

  std::signal(SIGPIPE, SIG_IGN); // a closed pipe is an EPIPE we end on quietly
  std::FILE* out = out_path == "-" ? stdout : std::fopen(out_path.c_str(), "wb");
  if (!out) {
    const int err = errno;
    std::fprintf(stderr, "stenoread: error: cannot write %s: %s\n", out_path.c_str(), std::strerror(err));
    return exit_status(errc_from_errno(err));
  }
  static char buffer[1 << 20];
  std::setvbuf(out, buffer, _IOFBF, sizeof buffer);
  io::pcap_writer writer{out, format == "pcap" ? io::pcap_precision::nano : io::pcap_precision::micro};
  bool write_failed = false, reader_gone = false;
  std::optional<errc> incomplete; // the first problem that may have cost packets
  const auto stats = query::run_query(
    dir, q,
    [&](const io::packet_ref& p) {
      if (writer.write(p))
        return true;
      (errno == EPIPE ? reader_gone : write_failed) = true;
      return false;
    },
    [&](errc code, const std::string& problem) {
      if (answer_incomplete(code) && !incomplete)
        incomplete = code;
      std::fprintf(stderr, "stenoread: warning: %s\n", problem.c_str());
    });
  if (!write_failed && !reader_gone && (!writer.flush() || (out != stdout && std::fclose(out) != 0)))
    (errno == EPIPE ? reader_gone : write_failed) = true;
  if (write_failed) {
    const int err = errno;
    std::fprintf(stderr, "stenoread: error: cannot write %s: %s\n", out_path.c_str(), std::strerror(err));
    return exit_status(errc_from_errno(err));
  }
  if (!quiet)
    std::fprintf(stderr, "stenoread: %llu packets from %llu of %llu files (%llu pruned by time, %llu without index)\n",
                 static_cast<unsigned long long>(stats.packets),
                 static_cast<unsigned long long>(stats.files - stats.pruned),
                 static_cast<unsigned long long>(stats.files), static_cast<unsigned long long>(stats.pruned),
                 static_cast<unsigned long long>(stats.scanned_unindexed));
  if (stats.skipped_damaged && !incomplete) // unreadable packet files, each warned about
    incomplete = errc::damaged_packet_file;
  return exit_status(incomplete);
}
