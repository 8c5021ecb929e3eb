#include <amimo/fec/segmentation.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <stdexcept>
#include <string>

namespace amimo::fec {
namespace {

// TS 38.214 Table 5.1.3.2-1: TBS for N_info ≤ 3824 (checked against srsran/srsRAN_4G
// lib/src/phy/phch/ra_nr.c, which quotes 38.214 V15.10.0).
constexpr std::array<int, 93> kTbsTable = {
    24,   32,   40,   48,   56,   64,   72,   80,   88,   96,   104,  112,  120,  128,  136,  144,
    152,  160,  168,  176,  184,  192,  208,  224,  240,  256,  272,  288,  304,  320,  336,  352,
    368,  384,  408,  432,  456,  480,  504,  528,  552,  576,  608,  640,  672,  704,  736,  768,
    808,  848,  888,  928,  984,  1032, 1064, 1128, 1160, 1192, 1224, 1256, 1288, 1320, 1352, 1416,
    1480, 1544, 1608, 1672, 1736, 1800, 1864, 1928, 2024, 2088, 2152, 2216, 2280, 2408, 2472, 2536,
    2600, 2664, 2728, 2792, 2856, 2976, 3104, 3240, 3368, 3496, 3624, 3752, 3824};

constexpr int kMaxTbBits = 1277992;

void check_rate(double code_rate) {
  if (!(code_rate > 0.0 && code_rate < 1.0)) {
    throw std::invalid_argument("code rate " + std::to_string(code_rate) + " is outside (0, 1)");
  }
}

long ceil_div(long a, long b) { return (a + b - 1) / b; }

}  // namespace

base_graph select_base_graph(int tb_bits, double code_rate) {
  check_rate(code_rate);
  if (tb_bits < 1) {
    throw std::invalid_argument("transport block size " + std::to_string(tb_bits) + " bits is not positive");
  }
  if (tb_bits <= 292 || (tb_bits <= 3824 && code_rate <= 0.67) || code_rate <= 0.25) {
    return base_graph::bg2;
  }
  return base_graph::bg1;
}

code_block_segmentation segment_transport_block(int tb_bits, base_graph bg) {
  if (tb_bits < 24 || tb_bits > kMaxTbBits) {
    throw std::invalid_argument("transport block size " + std::to_string(tb_bits) + " bits is outside [24, " +
                                std::to_string(kMaxTbBits) + "]");
  }
  code_block_segmentation s;
  s.bg = bg;
  s.tb_bits = tb_bits;
  s.tb_crc = tb_bits > 3824 ? crc_type::crc24a : crc_type::crc16;
  s.tb_crc_bits = crc_length(s.tb_crc);
  s.b = tb_bits + s.tb_crc_bits;
  const int kcb = bg == base_graph::bg1 ? 8448 : 3840;
  if (s.b <= kcb) {
    s.cb_crc_bits = 0;
    s.blocks = 1;
    s.b_prime = s.b;
  } else {
    s.cb_crc_bits = 24;
    s.blocks = static_cast<int>(ceil_div(s.b, kcb - s.cb_crc_bits));
    s.b_prime = s.b + s.blocks * s.cb_crc_bits;
  }
  if (s.b_prime % s.blocks != 0) {
    // Every TBS of 38.214 §5.1.3.2 gives B' divisible by C; other sizes are not segmentable.
    throw std::invalid_argument("transport block size " + std::to_string(tb_bits) + " bits is not a 38.214 TBS: B' = " +
                                std::to_string(s.b_prime) + " is not a multiple of C = " + std::to_string(s.blocks));
  }
  s.k_prime = s.b_prime / s.blocks;
  if (bg == base_graph::bg1) {
    s.kb = 22;
  } else if (s.b > 640) {
    s.kb = 10;
  } else if (s.b > 560) {
    s.kb = 9;
  } else if (s.b > 192) {
    s.kb = 8;
  } else {
    s.kb = 6;
  }
  s.z = smallest_lifting_size(s.k_prime, s.kb);
  s.k = (bg == base_graph::bg1 ? 22 : 10) * s.z;
  s.filler_bits = s.k - s.k_prime;
  return s;
}

std::vector<int> rate_matched_lengths(int g_bits, int blocks, int qm, int layers) {
  if (blocks < 1 || qm < 1 || layers < 1 || g_bits < blocks * qm * layers) {
    throw std::invalid_argument("rate matching: G = " + std::to_string(g_bits) + " bits cannot carry " +
                                std::to_string(blocks) + " code blocks at Qm = " + std::to_string(qm) +
                                ", layers = " + std::to_string(layers));
  }
  if (g_bits % (qm * layers) != 0) {
    throw std::invalid_argument("rate matching: G = " + std::to_string(g_bits) + " is not a multiple of Qm·layers = " +
                                std::to_string(qm * layers));
  }
  const long symbols = g_bits / (qm * layers);
  const long small = symbols / blocks;
  const long first_large = blocks - symbols % blocks;  // blocks r ≤ C − mod(G/(N_L·Q_m), C) − 1 get the floor
  std::vector<int> e(static_cast<std::size_t>(blocks));
  for (long r = 0; r < blocks; ++r) {
    e[static_cast<std::size_t>(r)] = static_cast<int>(qm * layers * (r < first_large ? small : small + 1));
  }
  return e;
}

int transport_block_size(int n_re, double code_rate, int qm, int layers) {
  check_rate(code_rate);
  if (n_re < 1 || qm < 1 || qm > 10 || layers < 1 || layers > 8) {
    throw std::invalid_argument("TBS: N_RE = " + std::to_string(n_re) + ", Qm = " + std::to_string(qm) +
                                ", layers = " + std::to_string(layers) + " out of range");
  }
  const double n_info = static_cast<double>(n_re) * code_rate * qm * layers;
  if (n_info <= 3824.0) {
    const int n = std::max(3, static_cast<int>(std::floor(std::log2(std::max(n_info, 1.0)))) - 6);
    const double step = std::ldexp(1.0, n);
    const double n_info_q = std::max(24.0, step * std::floor(n_info / step));
    for (int tbs : kTbsTable) {
      if (tbs >= n_info_q) {
        return tbs;
      }
    }
    return kTbsTable.back();
  }
  const int n = static_cast<int>(std::floor(std::log2(n_info - 24.0))) - 5;
  const double step = std::ldexp(1.0, n);
  // round(): 38.214 rounds half away from zero (ties to the larger value).
  const double n_info_q = std::max(3840.0, step * std::floor((n_info - 24.0) / step + 0.5));
  const auto nq = static_cast<long>(n_info_q);
  long tbs = 0;
  if (code_rate <= 0.25) {
    const long c = ceil_div(nq + 24, 3816);
    tbs = 8 * c * ceil_div(nq + 24, 8 * c) - 24;
  } else if (nq > 8424) {
    const long c = ceil_div(nq + 24, 8424);
    tbs = 8 * c * ceil_div(nq + 24, 8 * c) - 24;
  } else {
    tbs = 8 * ceil_div(nq + 24, 8) - 24;
  }
  if (tbs > kMaxTbBits) {
    throw std::invalid_argument("TBS " + std::to_string(tbs) + " exceeds the largest transport block");
  }
  return static_cast<int>(tbs);
}

}  // namespace amimo::fec
