// io/bpf_filter.hpp -- the --filter argument to classic BPF.
//
// stenotype takes a compiled filter in hex (compile_bpf.sh: `tcpdump -ddd`,
// each instruction printed as %04x%02x%02x%08x). We take that, and also a
// plain libpcap expression ("tcp port 80"), compiled for Ethernet exactly as
// tcpdump would, so users need no helper script.
#pragma once

#include <string>
#include <vector>

#include "stenotype/options.hpp"

namespace stenotype::io {

/// True when `text` is a hex-encoded compiled filter (16 hex digits per instruction).
bool looks_like_compiled_bpf(const std::string& text);

/// Parses stenotype's hex format; throws std::invalid_argument (one line).
std::vector<bpf_instruction> parse_compiled_bpf(const std::string& hex);

/// Compiles a libpcap expression for DLT_EN10MB; throws std::invalid_argument
/// with libpcap's message.
std::vector<bpf_instruction> compile_bpf_expression(const std::string& expr);

/// Either of the above, as the text says.
std::vector<bpf_instruction> parse_filter(const std::string& text);

} // namespace stenotype::io
