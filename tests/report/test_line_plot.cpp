#include <amimo/core/error.h>
#include <amimo/report/bitmap_font.h>
#include <amimo/report/line_plot.h>
#include <amimo/report/png_image.h>

#include <gtest/gtest.h>
#include <png.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <set>
#include <string>
#include <vector>

namespace amimo::report {
namespace {

namespace fs = std::filesystem;

// Hand-made PNGs (generated with Python's zlib/struct), so the conversions are checked
// against files this library did not write.
// 3x1 gray+alpha: (0, opaque), (200, opaque), (77, fully transparent).
const unsigned char gray_alpha_png[] = {
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44,
    0x52, 0x00, 0x00, 0x00, 0x03, 0x00, 0x00, 0x00, 0x01, 0x08, 0x04, 0x00, 0x00, 0x00, 0xb1,
    0xe9, 0xdc, 0x3f, 0x00, 0x00, 0x00, 0x0f, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0x60,
    0xf8, 0x7f, 0xe2, 0xbf, 0x2f, 0x03, 0x00, 0x0b, 0xb9, 0x03, 0x14, 0x1f, 0x28, 0x70, 0x19,
    0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82};
// 2x2 palette {red, green, (10,20,30)}, indices [0 1; 2 0].
const unsigned char palette_png[] = {
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44,
    0x52, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x02, 0x08, 0x03, 0x00, 0x00, 0x00, 0x45,
    0x68, 0xfd, 0x16, 0x00, 0x00, 0x00, 0x09, 0x50, 0x4c, 0x54, 0x45, 0xff, 0x00, 0x00, 0x00,
    0xff, 0x00, 0x0a, 0x14, 0x1e, 0xd9, 0x7e, 0x4d, 0xe7, 0x00, 0x00, 0x00, 0x0e, 0x49, 0x44,
    0x41, 0x54, 0x78, 0x9c, 0x63, 0x60, 0x60, 0x64, 0x60, 0x62, 0x00, 0x00, 0x00, 0x0e, 0x00,
    0x04, 0xc6, 0x88, 0x7c, 0xf8, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42,
    0x60, 0x82};
// 2x1 8-bit gray: 0, 123.
const unsigned char gray_png[] = {
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44,
    0x52, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x01, 0x08, 0x00, 0x00, 0x00, 0x00, 0xd1,
    0x49, 0x20, 0x56, 0x00, 0x00, 0x00, 0x0b, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0x60,
    0xa8, 0x06, 0x00, 0x00, 0x7e, 0x00, 0x7c, 0xe3, 0x9b, 0xfe, 0x10, 0x00, 0x00, 0x00, 0x00,
    0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82};

constexpr double nan = std::numeric_limits<double>::quiet_NaN();
constexpr double inf = std::numeric_limits<double>::infinity();

// A fresh, empty directory per test, removed afterwards.
class scratch_dir {
 public:
  scratch_dir() {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    path_ = fs::temp_directory_path() /
            ("amimo_line_plot_" + std::string(info->test_suite_name()) + "_" + info->name());
    fs::remove_all(path_);
    fs::create_directories(path_);
  }
  scratch_dir(const scratch_dir&) = delete;
  scratch_dir& operator=(const scratch_dir&) = delete;
  ~scratch_dir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }
  std::vector<std::string> entries() const {
    std::vector<std::string> names;
    for (const auto& e : fs::directory_iterator(path_)) names.push_back(e.path().filename());
    return names;
  }

 private:
  fs::path path_;
};

void write_bytes(const fs::path& path, const unsigned char* bytes, std::size_t n) {
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes), static_cast<std::streamsize>(n));
  ASSERT_TRUE(out.good());
}

// Counts pixels of colour c inside the inclusive rectangle.
int count_colour(const rgb_image& img, rgb c, int x0, int y0, int x1, int y1) {
  int n = 0;
  for (int y = std::max(0, y0); y <= std::min(img.height() - 1, y1); ++y) {
    for (int x = std::max(0, x0); x <= std::min(img.width() - 1, x1); ++x) {
      if (img.pixel(x, y) == c) ++n;
    }
  }
  return n;
}

