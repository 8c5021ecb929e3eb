#include <amimo/demo/image_output.h>

#include <amimo/core/version.h>
#include <amimo/report/atomic_file.h>
#include <amimo/report/bitmap_font.h>
#include <amimo/report/png_image.h>
#include <amimo/report/text_table.h>
#include <channel_models/flat_models.h>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

namespace amimo::demo {
namespace {

std::string join_backends(const image_link_config& c) {
  std::string text;
  for (const backend_choice& b : c.backends) {
    std::string options;
    for (const auto& [key, value] : b.spec.options) options += (options.empty() ? "" : " ") + key + "=" + value;
    text += (text.empty() ? "" : ", ") + b.caption + " [" + b.spec.name + (options.empty() ? "" : " " + options) + "]";
  }
  return text;
}

std::string spec_text(const solver::solver_spec& spec) {
  std::string text = spec.name;
  char sep = ':';
  for (const auto& [key, value] : spec.options) {
    text += sep + key + "=" + value;
    sep = ';';
  }
  return text;
}

// A CSV field in double quotes, inner quotes doubled.
std::string csv_quote(const std::string& text) {
  std::string q = "\"";
  for (const char ch : text) q += ch == '"' ? std::string("\"\"") : std::string(1, ch);
  return q + "\"";
}

// Per right-hand side: one received vector's solve (or one column of a filter / SINR solve).
double modelled_nj_per_rhs(const backend_result& b) {
  const auto n = b.stats.right_hand_sides;
  return n == 0 ? 0.0 : 1e9 * b.stats.modelled_solve_joules / static_cast<double>(n);
}

double modelled_nj_per_program(const backend_result& b) {
  return b.stats.matrices == 0 ? 0.0 : 1e9 * b.stats.modelled_matrix_joules / static_cast<double>(b.stats.matrices);
}

std::string image_kind(const image_link_result& r) {
  return r.grayscale ? "gray, 8 bits/pixel" : "RGB, 24 bits/pixel";
}

}  // namespace

std::string format_psnr(double psnr) { return std::isinf(psnr) ? std::string("inf") : fmt::format("{:.2f}", psnr); }

std::string parameter_header(const image_link_config& c, const image_run_info& info, const image_link_result& r) {
  std::string h = "# ----------------------------------------------------\n";
  h += fmt::format("# amimo-image {} — image transmission recovery over a massive-MIMO uplink\n", version_string);
  h += "# Parameters:\n";
  const auto line = [&h](std::string_view key, const std::string& value) {
    h += fmt::format("#   {:<20}: {}\n", key, value);
  };
  line("command line", info.command_line);
  line("seed", std::to_string(c.seed));
  line("input", info.input);
  line("image", fmt::format("{}x{} ({})", r.width, r.height, image_kind(r)));
  line("antennas x users", fmt::format("{} x {}", c.antennas, c.users));
  line("modulation", std::string(modem::to_string(c.modulation)));
  line("detector", std::string(detect::to_string(c.detector)));
  line("detection mode", std::string(detect::to_string(c.mode)));
  line("channel", channel_models::describe(
                      channel_models::flat_channel_config{c.channel, c.antennas, c.users, c.rho_bs, c.rho_ue}, c.cdl));
  line("Es/N0 (dB)", fmt::format("{:g}", c.snr_db));
  line("vectors per channel", std::to_string(c.vectors_per_channel));
  line("solvers", join_backends(c));
  if (c.coding == "ldpc") {
    line("coding", fmt::format("5G NR LDPC, R {}, A = {} payload bits in G = {} coded bits per user and channel block, "
                               "layered min-sum {} it, alpha {}; failed blocks shown grey",
                               c.code_rate, r.tb_bits, r.g_bits, c.ldpc_iterations, c.ldpc_alpha));
  }
  line("payload", fmt::format("{} bits + {} zero padding bits, {} vectors, {} channel blocks", r.payload_bits,
                              r.padding_bits, r.vectors, r.channel_blocks));
  line("output", info.out.string());
  h += "# SNR convention: Es/N0 per user symbol per receive antenna (Es = 1, unit-power channel).\n";
  h += "# The image size and gray/RGB flag are side information known to the receiver.\n";
  h += "# ----------------------------------------------------\n";
  return h;
}

std::string result_table(const image_link_result& result) {
  const bool coded = result.tb_bits > 0;
  // The backend column fits the longest caption (analog captions name profile and mapping).
  int width = 16;
  for (const backend_result& b : result.backends) width = std::max(width, static_cast<int>(b.backend.caption.size()));
  std::vector<report::table_group> groups = {
      {"Backend", {{"backend", width}}},
      {"Recovered image (measured)", {{"bits", 9}, {"bit errors", 10}, {"BER", 9}, {"PSNR dB", 7}}}};
  if (coded) groups.push_back({"LDPC blocks (measured)", {{"blocks", 7}, {"failed", 7}}});
  groups.push_back({"Solver (nJ modelled)", {{"fallbacks", 9}, {"unresolved", 10}, {"nJ/RHS", 10}}});
  const report::text_table table(groups);
  std::string text = table.header();
  text += "# fallbacks: analog solves a digital fallback answered; unresolved: channel blocks the detector\n"
          "# could not use; nJ/RHS: modelled analog solve energy per right-hand side (one received\n"
          "# vector in per-vector mode; programming excluded, see image.json)\n";
  if (coded) {
    text += "# LDPC: bits / bit errors / BER over the payload of blocks whose CRC passed; a failed block's\n"
            "# pixels are grey in the recovered image\n";
  }
  for (const backend_result& b : result.backends) {
    std::vector<std::string> cells = {b.backend.caption, std::to_string(b.bits), std::to_string(b.bit_errors),
                                      b.bits == 0 ? std::string("-") : fmt::format("{:.3e}", b.ber),
                                      format_psnr(b.psnr_db)};
    if (coded) {
      cells.push_back(std::to_string(b.transport_blocks));
      cells.push_back(std::to_string(b.block_errors));
    }
    cells.push_back(std::to_string(b.stats.fallbacks));
    cells.push_back(std::to_string(b.unresolved_blocks));
    cells.push_back(b.modelled_cost ? fmt::format("{:.4g}", modelled_nj_per_rhs(b)) : std::string("-"));
    text += table.row(cells);
  }
  if (result.interrupted) {
    text += fmt::format("# interrupted after {} of {} channel blocks: the bits of the others are erased (not scored)\n",
                        result.blocks_sent, result.channel_blocks);
  }
  return text;
}

namespace {
double bler_of(const backend_result& b) {
  return b.transport_blocks == 0 ? 0.0 : static_cast<double>(b.block_errors) / static_cast<double>(b.transport_blocks);
}
}  // namespace

std::string to_csv(const image_link_result& result) {
  std::string csv =
      "backend,caption,solver_spec,bits,bit_errors,ber,mse,psnr_db,solves,fallbacks,unresolved_blocks,"
      "cpu_seconds_measured,modelled_nj_per_rhs,modelled_nj_per_program,file,erased_bits,transport_blocks,"
      "block_errors,bler,undetected_block_errors,channel_bits,channel_bit_errors\n";
  for (const backend_result& b : result.backends) {
    csv += fmt::format("{},{},{},{},{},{},{:.6g},{},{},{},{},{:.6g},{},{},recovered-{}.png,{},{},{},{:.6g},{},{},{}\n",
                       b.backend.slug, csv_quote(b.backend.caption), csv_quote(spec_text(b.backend.spec)), b.bits, b.bit_errors,
                       b.bits == 0 ? std::string() : fmt::format("{:.6e}", b.ber),
                       b.mse, std::isinf(b.psnr_db) ? std::string("inf") : fmt::format("{:.4f}", b.psnr_db), b.stats.solves, b.stats.fallbacks, b.unresolved_blocks,
                       b.stats.measured_seconds,
                       b.modelled_cost ? fmt::format("{:.6g}", modelled_nj_per_rhs(b)) : std::string(),
                       b.modelled_cost ? fmt::format("{:.6g}", modelled_nj_per_program(b)) : std::string(),
                       b.backend.slug, b.erased_bits, b.transport_blocks, b.block_errors, bler_of(b),
                       b.undetected_block_errors, b.channel_bits, b.channel_bit_errors);
  }
  return csv;
}

std::string to_json(const image_link_config& c, const image_run_info& info, const image_link_result& r) {
  nlohmann::ordered_json params;
  params["version"] = version_string;
  params["command_line"] = info.command_line;
  params["seed"] = c.seed;
  params["input"] = info.input;
  params["antennas"] = c.antennas;
  params["users"] = c.users;
  params["modulation"] = modem::to_string(c.modulation);
  params["detector"] = detect::to_string(c.detector);
  params["detection_mode"] = detect::to_string(c.mode);
  params["channel"] = c.channel;
  params["rho_bs"] = c.rho_bs;
  params["rho_ue"] = c.rho_ue;
  params["channel_description"] =
      channel_models::describe(channel_models::flat_channel_config{c.channel, c.antennas, c.users, c.rho_bs, c.rho_ue}, c.cdl);
  for (const auto& [key, value] : channel_models::cdl_geometry_fields(c.cdl)) params["cdl"][key] = value;
  params["snr_db"] = c.snr_db;
  params["vectors_per_channel"] = c.vectors_per_channel;
  params["coding"] = c.coding;
  if (c.coding == "ldpc") {
    params["code_rate"] = c.code_rate;
    params["tb_bits"] = r.tb_bits;
    params["g_bits"] = r.g_bits;
    params["ldpc_iterations"] = c.ldpc_iterations;
    params["ldpc_alpha"] = c.ldpc_alpha;
    params["failed_blocks_shown_as"] = "grey pixels (128, 128, 128)";
  }
  params["snr_convention"] = "Es/N0 per user symbol per receive antenna, Es = 1, unit-power channel entries";

  nlohmann::ordered_json image;
  image["width"] = r.width;
  image["height"] = r.height;
  image["grayscale"] = r.grayscale;
  image["bits_per_pixel"] = r.grayscale ? 8 : 24;
  image["payload_bits"] = r.payload_bits;
  image["padding_bits"] = r.padding_bits;
  image["vectors"] = r.vectors;
  image["channel_blocks"] = r.channel_blocks;
  image["channel_blocks_sent"] = r.blocks_sent;
  image["interrupted"] = r.interrupted;
  image["side_information"] = "width, height and the gray/RGB flag are known to the receiver";

  nlohmann::ordered_json backends = nlohmann::ordered_json::array();
  for (const backend_result& b : r.backends) {
    nlohmann::ordered_json j;
    j["backend"] = b.backend.slug;
    j["caption"] = b.backend.caption;
    j["solver"] = b.backend.spec.name;
    j["options"] = b.backend.spec.options;
    j["file"] = "recovered-" + b.backend.slug + ".png";
    nlohmann::ordered_json m;
    m["bits"] = b.bits;
    m["bit_errors"] = b.bit_errors;
    m["ber"] = b.bits == 0 ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(b.ber);  // nothing scored
    m["mse"] = b.mse;
    m["psnr_db"] = std::isinf(b.psnr_db) ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(b.psnr_db);
    // Every payload bit received and right: an erased bit (a stream the detector could not
    // resolve, a block not sent before an interruption) is not.
    m["lossless"] = b.bit_errors == 0 && b.block_errors == 0 && b.erased_bits == 0;
    if (c.coding == "ldpc") {
      m["transport_blocks"] = b.transport_blocks;
      m["block_errors"] = b.block_errors;
      m["bler"] = bler_of(b);
      m["undetected_block_errors"] = b.undetected_block_errors;
      m["channel_bits"] = b.channel_bits;
      m["channel_bit_errors"] = b.channel_bit_errors;
    }
    m["unresolved_blocks"] = b.unresolved_blocks;
    m["erased_bits"] = b.erased_bits;
    m["cpu_seconds"] = b.stats.measured_seconds;
    j["measured"] = m;
    nlohmann::ordered_json s;
    s["matrices"] = b.stats.matrices;
    s["solves"] = b.stats.solves;
    s["right_hand_sides"] = b.stats.right_hand_sides;
    s["failed_solves"] = b.stats.failed_solves;
    s["fallbacks"] = b.stats.fallbacks;
    s["mean_iterations"] = b.stats.mean_iterations();
    j["solver_stats"] = s;
    if (b.modelled_cost) {
      nlohmann::ordered_json mod;
      mod["nj_per_rhs"] = modelled_nj_per_rhs(b);
      mod["ns_per_rhs"] = b.stats.right_hand_sides == 0
                              ? 0.0
                              : 1e9 * b.stats.modelled_solve_seconds / static_cast<double>(b.stats.right_hand_sides);
      mod["nj_per_program"] = modelled_nj_per_program(b);
      mod["solve_joules_total"] = b.stats.modelled_solve_joules;
      mod["program_joules_total"] = b.stats.modelled_matrix_joules;
      j["modelled"] = mod;
    }
    backends.push_back(std::move(j));
  }

  nlohmann::ordered_json root;
  root["parameters"] = params;
  root["image"] = image;
  root["backends"] = backends;
  return root.dump(2) + "\n";
}

report::rgb_image render_mosaic(const report::rgb_image& original, const image_link_config& c,
                                const image_link_result& r) {
  constexpr int pad = 10;
  constexpr int line_gap = 3;
  const report::rgb background{255, 255, 255};
  const report::rgb ink{0, 0, 0};
  const report::rgb frame{150, 150, 150};

  // Integer scale: small images grow to at least 256 px, large ones shrink to at most 512.
  const int longest = std::max(original.width(), original.height());
  const int up = longest < 256 ? (256 + longest - 1) / longest : 1;
  const int down = longest > 512 ? (longest + 511) / 512 : 1;
  const int tile_w = (original.width() * up + down - 1) / down;
  const int tile_h = (original.height() * up + down - 1) / down;

  struct tile {
    const report::rgb_image* image;
    std::vector<std::string> lines;
  };
  std::vector<tile> tiles;
  tiles.push_back({&original, {"original", fmt::format("{}x{} {}", r.width, r.height, r.grayscale ? "gray" : "RGB"),
                               fmt::format("{} bits", r.payload_bits)}});
  for (const backend_result& b : r.backends) {
    // Coded: the failed (grey) blocks are what matters; BER is over the blocks that passed.
    tiles.push_back({&b.image, {b.backend.caption,
                                b.transport_blocks > 0 ? fmt::format("{}/{} blocks grey{}", b.block_errors, b.transport_blocks,
                                                                     r.interrupted ? " (+ not sent)" : "")
                                : b.bits == 0          ? std::string("BER -")
                                                       : fmt::format("BER {:.2e}", b.ber),
                                fmt::format("PSNR {} dB", format_psnr(b.psnr_db))}});
  }

  // Text at 2× under tiles of 256 px and more, so captions stay readable next to them.
  const int ts = tile_w >= 256 ? 2 : 1;
  int cell_w = tile_w;
  for (const tile& t : tiles) {
    for (const std::string& l : t.lines) cell_w = std::max(cell_w, report::text_width(l, ts));
  }
  const int caption_h = 3 * (report::text_height(ts) + line_gap * ts);
  const int cell_h = tile_h + 4 + caption_h;
  const int n = static_cast<int>(tiles.size());
  const int cols = std::max(1, static_cast<int>(std::ceil(std::sqrt(1.5 * n))));
  const int columns = std::min(cols, n);
  const int rows = (n + columns - 1) / columns;

  const std::string channel = c.channel == "kronecker"   ? fmt::format("kronecker {:g}/{:g}", c.rho_bs, c.rho_ue)
                              : c.channel.starts_with("cdl-") ? fmt::format("{} {} ant {:g} lambda", c.channel,
                                                                            c.cdl.array_rows == 1 ? "ULA" : "UPA",
                                                                            c.cdl.element_spacing)
                                                              : c.channel;
  const std::string title1 = fmt::format("amimo-image: {}x{} {} {} {} {}, Es/N0 {:g} dB, seed {}", c.antennas, c.users,
                                         modem::to_string(c.modulation), detect::to_string(c.detector),
                                         detect::to_string(c.mode), channel, c.snr_db, c.seed);
  const std::string title2 = "BER and PSNR measured (simulation); PSNR peak 255 over R,G,B";
  const int title_h = 2 * (report::text_height(ts) + line_gap * ts) + pad;
  const int grid_w = pad + columns * (cell_w + pad);
  const int width = std::max(grid_w,
                             2 * pad + std::max(report::text_width(title1, ts), report::text_width(title2, ts)));
  const int height = pad + title_h + rows * (cell_h + pad);
  report::rgb_image mosaic(width, height, background);
  const int grid_x = (width - grid_w) / 2;
  report::draw_text(mosaic, pad, pad, title1, ink, ts);
  report::draw_text(mosaic, pad, pad + report::text_height(ts) + line_gap * ts, title2, ink, ts);

  for (int i = 0; i < n; ++i) {
    const int x0 = grid_x + pad + (i % columns) * (cell_w + pad) + (cell_w - tile_w) / 2;
    const int y0 = pad + title_h + (i / columns) * (cell_h + pad);
    const report::rgb_image& img = *tiles[static_cast<std::size_t>(i)].image;
    for (int y = 0; y < tile_h; ++y) {
      for (int x = 0; x < tile_w; ++x) {
        const int sx = std::min(img.width() - 1, x * down / up);
        const int sy = std::min(img.height() - 1, y * down / up);
        mosaic.set_pixel(x0 + x, y0 + y, img.pixel(sx, sy));
      }
    }
    for (int x = -1; x <= tile_w; ++x) {
      mosaic.set_pixel(x0 + x, y0 - 1, frame);
      mosaic.set_pixel(x0 + x, y0 + tile_h, frame);
    }
    for (int y = -1; y <= tile_h; ++y) {
      mosaic.set_pixel(x0 - 1, y0 + y, frame);
      mosaic.set_pixel(x0 + tile_w, y0 + y, frame);
    }
    int ty = y0 + tile_h + 5;
    for (const std::string& l : tiles[static_cast<std::size_t>(i)].lines) {
      const int cx = grid_x + pad + (i % columns) * (cell_w + pad) + (cell_w - report::text_width(l, ts)) / 2;
      report::draw_text(mosaic, cx, ty, l, ink, ts);
      ty += report::text_height(ts) + line_gap * ts;
    }
  }
  return mosaic;
}

void write_outputs(const report::rgb_image& original, const image_link_config& config,
                   const image_run_info& info, const image_link_result& result) {
  report::ensure_writable_directory(info.out);
  // The images, CSV and JSON are one result: all encoded first, then written as a set, so a
  // failure midway (a full disk, a directory in the way) leaves the previous run's files as
  // they were instead of new ones beside an older run's.
  std::vector<std::string> contents;
  std::vector<std::filesystem::path> names;
  contents.reserve(result.backends.size() + 4);
  names.reserve(result.backends.size() + 4);
  contents.push_back(report::encode_png(original));
  names.emplace_back("original.png");
  for (const backend_result& b : result.backends) {
    contents.push_back(report::encode_png(b.image));
    names.emplace_back("recovered-" + b.backend.slug + ".png");
  }
  contents.push_back(report::encode_png(render_mosaic(original, config, result)));
  names.emplace_back("mosaic.png");
  contents.push_back(to_csv(result));
  names.emplace_back("image.csv");
  contents.push_back(to_json(config, info, result));
  names.emplace_back("image.json");
  std::vector<report::output_file> files;
  files.reserve(contents.size());
  for (std::size_t i = 0; i < contents.size(); ++i) files.push_back({info.out / names[i], contents[i]});
  report::write_file_set_atomically(files);
}

}  // namespace amimo::demo
