#pragma once
// What amimo-image prints and writes: the run header, the result table, image.csv,
// image.json and the mosaic (the original and every recovered image side by side, each
// captioned with its backend, measured BER and measured PSNR).
//
// Figures carry their nature: BER, PSNR, bit errors and CPU time are measured in this
// simulation; analog time and energy are modelled (lib/amimo/analog/cost_model.h). A PSNR of
// +∞ (identical images) is "inf" in text and CSV, and null with "lossless": true in JSON.

#include <amimo/demo/image_link.h>

#include <filesystem>
#include <string>

namespace amimo::demo {

/// What the run was: the config plus where the image came from, for headers and JSON.
struct image_run_info {
  std::string command_line;
  std::string input;  ///< a PNG path, or "(embedded default test image)"
  std::filesystem::path out;
};

/// "# ..." lines: version, command line, seed and every parameter.
std::string parameter_header(const image_link_config& config, const image_run_info& info,
                             const image_link_result& result);

/// The result table (header and one row per backend).
std::string result_table(const image_link_result& result);

/// PSNR as text: "inf" or two decimals.
std::string format_psnr(double psnr_db);

/// image.csv: one row per backend.
std::string to_csv(const image_link_result& result);

/// image.json: parameters, image facts and one object per backend.
std::string to_json(const image_link_config& config, const image_run_info& info,
                    const image_link_result& result);

/// The mosaic: a title line, then a grid of tiles (original first), each image scaled by
/// an integer factor (up to at least 256 pixels on its longer side, down to at most 512), a caption under
/// it (backend; BER; PSNR).
report::rgb_image render_mosaic(const report::rgb_image& original, const image_link_config& config,
                                const image_link_result& result);

/// Writes original.png, recovered-<slug>.png per backend, mosaic.png, image.csv and
/// image.json into info.out (created if needed) as one set (report::write_file_set_atomically):
/// either all are replaced or, on failure, none. Throws io_error.
void write_outputs(const report::rgb_image& original, const image_link_config& config,
                   const image_run_info& info, const image_link_result& result);

}  // namespace amimo::demo
