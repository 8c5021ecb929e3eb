#include <amimo/fec/ldpc_decoder.h>

#include <stdexcept>
#include <string>

namespace amimo::fec {

// Defined next to each implementation.
std::unique_ptr<ldpc_decoder> make_layered_min_sum_decoder(base_graph bg, int z, const ldpc_decoder_config& cfg);
std::unique_ptr<ldpc_decoder> make_reference_bp_decoder(base_graph bg, int z, const ldpc_decoder_config& cfg);

std::unique_ptr<ldpc_decoder> create_ldpc_decoder(ldpc_decoder_kind kind, base_graph bg, int z,
                                                  const ldpc_decoder_config& config) {
  if (config.max_iterations < 1) {
    throw std::invalid_argument("ldpc decoder: max_iterations = " + std::to_string(config.max_iterations) +
                                " must be at least 1");
  }
  if (!(config.normalisation > 0.0f && config.normalisation <= 1.0f)) {
    throw std::invalid_argument("ldpc decoder: normalisation = " + std::to_string(config.normalisation) +
                                " is outside (0, 1]");
  }
  if (!(config.llr_scale > 0.0f)) {
    throw std::invalid_argument("ldpc decoder: llr_scale = " + std::to_string(config.llr_scale) + " must be positive");
  }
  switch (kind) {
    case ldpc_decoder_kind::layered_min_sum: return make_layered_min_sum_decoder(bg, z, config);
    case ldpc_decoder_kind::reference_bp: return make_reference_bp_decoder(bg, z, config);
  }
  throw std::invalid_argument("ldpc decoder: unknown kind");
}

}  // namespace amimo::fec
