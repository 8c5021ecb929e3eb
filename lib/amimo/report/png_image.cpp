#include <amimo/report/png_image.h>

#include <amimo/core/error.h>

#include <png.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <limits>
#include <random>
#include <stdexcept>
#include <string>
#include <system_error>

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

// RAII for the temporary file: it disappears unless the rename succeeded.
class temp_file {
 public:
  explicit temp_file(const std::filesystem::path& target) {
    std::random_device rd;
    std::mt19937 gen(rd());
    std::uniform_int_distribution<std::uint32_t> dist;
    // "x" (C11) opens exclusively, so two writers can never share a temporary.
    for (int attempt = 0; attempt < 100; ++attempt) {
      char suffix[16];
      std::snprintf(suffix, sizeof suffix, ".tmp-%08x", static_cast<unsigned>(dist(gen)));
      path_ = target;
      path_ += suffix;
      file_ = std::fopen(path_.c_str(), "wbx");
      if (file_ != nullptr || errno != EEXIST) break;
    }
    if (file_ == nullptr) {
      const int err = errno;
      throw io_error("cannot write PNG " + quoted(target) + ": cannot create temporary file: " +
                     std::strerror(err));
    }
  }
  temp_file(const temp_file&) = delete;
  temp_file& operator=(const temp_file&) = delete;
  ~temp_file() {
    if (file_ != nullptr) std::fclose(file_);
    if (!committed_) {
      std::error_code ec;
      std::filesystem::remove(path_, ec);
    }
  }

  FILE* file() const noexcept { return file_; }
  const std::filesystem::path& path() const noexcept { return path_; }

  /// Closes the stream; returns false if buffered data could not be written.
  bool close() noexcept {
    const bool ok = std::fflush(file_) == 0 && std::ferror(file_) == 0;
    const bool closed = std::fclose(file_) == 0;
    file_ = nullptr;
    return ok && closed;
  }
  void commit() noexcept { committed_ = true; }

 private:
  std::filesystem::path path_;
  FILE* file_ = nullptr;
  bool committed_ = false;
};

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

void write_png(const std::filesystem::path& path, const rgb_image& image) {
  temp_file tmp(path);

  png_image png{};
  png.version = PNG_IMAGE_VERSION;
  png.width = static_cast<png_uint_32>(image.width());
  png.height = static_cast<png_uint_32>(image.height());
  png.format = PNG_FORMAT_RGB;
  // The simplified API reports errors through its return value, so no setjmp is needed here.
  const int ok = png_image_write_to_stdio(&png, tmp.file(), 0, image.data().data(), 0, nullptr);
  const std::string message = png.message;
  png_image_free(&png);
  if (ok == 0) {
    throw io_error("cannot write PNG " + quoted(path) + ": " + message);
  }
  if (!tmp.close()) {
    const int err = errno;
    throw io_error("cannot write PNG " + quoted(path) + ": " + std::strerror(err));
  }
  std::error_code ec;
  std::filesystem::rename(tmp.path(), path, ec);
  if (ec) {
    throw io_error("cannot write PNG " + quoted(path) + ": rename failed: " + ec.message());
  }
  tmp.commit();
}

rgb_image read_png(const std::filesystem::path& path) {
  png_image png{};
  png.version = PNG_IMAGE_VERSION;
  if (png_image_begin_read_from_file(&png, path.c_str()) == 0) {
    const std::string message = png.message;
    png_image_free(&png);
    throw io_error("cannot read PNG " + quoted(path) + ": " + message);
  }
  constexpr auto max_side = static_cast<png_uint_32>(std::numeric_limits<int>::max());
  if (png.width == 0 || png.height == 0 || png.width > max_side || png.height > max_side ||
      static_cast<std::size_t>(png.width) > max_image_bytes / 3 / png.height) {
    png_image_free(&png);
    throw io_error("cannot read PNG " + quoted(path) + ": image dimensions too large");
  }
  png.format = PNG_FORMAT_RGB;
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
