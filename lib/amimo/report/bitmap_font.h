#pragma once
// An embedded 5x7 bitmap font (printable ASCII 0x20..0x7E, with one descender row) so plots
// can carry text without depending on a font package or a rasteriser.

#include <amimo/report/png_image.h>

#include <array>
#include <cstdint>
#include <string_view>

namespace amimo::report {

inline constexpr int glyph_width = 5;    ///< Ink columns per glyph.
inline constexpr int glyph_height = 8;   ///< Rows per glyph: 7 above the baseline, 1 descender.
inline constexpr int glyph_advance = 6;  ///< Horizontal distance between glyph origins.

/// Rows of a glyph, top first; bit 4 is the leftmost column. Characters outside
/// 0x20..0x7E render as '?'.
using glyph_rows = std::array<std::uint8_t, glyph_height>;
const glyph_rows& glyph(char c) noexcept;

/// Width in pixels of text drawn at the given scale (no trailing gap after the last glyph).
int text_width(std::string_view text, int scale = 1) noexcept;
/// Height in pixels of one line of text at the given scale.
constexpr int text_height(int scale = 1) noexcept { return glyph_height * scale; }

/// Draws text with its top-left corner at (x, y); each font pixel becomes a scale x scale block.
void draw_text(rgb_image& image, int x, int y, std::string_view text, rgb colour,
               int scale = 1) noexcept;

/// Draws text rotated 90 degrees counter-clockwise (reading bottom to top, as on a y axis).
/// (x, y) is the top-left corner of the rotated box, which is text_height(scale) wide and
/// text_width(text, scale) tall.
void draw_text_vertical(rgb_image& image, int x, int y, std::string_view text, rgb colour,
                        int scale = 1) noexcept;

}  // namespace amimo::report