rgb at(const rgb_image& img, pixel_point p) {
  return img.pixel(static_cast<int>(std::lround(p.x)), static_cast<int>(std::lround(p.y)));
}

// ---------------------------------------------------------------------------------------------
// rgb_image and PNG I/O

TEST(rgb_image, FillsAndClipsWrites) {
  rgb_image img(4, 3, {1, 2, 3});
  EXPECT_EQ(img.width(), 4);
  EXPECT_EQ(img.height(), 3);
  EXPECT_EQ(img.data().size(), 36U);
  EXPECT_EQ(img.pixel(3, 2), (rgb{1, 2, 3}));
  img.set_pixel(2, 1, {9, 8, 7});
  EXPECT_EQ(img.pixel(2, 1), (rgb{9, 8, 7}));
  // Row-major RGB: (x=2, y=1) lives at byte 3 * (1 * 4 + 2).
  EXPECT_EQ(img.data()[18], 9);
  EXPECT_EQ(img.data()[20], 7);
  const std::vector<std::uint8_t> before = img.data();
  img.set_pixel(-1, 0, {0, 0, 0});
  img.set_pixel(4, 0, {0, 0, 0});
  img.set_pixel(0, 3, {0, 0, 0});
  EXPECT_EQ(img.data(), before);
  EXPECT_THROW(static_cast<void>(img.pixel(4, 0)), std::out_of_range);
  EXPECT_THROW(rgb_image(0, 5), std::invalid_argument);
}

TEST(png_io, RoundTripsPixelsExactly) {
  scratch_dir dir;
  rgb_image img(37, 23);
  for (int y = 0; y < img.height(); ++y) {
    for (int x = 0; x < img.width(); ++x) {
      img.set_pixel(x, y,
                    {static_cast<std::uint8_t>(x * 7 + y), static_cast<std::uint8_t>(y * 11),
                     static_cast<std::uint8_t>((x * y) & 0xFF)});
    }
  }
  const fs::path file = dir.path() / "image.png";
  write_png(file, img);
  const rgb_image back = read_png(file);
  EXPECT_EQ(back.width(), 37);
  EXPECT_EQ(back.height(), 23);
  EXPECT_EQ(back.data(), img.data());
  // The temporary was renamed, not left beside the result.
  EXPECT_EQ(dir.entries(), std::vector<std::string>{"image.png"});
}

TEST(png_io, OverwritesExistingFile) {
  scratch_dir dir;
  const fs::path file = dir.path() / "image.png";
  write_png(file, rgb_image(5, 5, {255, 0, 0}));
  write_png(file, rgb_image(2, 3, {0, 0, 255}));
  const rgb_image back = read_png(file);
  EXPECT_EQ(back.width(), 2);
  EXPECT_EQ(back.height(), 3);
  EXPECT_EQ(back.pixel(1, 2), (rgb{0, 0, 255}));
}

TEST(png_io, ConvertsGrayAlphaPaletteToRgb) {
  scratch_dir dir;
  write_bytes(dir.path() / "ga.png", gray_alpha_png, sizeof gray_alpha_png);
  write_bytes(dir.path() / "pal.png", palette_png, sizeof palette_png);
  write_bytes(dir.path() / "gray.png", gray_png, sizeof gray_png);

  const rgb_image ga = read_png(dir.path() / "ga.png");
  ASSERT_EQ(ga.width(), 3);
  EXPECT_EQ(ga.pixel(0, 0), (rgb{0, 0, 0}));
  EXPECT_EQ(ga.pixel(1, 0), (rgb{200, 200, 200}));
  EXPECT_EQ(ga.pixel(2, 0), (rgb{255, 255, 255}));  // transparent composites onto white

  const rgb_image pal = read_png(dir.path() / "pal.png");
  ASSERT_EQ(pal.width(), 2);
  ASSERT_EQ(pal.height(), 2);
  EXPECT_EQ(pal.pixel(0, 0), (rgb{255, 0, 0}));
  EXPECT_EQ(pal.pixel(1, 0), (rgb{0, 255, 0}));
  EXPECT_EQ(pal.pixel(0, 1), (rgb{10, 20, 30}));
  EXPECT_EQ(pal.pixel(1, 1), (rgb{255, 0, 0}));

  const rgb_image gray = read_png(dir.path() / "gray.png");
  EXPECT_EQ(gray.pixel(0, 0), (rgb{0, 0, 0}));
  EXPECT_EQ(gray.pixel(1, 0), (rgb{123, 123, 123}));
}

