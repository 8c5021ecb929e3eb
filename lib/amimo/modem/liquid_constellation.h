#pragma once
// The constellation of liquid-dsp's modemcf for a scheme, read out through an RAII
// wrapper. liquid-dsp is only included by liquid_constellation.cpp.

#include <amimo/core/types.h>
#include <amimo/modem/modulation.h>

#include <vector>

namespace amimo::modem {

/// Point for every label 0..M-1 as liquid-dsp's modulator emits it (Gray-mapped, label
/// bits most significant first).
std::vector<cf64> liquid_constellation(modulation m);

/// Labels liquid-dsp's hard demodulator decides for received samples (used by tests as an
/// independent reference for amimo's slicer).
std::vector<unsigned> liquid_hard_decisions(modulation m, const std::vector<cf64>& samples);

}  // namespace amimo::modem
