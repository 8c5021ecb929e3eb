#pragma once
// Throughput and energy models of the digital baselines the analog HP-INV solver is
// compared with (DESIGN.md §1.2), as pure functions so their arithmetic can be checked by
// hand. Every figure they return is MODELLED; only the CPU helper turns a MEASURED wall
// time into figures (its energy is still modelled: time × a stated power per core).
//
// Conventions: a "solve" is one right-hand side. Systems come in blocks of one matrix and
// rhs_per_matrix right-hand sides (a coherence block), so a factorisation, or the
// programming of an analog array, is amortised over rhs_per_matrix solves. FLOPs are real
// floating-point operations: Cholesky of an n×n matrix n³/3, forward plus back substitution
// 2n² per right-hand side; complex arithmetic counts 4× (a complex multiply-add is 8 real
// FLOPs against 2). Data are FP32 (4 bytes per real, 8 per complex element).

#include <string>

namespace amimo::perf {

/// Real n×n systems or complex (Hermitian) ones.
enum class arithmetic { real, complex };

/// Real FLOPs of one matrix: its factorisation and each right-hand side's substitutions.
struct flop_count {
  double factor = 0.0;   ///< n³/3 (real), 4n³/3 (complex)
  double per_rhs = 0.0;  ///< 2n² (real), 8n² (complex)
};

/// Cholesky FLOP count of an n×n system (n ≥ 1).
flop_count cholesky_flops(int n, arithmetic arith) noexcept;

/// FLOPs per solve with the factorisation amortised: factor / rhs_per_matrix + per_rhs.
double flops_per_solve(int n, arithmetic arith, int rhs_per_matrix) noexcept;

/// Bytes moved to or from memory per solve in a batched factor-and-solve: per matrix,
/// A is read, the factor written and read back by the solves (3n² elements); per
/// right-hand side b is read and x written (2n elements). FP32 elements: 4 bytes (real),
/// 8 (complex).
double bytes_per_solve(int n, arithmetic arith, int rhs_per_matrix) noexcept;

/// Time, rate and energy per solve.
struct throughput_energy {
  double seconds_per_solve = 0.0;
  double solves_per_s = 0.0;
  double joules_per_solve = 0.0;
};

/// Roofline model of a GPU running many small batched Cholesky factor-and-solves in FP32.
struct gpu_roofline_params {
  std::string device = "NVIDIA H100 SXM5";
  double peak_flops = 67e12;   ///< FP32 non-tensor FLOP/s
  double memory_bw = 3.35e12;  ///< HBM3 bytes/s
  double board_watts = 700.0;  ///< board power at full load (TDP), W
  /// Fraction of the roofline small batched factorisations reach (kernel launch, warp
  /// under-use for n ≪ 1024, pivot/triangular dependencies).
  double efficiency = 0.2;
  std::string source =
      "NVIDIA H100 Tensor Core GPU datasheet (SXM5: FP32 67 TFLOP/s, HBM3 3.35 TB/s, up to 700 W); "
      "efficiency 0.2 assumed, the order MAGMA batched Cholesky reaches for n <= 256 "
      "(Abdelfattah et al., ICCS 2016 / IPDPS 2017)";
};

/// time = max(flops / peak, bytes / bandwidth) / efficiency per solve, energy = time ×
/// board power, rate = 1 / time.
throughput_energy gpu_roofline(const gpu_roofline_params& gpu, int n, arithmetic arith, int rhs_per_matrix) noexcept;

/// A digital ASIC at a stated energy per FLOP and FLOP rate.
struct asic_params {
  double pj_per_flop = 2.3;   ///< pJ per real FP32 FLOP
  double flops_per_s = 1e12;  ///< sustained FP32 FLOP/s of the detector datapath
  std::string source =
      "2.3 pJ/FLOP: FP32 multiply 3.7 pJ + add 0.9 pJ per multiply-add (2 FLOPs) in 45 nm, "
      "arithmetic only (Horowitz, ISSCC 2014); 1 TFLOP/s assumed";
};

/// energy = flops × pJ/FLOP, time = flops / FLOP rate, per solve.
throughput_energy asic_model(const asic_params& asic, int n, arithmetic arith, int rhs_per_matrix) noexcept;

/// CPU figures from a MEASURED run: `solves` solves in wall_seconds on `threads` cores.
/// rate = solves / wall; energy per solve = wall × threads × watts_per_core / solves
/// (modelled energy: this machine has no RAPL counters). Zero solves give rate 0 and NaN
/// per-solve time and energy.
throughput_energy cpu_figures(double wall_seconds, double solves, int threads, double watts_per_core) noexcept;

/// Analog figures from the cost model's MODELLED per-solve and per-matrix costs, one chip
/// answering solves back to back. rhs_per_matrix > 0 amortises programming over that many
/// solves (time and energy per solve + programming / rhs_per_matrix); rhs_per_matrix = 0
/// leaves programming out (a matrix programmed once and reused indefinitely).
throughput_energy analog_figures(double solve_seconds, double solve_joules, double programming_seconds,
                                 double programming_joules, int rhs_per_matrix) noexcept;

}  // namespace amimo::perf