// A 16-bit PNG with no gAMA or sRGB chunk, written with libpng's own writer (big-endian
// samples, one row at a time). Returns false if libpng reports an error.
bool write_png16_without_colour_chunks(const std::filesystem::path& path, int width, int height, int color_type,
                                       const std::vector<std::uint16_t>& samples) {
  FILE* file = std::fopen(path.c_str(), "wb");
  if (file == nullptr) return false;
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, nullptr, nullptr, nullptr);
  png_infop info = png == nullptr ? nullptr : png_create_info_struct(png);
  const int channels = color_type == PNG_COLOR_TYPE_GRAY ? 1 : 3;
  std::vector<png_byte> row(static_cast<std::size_t>(width * channels) * 2U);
  bool ok = info != nullptr;
  if (ok && setjmp(png_jmpbuf(png)) == 0) {
    png_init_io(png, file);
    png_set_IHDR(png, info, static_cast<png_uint_32>(width), static_cast<png_uint_32>(height), 16, color_type,
                 PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);
    for (int y = 0; y < height; ++y) {
      for (std::size_t i = 0; i < row.size() / 2; ++i) {
        const std::uint16_t v = samples[static_cast<std::size_t>(y * width * channels) + i];
        row[2 * i] = static_cast<png_byte>(v >> 8U);
        row[2 * i + 1] = static_cast<png_byte>(v & 0xFFU);
      }
      png_write_row(png, row.data());
    }
    png_write_end(png, nullptr);
  } else {
    ok = false;
  }
  png_destroy_write_struct(&png, &info);
  return std::fclose(file) == 0 && ok;
}

// 16-bit samples without a gAMA/sRGB chunk are sRGB-encoded values like 8-bit ones: read as
// the high byte (v = x·257 reads back as x, i.e. v >> 8). libpng's simplified reader takes them
// as linear unless told otherwise: 0x8080 read back as 186, and amimo-image still called the
// run lossless against the distorted original.
TEST(png_io, SixteenBitSamplesWithoutColourChunksReadAsTheirHighByte) {
  scratch_dir dir;
  const int w = 16;
  const int h = 16;
  std::vector<std::uint16_t> gray;
  std::vector<std::uint16_t> rgb16;
  for (int y = 0; y < h; ++y) {
    for (int x = 0; x < w; ++x) {
      gray.push_back(static_cast<std::uint16_t>(((x * 16 + y) & 255) * 257));
      for (const int c : {x * 16, y * 16, 128}) rgb16.push_back(static_cast<std::uint16_t>(c * 257));
    }
  }
  ASSERT_TRUE(write_png16_without_colour_chunks(dir.path() / "gray16.png", w, h, PNG_COLOR_TYPE_GRAY, gray));
  ASSERT_TRUE(write_png16_without_colour_chunks(dir.path() / "rgb16.png", w, h, PNG_COLOR_TYPE_RGB, rgb16));
  const rgb_image g = read_png(dir.path() / "gray16.png");
  const rgb_image c = read_png(dir.path() / "rgb16.png");
  ASSERT_EQ(g.width(), w);
  ASSERT_EQ(c.height(), h);
  for (int y = 0; y < h; ++y) {
    for (int x = 0; x < w; ++x) {
      const auto i = static_cast<std::size_t>(y * w + x);
      const auto v = static_cast<std::uint8_t>(gray[i] >> 8U);
      ASSERT_EQ(g.pixel(x, y), (rgb{v, v, v})) << x << "," << y;
      ASSERT_EQ(c.pixel(x, y), (rgb{static_cast<std::uint8_t>(rgb16[3 * i] >> 8U),
                                    static_cast<std::uint8_t>(rgb16[3 * i + 1] >> 8U),
                                    static_cast<std::uint8_t>(rgb16[3 * i + 2] >> 8U)}))
          << x << "," << y;
    }
  }
}

