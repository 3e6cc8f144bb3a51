// The query service: our stenotype with --query_port answers Google
// stenographer's clients, unchanged -- Debian's /usr/bin/stenoread (curl
// with the client certificate of a CertPath made by Debian's stenokeys,
// configured through STENOGRAPHER_CONFIG: /etc is never touched) and
// Security Onion's curl | tcpdump -w form:
//  - exact packets (as sent, NIC-stripped tags put back) for a table of
//    queries, Steno-Limit-Packets / -Bytes with Google's semantics, pcapng
//    that tshark reads, /debug/stats;
//  - refusals: no certificate, another CA's, plain HTTP, noise, bad
//    queries (400 and stenoread's one line), unknown paths; each logged;
//  - 8 clients at once, more than --query_max_running refused with 503,
//    clients killed mid-stream, while the capture keeps every packet;
//  - [fresh], hidden until the fresh-packets work is merged: packets still
//    in the open file are answered too.
// Skipped without root or without Debian's stenographer packages.
#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <chrono>
#include <csignal>
#include <cstring>
#include <fstream>
#include <functional>
#include <sstream>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

#include "io/layout.hpp"
#include "support/wait.hpp"
#include "support/frames.hpp"
#include "support/netns.hpp"
#include "support/pcap_file.hpp"
#include "support/temp_dir.hpp"

using namespace stenotype;
using namespace stenotype::test;
using namespace std::chrono_literals;

