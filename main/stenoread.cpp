// main/stenoread.cpp -- answer a stenographer query from the files, as pcap or pcapng.
//
//   stenoread --dir=/data 'host 10.1.2.3 and port 443 and after 10m ago' -w out.pcap
//   stenoread --dir=/data 'tcp and net 10.0.0.0/8' | tcpdump -nr -
//
// Exit status (io/read_problem.hpp; docs/OPERATIONS.md "Exit codes and
// warnings"): 0 the complete answer, also when nothing matched; 1 the answer
// could not be written; 2 bad command line or query, or no such directory;
// 3 the answer is incomplete: data could not be read (warnings name it);
// 4 nothing could be looked at: not a data directory, or unreadable.
//
// With --sensor/--sensors the query goes to remote sensors instead (a
// fleet query, main/stenoread_fleet.hpp), with the same statuses: 3 then
// also when a sensor failed, 4 when none answered.
#include <CLI/CLI.hpp>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <stdio_ext.h>
#include <optional>
#include <sys/stat.h>

#include "io/packet_output.hpp"
#include "query/executor.hpp"
#include "query/query_parser.hpp"
#include "main/parse_command_line.hpp"
#include "main/stenoread_fleet.hpp"
#include "actors/tls_files.hpp"
#include "stenotype/error.hpp"

using namespace stenotype;

namespace {

// The exit status of an answer, with one line saying why it is not 0: the
// warnings above it name what was not read.
int final_status(const io::problem_list& problems, bool quiet) {
  const int rc = problems.exit_status();
  if (rc == io::exit_status::incomplete && !quiet)
    std::fprintf(stderr, "stenoread: the answer is incomplete: some data could not be read (exit status 3)\n");
  else if (rc == io::exit_status::not_read)
    std::fprintf(stderr, "stenoread: error: nothing could be read (exit status 4)\n");
  return rc;
}

} // namespace