TEST(png_io, ReadingMissingGarbageOrTruncatedFileThrowsIoError) {
  scratch_dir dir;
  const fs::path missing = dir.path() / "missing.png";
  try {
    static_cast<void>(read_png(missing));
    FAIL() << "no exception";
  } catch (const io_error& e) {
    EXPECT_NE(std::string(e.what()).find("missing.png"), std::string::npos) << e.what();
  }

  const fs::path garbage = dir.path() / "garbage.png";
  const unsigned char junk[] = "this is not a PNG file at all, just some text";
  write_bytes(garbage, junk, sizeof junk);
  EXPECT_THROW(static_cast<void>(read_png(garbage)), io_error);

  // A valid file cut in half: the header parses, the image data does not.
  const fs::path whole = dir.path() / "whole.png";
  rgb_image img(64, 64);
  for (int i = 0; i < 64; ++i) img.set_pixel(i, (i * 37) % 64, {static_cast<std::uint8_t>(i), 0, 0});
  write_png(whole, img);
  std::ifstream in(whole, std::ios::binary);
  const std::vector<char> bytes((std::istreambuf_iterator<char>(in)), {});
  ASSERT_GT(bytes.size(), 100U);
  const fs::path truncated = dir.path() / "truncated.png";
  {
    std::ofstream out(truncated, std::ios::binary);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size() / 2));
  }
  EXPECT_THROW(static_cast<void>(read_png(truncated)), io_error);

  const fs::path empty = dir.path() / "empty.png";
  { std::ofstream out(empty); }
  EXPECT_THROW(static_cast<void>(read_png(empty)), io_error);
}

TEST(png_io, WriteIntoMissingDirectoryThrowsAndLeavesNothing) {
  scratch_dir dir;
  const fs::path target = dir.path() / "no" / "such" / "dir" / "plot.png";
  try {
    write_png(target, rgb_image(3, 3));
    FAIL() << "no exception";
  } catch (const io_error& e) {
    EXPECT_NE(std::string(e.what()).find("plot.png"), std::string::npos) << e.what();
  }
  EXPECT_TRUE(dir.entries().empty());
}

TEST(png_io, FailedRenameRemovesTemporaryFile) {
  scratch_dir dir;
  // A non-empty directory where the file should go: the temporary is written fine, the
  // rename over it fails, and the temporary must not be left behind.
  const fs::path target = dir.path() / "plot.png";
  fs::create_directories(target / "occupied");
  EXPECT_THROW(write_png(target, rgb_image(3, 3)), io_error);
  EXPECT_EQ(dir.entries(), std::vector<std::string>{"plot.png"});
  EXPECT_TRUE(fs::is_directory(target));
}

// ---------------------------------------------------------------------------------------------
// Bitmap font