namespace {

#define REQUIRE_STENOGRAPHER_CLIENTS()                                                                   \
  do {                                                                                                   \
    REQUIRE_ROOT();                                                                                      \
    for (const char* tool : {"/usr/sbin/stenokeys", "/usr/bin/stenoread", "/usr/bin/stenocurl",          \
                             "/usr/bin/curl", "/usr/bin/jq", "/usr/bin/tcpdump", "/usr/bin/openssl"})     \
      if (::access(tool, X_OK) != 0)                                                                     \
        SKIP_TEST(tool << " is missing: install stenographer, stenographer-client, curl, jq (scripts/setup.sh)"); \
  } while (0)

// One frame of the traffic and what it is.
struct sent {
  std::uint32_t seq;
  frame bytes;
  int ip = 4;
  std::string src, dst;
  std::uint8_t proto = 0;
  std::uint16_t sport = 0, dport = 0;
  std::uint16_t vlan = 0; // 0: none; else stripped by the veth, put back by the service
};

long seq_of(const std::vector<std::uint8_t>& f) {
  if (f.size() < 8 || f[f.size() - 8] != 'S' || f[f.size() - 7] != 'Q')
    return -1;
  std::uint32_t s;
  std::memcpy(&s, f.data() + f.size() - 4, 4);
  return static_cast<long>(ntohl(s));
}

// IPv4 and IPv6, TCP, UDP and ICMP, three ports, a VLAN the veth strips;
// `first` numbers them, `extra` pads each frame.
std::vector<sent> make_traffic(std::uint32_t first, std::uint32_t n, std::size_t extra = 0) {
  std::vector<sent> out;
  const std::uint16_t ports[] = {80, 443, 53};
  for (std::uint32_t i = first; i < first + n; ++i) {
    sent s;
    s.seq = i;
    frame_builder b;
    const unsigned shape = i % 6;
    if (shape == 4) {
      s.vlan = 100;
      b.vlan(100);
    }
    const auto a = static_cast<std::uint8_t>(1 + i % 4), z = static_cast<std::uint8_t>(1 + i % 3);
    if (shape == 3) {
      s.ip = 6;
      s.src = "2001:db8::" + std::to_string(a);
      s.dst = "2001:db8::1:" + std::to_string(z);
      s.proto = 17;
      auto d = v6(z);
      d[13] = 1;
      b.ipv6(v6(a), d, s.proto);
    } else {
      s.src = "10.30.0." + std::to_string(a);
      s.dst = "10.30.1." + std::to_string(z);
      s.proto = shape == 2 ? 1 : (shape == 1 ? 17 : 6);
      b.ipv4({10, 30, 0, a}, {10, 30, 1, z}, s.proto);
    }
    if (s.proto != 1) {
      s.sport = static_cast<std::uint16_t>(40000 + i % 20000);
      s.dport = ports[i / 6 % 3];
      b.ports(s.sport, s.dport);
    } else {
      b.payload(8);
    }
    b.payload(i * 37 % 500 + extra);
    s.bytes = b.build();
    const std::uint32_t nseq = htonl(i);
    const std::uint8_t tag[4] = {'S', 'Q', 0, 0};
    s.bytes.insert(s.bytes.end(), tag, tag + 4);
    s.bytes.insert(s.bytes.end(), reinterpret_cast<const std::uint8_t*>(&nseq),
                   reinterpret_cast<const std::uint8_t*>(&nseq) + 4);
    out.push_back(std::move(s));
  }
  return out;
}

std::vector<frame> frames_of(const std::vector<sent>& traffic) {
  std::vector<frame> out;
  for (const auto& s : traffic)
    out.push_back(s.bytes);
  return out;
}

struct query_row {
  std::string query;
  std::function<bool(const sent&)> want;
};

std::vector<query_row> query_table() {
  auto host = [](const sent& s, const std::string& a) { return s.src == a || s.dst == a; };
  auto port = [](const sent& s, std::uint16_t p) { return s.proto != 1 && (s.sport == p || s.dport == p); };
  return {
    {"host 10.30.0.1", [=](const sent& s) { return host(s, "10.30.0.1"); }},
    {"net 10.30.1.0/24", [](const sent& s) { return s.ip == 4; }},
    {"host 2001:db8::2", [=](const sent& s) { return host(s, "2001:db8::2"); }},
    {"port 443", [=](const sent& s) { return port(s, 443); }},
    {"tcp and port 80", [=](const sent& s) { return s.proto == 6 && port(s, 80); }},
    {"udp", [](const sent& s) { return s.proto == 17; }},
    {"icmp", [](const sent& s) { return s.proto == 1; }},
    {"vlan 100", [](const sent& s) { return s.vlan == 100; }},
    {"(host 10.30.0.2 or host 10.30.0.3) and udp", [=](const sent& s) {
       return (host(s, "10.30.0.2") || host(s, "10.30.0.3")) && s.proto == 17;
     }},
    {"host 10.99.99.99", [](const sent&) { return false; }}, // found nothing: an empty pcap, no error
    {"after 60m ago", [](const sent&) { return true; }},
  };
}

std::vector<long> expected(const std::vector<sent>& traffic, const std::function<bool(const sent&)>& want) {
  std::vector<long> out;
  for (const auto& s : traffic)
    if (want(s))
      out.push_back(static_cast<long>(s.seq));
  return out;
}

// The frames' sequence numbers; `bytes_ok` false when a frame differs from the one sent.
std::vector<long> sequence(const std::vector<pcap_record>& got, const std::vector<sent>& traffic, bool& bytes_ok) {
  std::vector<long> seqs;
  bytes_ok = true;
  for (const auto& r : got) {
    const long s = seq_of(r.bytes);
    seqs.push_back(s);
    if (s < 0 || static_cast<std::size_t>(s) >= traffic.size() || r.bytes != traffic[static_cast<std::size_t>(s)].bytes)
      bytes_ok = false;
  }
  return seqs;
}

std::string quoted(const std::string& s) { return "'" + s + "'"; }

// A CertPath made by Debian's stenokeys and a stenographer config naming
// it, the host and the port: what stenoread and stenocurl read.
struct steno_setup {
  temp_dir tmp;
  std::string certs = tmp.path() + "/certs", config = tmp.path() + "/config", data = tmp.path() + "/data";
  int port;

  explicit steno_setup(int port_offset) : port(20000 + (::getpid() + port_offset * 7919) % 20000) {
    std::ofstream(config) << R"({ "Threads": [ { "PacketsDirectory": "/nonexistent/p", "IndexDirectory": "/nonexistent/i" } ],
  "StenotypePath": "/bin/false", "Interface": "lo", "Flags": [],
  "Port": )" << port << R"(, "Host": "127.0.0.1", "CertPath": ")" << certs << R"(" })";
    std::string err;
    if (run_process({"/usr/bin/env", "STENOGRAPHER_CONFIG=" + config, "/usr/sbin/stenokeys", "root", "root"}, 180, &err) != 0)
      throw std::runtime_error("stenokeys failed: " + err);
  }
  std::string url(const std::string& path) const { return "https://127.0.0.1:" + std::to_string(port) + path; }
  // curl as Security Onion runs it: the client certificate, our CA.
  std::string curl() const {
    return "curl --silent --show-error --cert " + certs + "/client_cert.pem --key " + certs + "/client_key.pem --cacert "
           + certs + "/ca_cert.pem";
  }
  std::string stenoread(const std::string& args) const {
    return "STENOGRAPHER_CONFIG=" + quoted(config) + " /usr/bin/stenoread " + args;
  }
};