int main(int argc, char** argv) {
  std::string dir, out_path = "-", format = "pcap";
  std::vector<std::string> words;
  bool explain = false, quiet = false, no_open_files = false;
  CLI::App app{"stenoread - read the packets matching a query from stenotype's files, as pcap.\n"
               "Query language (docs/QUERY_LANGUAGE.md):\n"
               "  host IP | net IP/BITS | net IP mask MASK | port N | ip proto N |\n"
               "  tcp | udp | icmp | vlan N | mpls N | before TIME | after TIME | ( ... )\n"
               "  joined by and/&& and or/|| (equal precedence, left to right);\n"
               "  TIME: RFC 3339 (2026-11-27T10:02:00Z) or 'N m ago' / 'N h ago'.",
               "stenoread"};
  auto* dir_flag = app.add_option("--dir", dir, "Data directory given to stenotype --dir (or --sensor: remote sensors)");
  fleet_read_options fleet;
  fleet.cert_path = default_cert_path;
  std::string timeout = "30s";
  app.add_option("--sensor", fleet.sensors,
                 "Ask this sensor (HOST:PORT of its stenotype --fleet_port) instead of --dir; repeatable: the "
                 "answers are merged by time")
    ->allow_extra_args(false); // one value each: the query stays positional
  app.add_option("--sensors", fleet.sensors_file, "Ask the sensors listed in this file (HOST:PORT a line, # comments)");
  app.add_option("--cert_path", fleet.cert_path,
                 "With --sensor: client_cert.pem, client_key.pem, ca_cert.pem (made by stenokeys)")
    ->capture_default_str();
  app.add_option("--timeout", timeout,
                 "With --sensor: give a sensor up after this long without an answer (30s, 500ms, 2m; a number: "
                 "seconds)")->capture_default_str();
  app.add_option("query", words, "The query (one argument, or several joined by spaces)")->required();
  app.add_option("-w", out_path, "Write the pcap to this file ('-': stdout)")->capture_default_str();
  app.add_option("--format", format,
                 "pcap (nanosecond stamps), pcap-us (microsecond, for old tools) or pcapng (nanosecond, with "
                 "an interface description block)")
    ->check(CLI::IsMember({"pcap", "pcap-us", "pcapng"}))->capture_default_str();
  app.add_flag("--explain", explain, "Print how the query was understood, then run it");
  app.add_flag("-q,--quiet", quiet, "No summary line on stderr");
  app.add_flag("--no_open_files", no_open_files,
               "Leave out the files the capture is still writing (by default read as far as their writes "
               "completed: packets are found about --blockage_sec + 1 s after capture)");
  const auto check = [&]() -> std::string {
    const bool remote = !fleet.sensors.empty() || !fleet.sensors_file.empty();
    if (remote && dir_flag->count())
      return "--dir and --sensor/--sensors exclude each other";
    if (!remote && !dir_flag->count())
      return "--dir (or --sensor, --sensors) is required";
    const auto t = parse_duration(timeout);
    if (!t)
      return "--timeout=" + timeout + ": expected a duration such as 30s, 500ms, 2m";
    fleet.timeout = *t;
    return "";
  };
  if (const int rc = stenotype::parse_command_line(app, argc, argv, "stenoread", check); rc >= 0)
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
    std::fprintf(stderr, "stenoread: %s\n", e.describe().c_str());
    return io::exit_status::usage;
  }
  if (explain)
    std::fprintf(stderr, "stenoread: query: %s\n", query::to_string(*q).c_str());
  if (!fleet.sensors.empty() || !fleet.sensors_file.empty()) {
    fleet.query = text;
    fleet.now_ns = static_cast<std::uint64_t>(now.tv_sec) * 1000000000u + static_cast<std::uint64_t>(now.tv_nsec);
    fleet.out_path = out_path;
    fleet.format = format;
    fleet.quiet = quiet;
    fleet.open_files = !no_open_files;
    std::signal(SIGPIPE, SIG_IGN);
    run_fleet_read(fleet);
  }
  struct stat st;
  if (::stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    std::fprintf(stderr, "stenoread: error: no data directory %s\n", dir.c_str());
    return io::exit_status::usage;
  }

  std::signal(SIGPIPE, SIG_IGN); // a closed pipe is an EPIPE we end on quietly
  std::FILE* out = out_path == "-" ? stdout : std::fopen(out_path.c_str(), "wb");
  if (!out) {
    std::fprintf(stderr, "stenoread: error: cannot write %s: %s\n", out_path.c_str(), std::strerror(errno));
    return io::exit_status::output_failed;
  }
  static char buffer[1 << 20];
  std::setvbuf(out, buffer, _IOFBF, sizeof buffer);
  __fsetlocking(out, FSETLOCKING_BYCALLER); // one thread writes it: no lock per fwrite (an eighth of an export's CPU)
  const auto writer = io::make_packet_output(out, *io::parse_output_format(format),
                                             {"", "packets of the stenotype data directory " + dir});
  bool write_failed = false, reader_gone = false;
  const auto stats = query::run_query(
    dir, q,
    [&](const io::packet_ref& p) {
      if (writer->write(p))
        return true;
      (errno == EPIPE ? reader_gone : write_failed) = true;
      return false;
    },
    [&](const io::problem& problem) {
      std::fprintf(stderr, "stenoread: warning: %s\n", problem.text.c_str());
    },
    query::run_options{.open_files = !no_open_files});
  if (!write_failed && !reader_gone && (!writer->flush() || (out != stdout && std::fclose(out) != 0)))
    (errno == EPIPE ? reader_gone : write_failed) = true;
  if (write_failed) {
    std::fprintf(stderr, "stenoread: error: cannot write %s: %s\n", out_path.c_str(), std::strerror(errno));
    return io::exit_status::output_failed;
  }
  if (!quiet)
    std::fprintf(stderr, "stenoread: %llu packets from %llu of %llu files (%llu pruned by time, %llu without index)"
                         " and %llu file(s) still being written\n",
                 static_cast<unsigned long long>(stats.packets),
                 static_cast<unsigned long long>(stats.files - stats.pruned),
                 static_cast<unsigned long long>(stats.files), static_cast<unsigned long long>(stats.pruned),
                 static_cast<unsigned long long>(stats.scanned_unindexed),
                 static_cast<unsigned long long>(stats.open_files));
  return final_status(stats.problems, quiet);
}