TEST(bitmap_font, GlyphsAreDistinctAndInked) {
  std::set<glyph_rows> seen;
  for (int c = 0x21; c <= 0x7E; ++c) {
    const glyph_rows& g = glyph(static_cast<char>(c));
    bool ink = false;
    for (const std::uint8_t row : g) {
      EXPECT_LT(row, 1U << glyph_width) << "glyph " << static_cast<char>(c) << " too wide";
      ink = ink || row != 0;
    }
    EXPECT_TRUE(ink) << "glyph " << static_cast<char>(c) << " is blank";
    EXPECT_TRUE(seen.insert(g).second) << "glyph " << static_cast<char>(c) << " duplicates another";
  }
  for (const std::uint8_t row : glyph(' ')) EXPECT_EQ(row, 0);
  EXPECT_EQ(glyph('\n'), glyph('?'));
  EXPECT_EQ(glyph(static_cast<char>(0xC3)), glyph('?'));
  // Spot checks of the picture itself: '1' has a serifed foot, '-' is one full row.
  EXPECT_EQ(glyph('1')[6], 0b01110);
  EXPECT_EQ(glyph('-')[3], 0b11111);
  EXPECT_EQ(glyph('.')[6], 0b01100);
}

TEST(bitmap_font, DrawsInsideItsBoxAtScale) {
  EXPECT_EQ(text_width(""), 0);
  EXPECT_EQ(text_width("a"), glyph_width);
  EXPECT_EQ(text_width("1e-3", 2), (3 * glyph_advance + glyph_width) * 2);
  EXPECT_EQ(text_height(3), 3 * glyph_height);

  rgb_image img(100, 40);
  const rgb ink{0, 0, 0};
  draw_text(img, 10, 5, "1e-3", ink, 2);
  const int w = text_width("1e-3", 2);
  const int total = count_colour(img, ink, 0, 0, 99, 39);
  EXPECT_GT(total, 0);
  EXPECT_EQ(count_colour(img, ink, 10, 5, 10 + w - 1, 5 + text_height(2) - 1), total);
  // '1' at scale 2: its foot row (row 6) spans columns 1..3, i.e. pixels 12..17.
  EXPECT_EQ(img.pixel(12, 5 + 12), ink);
  EXPECT_EQ(img.pixel(17, 5 + 13), ink);
  EXPECT_EQ(img.pixel(10, 5 + 12), (rgb{255, 255, 255}));

  rgb_image vert(40, 100);
  draw_text_vertical(vert, 5, 10, "1e-3", ink, 2);
  EXPECT_EQ(count_colour(vert, ink, 0, 0, 39, 99), total);
  EXPECT_EQ(count_colour(vert, ink, 5, 10, 5 + text_height(2) - 1, 10 + w - 1), total);
}

// ---------------------------------------------------------------------------------------------
// Line plots

plot_spec one_series_spec() {
  plot_spec spec;
  spec.title = "test";
  spec.x_label = "SNR (dB)";
  spec.y_label = "value";
  plot_series s;  // no label: no legend to cover the curve
  s.x = {0.0, 5.0, 10.0, 15.0, 20.0};
  s.y = {1.0, 3.0, 2.0, 7.0, 4.0};
  spec.series.push_back(s);
  return spec;
}

TEST(line_plot, PaletteColoursAreDistinctAndCycle) {
  std::set<std::uint32_t> colours;
  for (std::size_t i = 0; i < 9; ++i) {
    const rgb c = series_colour(i);
    EXPECT_FALSE(c.r == c.g && c.g == c.b) << "series colour " << i << " is grey";
    colours.insert(std::uint32_t{c.r} << 16U | std::uint32_t{c.g} << 8U | c.b);
  }
  EXPECT_EQ(colours.size(), 9U);
  EXPECT_EQ(series_colour(9), series_colour(0));
}