// Our stenotype on the lab's interface with the query service; files
// every 2 s so that packets reach complete files soon.
std::unique_ptr<background_process> start_capture(const veth_lab& lab, const steno_setup& s,
                                                  std::vector<std::string> extra = {}) {
  std::vector<std::string> argv = {STENOTYPE_BINARY, "--iface=" + lab.capture_if(), "--dir=" + s.data,
                                   "--query_port=" + std::to_string(s.port), "--cert_path=" + s.certs,
                                   "--fileage_sec=2", "--blockage_sec=1", "--blocks=64", "--aiops=16",
                                   "--filesize_mb=64", "-v"};
  argv.insert(argv.end(), extra.begin(), extra.end());
  auto p = std::make_unique<background_process>(argv);
  if (!p->wait_for_stderr("query service: listening on", 30))
    throw std::runtime_error("the query service did not start: " + p->stderr_text());
  return p;
}

// Waits until the service answers every one of `n` packets (complete files).
bool answered_all(const steno_setup& s, std::size_t n) {
  const std::string out = s.tmp.path() + "/probe.pcap";
  return wait_until([&] {
    command_output(s.curl() + " -d 'after 60m ago' " + s.url("/query") + " -o " + out + " 2>/dev/null");
    return read_pcap_records(out).size() >= n;
  }, 60s);
}

std::size_t count(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1))
    ++n;
  return n;
}

} // namespace

