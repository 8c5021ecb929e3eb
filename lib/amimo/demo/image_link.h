#pragma once
// The image-transmission recovery demo (amimo-image): an image goes through a massive-MIMO
// uplink and every solver backend in a list recovers it from the same received samples.
//
// Transmit chain: pixels → bits (8 bits per pixel when every pixel is gray, r == g == b,
// else 24 bits per pixel in the order r, g, b; most significant bit first; rows top to
// bottom) → Gray-mapped QAM → K users' symbols, user k of vector t carrying symbol t·K + k
// → y = H s + n with H from a flat channel model (a new realisation every
// vectors_per_channel received vectors) and n ~ CN(0, N0), snr_db = Es/N0 (DESIGN.md §2).
// The last vector's missing bits are zeros. The image size and the gray/colour flag are
// side information the receiver knows; they are not transmitted.
//
// Receive chain, once per backend on the SAME y: linear_detector (ZF or MMSE, per-vector or
// per-block) through that backend → hard decisions → bits → pixels. Every backend sees the
// same channel and noise realisations, and the analog backends share one chip seed and
// per-block noise streams, so the only difference between two images is the backend.
//
// Everything is seeded: block b draws its channel and noise from derive_seed(seed, {0, b});
// solvers are created with seed and reseeded with derive_seed(seed, {1, b}) per block.

#include <amimo/detect/linear_detector.h>
#include <amimo/fec/transport_block.h>
#include <amimo/modem/modulation.h>
#include <amimo/report/png_image.h>
#include <amimo/solver/accounting_solver.h>
#include <amimo/solver/solver_factory.h>
#include <channel_models/cdl_geometry.h>

#include <atomic>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace amimo::demo {

/// One backend of the comparison: the factory spec, a caption for tables and the mosaic
/// ("analog 2 it (feedback-board, feedback mapping)") and a file-name slug ("analog-2-it",
/// unique within a list; without the profile label).
struct backend_choice {
  solver::solver_spec spec;
  std::string caption;
  std::string slug;
};

/// Parses a comma-separated backend list, each entry `name[:key=value[:key=value…]]`
/// (';' may separate options too), e.g. "digital-f32,analog:iters=2,analog:iters=3;profile=ideal,analog-lp".
/// A piece without '=' continues the previous value, so `remote:endpoint=tcp://host:5555`
/// works. Every spec is checked with solver::validate_solver_spec; throws config_error
/// naming the entry for an empty entry, a piece that is not key=value, a repeated key, an
/// unknown backend or option, or a bad value.
std::vector<backend_choice> parse_backend_list(std::string_view text);

/// Caption of one spec: "digital-f32", "analog 3 it" (effective iterations of the analog
/// profile with the options applied), "analog-lp", plus any other options as " key=value";
/// an analog caption ends with its profile and LP-INV mapping, "(paper-board, paper mapping)".
std::string backend_caption(const solver::solver_spec& spec);

/// Whether the backend's figures include modelled analog cost (analog, analog-lp, or a
/// remote service running one).
bool reports_modelled_cost(const solver::solver_spec& spec);

struct image_link_config {
  int antennas = 16;                 ///< N receive antennas
  int users = 4;                     ///< K single-antenna users
  modem::modulation modulation = modem::modulation::qam16;
  detect::detector_kind detector = detect::detector_kind::zf;
  detect::detection_mode mode = detect::detection_mode::per_vector;
  std::string channel = "rayleigh";  ///< flat model: rayleigh | kronecker | awgn | cdl-a … cdl-e
  double rho_bs = 0.0;               ///< Kronecker correlation at the base station
  double rho_ue = 0.0;               ///< Kronecker correlation between users
  channel_models::cdl_geometry cdl;  ///< CDL: BS array and angle spreads (per-subcarrier draws)
  double snr_db = 20.0;              ///< Es/N0 in dB
  int vectors_per_channel = 16;      ///< received vectors per channel realisation
  std::uint64_t seed = 1;
  std::vector<backend_choice> backends;  ///< at least one
  /// "none": the image bits go straight onto the symbols (hard decisions).
  /// "ldpc": the image bits are cut into 5G NR LDPC transport blocks, one per user and channel
  /// block (G = vectors_per_channel × bits per symbol coded bits, A from the 38.214 TBS for
  /// code_rate; amimo/fec/link_coding.h), decoded from max-log LLRs; a block whose CRC fails
  /// is not used: its pixels are shown grey and its bits counted as failed.
  std::string coding = "none";
  double code_rate = 0.5;
  int ldpc_iterations = 10;
  double ldpc_alpha = 0.75;
};

/// Grey of the pixels whose bits came in a transport block that failed its CRC.
inline constexpr report::rgb kFailedBlockGrey{128, 128, 128};