TEST(line_plot, LayoutCoversDataAndMapsMonotonically) {
  const plot_spec spec = one_series_spec();
  const plot_layout L = compute_plot_layout(spec);
  EXPECT_LE(L.x_min, 0.0);
  EXPECT_GE(L.x_max, 20.0);
  EXPECT_LE(L.y_min, 1.0);
  EXPECT_GE(L.y_max, 7.0);
  EXPECT_GT(L.plot_left, 0);
  EXPECT_LT(L.plot_right, spec.width - 1);
  EXPECT_GT(L.plot_top, 0);
  EXPECT_LT(L.plot_bottom, spec.height - 1);
  EXPECT_DOUBLE_EQ(L.x_to_pixel(L.x_min), L.plot_left);
  EXPECT_DOUBLE_EQ(L.x_to_pixel(L.x_max), L.plot_right);
  EXPECT_DOUBLE_EQ(L.y_to_pixel(L.y_min), L.plot_bottom);
  EXPECT_DOUBLE_EQ(L.y_to_pixel(L.y_max), L.plot_top);
  EXPECT_LT(L.y_to_pixel(7.0), L.y_to_pixel(1.0));  // larger values are higher up
  EXPECT_FALSE(L.to_pixel(nan, 1.0).has_value());
  EXPECT_FALSE(L.to_pixel(1.0, inf).has_value());
  ASSERT_GE(L.x_ticks.size(), 3U);
  for (std::size_t i = 1; i < L.x_ticks.size(); ++i) {
    EXPECT_GT(L.x_ticks[i].value, L.x_ticks[i - 1].value);
    EXPECT_FALSE(L.x_ticks[i].label.empty());
  }
}

TEST(line_plot, SeriesPixelsSitAtDataPositionsAndOnlyInsidePlotArea) {
  const plot_spec spec = one_series_spec();
  const plot_layout L = compute_plot_layout(spec);
  const rgb_image img = render_line_plot(spec);
  ASSERT_EQ(img.width(), spec.width);
  ASSERT_EQ(img.height(), spec.height);
  const rgb c = series_colour(0);
  const plot_series& s = spec.series[0];
  for (std::size_t i = 0; i < s.x.size(); ++i) {
    const auto p = L.to_pixel(s.x[i], s.y[i]);
    ASSERT_TRUE(p.has_value());
    EXPECT_EQ(at(img, *p), c) << "marker " << i;
  }
  // The polyline passes through the middle of each segment.
  for (std::size_t i = 0; i + 1 < s.x.size(); ++i) {
    const auto p = L.to_pixel(0.5 * (s.x[i] + s.x[i + 1]), 0.5 * (s.y[i] + s.y[i + 1]));
    EXPECT_EQ(at(img, *p), c) << "segment " << i;
  }
  // An interior point far from the curve stays background.
  EXPECT_NE(at(img, *L.to_pixel(17.5, 1.2)), c);
  // Nothing in the series colour outside the plot area (markers may overlap the frame).
  const int total = count_colour(img, c, 0, 0, img.width() - 1, img.height() - 1);
  const int inside = count_colour(img, c, L.plot_left - 5, L.plot_top - 5, L.plot_right + 5,
                                  L.plot_bottom + 5);
  EXPECT_GT(total, 100);
  EXPECT_EQ(inside, total);
  // The frame is drawn.
  EXPECT_EQ(img.pixel((L.plot_left + L.plot_right) / 2, L.plot_bottom), (rgb{0, 0, 0}));
  EXPECT_EQ(img.pixel(L.plot_left, (L.plot_top + L.plot_bottom) / 2), (rgb{0, 0, 0}));
}

