// <complex> must precede liquid.h so liquid_float_complex is std::complex<float>.
#include <complex>
#include <liquid/liquid.h>

#include <amimo/core/error.h>
#include <amimo/modem/liquid_constellation.h>

#include <memory>

namespace amimo::modem {
namespace {

struct modemcf_deleter {
  void operator()(modemcf_s* q) const noexcept { modemcf_destroy(q); }
};
using modemcf_ptr = std::unique_ptr<modemcf_s, modemcf_deleter>;

modulation_scheme liquid_scheme(modulation m) {
  switch (m) {
    case modulation::bpsk: return LIQUID_MODEM_BPSK;
    case modulation::qpsk: return LIQUID_MODEM_QPSK;
    case modulation::qam16: return LIQUID_MODEM_QAM16;
    case modulation::qam64: return LIQUID_MODEM_QAM64;
    case modulation::qam256: return LIQUID_MODEM_QAM256;
  }
  return LIQUID_MODEM_UNKNOWN;
}

modemcf_ptr make_modem(modulation m) {
  modemcf_ptr q(modemcf_create(liquid_scheme(m)));
  if (!q) {
    throw config_error("liquid-dsp could not create a modem for " + std::string(to_string(m)));
  }
  return q;
}

}  // namespace

std::vector<cf64> liquid_constellation(modulation m) {
  const modemcf_ptr q = make_modem(m);
  const unsigned size = 1U << modemcf_get_bps(q.get());
  std::vector<cf64> points(size);
  for (unsigned label = 0; label < size; ++label) {
    std::complex<float> x;
    modemcf_modulate(q.get(), label, &x);
    points[label] = cf64(x.real(), x.imag());
  }
  return points;
}

std::vector<unsigned> liquid_hard_decisions(modulation m, const std::vector<cf64>& samples) {
  const modemcf_ptr q = make_modem(m);
  std::vector<unsigned> labels(samples.size());
  for (std::size_t i = 0; i < samples.size(); ++i) {
    const std::complex<float> x(static_cast<float>(samples[i].real()), static_cast<float>(samples[i].imag()));
    modemcf_demodulate(q.get(), x, &labels[i]);
  }
  return labels;
}

}  // namespace amimo::modem