TEST_CASE("query service: Debian's stenoread and Security Onion's curl get exactly the packets, limits, pcapng, stats") {
  REQUIRE_STENOGRAPHER_CLIENTS();
  steno_setup s{1};
  veth_lab lab;
  auto capture = start_capture(lab, s);
  const auto traffic = make_traffic(0, 600);
  lab.send(frames_of(traffic));
  REQUIRE(answered_all(s, traffic.size()));

  const std::string out = s.tmp.path() + "/out.pcap";
  for (const auto& row : query_table()) {
    INFO(row.query);
    ::unlink(out.c_str());
    int status = -1;
    const std::string said = command_output(s.stenoread(quoted(row.query) + " -w " + out + " 2>&1"), &status);
    INFO(said);
    REQUIRE(status == 0);
    bool bytes_ok = false;
    CHECK(sequence(read_pcap_records(out), traffic, bytes_ok) == expected(traffic, row.want));
    CHECK(bytes_ok);
  }

  // Security Onion's form: curl -d "$query" | tcpdump -w.
  {
    const std::string q = "host 10.30.0.2 and host 10.30.1.2 and port 443";
    ::unlink(out.c_str());
    int status = -1;
    command_output(s.curl() + " -d " + quoted(q) + " " + s.url("/query") + " | tcpdump -r - -w " + out + " 2>&1", &status);
    CHECK(status == 0);
    bool bytes_ok = false;
    CHECK(sequence(read_pcap_records(out), traffic, bytes_ok)
          == expected(traffic, [](const sent& x) {
               return (x.src == "10.30.0.2" || x.dst == "10.30.0.2") && (x.src == "10.30.1.2" || x.dst == "10.30.1.2")
                      && x.proto != 1 && (x.sport == 443 || x.dport == 443);
             }));
    CHECK(bytes_ok);
  }

  // Limits, as Google's server counts them: 16 bytes for the file header,
  // 16 + the frame per packet; the packet reaching the limit is the last.
  {
    ::unlink(out.c_str());
    command_output(s.stenoread("--limit-packets 7 'after 60m ago' -w " + out + " 2>&1"));
    bool bytes_ok = false;
    CHECK(sequence(read_pcap_records(out), traffic, bytes_ok) == std::vector<long>{0, 1, 2, 3, 4, 5, 6});
    const std::int64_t limit = 5000;
    std::int64_t left = limit - 16;
    std::size_t n = 0;
    while (left > 0 && n < traffic.size())
      left -= 16 + static_cast<std::int64_t>(traffic[n++].bytes.size());
    ::unlink(out.c_str());
    command_output(s.stenoread("--limit-bytes " + std::to_string(limit) + " 'after 60m ago' -w " + out + " 2>&1"));
    CHECK(read_pcap_records(out).size() == n);
    ::unlink(out.c_str());
    command_output(s.curl() + " -H 'Steno-Limit-Bytes: 16' -d tcp " + s.url("/query") + " -o " + out);
    CHECK(read_pcap_records(out).empty()); // the file header alone
    CHECK(command_output("wc -c < " + out) == "24\n");
    // Both at once: whichever comes first; Go's number syntax (0x).
    command_output(s.curl() + " -H 'Steno-Limit-Packets: 0x3' -H 'Steno-Limit-Bytes: 100000' -d udp " + s.url("/query")
                   + " -o " + out);
    CHECK(read_pcap_records(out).size() == 3);
  }

  // pcapng, as tshark reads it: every packet, nanosecond stamps.
  {
    const std::string ng = s.tmp.path() + "/out.pcapng";
    command_output(s.curl() + " -d 'after 60m ago' '" + s.url("/query?format=pcapng") + "' -o " + ng);
    int status = -1;
    command_output("tshark -r " + ng + " -q 2>/dev/null", &status);
    CHECK(status == 0);
    const std::string frames = command_output("tshark -r " + ng + " -T fields -e frame.len 2>/dev/null | wc -l");
    CHECK(frames == std::to_string(traffic.size()) + "\n");
    CHECK(command_output("capinfos -t -M " + ng + " 2>&1").find("pcapng") != std::string::npos);
    const std::string stamp = command_output("tshark -r " + ng + " -c 1 -T fields -e frame.time_epoch 2>/dev/null");
    CHECK(stamp.size() == std::string("1796197046.123456789\n").size()); // nine decimals
    // stenoread --format=pcapng writes the same packets.
    const std::string local = s.tmp.path() + "/local.pcapng";
    CHECK(run_process({STENOREAD_BINARY, "--dir=" + s.data, "--format=pcapng", "after 60m ago", "-w", local}, 60) == 0);
    CHECK(command_output("tshark -r " + local + " -T fields -e frame.len 2>/dev/null | wc -l")
          == std::to_string(traffic.size()) + "\n");
    CHECK(command_output("tshark -r " + local + " -T fields -e frame.len 2>/dev/null | md5sum")
          == command_output("tshark -r " + ng + " -T fields -e frame.len 2>/dev/null | md5sum"));
  }

  // /debug/stats through stenocurl: Google's names and the capture's.
  {
    const std::string stats = command_output("STENOGRAPHER_CONFIG=" + quoted(s.config) + " stenocurl /debug/stats --silent");
    INFO(stats);
    CHECK(stats.find("http_request_query_POST_completed\t") != std::string::npos);
    CHECK(stats.find("oldest_timestamp\t") != std::string::npos);
    CHECK(stats.find("reader-0.packets\t") != std::string::npos);
    CHECK(stats.find("query-service.queries\t") != std::string::npos);
  }
  CHECK(capture->stop(SIGTERM, 30) == 0);
}