/// Largest image the demo accepts (pixels), so a huge PNG is an error, not an hours-long run.
inline constexpr long long max_image_pixels = 4LL * 1024 * 1024;

/// Checks sizes, ZF with K > N, the SNR (finite, −50…100 dB), the channel model and its
/// correlations, vectors_per_channel (1…4096) and the backend list. Throws config_error.
void validate(const image_link_config& config);

/// coding ldpc: the transport block of one user and channel block. Throws config_error when
/// G = vectors_per_channel × bits per symbol cannot carry one at code_rate.
fec::transport_block_config image_transport_block(const image_link_config& config);

/// True when every pixel has r == g == b (sent with 8 bits per pixel).
bool is_grayscale(const report::rgb_image& image) noexcept;

/// Payload bits of the image (8 or 24 per pixel, MSB first); 0/1 values.
std::vector<bit> image_to_bits(const report::rgb_image& image, bool grayscale);

/// Inverse of image_to_bits for a width×height image; bits.size() must be at least
/// width·height·(8 or 24) (extra bits are padding and ignored).
report::rgb_image bits_to_image(std::span<const bit> bits, int width, int height, bool grayscale);

/// Mean squared error over all pixels and all three channels (same sizes required;
/// throws std::invalid_argument otherwise).
double mean_squared_error(const report::rgb_image& a, const report::rgb_image& b);

/// PSNR in dB with peak 255, 10·log10(255² / MSE); +∞ when the images are identical.
double psnr_db(const report::rgb_image& a, const report::rgb_image& b);

/// The embedded default test image: colour gradients, a few shapes and the text "amimo".
report::rgb_image default_test_image(int width = 128, int height = 128);

/// What one backend recovered.
struct backend_result {
  backend_choice backend;
  report::rgb_image image{1, 1};
  std::uint64_t bits = 0;            ///< payload bits scored (padding and erased bits excluded)
  std::uint64_t erased_bits = 0;     ///< payload bits of erased streams (not scored; shown in the image)
  std::uint64_t bit_errors = 0;      ///< measured
  double ber = 0.0;                  ///< bit_errors / bits (measured)
  double mse = 0.0;                  ///< against the original (measured)
  double psnr_db = 0.0;              ///< +∞ when identical (measured)
  std::uint64_t unresolved_blocks = 0;  ///< channel blocks the detector could not resolve
  // coding ldpc (0 otherwise). bits/bit_errors/ber then count the payload bits of blocks whose
  // CRC passed; erased_bits the payload bits of failed blocks (shown grey).
  std::uint64_t transport_blocks = 0;
  std::uint64_t block_errors = 0;             ///< CRC failed (measured)
  std::uint64_t undetected_block_errors = 0;  ///< CRC passed but payload wrong (measured)
  std::uint64_t channel_bits = 0;             ///< coded bits decided (uncoded BER beside BLER)
  std::uint64_t channel_bit_errors = 0;
  bool modelled_cost = false;        ///< the stats carry modelled analog time/energy
  solver::solver_stats stats;        ///< solves, fallbacks, modelled cost, measured time
};

struct image_link_result {
  int width = 0;
  int height = 0;
  bool grayscale = false;
  std::uint64_t payload_bits = 0;   ///< width·height·(8 or 24)
  std::uint64_t padding_bits = 0;   ///< zeros filling the last vector
  std::uint64_t vectors = 0;        ///< received vectors (channel uses)
  std::uint64_t channel_blocks = 0; ///< channel realisations
  std::uint64_t blocks_sent = 0;    ///< channel blocks sent before the end (or an interruption)
  bool interrupted = false;         ///< stopped early: the blocks not sent are erased (not scored)
  double n0 = 0.0;                  ///< noise variance per receive antenna
  int tb_bits = 0;                  ///< coding ldpc: A per transport block (payload bits)
  int g_bits = 0;                   ///< coding ldpc: G per transport block (coded bits)
  std::vector<backend_result> backends;
};

/// The link's plan for this image without running it: size, gray flag, payload and padding
/// bits, vectors and channel blocks (backends empty). Validates the config and the image
/// size (at most max_image_pixels); throws config_error.
image_link_result plan_image_link(const report::rgb_image& image, const image_link_config& config);

/// Sends the image through the link and recovers it with every backend of the config.
/// Validates the config first (config_error). Numerical trouble is data: unresolved
/// channels and fallbacks are counted in the result. `stop` (a signal handler's flag) is
/// checked before each channel block: once set, no more blocks are sent, and the bits of
/// those not sent are erased (uncoded: not scored, shown as decided from 0; coded: failed,
/// shown grey), with `interrupted` set.
image_link_result run_image_link(const report::rgb_image& image, const image_link_config& config,
                                 const std::atomic<bool>* stop = nullptr);

}  // namespace amimo::demo