TEST(line_plot, LogAxisUsesDecadesAndBreaksLineAtUndrawablePoints) {
  plot_spec spec;
  spec.log_y = true;
  plot_series s;
  s.x = {0, 1, 2, 3, 4, 5, 6};
  s.y = {1e-1, nan, 1e-3, 0.0, 1e-4, -1.0, 2e-2};
  spec.series.push_back(s);
  const plot_layout L = compute_plot_layout(spec);
  EXPECT_DOUBLE_EQ(L.y_min, 1e-4);
  EXPECT_DOUBLE_EQ(L.y_max, 1e-1);
  std::set<std::string> labels;
  for (const axis_tick& t : L.y_ticks) labels.insert(t.label);
  EXPECT_TRUE(labels.count("1e-3"));
  EXPECT_TRUE(labels.count("1e-4"));
  // A decade occupies a third of the plot height.
  EXPECT_NEAR(L.y_to_pixel(1e-3) - L.y_to_pixel(1e-2), (L.plot_bottom - L.plot_top) / 3.0, 1e-9);
  EXPECT_FALSE(L.to_pixel(3, 0.0).has_value());
  EXPECT_FALSE(L.to_pixel(5, -1.0).has_value());

  const rgb_image img = render_line_plot(spec);
  const rgb c = series_colour(0);
  EXPECT_EQ(at(img, *L.to_pixel(0, 1e-1)), c);
  EXPECT_EQ(at(img, *L.to_pixel(2, 1e-3)), c);
  EXPECT_EQ(at(img, *L.to_pixel(6, 2e-2)), c);
  // Skipped points break the line: no segment 0 -> 2, 2 -> 4 or 4 -> 6.
  EXPECT_NE(at(img, *L.to_pixel(1, 1e-2)), c);
  EXPECT_NE(at(img, *L.to_pixel(3, 1e-3 * std::sqrt(0.1))), c);
  EXPECT_NE(at(img, *L.to_pixel(5, std::sqrt(1e-4 * 2e-2))), c);
}

TEST(line_plot, DrawsErrorBarsIncludingOpenLowerBoundsOnLogAxis) {
  plot_spec spec;
  spec.log_y = true;
  plot_series s;
  s.label = "BER";
  s.x = {0, 10, 20, 30};
  s.y = {1e-1, 1e-2, 1e-3, 0.0};  // the last point saw no errors: only its bar is drawn
  s.y_low = {5e-2, 0.0, 5e-4, 0.0};  // 0: the bar runs off the bottom
  s.y_high = {2e-1, 3e-2, 2e-3, 2e-5};
  spec.series.push_back(s);
  const plot_layout L = compute_plot_layout(spec);
  EXPECT_DOUBLE_EQ(L.y_max, 1.0);  // bar ends widen the range
  EXPECT_DOUBLE_EQ(L.y_min, 1e-5);
  EXPECT_DOUBLE_EQ(L.x_max, 30.0);
  const rgb_image img = render_line_plot(spec);
  const rgb c = series_colour(0);
  for (std::size_t i = 0; i < 3; ++i) {
    const double px = L.x_to_pixel(s.x[i]);
    // Halfway between the marker and the upper end lies on the bar.
    const double mid = 0.5 * (L.y_to_pixel(s.y[i]) + L.y_to_pixel(s.y_high[i]));
    EXPECT_EQ(at(img, {px, mid}), c) << "bar " << i;
    // The cap extends 3 px to each side of the bar.
    EXPECT_EQ(at(img, {px + 3, L.y_to_pixel(s.y_high[i])}), c) << "cap " << i;
  }
  EXPECT_EQ(img.pixel(static_cast<int>(std::lround(L.x_to_pixel(10))), L.plot_bottom - 1), c);
  const double px30 = L.x_to_pixel(30);
  EXPECT_EQ(at(img, {px30, 0.5 * (L.y_to_pixel(2e-5) + L.plot_bottom)}), c);
  EXPECT_EQ(at(img, {px30 - 3, L.y_to_pixel(2e-5)}), c);
  // No marker for the zero point: 4 px beside its bar, at the bottom, stays background.
  EXPECT_NE(img.pixel(static_cast<int>(std::lround(px30)) - 4, L.plot_bottom - 2), c);
}

