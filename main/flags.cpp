#include "main/flags.hpp"

#include <CLI/CLI.hpp>

#include "io/bpf_filter.hpp"
#include "main/numeric_flags.hpp"
#include "actors/tls_files.hpp"
#include "main/privileges.hpp"
#include "store/retention_policy.hpp"

namespace stenotype {
namespace {

constexpr const char* usage_text =
  "Usage: stenotype [-qv?] [--aiops=NUM] [--blockage_sec=NUM] [--blocks=NUM]\n"
  "            [--blocksize_kb=NUM] [--count=NUM] [--dir=STRING] [--fanout_id=NUM]\n"
  "            [--fanout_type=NUM] [--fileage_sec=NUM] [--filesize_mb=NUM]\n"
  "            [--filter=STRING] [--gid=NUM] [--iface=STRING] [--index_nicelevel=NUM]\n"
  "            [--index_format=STRING]\n"
  "            [--no_index] [--no_open_files] [--no_promisc] [--no_watchdogs]\n"
  "            [--preallocate_file_mb=NUM]\n"
  "            [--seccomp=STRING] [--stats_blocks=NUM] [--stats_sec=NUM]\n"
  "            [--threads=NUM] [--uid=NUM] [--metrics_port=NUM]\n"
  "            [--metrics_address=ADDR] [--control_port=NUM]\n"
  "            [--control_address=ADDR] [--disk_free_percentage=NUM]\n"
  "            [--max_directory_files=NUM] [--max_data_mb=NUM]\n"
  "            [--query_port=NUM] [--query_host=ADDR] [--cert_path=DIR]\n"
  "            [--query_max_running=NUM] [--fleet_port=NUM] [--fleet_address=ADDR]\n"
  "            [--help] [--usage]\n";

} // namespace

parsed_flags parse_flags(int argc, const char* const* argv) {
  parsed_flags out;
  capture_options& o = out.options;
  std::string filter;
  int verbose = 0, quiet = 0;
  bool no_index = false, no_open_files = false, no_promisc = false, no_watchdogs = false, usage = false;
  o.seccomp = "kill"; // stenotype's default; the library's is "none" (an embedding host's choice)

  CLI::App app{"stenotype - dump raw packets to disk, indexed.\n"
               "Captures an interface through AF_PACKET TPACKET_V3 rings into packet files\n"
               "DIR/PKT<n>/<micros> (written hidden, renamed when complete) and their\n"
               "indexes DIR/IDX<n>/<micros>. See stenotype(1) and docs/.",
               "stenotype"};
  app.set_help_flag("-?,--help", "Give this help list");
  // Like argp: a flag given twice takes its last value.
  app.option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  app.add_flag("--usage", usage, "Give a short usage message");
  add_number(app, "--aiops", o.aiops, "Max number of async IO operations (per thread)");
  add_number(app, "--blocks", o.blocks, "Total number of blocks to use, each is --blocksize_kb");
  add_number(app, "--blocksize_kb", o.blocksize_kb, "Size of each ring block in KiB (multiple of the page size)");
  add_number(app, "--blockage_sec", o.blockage_sec, "The kernel hands over a block at the latest this many seconds after its first packet");
  add_number(app, "--count", o.count, "Total number of packets to read, -1 to read forever");
  app.add_option("--dir", o.dir, "Directory to store packet files in");
  add_number(app, "--fanout_id", o.fanout_id, "If fanning out across processes, set this (0: derived from the pid)");
  add_number(app, "--fanout_type", o.fanout_type, "TPACKET_V3 fanout type to fanout packets (default PACKET_FANOUT_LB|PACKET_FANOUT_FLAG_ROLLOVER)");
  add_number(app, "--fileage_sec", o.fileage_sec, "Files older than this many secs are rotated");
  add_number(app, "--filesize_mb", o.filesize_mb, "Max file size in MB before file is rotated");
  app.add_option("--filter", filter, "BPF filter: compiled hex (compile_bpf.sh format) or a tcpdump expression");
  app.add_option("--gid", o.gid, "Drop privileges to this group (name or number)");
  app.add_option("--iface", o.iface, "Interface to read packets from")->capture_default_str();
  add_number(app, "--index_nicelevel", o.index_nicelevel, "Nice level of indexing threads");
  std::string index_format = "native";
  app.add_option("--index_format", index_format,
                 "Index files to write: 'native' (ours) or 'stenographer' (Google's LevelDB tables, for its "
                 "server; rotates idle files too)")
    ->check(CLI::IsMember({"native", "stenographer"}))->capture_default_str();
  app.add_flag("--no_index", no_index, "Do not compute or write indexes");
  app.add_flag("--no_open_files", no_open_files,
               "Do not publish the file being written (durable extent, partial indexes): queries then find "
               "packets only once their file is complete");
  app.add_flag("--no_promisc", no_promisc, "Do not put the interface into promiscuous mode");
  app.add_flag("--no_watchdogs", no_watchdogs, "Don't start any watchdogs");
  add_number(app, "--preallocate_file_mb", o.preallocate_file_mb, "When creating new files, preallocate to this many MB");
  app.add_option("--seccomp", o.seccomp, "Seccomp style, one of 'none', 'trace', 'kill'")->capture_default_str();
  add_number(app, "--stats_blocks", o.stats_blocks, "With -v, log statistics every this many blocks (0: off)");
  add_number(app, "--stats_sec", o.stats_sec, "With -v, log statistics every this many seconds (0: off)");
  add_number(app, "--threads", o.threads, "Number of parallel threads to read packets with");
  app.add_option("--uid", o.uid, "Drop privileges to this user (name or number)");
  add_number(app, "--metrics_port", out.metrics_port, "Serve Prometheus metrics on this TCP port (0: off)");
  app.add_option("--metrics_address", out.metrics_address,
                 "Address the metrics endpoint listens on")->capture_default_str();
  add_number(app, "--control_port", out.control_port,
             "Publish the capture's status actor over CAF on this TCP port, for stenotype-ctl (0: off)");
  app.add_option("--control_address", out.control_address,
                 "Address the control port listens on")->capture_default_str();
  // The query service: stenographer's HTTPS API (docs/OPERATING_AND_EMBEDDING.md).
  out.cert_path = default_cert_path;
  add_number(app, "--query_port", out.query_port,
             "Serve stenographer's query API (POST /query, GET /debug/stats) over TLS on this TCP port (0: off)");
  app.add_option("--query_host", out.query_host, "Address the query service listens on")->capture_default_str();
  app.add_option("--cert_path", out.cert_path,
                 "stenographer's CertPath: ca_cert.pem, server_cert.pem, server_key.pem (made by stenokeys)")
    ->capture_default_str();
  add_number(app, "--query_max_running", out.query_max_running,
             "Queries the service answers at once; more are refused with HTTP 503", std::uint32_t{1},
             std::uint32_t{256});
  // Fleet queries: the sensor published over CAF's middleman with TLS (main/fleet_server.hpp).
  add_number(app, "--fleet_port", out.fleet_port,
             "Answer fleet queries (stenoread --sensor) over CAF's middleman with mutual TLS (--cert_path) on this "
             "TCP port, in a process of its own (0: off)");
  app.add_option("--fleet_address", out.fleet_address, "Address the fleet port listens on")->capture_default_str();
  // Disk space, after stenographer's server configuration. The defaults
  // shown are effective_retention()'s; a value is set only when given.
  const store::retention_limits retention_defaults;
  std::uint32_t disk_free_percentage = retention_defaults.disk_free_percentage;
  std::uint64_t max_directory_files = retention_defaults.max_directory_files;
  std::uint64_t max_data_mb = retention_defaults.max_data_mb;
  auto* disk_free_flag = add_number(app, "--disk_free_percentage", disk_free_percentage,
                                    "Keep this % of each filesystem holding PKT<n>/IDX<n> free, deleting the oldest files (0: off)",
                                    std::uint32_t{0}, std::uint32_t{100});
  auto* max_files_flag = add_number(app, "--max_directory_files", max_directory_files,
                                    "Keep at most this many packet files per thread, deleting the oldest (0: off)");
  auto* max_data_flag = add_number(app, "--max_data_mb", max_data_mb,
                                   "Keep packet and index files within this many MiB, deleting the oldest (0: off)");
  app.add_flag("-v", verbose, "Verbose logging, may be given multiple times");
  app.add_flag("-q", quiet, "Quiet logging. Each -q counteracts one -v");

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    out.exit_code = 0;
    out.message = app.help();
    return out;
  } catch (const CLI::ParseError& e) {
    out.exit_code = 2;
    out.message = e.what();
    return out;
  }
  if (usage) {
    out.exit_code = 0;
    out.message = usage_text;
    return out;
  }
  if (disk_free_flag->count())
    o.disk_free_percentage = disk_free_percentage;
  if (max_files_flag->count())
    o.max_directory_files = max_directory_files;
  if (max_data_flag->count())
    o.max_data_mb = max_data_mb;
  o.index = !no_index;
  o.open_files = !no_open_files;
  o.index_format = index_format == "stenographer" ? stenotype::index_format::stenographer
                                                  : stenotype::index_format::native;
  o.promiscuous = !no_promisc;
  o.watchdogs = !no_watchdogs;
  o.verbosity = verbose - quiet;
  if (!filter.empty()) {
    try {
      o.filter = io::parse_filter(filter);
    } catch (const std::exception& e) {
      out.exit_code = 2;
      out.message = e.what();
      return out;
    }
  }
  auto problem = validate(o);
  if (!problem && out.fleet_port != 0
      && (out.fleet_port == out.query_port || out.fleet_port == out.control_port || out.fleet_port == out.metrics_port))
    problem = "--fleet_port=" + std::to_string(out.fleet_port) + " is already the port of another endpoint";
  if (!problem)
    problem = identity_problem(o.uid, o.gid);
  if (problem) {
    out.exit_code = 2;
    out.message = *problem;
  }
  return out;
}

} // namespace stenotype
