#pragma once
// The uplink emulator's user sum, Y_a(f) = Σ_k H_ak(f) X_k(f), for up to four antennas at a
// time (each user's symbol row loaded once for all of them), in single precision.
//
// Defined arithmetic, so the AVX2 path and the portable one give the same bits: per
// subcarrier, with h = H_ak(f) and x = X_k(f), four running sums over the users
//   p_re = fma(h_re, x_re, p_re)   p_im = fma(h_im, x_re, p_im)
//   q_re = fma(h_im, x_im, q_re)   q_im = fma(h_re, x_im, q_im)
// from 0, and y = (p_re − q_re, p_im + q_im).

#include <amimo/core/types.h>

#include <cstddef>

namespace amimo::ofdm {

inline constexpr int kUserSumAntennas = 4;

/// dst[i][j] = Σ_{m < users} h[i·users + m][offset + j] · x[m][offset + j] for
/// i < antennas (≤ kUserSumAntennas), j < length; 0 where users == 0. AVX2/FMA where the
/// build has it.
void user_sum(cf32* const* dst, int antennas, const cf32* const* h, const cf32* const* x, int users,
              std::ptrdiff_t offset, std::ptrdiff_t length) noexcept;

/// The same sums, one subcarrier at a time with std::fma (the definition; for tests).
void user_sum_portable(cf32* const* dst, int antennas, const cf32* const* h, const cf32* const* x, int users,
                       std::ptrdiff_t offset, std::ptrdiff_t length) noexcept;

}  // namespace amimo::ofdm
