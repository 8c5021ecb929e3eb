#include <amimo/fec/link_coding.h>

#include <amimo/fec/segmentation.h>

#include <cstdio>
#include <stdexcept>
#include <string>

namespace amimo::fec {
namespace {

std::string fmt_rate(double r) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.4g", r);
  return buf;
}

}  // namespace

double effective_code_rate(const transport_block_config& cfg) {
  if (cfg.g_bits < 1) {
    throw std::invalid_argument("effective code rate: G = " + std::to_string(cfg.g_bits) + " bits is not positive");
  }
  const auto seg = segment_transport_block(cfg.tb_bits, select_base_graph(cfg.tb_bits, cfg.code_rate));
  return static_cast<double>(seg.b_prime) / cfg.g_bits;
}

transport_block_config link_transport_block(int g_bits, int qm, double code_rate, int tb_bits) {
  if (qm < 1 || qm > 10) {
    throw std::invalid_argument("link coding: Qm = " + std::to_string(qm) + " bits per symbol is outside 1..10");
  }
  if (g_bits < 1 || g_bits % qm != 0) {
    throw std::invalid_argument("link coding: G = " + std::to_string(g_bits) +
                                " coded bits is not a positive multiple of Qm = " + std::to_string(qm));
  }
  if (!(code_rate > 0.0 && code_rate < 1.0)) {
    throw std::invalid_argument("link coding: code rate " + fmt_rate(code_rate) + " is outside (0, 1)");
  }
  if (tb_bits < 0) {
    throw std::invalid_argument("link coding: transport block size " + std::to_string(tb_bits) +
                                " bits is negative (0 selects the 38.214 TBS)");
  }
  transport_block_config cfg;
  cfg.g_bits = g_bits;
  cfg.qm = qm;
  cfg.code_rate = code_rate;
  cfg.layers = 1;
  cfg.rv = 0;
  cfg.tb_bits = tb_bits > 0 ? tb_bits : transport_block_size(g_bits / qm, code_rate, qm, 1);
  const auto seg = segment_transport_block(cfg.tb_bits, select_base_graph(cfg.tb_bits, code_rate));  // throws
  if (g_bits < seg.blocks * qm) {
    throw std::invalid_argument("link coding: G = " + std::to_string(g_bits) + " bits cannot carry " +
                                std::to_string(seg.blocks) + " code blocks of at least Qm = " + std::to_string(qm) +
                                " bits");
  }
  const double r_eff = static_cast<double>(seg.b_prime) / g_bits;
  if (r_eff > kMaxEffectiveCodeRate) {
    throw std::invalid_argument("link coding: a " + std::to_string(cfg.tb_bits) + "-bit transport block (" +
                                std::to_string(seg.b_prime) + " bits with CRCs) in G = " + std::to_string(g_bits) +
                                " coded bits has effective code rate " + fmt_rate(r_eff) + " > " +
                                fmt_rate(kMaxEffectiveCodeRate) + " (38.214 §5.1.3.1)" +
                                (tb_bits > 0 ? ": use fewer --tb-bits" : ": lower the code rate or send more bits"));
  }
  return cfg;
}

}  // namespace amimo::fec