TEST_CASE("query service: no certificate, another CA's, plain HTTP, noise and bad requests are refused and logged, the capture goes on") {
  REQUIRE_STENOGRAPHER_CLIENTS();
  steno_setup s{2};
  veth_lab lab;
  auto capture = start_capture(lab, s);
  const auto first = make_traffic(0, 200);
  lab.send(frames_of(first));
  REQUIRE(answered_all(s, first.size()));

  // Another CA and a client certificate it signed.
  const std::string other = s.tmp.path() + "/other";
  REQUIRE(std::system(("mkdir -p " + other + " && cd " + other
                       + " && openssl req -x509 -newkey rsa:2048 -nodes -keyout ca_key.pem -out ca_cert.pem -days 2"
                         " -subj /CN=other >/dev/null 2>&1 && openssl req -newkey rsa:2048 -nodes -keyout client_key.pem"
                         " -out c.csr -subj /CN=client >/dev/null 2>&1 && openssl x509 -req -in c.csr -CA ca_cert.pem"
                         " -CAkey ca_key.pem -CAcreateserial -out client_cert.pem -days 2 >/dev/null 2>&1")
                        .c_str()) == 0);
  const std::string out = s.tmp.path() + "/out.pcap";
  int status = -1;
  command_output("curl --silent --cacert " + s.certs + "/ca_cert.pem -d tcp " + s.url("/query") + " -o " + out, &status);
  CHECK(status != 0); // no certificate
  command_output("curl --silent --cert " + other + "/client_cert.pem --key " + other + "/client_key.pem --cacert "
                   + s.certs + "/ca_cert.pem -d tcp " + s.url("/query") + " -o " + out,
                 &status);
  CHECK(status != 0); // signed by another CA
  command_output("curl --silent --max-time 10 http://127.0.0.1:" + std::to_string(s.port) + "/query -d tcp -o /dev/null", &status);
  CHECK(status != 0); // plain HTTP
  command_output("head -c 5000 /dev/urandom | timeout 15 bash -c 'cat > /dev/tcp/127.0.0.1/" + std::to_string(s.port)
                 + "' 2>/dev/null");
  // Bad requests: a status and one line, stenoread's for a bad query.
  auto http = [&](const std::string& args) {
    return command_output(s.curl() + " " + args + " -w ' %{http_code}'");
  };
  CHECK(http("-d 'host 1.2.3' " + s.url("/query"))
        == "query error at column 6: expected an IPv4 or IPv6 address, got '1.2.3'\n 400");
  CHECK(http("-d '' " + s.url("/query")) == "empty query: POST the query as the request body\n 400");
  CHECK(http("-H 'Steno-Limit-Packets: -1' -d tcp " + s.url("/query"))
        == "invalid Steno-Limit-Packets header '-1': not a non-negative integer\n 400");
  CHECK(http("-d tcp '" + s.url("/query?format=pcapx") + "'") == "unknown format 'pcapx': one of pcap, pcap-us, pcapng\n 400");
  const std::string huge = s.tmp.path() + "/huge";
  std::ofstream(huge) << std::string(20000, 'a');
  CHECK(http("--data-binary @" + huge + " " + s.url("/query"))
        == "request body too large: a query has at most 8192 bytes\n 413");
  CHECK(http(s.url("/debug/nothing")) == "no such resource: POST /query or GET /debug/stats\n 404");

  // The capture never noticed: more traffic, every packet answered.
  const auto second = make_traffic(200, 200);
  lab.send(frames_of(second));
  auto all = first;
  all.insert(all.end(), second.begin(), second.end());
  REQUIRE(answered_all(s, all.size()));
  ::unlink(out.c_str());
  REQUIRE(command_output(s.stenoread("'after 60m ago' -w " + out + " 2>&1"), &status).size() > 0);
  CHECK(status == 0);
  bool bytes_ok = false;
  CHECK(sequence(read_pcap_records(out), all, bytes_ok) == expected(all, [](const sent&) { return true; }));
  CHECK(bytes_ok);

  const std::string log = capture->stderr_text();
  INFO(log);
  CHECK(log.find("refused a connection from 127.0.0.1") != std::string::npos);
  CHECK(log.find("the client sent no certificate") != std::string::npos);
  CHECK(log.find("client certificate: unable to get local issuer certificate") != std::string::npos);
  CHECK(log.find("no TLS handshake") != std::string::npos);
  CHECK(log.find("with 400: query error at column 6") != std::string::npos);
  CHECK(log.find("with 404: no such resource") != std::string::npos);
  CHECK(capture->stop(SIGTERM, 30) == 0);
}

