#include "io/bpf_filter.hpp"

#include <cctype>
#include <pcap/pcap.h>
#include <stdexcept>

namespace stenotype::io {

bool looks_like_compiled_bpf(const std::string& text) {
  if (text.empty() || text.size() % 16 != 0)
    return false;
  for (char c : text)
    if (!std::isxdigit(static_cast<unsigned char>(c)))
      return false;
  return true;
}

std::vector<bpf_instruction> parse_compiled_bpf(const std::string& hex) {
  if (!looks_like_compiled_bpf(hex))
    throw std::invalid_argument("--filter: compiled BPF must be hex, 16 digits per instruction");
  std::vector<bpf_instruction> prog;
  auto field = [&](std::size_t pos, std::size_t len) {
    return static_cast<std::uint32_t>(std::stoul(hex.substr(pos, len), nullptr, 16));
  };
  for (std::size_t i = 0; i < hex.size(); i += 16)
    prog.push_back({static_cast<std::uint16_t>(field(i, 4)), static_cast<std::uint8_t>(field(i + 4, 2)),
                    static_cast<std::uint8_t>(field(i + 6, 2)), field(i + 8, 8)});
  if (prog.size() > 4096)
    throw std::invalid_argument("--filter: more than 4096 BPF instructions");
  return prog;
}

std::vector<bpf_instruction> compile_bpf_expression(const std::string& expr) {
  pcap_t* dead = pcap_open_dead(DLT_EN10MB, 262144);
  if (!dead)
    throw std::runtime_error("libpcap: cannot open a dead handle");
  bpf_program prog{};
  if (pcap_compile(dead, &prog, expr.c_str(), 1, PCAP_NETMASK_UNKNOWN) != 0) {
    std::string err = pcap_geterr(dead);
    pcap_close(dead);
    throw std::invalid_argument("--filter: " + err);
  }
  std::vector<bpf_instruction> out;
  for (unsigned i = 0; i < prog.bf_len; ++i)
    out.push_back({prog.bf_insns[i].code, prog.bf_insns[i].jt, prog.bf_insns[i].jf, prog.bf_insns[i].k});
  pcap_freecode(&prog);
  pcap_close(dead);
  return out;
}

std::vector<bpf_instruction> parse_filter(const std::string& text) {
  return looks_like_compiled_bpf(text) ? parse_compiled_bpf(text) : compile_bpf_expression(text);
}

} // namespace stenotype::io
