#pragma once
// A minimal 8-bit RGB raster and PNG file I/O, enough for the report plots. Kept free of
// any GUI or font dependency so reports can be produced on headless machines.

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace amimo::report {

/// One 8-bit sRGB colour.
struct rgb {
  std::uint8_t r, g, b;

  bool operator==(const rgb&) const = default;
};

/// Row-major RGB8 image; x grows to the right, y grows downwards.
class rgb_image {
 public:
  /// Throws std::invalid_argument unless width and height are positive (and the byte size fits).
  rgb_image(int width, int height, rgb fill = {255, 255, 255});

  int width() const noexcept { return width_; }
  int height() const noexcept { return height_; }

  /// Throws std::out_of_range outside the image: reading garbage would hide caller bugs.
  rgb pixel(int x, int y) const;
  /// Silently ignores coordinates outside the image, so drawing code needs no clipping.
  void set_pixel(int x, int y, rgb c) noexcept;

  /// Row-major RGB8 bytes, 3 * width * height of them.
  const std::vector<std::uint8_t>& data() const noexcept { return data_; }
  std::vector<std::uint8_t>& data() noexcept { return data_; }

 private:
  int width_;
  int height_;
  std::vector<std::uint8_t> data_;
};

/// Writes an 8-bit RGB PNG through amimo::atomic_file_writer (unique O_EXCL|O_NOFOLLOW
/// temporary in the same directory, fsync, rename over path). On any failure the temporary
/// file is removed and amimo::io_error naming the path is thrown.
void write_png(const std::filesystem::path& path, const rgb_image& image);

/// The PNG file write_png writes, as bytes, for a caller that writes several files and renames
/// them together. Throws amimo::io_error when libpng cannot encode the image.
std::string encode_png(const rgb_image& image);

/// Largest image read_png decodes unless told otherwise (3 bytes per pixel: 768 MiB).
inline constexpr std::size_t default_max_png_pixels = std::size_t{256} << 20U;

/// Reads any PNG libpng's simplified API understands (gray, gray+alpha, RGB, RGBA, palette,
/// 16-bit) into RGB8. Alpha is composited onto white; 16-bit samples are taken as linear,
/// as libpng specifies. Throws amimo::io_error on a missing, unreadable or corrupt file, a
/// file that is not regular or above amimo::max_png_file_bytes, and, from the header alone
/// (before anything is allocated or decoded), declared dimensions above max_pixels.
rgb_image read_png(const std::filesystem::path& path, std::size_t max_pixels = default_max_png_pixels);

}  // namespace amimo::report
