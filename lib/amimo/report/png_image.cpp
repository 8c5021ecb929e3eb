#include <amimo/report/png_image.h>

#include <amimo/core/error.h>
#include <amimo/core/file_io.h>

#include <png.h>

#include <algorithm>
#include <limits>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace amimo::report {

namespace {

// Largest image we agree to allocate; a corrupt header must not trigger a huge allocation.
constexpr std::size_t max_image_bytes = std::size_t{1} << 30;

std::size_t byte_size(int width, int height) {
  if (width <= 0 || height <= 0) {
    throw std::invalid_argument("rgb_image: width and height must be positive");
  }
  const auto w = static_cast<std::size_t>(width);
  const auto h = static_cast<std::size_t>(height);
  if (w > max_image_bytes / 3 / h) {
    throw std::invalid_argument("rgb_image: image too large");
  }
  return 3 * w * h;
}

std::string quoted(const std::filesystem::path& path) { return "'" + path.string() + "'"; }

}  // namespace

rgb_image::rgb_image(int width, int height, rgb fill)
    : width_(width), height_(height), data_(byte_size(width, height)) {
  for (std::size_t i = 0; i < data_.size(); i += 3) {
    data_[i] = fill.r;
    data_[i + 1] = fill.g;
    data_[i + 2] = fill.b;
  }
}

rgb rgb_image::pixel(int x, int y) const {
  if (x < 0 || y < 0 || x >= width_ || y >= height_) {
    throw std::out_of_range("rgb_image::pixel: (" + std::to_string(x) + ", " + std::to_string(y) +
                            ") outside the image");
  }
  const std::size_t i = 3 * (static_cast<std::size_t>(y) * static_cast<std::size_t>(width_) +
                             static_cast<std::size_t>(x));
  return {data_[i], data_[i + 1], data_[i + 2]};
}

void rgb_image::set_pixel(int x, int y, rgb c) noexcept {
  if (x < 0 || y < 0 || x >= width_ || y >= height_) return;
  const std::size_t i = 3 * (static_cast<std::size_t>(y) * static_cast<std::size_t>(width_) +
                             static_cast<std::size_t>(x));
  data_[i] = c.r;
  data_[i + 1] = c.g;
  data_[i + 2] = c.b;
}

namespace {
// Encodes in memory (first call: size only). The simplified API reports errors through its
// return value, so no setjmp is needed here. False, with libpng's message, on failure.
bool encode_in_memory(const rgb_image& image, std::string& encoded, std::string& message) {
  png_image png{};
  png.version = PNG_IMAGE_VERSION;
  png.width = static_cast<png_uint_32>(image.width());
  png.height = static_cast<png_uint_32>(image.height());
  png.format = PNG_FORMAT_RGB;
  png_alloc_size_t size = 0;
  int ok = png_image_write_to_memory(&png, nullptr, &size, 0, image.data().data(), 0, nullptr);
  if (ok != 0) {
    encoded.resize(size);
    ok = png_image_write_to_memory(&png, encoded.data(), &size, 0, image.data().data(), 0, nullptr);
    encoded.resize(size);
  }
  message = png.message;
  png_image_free(&png);
  return ok != 0;
}
}  // namespace

std::string encode_png(const rgb_image& image) {
  std::string encoded;
  std::string message;
  if (!encode_in_memory(image, encoded, message)) throw io_error("cannot encode PNG: " + message);
  return encoded;
}

void write_png(const std::filesystem::path& path, const rgb_image& image) {
  // Encoded in memory, then written through the one atomic writer.
  std::string encoded;
  std::string message;
  if (!encode_in_memory(image, encoded, message)) throw io_error("cannot write PNG " + quoted(path) + ": " + message);
  write_file_atomically(path, encoded);
}

rgb_image read_png(const std::filesystem::path& path, std::size_t max_pixels) {
  const std::string bytes = read_bounded_file(path, max_png_file_bytes, "PNG");
  png_image png{};
  png.version = PNG_IMAGE_VERSION;
  if (png_image_begin_read_from_memory(&png, bytes.data(), bytes.size()) == 0) {
    const std::string message = png.message;
    png_image_free(&png);
    throw io_error("cannot read PNG " + quoted(path) + ": " + message);
  }
  // Only the header has been read: refuse before allocating or decoding anything.
  const std::size_t cap = std::min(max_pixels, max_image_bytes / 3);
  if (png.width == 0 || png.height == 0 || static_cast<std::size_t>(png.width) > cap / png.height ||
      png.width > static_cast<png_uint_32>(std::numeric_limits<int>::max()) ||
      png.height > static_cast<png_uint_32>(std::numeric_limits<int>::max())) {
    const std::string dims = std::to_string(png.width) + "x" + std::to_string(png.height);
    png_image_free(&png);
    throw io_error("cannot read PNG " + quoted(path) + ": declared dimensions " + dims + " exceed the limit of " +
                   std::to_string(cap) + " pixels");
  }
  png.format = PNG_FORMAT_RGB;
  // 16-bit samples without a gAMA or sRGB chunk are sRGB-encoded like 8-bit ones (what every
  // writer means by them); the simplified API otherwise takes them as linear and gamma-encodes
  // on the way to 8 bits: 0x8080 became 186 instead of 128. Files with a gAMA/sRGB chunk are
  // converted as the chunk says either way.
  png.flags |= PNG_IMAGE_FLAG_16BIT_sRGB;
  rgb_image image(static_cast<int>(png.width), static_cast<int>(png.height));
  // Transparent areas become white, matching the plots' background.
  const png_color white{255, 255, 255};
  if (png_image_finish_read(&png, &white, image.data().data(), 0, nullptr) == 0) {
    const std::string message = png.message;
    png_image_free(&png);
    throw io_error("cannot read PNG " + quoted(path) + ": " + message);
  }
  png_image_free(&png);
  return image;
}

}  // namespace amimo::report