TEST(line_plot, EmptyPlotsStillHaveAxes) {
  for (const bool log_y : {false, true}) {
    plot_spec spec;
    spec.log_y = log_y;
    spec.width = 400;
    spec.height = 300;
    for (int variant = 0; variant < 2; ++variant) {
      if (variant == 1) spec.series.resize(2);  // series with no points at all
      const plot_layout L = compute_plot_layout(spec);
      EXPECT_DOUBLE_EQ(L.x_min, 0.0);
      EXPECT_DOUBLE_EQ(L.x_max, 1.0);
      EXPECT_DOUBLE_EQ(L.y_min, log_y ? 1e-6 : 0.0);
      EXPECT_DOUBLE_EQ(L.y_max, 1.0);
      const rgb_image img = render_line_plot(spec);
      EXPECT_EQ(img.width(), 400);
      EXPECT_EQ(img.pixel(L.plot_left, L.plot_top), (rgb{0, 0, 0}));
      EXPECT_EQ(img.pixel(L.plot_right, L.plot_bottom), (rgb{0, 0, 0}));
      EXPECT_GT(count_colour(img, {0, 0, 0}, 0, 0, L.plot_left - 1, img.height() - 1), 50)
          << "tick labels";
    }
  }
}

TEST(line_plot, NonFiniteValuesDoNotCrash) {
  plot_spec spec;
  spec.log_y = true;
  plot_series a;
  a.label = "weird";
  a.x = {nan, inf, -inf, 1.0, 2.0, 3.0};
  a.y = {1e-2, 1e-3, 1e-4, nan, inf, -inf};
  a.y_low = {nan, -inf, 0.0, inf, nan, 1e-3};
  a.y_high = {inf, nan, 1e-1, nan, 1.0, nan};
  plot_series b;
  b.x = {0.0, 1.0};
  b.y = {nan, nan};
  spec.series = {a, b};
  const plot_layout L = compute_plot_layout(spec);
  EXPECT_TRUE(std::isfinite(L.x_min) && std::isfinite(L.x_max));
  EXPECT_TRUE(std::isfinite(L.y_min) && std::isfinite(L.y_max));
  const rgb_image img = render_line_plot(spec);
  EXPECT_EQ(img.width(), spec.width);
  // No drawable point, so no series pixels in the plot area beyond the legend swatch.
  spec.series[0].label.clear();
  const rgb_image plain = render_line_plot(spec);
  EXPECT_EQ(count_colour(plain, series_colour(0), 0, 0, plain.width() - 1, plain.height() - 1),
            0);
  spec.log_y = false;
  EXPECT_NO_THROW(static_cast<void>(render_line_plot(spec)));
}

TEST(line_plot, LegendAppearsOnlyForLabelledSeries) {
  plot_spec spec = one_series_spec();
  const rgb c = series_colour(0);
  const rgb_image plain = render_line_plot(spec);
  spec.series[0].label = "ZF detector";
  const rgb_image labelled = render_line_plot(spec);
  const int n_plain = count_colour(plain, c, 0, 0, plain.width() - 1, plain.height() - 1);
  const int n_labelled = count_colour(labelled, c, 0, 0, plain.width() - 1, plain.height() - 1);
  EXPECT_GT(n_labelled, n_plain);  // the swatch adds series-coloured pixels
}

TEST(line_plot, RejectsInconsistentSeriesAndTinyImages) {
  plot_spec spec = one_series_spec();
  spec.series[0].y.pop_back();
  EXPECT_THROW(static_cast<void>(render_line_plot(spec)), std::invalid_argument);
  spec = one_series_spec();
  spec.series[0].y_high = {1.0};
  EXPECT_THROW(static_cast<void>(render_line_plot(spec)), std::invalid_argument);
  spec = one_series_spec();
  spec.width = 20;
  EXPECT_THROW(static_cast<void>(render_line_plot(spec)), std::invalid_argument);
}

TEST(line_plot, WritesTheRenderedImage) {
  scratch_dir dir;
  const plot_spec spec = one_series_spec();
  const fs::path file = dir.path() / "plot.png";
  write_line_plot_png(file, spec);
  EXPECT_EQ(read_png(file).data(), render_line_plot(spec).data());
  EXPECT_THROW(write_line_plot_png(dir.path() / "missing" / "plot.png", spec), io_error);
}

}  // namespace
}  // namespace amimo::report