TEST_CASE("query service: 8 clients at once, the 9th refused with 503, clients killed mid-stream, the capture keeps every packet") {
  REQUIRE_STENOGRAPHER_CLIENTS();
  steno_setup s{3};
  veth_lab lab;
  auto capture = start_capture(lab, s, {"--query_max_running=8"});
  // Enough to take a while to export at a limited rate: ~12 MB.
  const auto first = make_traffic(0, 10000, 700);
  lab.send(frames_of(first));
  REQUIRE(answered_all(s, first.size()));

  // 8 at once, each the whole answer, while more traffic comes in.
  std::vector<pid_t> clients;
  for (int i = 0; i < 8; ++i) {
    const pid_t p = ::fork();
    REQUIRE(p >= 0);
    if (p == 0) {
      const std::string cmd = s.curl() + " -d 'after 60m ago' " + s.url("/query") + " -o " + s.tmp.path() + "/client"
                              + std::to_string(i) + ".pcap";
      ::execl("/bin/sh", "sh", "-c", cmd.c_str(), nullptr);
      ::_exit(127);
    }
    clients.push_back(p);
  }
  const auto second = make_traffic(10000, 3000, 200);
  lab.send(frames_of(second));
  for (const pid_t p : clients) {
    int st = 0;
    REQUIRE(::waitpid(p, &st, 0) == p);
    CHECK(WIFEXITED(st));
    CHECK(WEXITSTATUS(st) == 0);
  }
  for (int i = 0; i < 8; ++i) {
    INFO("client " << i);
    const auto got = read_pcap_records(s.tmp.path() + "/client" + std::to_string(i) + ".pcap");
    CHECK(got.size() >= first.size()); // everything up to its start (and perhaps some of what came meanwhile)
    bool bytes_ok = true;
    for (std::size_t k = 0; k < got.size() && k < first.size(); ++k)
      bytes_ok = bytes_ok && seq_of(got[k].bytes) == static_cast<long>(k) && got[k].bytes == first[k].bytes;
    CHECK(bytes_ok);
  }

  // 8 slow clients (10 KB/s) hold every slot: a 9th is refused with 503
  // and its one line. Then they are killed mid-stream.
  clients.clear();
  for (int i = 0; i < 8; ++i) {
    const pid_t p = ::fork();
    REQUIRE(p >= 0);
    if (p == 0) {
      const std::string cmd = "exec " + s.curl() + " --limit-rate 10k -d 'after 60m ago' " + s.url("/query") + " -o /dev/null";
      ::execl("/bin/sh", "sh", "-c", cmd.c_str(), nullptr);
      ::_exit(127);
    }
    clients.push_back(p);
  }
  const std::string stats_cmd = s.curl() + " " + s.url("/debug/stats");
  CHECK(wait_until([&] { return command_output(stats_cmd).find("query-service.queries-running\t8\n") != std::string::npos; },
                   30s));
  const std::string busy = command_output(s.curl() + " -d tcp " + s.url("/query") + " -w ' %{http_code}'");
  CHECK(busy == "too many queries at once: 8 are running (--query_max_running); try again later\n 503");
  for (const pid_t p : clients)
    ::kill(p, SIGKILL);
  for (const pid_t p : clients)
    ::waitpid(p, nullptr, 0);
  // The service notices each at its next write and frees the slot.
  CHECK(wait_until([&] { return command_output(stats_cmd).find("query-service.queries-running\t0\n") != std::string::npos; },
                   90s));

  // It still answers, and the capture kept every packet meanwhile.
  auto all = first;
  all.insert(all.end(), second.begin(), second.end());
  REQUIRE(answered_all(s, all.size()));
  const std::string out = s.tmp.path() + "/all.pcap";
  int status = -1;
  command_output(s.stenoread("'after 60m ago' -w " + out + " 2>&1"), &status);
  CHECK(status == 0);
  bool bytes_ok = false;
  CHECK(sequence(read_pcap_records(out), all, bytes_ok) == expected(all, [](const sent&) { return true; }));
  CHECK(bytes_ok);
  const std::string log = capture->stderr_text();
  CHECK(count(log, "the client went away") >= 8);
  CHECK(log.find("with 503: too many queries at once") != std::string::npos);
  CHECK(capture->stop(SIGTERM, 30) == 0);
}

// Expected to pass once the fresh-packets work (query::run_query reading
// the open file) is merged; hidden until then: run it with
// `integration_tests "[fresh]"`, and remove the "." from the tag to enable it.
TEST_CASE("query service: packets still in the open file are answered", "[fresh]") {
  REQUIRE_STENOGRAPHER_CLIENTS();
  steno_setup s{4};
  veth_lab lab;
  // Files rotate only every minute: the traffic stays in the open file.
  auto capture = start_capture(lab, s, {"--fileage_sec=60"});
  const auto traffic = make_traffic(0, 300);
  lab.send(frames_of(traffic));
  std::this_thread::sleep_for(3s); // the kernel hands blocks over within --blockage_sec=1
  REQUIRE(io::list_final_ids(s.data + "/PKT0").empty()); // nothing complete yet
  const std::string out = s.tmp.path() + "/out.pcap";
  for (const auto& row : query_table()) {
    INFO(row.query);
    ::unlink(out.c_str());
    int status = -1;
    const std::string said = command_output(s.stenoread(quoted(row.query) + " -w " + out + " 2>&1"), &status);
    INFO(said);
    REQUIRE(status == 0);
    bool bytes_ok = false;
    CHECK(sequence(read_pcap_records(out), traffic, bytes_ok) == expected(traffic, row.want));
    CHECK(bytes_ok);
  }
  CHECK(capture->stop(SIGTERM, 30) == 0);
}
