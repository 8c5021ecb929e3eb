#include <amimo/core/error.h>
#include <amimo/core/file_io.h>
#include <amimo/radio/sigmf.h>

#include <nlohmann/json.hpp>

#include <unistd.h>
#include <algorithm>
#include <atomic>
#include <bit>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <limits>
#include <numeric>
#include <optional>
#include <set>
#include <system_error>
#include <utility>

namespace amimo::radio {
namespace {

static_assert(std::endian::native == std::endian::little,
              "SigMF cf32_le / ci16_le I/O copies samples as they are: little-endian hosts only");
static_assert(std::numeric_limits<float>::is_iec559, "cf32_le is IEEE-754 binary32");

namespace fs = std::filesystem;
using nlohmann::json;
using nlohmann::ordered_json;

constexpr std::string_view meta_suffix = ".sigmf-meta";
constexpr std::string_view data_suffix = ".sigmf-data";
constexpr const char* written_version = "1.2.0";    // core:version the sink writes
constexpr const char* extension_version = "1.0.0";  // the "amimo" namespace
constexpr std::size_t io_buffer_bytes = std::size_t{1} << 20U;
constexpr int max_channels = 4096;
constexpr int max_antenna_index = 4096;  // amimo:channel_layout entries are 0 … 4095
constexpr int max_json_depth = 64;  // SigMF metadata nests 4 levels; deeper is refused unparsed
constexpr const char* supported_types = "amimo reads cf32_le and ci16_le";

bool ends_with(std::string_view text, std::string_view suffix) noexcept {
  return text.size() >= suffix.size() && text.substr(text.size() - suffix.size()) == suffix;
}

std::string system_message(int error) {
  return std::error_code(error, std::generic_category()).message();
}

std::string number_text(double value) {
  char text[64];
  std::snprintf(text, sizeof text, "%.17g", value);
  return text;
}

/// A JSON value as it appears in the file, shortened for an error message.
std::string value_text(const json& value) {
  std::string text = value.dump();
  if (text.size() > 60) text = text.substr(0, 57) + "...";
  return text;
}

bool finite_sample(cf32 v) noexcept {
  return std::isfinite(v.real()) && std::isfinite(v.imag());
}

struct file_closer {
  void operator()(std::FILE* file) const noexcept { std::fclose(file); }
};
using file_ptr = std::unique_ptr<std::FILE, file_closer>;

/// Deepest nesting of arrays/objects in JSON text (strings skipped), stopping once past
/// `limit`: the parser and everything that walks a parsed value recurse per level, so
/// hostile nesting must be refused before parsing.
int json_depth_exceeds(std::string_view text, int limit) noexcept {
  int depth = 0;
  bool in_string = false;
  bool escaped = false;
  for (const char c : text) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > limit) return depth;
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return 0;
}

// ---------------------------------------------------------------------------------------
// Metadata reading

class meta_reader {
 public:
  explicit meta_reader(std::string meta_path) : path_(std::move(meta_path)) {}

  [[noreturn]] void fail(const std::string& problem) const {
    throw io_error("SigMF metadata '" + path_ + "': " + problem);
  }

  const json* find(const json& object, const char* key) const {
    const auto it = object.find(key);
    return it == object.end() ? nullptr : &*it;
  }

  std::string string_or_empty(const json& object, const char* key, const std::string& where) const {
    const json* value = find(object, key);
    if (value == nullptr) return {};
    if (!value->is_string()) fail(where + key + " must be a string, found " + value_text(*value));
    return value->get<std::string>();
  }

  std::uint64_t unsigned_value(const json& value, const std::string& field) const {
    if (!value.is_number_unsigned()) {
      fail(field + " must be a non-negative integer, found " + value_text(value));
    }
    return value.get<std::uint64_t>();
  }

  double number_value(const json& value, const std::string& field) const {
    if (!value.is_number()) fail(field + " must be a number, found " + value_text(value));
    return value.get<double>();
  }

 private:
  std::string path_;
};

json parse_meta_file(const std::string& meta_path, const std::string& given_path) {
  std::error_code ec;
  const fs::file_status status = fs::status(meta_path, ec);
  if (!fs::exists(status)) {
    if (ends_with(given_path, ".sigmf")) {
      throw io_error("'" + given_path + "': SigMF archives (.sigmf) are not supported; extract " +
                     "the .sigmf-meta and .sigmf-data files first");
    }
    throw io_error("SigMF metadata '" + meta_path + "' does not exist" +
                   (ec && ec != std::errc::no_such_file_or_directory ? ": " + ec.message() : ""));
  }
  const std::string text = read_bounded_file(meta_path, max_sigmf_meta_file_bytes, "SigMF metadata");
  if (json_depth_exceeds(text, max_json_depth) != 0) {
    throw io_error("SigMF metadata '" + meta_path + "' nests arrays/objects deeper than " +
                   std::to_string(max_json_depth) + " levels; refused without parsing");
  }
  // nlohmann keeps the last of a repeated key silently: {"core:sample_rate": -5,
  // "core:sample_rate": 7.68e6} would read as 7.68e6. JSON leaves repeats undefined
  // (RFC 8259 §4) and SigMF gives them no meaning, so a repeat is refused. One set of keys per
  // open object (arrays hold an empty marker so that every end pops its own start).
  std::vector<std::optional<std::set<std::string>>> open;
  const auto refuse_repeats = [&](int /*depth*/, json::parse_event_t event, json& parsed) {
    switch (event) {
      case json::parse_event_t::object_start: open.emplace_back(std::set<std::string>()); break;
      case json::parse_event_t::array_start: open.emplace_back(std::nullopt); break;
      case json::parse_event_t::object_end:
      case json::parse_event_t::array_end:
        if (!open.empty()) open.pop_back();
        break;
      case json::parse_event_t::key:
        if (!open.empty() && open.back() && !open.back()->insert(parsed.get<std::string>()).second) {
          throw io_error("SigMF metadata '" + meta_path + "': key \"" + parsed.get<std::string>() +
                         "\" appears twice in one object");
        }
        break;
      case json::parse_event_t::value: break;
    }
    return true;
  };
  try {
    return json::parse(text, refuse_repeats);
  } catch (const json::exception& e) {
    throw io_error("SigMF metadata '" + meta_path + "' is not valid JSON: " + e.what());
  }
}

sigmf_annotation parse_annotation(const meta_reader& reader, const json& value, std::size_t index) {
  const std::string where = "annotations[" + std::to_string(index) + "] ";
  if (!value.is_object()) reader.fail(where + "must be an object, found " + value_text(value));
  sigmf_annotation a;
  const json* start = reader.find(value, "core:sample_start");
  if (start == nullptr) reader.fail(where + "has no core:sample_start");
  a.sample_start = reader.unsigned_value(*start, where + "core:sample_start");
  if (const json* count = reader.find(value, "core:sample_count")) {
    a.sample_count = reader.unsigned_value(*count, where + "core:sample_count");
  }
  a.label = reader.string_or_empty(value, "core:label", where);
  a.comment = reader.string_or_empty(value, "core:comment", where);
  return a;
}

void read_captures(const meta_reader& reader, const json& root, sigmf_metadata& m) {
  const json* captures = reader.find(root, "captures");
  if (captures == nullptr) return;
  if (!captures->is_array())
    reader.fail("\"captures\" must be an array, found " + value_text(*captures));
  std::uint64_t previous_start = 0;
  for (std::size_t i = 0; i < captures->size(); ++i) {
    const json& capture = (*captures)[i];
    const std::string where = "captures[" + std::to_string(i) + "] ";
    if (!capture.is_object())
      reader.fail(where + "must be an object, found " + value_text(capture));
    if (const json* header = reader.find(capture, "core:header_bytes")) {
      const std::uint64_t bytes = reader.unsigned_value(*header, where + "core:header_bytes");
      if (bytes != 0) {
        reader.fail(where + "core:header_bytes = " + std::to_string(bytes) +
                    ": non-conforming datasets with headers are not supported");
      }
    }
    // SigMF: every capture has core:sample_start, and captures are sorted by it. Out of order,
    // the first capture need not describe sample 0 (its frequency was taken for the whole
    // recording): refused, never re-sorted.
    const json* start_value = reader.find(capture, "core:sample_start");
    if (start_value == nullptr) reader.fail(where + "has no core:sample_start");
    const std::uint64_t start = reader.unsigned_value(*start_value, where + "core:sample_start");
    if (i != 0 && start <= previous_start) {
      reader.fail(where + "core:sample_start " + std::to_string(start) + " does not follow the previous capture's " +
                  std::to_string(previous_start) + ": captures must be sorted by core:sample_start");
    }
    previous_start = start;
    if (start != 0) continue;  // the stream's description is the capture at sample 0
    if (const json* frequency = reader.find(capture, "core:frequency")) {
      m.frequency = reader.number_value(*frequency, where + "core:frequency");
      if (!std::isfinite(m.frequency)) {
        reader.fail(where + "core:frequency must be finite, found " + number_text(m.frequency));
      }
    }
    m.datetime = reader.string_or_empty(capture, "core:datetime", where);
  }
}

void read_channel_layout(const meta_reader& reader, const json& global, sigmf_metadata& m) {
  const json* layout = reader.find(global, "amimo:channel_layout");
  if (layout == nullptr) {
    m.channel_layout.resize(static_cast<std::size_t>(m.channels));
    std::iota(m.channel_layout.begin(), m.channel_layout.end(), 0);
    return;
  }
  if (!layout->is_array() || layout->size() != static_cast<std::size_t>(m.channels)) {
    reader.fail("amimo:channel_layout must be an array of " + std::to_string(m.channels) +
                " antenna indices (one per channel), found " + value_text(*layout));
  }
  // What the sink writes: distinct antenna indices below max_antenna_index (one antenna is
  // recorded on one channel).
  for (const json& entry : *layout) {
    const std::uint64_t antenna = reader.unsigned_value(entry, "amimo:channel_layout entry");
    if (antenna >= static_cast<std::uint64_t>(max_antenna_index)) {
      reader.fail("amimo:channel_layout entry " + std::to_string(antenna) + " is out of range (antenna indices 0.." +
                  std::to_string(max_antenna_index - 1) + ")");
    }
    if (std::find(m.channel_layout.begin(), m.channel_layout.end(), static_cast<int>(antenna)) !=
        m.channel_layout.end()) {
      reader.fail("amimo:channel_layout names antenna " + std::to_string(antenna) +
                  " twice (each channel records a different antenna), found " + value_text(*layout));
    }
    m.channel_layout.push_back(static_cast<int>(antenna));
  }
}

void read_data_size(const std::string& meta_path, std::uint64_t trailing_bytes, sigmf_metadata& m) {
  std::error_code ec;
  const fs::file_status status = fs::status(m.data_path, ec);
  if (!fs::exists(status)) {
    throw io_error("SigMF data file '" + m.data_path + "' (described by '" + meta_path +
                   "') does not exist");
  }
  if (!fs::is_regular_file(status)) {
    throw io_error("SigMF data file '" + m.data_path + "' is not a regular file");
  }
  const std::uintmax_t size = fs::file_size(m.data_path, ec);
  if (ec) throw io_error("cannot read SigMF data file '" + m.data_path + "': " + ec.message());
  if (trailing_bytes > size) {
    throw io_error("SigMF data file '" + m.data_path + "' is " + std::to_string(size) +
                   " bytes, shorter than its core:trailing_bytes " +
                   std::to_string(trailing_bytes));
  }
  const std::uint64_t usable = size - trailing_bytes;
  if (usable % m.bytes_per_sample != 0) {
    throw io_error("SigMF data file '" + m.data_path +
                   "' is truncated or corrupt: " + std::to_string(usable) +
                   " bytes is not a whole number of " + std::to_string(m.bytes_per_sample) +
                   "-byte samples (" + std::to_string(m.channels) + " channel(s) of " + m.datatype +
                   "); " + std::to_string(usable % m.bytes_per_sample) + " bytes left over");
  }
  m.total_samples = usable / m.bytes_per_sample;
}

// ---------------------------------------------------------------------------------------
// Sink

class sigmf_sink final : public radio_sink {
 public:
  sigmf_sink(const std::string& path, const stream_description& description,
             const sigmf_options& options)
      : description_(description) {
    const std::string base = sigmf_base_path(path);
    if (base.empty()) throw config_error("SigMF sink: the recording path is empty");
    data_path_ = base + std::string(data_suffix);
    meta_path_ = base + std::string(meta_suffix);
    const std::string who = "SigMF sink '" + base + "': ";
    // "sigmf:DIR/" wrote the hidden DIR/.sigmf-data; "sigmf:DIR" for an existing directory
    // is as surely a mistake. Both name a recording by its directory, not a base name.
    if (base.back() == '/') {
      throw config_error(who + "the path ends in '/': give the recording's base name (sigmf:DIR/NAME)");
    }
    std::error_code ec;
    if (fs::is_directory(fs::status(base, ec))) {
      throw io_error(who + "it is a directory: give the recording's base name (sigmf:DIR/NAME)");
    }
    // Found now, not after every frame was generated (close() checks again before it touches
    // anything).
    refuse_directory_targets();
    if (description.channels < 1 || description.channels > max_channels) {
      throw config_error(who + "channels must be in 1.." + std::to_string(max_channels) +
                         ", found " + std::to_string(description.channels));
    }
    if (!std::isfinite(description.sample_rate) || description.sample_rate <= 0.0) {
      throw config_error(who + "sample_rate must be finite and > 0, found " +
                         number_text(description.sample_rate));
    }
    if (!std::isfinite(description.center_frequency)) {
      throw config_error(who + "center_frequency must be finite, found " +
                         number_text(description.center_frequency));
    }
    const std::string datetime = options.datetime.empty() ? sigmf_datetime_now() : options.datetime;
    if (!is_sigmf_datetime(datetime)) {
      throw config_error(who + "datetime '" + datetime +
                         "' is not ISO-8601 UTC (YYYY-MM-DDTHH:MM:SS[.fff]Z)");
    }
    std::vector<int> layout = options.channel_layout;
    if (layout.empty()) {
      layout.resize(static_cast<std::size_t>(description.channels));
      std::iota(layout.begin(), layout.end(), 0);
    }
    if (layout.size() != static_cast<std::size_t>(description.channels)) {
      throw config_error(who + "channel_layout has " + std::to_string(layout.size()) +
                         " entries for " + std::to_string(description.channels) + " channels");
    }
    for (std::size_t c = 0; c < layout.size(); ++c) {
      if (layout[c] < 0 || layout[c] >= max_antenna_index) {
        throw config_error(who + "channel_layout entry " + std::to_string(layout[c]) +
                           " is out of range (antenna indices 0.." + std::to_string(max_antenna_index - 1) + ")");
      }
      if (std::find(layout.begin(), layout.begin() + static_cast<std::ptrdiff_t>(c), layout[c]) !=
          layout.begin() + static_cast<std::ptrdiff_t>(c)) {
        throw config_error(who + "channel_layout names antenna " + std::to_string(layout[c]) + " twice");
      }
    }
    meta_text_ = make_meta_text(who, datetime, layout, options);

    channels_ = static_cast<std::size_t>(description.channels);
    chunk_samples_ = std::max<std::size_t>(1, io_buffer_bytes / (channels_ * sizeof(cf32)));
    buffer_.resize(chunk_samples_ * channels_ * 2);

    // Unique O_EXCL|O_NOFOLLOW temporaries, renamed into place by close() (file_io.h).
    data_.emplace(data_path_);
  }

  sigmf_sink(const sigmf_sink&) = delete;
  sigmf_sink& operator=(const sigmf_sink&) = delete;
  ~sigmf_sink() override { discard(); }

  std::string_view name() const noexcept override { return "sigmf"; }
  stream_description description() const override { return description_; }
  const radio_events& events() const noexcept override { return events_; }

  void write(std::span<const cf32* const> channels, std::size_t count) override {
    if (state_ != state::open) {
      throw io_error("SigMF sink '" + data_path_ + "': write after " +
                     (state_ == state::closed ? "close()" : "a failure"));
    }
    if (channels.size() < channels_) {
      throw config_error("SigMF sink '" + data_path_ + "': write got " +
                         std::to_string(channels.size()) + " channel buffers for " +
                         std::to_string(channels_) + " channels");
    }
    if (count == 0) return;
    for (std::size_t c = 0; c < channels_; ++c) {
      if (channels[c] == nullptr) {
        throw config_error("SigMF sink '" + data_path_ + "': channel buffer " + std::to_string(c) +
                           " is null");
      }
    }
    std::size_t done = 0;
    while (done < count) {
      const std::size_t n = std::min(chunk_samples_ - buffered_, count - done);
      float* out = buffer_.data() + buffered_ * channels_ * 2;
      for (std::size_t i = 0; i < n; ++i) {
        for (std::size_t c = 0; c < channels_; ++c) {
          const cf32 v = channels[c][done + i];
          if (!finite_sample(v)) ++events_.nonfinite_samples;
          *out++ = v.real();
          *out++ = v.imag();
        }
      }
      buffered_ += n;
      done += n;
      if (buffered_ == chunk_samples_) flush_buffer();
    }
    events_.samples += count;
  }

  void close() override {
    if (state_ == state::closed) return;
    if (state_ == state::failed) {
      throw io_error("SigMF sink '" + data_path_ +
                     "' failed earlier; the recording was not written");
    }
    flush_buffer();
    try {
      data_->finish();
      meta_.emplace(meta_path_);
      meta_->write(meta_text_);
      meta_->finish();
    } catch (const io_error& e) {
      fail(std::string("SigMF sink: ") + e.what());
    }
    // A directory at either name would fail its rename after the older recording's metadata
    // was removed: checked before anything is touched.
    try {
      refuse_directory_targets();
    } catch (const io_error& e) {
      fail(e.what());
    }
    // An older recording's metadata must not describe the new data, even for a moment.
    // unlink, not remove: it never deletes a directory (one put there since the check).
    (void)::unlink(meta_path_.c_str());
    try {
      data_->commit();
    } catch (const io_error& e) {
      fail(std::string("SigMF sink: cannot move the data file into place: ") + e.what());
    }
    try {
      meta_->commit();
    } catch (const io_error& e) {
      (void)::unlink(data_path_.c_str());
      fail(std::string("SigMF sink: cannot move the metadata into place: ") + e.what());
    }
    state_ = state::closed;
  }

 private:
  enum class state { open, closed, failed };

  /// Throws io_error when a directory stands at the data or metadata file's name (a symlink
  /// there is replaced by the rename, never followed, so it is no obstacle).
  void refuse_directory_targets() const {
    for (const std::string& target : {data_path_, meta_path_}) {
      std::error_code ec;
      if (fs::is_directory(fs::symlink_status(target, ec))) {
        throw io_error("SigMF sink: cannot write '" + target + "': a directory is in the way");
      }
    }
  }

  std::string make_meta_text(const std::string& who, const std::string& datetime,
                             const std::vector<int>& layout, const sigmf_options& options) const {
    ordered_json global;
    global["core:datatype"] = "cf32_le";
    global["core:sample_rate"] = description_.sample_rate;
    global["core:version"] = written_version;
    global["core:num_channels"] = description_.channels;
    global["core:recorder"] = "amimo";
    global["core:description"] = options.description;
    if (!options.author.empty()) global["core:author"] = options.author;
    if (!options.hw.empty()) global["core:hw"] = options.hw;
    global["core:extensions"] = ordered_json::array(
        {ordered_json{{"name", "amimo"}, {"version", extension_version}, {"optional", true}}});
    global["amimo:channel_layout"] = layout;

    ordered_json capture;
    capture["core:sample_start"] = 0;
    capture["core:frequency"] = description_.center_frequency;
    capture["core:datetime"] = datetime;

    // SigMF requires annotations sorted by core:sample_start; they were written as given.
    // A stable sort: annotations starting at the same sample keep the caller's order.
    std::vector<sigmf_annotation> sorted = options.annotations;
    std::stable_sort(sorted.begin(), sorted.end(), [](const sigmf_annotation& a, const sigmf_annotation& b) {
      return a.sample_start < b.sample_start;
    });
    ordered_json annotations = ordered_json::array();
    for (const sigmf_annotation& a : sorted) {
      ordered_json entry;
      entry["core:sample_start"] = a.sample_start;
      if (a.sample_count != 0) entry["core:sample_count"] = a.sample_count;
      if (!a.label.empty()) entry["core:label"] = a.label;
      if (!a.comment.empty()) entry["core:comment"] = a.comment;
      annotations.push_back(std::move(entry));
    }

    ordered_json root;
    root["global"] = std::move(global);
    root["captures"] = ordered_json::array({std::move(capture)});
    root["annotations"] = std::move(annotations);
    try {
      return root.dump(2) + "\n";
    } catch (const json::exception& e) {  // text that is not UTF-8
      throw config_error(who + "metadata text cannot be written as JSON: " + e.what());
    }
  }

  void flush_buffer() {
    if (buffered_ == 0) return;
    const std::size_t floats = buffered_ * channels_ * 2;
    try {
      data_->write(buffer_.data(), floats * sizeof(float));
    } catch (const io_error& e) {
      fail(std::string("SigMF sink: ") + e.what());
    }
    buffered_ = 0;
  }

  [[noreturn]] void fail(const std::string& what) {
    discard();
    state_ = state::failed;
    throw io_error(what);
  }

  /// Closes and removes whatever temporary files exist. Never throws.
  void discard() noexcept {
    if (data_) data_->discard();
    if (meta_) meta_->discard();
  }

  stream_description description_;
  std::string data_path_;
  std::string meta_path_;
  std::string meta_text_;
  std::optional<atomic_file_writer> data_;
  std::optional<atomic_file_writer> meta_;
  std::size_t channels_ = 1;
  std::size_t chunk_samples_ = 1;
  std::vector<float> buffer_;  // interleaved (re, im) per channel per sample
  std::size_t buffered_ = 0;   // samples (of all channels) in buffer_
  state state_ = state::open;
  radio_events events_;
};

// ---------------------------------------------------------------------------------------
// Source

class sigmf_source final : public radio_source {
 public:
  sigmf_source(sigmf_metadata meta, const sigmf_source_options& options)
      : meta_(std::move(meta)), options_(options) {
    file_.reset(std::fopen(meta_.data_path.c_str(), "rb"));
    if (!file_) {
      throw io_error("cannot open SigMF data file '" + meta_.data_path +
                     "': " + system_message(errno));
    }
    std::setvbuf(file_.get(), nullptr, _IONBF, 0);  // raw_ is the buffer
    channels_ = static_cast<std::size_t>(meta_.channels);
    const auto sample_bytes = static_cast<std::size_t>(meta_.bytes_per_sample);
    chunk_samples_ = std::max<std::size_t>(1, io_buffer_bytes / sample_bytes);
    raw_.resize(chunk_samples_ * sample_bytes);
  }

  std::string_view name() const noexcept override { return "sigmf"; }
  stream_description description() const override {
    return {meta_.channels, meta_.sample_rate, meta_.frequency};
  }
  const radio_events& events() const noexcept override { return events_; }

  read_result read(std::span<cf32* const> channels, std::size_t max_samples,
                   std::chrono::milliseconds /*timeout*/) override {
    if (channels.size() < channels_) {
      throw config_error("SigMF source '" + meta_.data_path + "': read got " +
                         std::to_string(channels.size()) + " channel buffers for " +
                         std::to_string(channels_) + " channels");
    }
    const std::uint64_t total = meta_.total_samples;
    std::size_t delivered = 0;
    while (delivered < max_samples && !broken_) {
      if (position_ == total) {
        if (!options_.loop || total == 0) break;
        if (std::fseek(file_.get(), 0, SEEK_SET) != 0) {
          ++events_.other_errors;
          broken_ = true;
          break;
        }
        position_ = 0;
      }
      const std::size_t wanted = static_cast<std::size_t>(std::min<std::uint64_t>(
          std::min(max_samples - delivered, chunk_samples_), total - position_));
      const std::size_t got = std::fread(
          raw_.data(), static_cast<std::size_t>(meta_.bytes_per_sample), wanted, file_.get());
      decode(channels, delivered, got);
      delivered += got;
      position_ += got;
      if (got < wanted) {  // the file shrank or cannot be read any more
        ++events_.other_errors;
        broken_ = true;
      }
    }
    events_.samples += delivered;
    const bool ended = broken_ || total == 0 || (!options_.loop && position_ == total);
    return {delivered, ended ? read_status::end_of_stream : read_status::ok};
  }

 private:
  void decode(std::span<cf32* const> channels, std::size_t offset, std::size_t count) {
    const unsigned char* in = raw_.data();
    if (meta_.datatype == "cf32_le") {
      for (std::size_t i = 0; i < count; ++i) {
        for (std::size_t c = 0; c < channels_; ++c) {
          float pair[2];
          std::memcpy(pair, in, sizeof pair);
          in += sizeof pair;
          const cf32 v(pair[0], pair[1]);
          if (!finite_sample(v)) ++events_.nonfinite_samples;
          channels[c][offset + i] = v;
        }
      }
    } else {  // ci16_le, full scale 32768 -> 1.0
      constexpr float scale = 1.0F / 32768.0F;
      for (std::size_t i = 0; i < count; ++i) {
        for (std::size_t c = 0; c < channels_; ++c) {
          std::int16_t pair[2];
          std::memcpy(pair, in, sizeof pair);
          in += sizeof pair;
          channels[c][offset + i] =
              cf32(static_cast<float>(pair[0]) * scale, static_cast<float>(pair[1]) * scale);
        }
      }
    }
  }

  sigmf_metadata meta_;
  sigmf_source_options options_;
  file_ptr file_;
  std::size_t channels_ = 1;
  std::size_t chunk_samples_ = 1;
  std::vector<unsigned char> raw_;
  std::uint64_t position_ = 0;  // samples per channel already read in this pass
  bool broken_ = false;
  radio_events events_;
};

}  // namespace

std::string sigmf_base_path(const std::string& path) {
  if (ends_with(path, meta_suffix)) return path.substr(0, path.size() - meta_suffix.size());
  if (ends_with(path, data_suffix)) return path.substr(0, path.size() - data_suffix.size());
  return path;
}

std::string sigmf_datetime_now() {
  const auto now = std::chrono::system_clock::now().time_since_epoch();
  const auto seconds = std::chrono::floor<std::chrono::seconds>(now);
  const auto millis = std::chrono::duration_cast<std::chrono::milliseconds>(now - seconds).count();
  const auto t = static_cast<std::time_t>(seconds.count());
  std::tm utc{};
  ::gmtime_r(&t, &utc);
  char text[48];
  const std::size_t n = std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S", &utc);
  std::snprintf(text + n, sizeof text - n, ".%03dZ", static_cast<int>(millis));
  return text;
}

bool is_sigmf_datetime(const std::string& text) noexcept {
  // YYYY-MM-DDTHH:MM:SS[.digits]Z
  if (text.size() < 20 || text.back() != 'Z') return false;
  const auto digits = [&text](std::size_t at, std::size_t n, int low, int high) {
    int value = 0;
    for (std::size_t i = at; i < at + n; ++i) {
      if (text[i] < '0' || text[i] > '9') return false;
      value = value * 10 + (text[i] - '0');
    }
    return value >= low && value <= high;
  };
  if (!digits(0, 4, 0, 9999) || text[4] != '-' || !digits(5, 2, 1, 12) || text[7] != '-' ||
      !digits(8, 2, 1, 31) || text[10] != 'T' || !digits(11, 2, 0, 23) || text[13] != ':' ||
      !digits(14, 2, 0, 59) || text[16] != ':' || !digits(17, 2, 0, 60)) {
    return false;
  }
  if (text.size() == 20) return true;
  // A fraction: '.' and at least one digit before the 'Z'.
  return text[19] == '.' && text.size() >= 22 &&
         std::all_of(text.begin() + 20, text.end() - 1,
                     [](char ch) { return ch >= '0' && ch <= '9'; });
}

sigmf_metadata read_sigmf_metadata(const std::string& path) {
  const std::string base = sigmf_base_path(path);
  if (base.empty()) throw io_error("SigMF recording path is empty");
  sigmf_metadata m;
  m.meta_path = base + std::string(meta_suffix);
  m.data_path = base + std::string(data_suffix);
  const json root = parse_meta_file(m.meta_path, path);
  const meta_reader reader(m.meta_path);

  if (!root.is_object())
    reader.fail("the top level must be a JSON object, found " + value_text(root));
  const json* global = reader.find(root, "global");
  if (global == nullptr) reader.fail("the \"global\" object is missing");
  if (!global->is_object())
    reader.fail("\"global\" must be an object, found " + value_text(*global));

  const json* datatype = reader.find(*global, "core:datatype");
  if (datatype == nullptr)
    reader.fail(std::string("core:datatype is missing (") + supported_types + ")");
  if (!datatype->is_string()) {
    reader.fail("core:datatype must be a string, found " + value_text(*datatype));
  }
  m.datatype = datatype->get<std::string>();
  if (m.datatype != "cf32_le" && m.datatype != "ci16_le") {
    reader.fail("core:datatype \"" + m.datatype + "\" is not supported (" + supported_types + ")");
  }

  const json* rate = reader.find(*global, "core:sample_rate");
  if (rate == nullptr) reader.fail("core:sample_rate is missing (amimo needs the sample rate)");
  m.sample_rate = reader.number_value(*rate, "core:sample_rate");
  if (!std::isfinite(m.sample_rate) || m.sample_rate <= 0.0) {
    reader.fail("core:sample_rate must be finite and > 0, found " + number_text(m.sample_rate));
  }

  if (const json* channels = reader.find(*global, "core:num_channels")) {
    const std::uint64_t n = reader.unsigned_value(*channels, "core:num_channels");
    if (n < 1 || n > static_cast<std::uint64_t>(max_channels)) {
      reader.fail("core:num_channels must be in 1.." + std::to_string(max_channels) + ", found " +
                  std::to_string(n));
    }
    m.channels = static_cast<int>(n);
  }

  if (const json* metadata_only = reader.find(*global, "core:metadata_only")) {
    if (!metadata_only->is_boolean()) {
      reader.fail("core:metadata_only must be true or false, found " + value_text(*metadata_only));
    }
    if (metadata_only->get<bool>()) reader.fail("core:metadata_only is true: the recording has no samples");
  }
  std::uint64_t trailing_bytes = 0;
  if (const json* trailing = reader.find(*global, "core:trailing_bytes")) {
    trailing_bytes = reader.unsigned_value(*trailing, "core:trailing_bytes");
  }

  m.version = reader.string_or_empty(*global, "core:version", "");
  // SigMF 1.x is what this reader knows; a major version it does not know may mean anything.
  if (reader.find(*global, "core:version") != nullptr && m.version.rfind("1.", 0) != 0) {
    reader.fail("core:version \"" + m.version + "\" is not supported (amimo reads SigMF 1.x)");
  }
  m.description = reader.string_or_empty(*global, "core:description", "");
  m.author = reader.string_or_empty(*global, "core:author", "");
  m.hw = reader.string_or_empty(*global, "core:hw", "");
  m.recorder = reader.string_or_empty(*global, "core:recorder", "");
  read_channel_layout(reader, *global, m);
  read_captures(reader, root, m);

  if (const json* annotations = reader.find(root, "annotations")) {
    if (!annotations->is_array()) {
      reader.fail("\"annotations\" must be an array, found " + value_text(*annotations));
    }
    for (std::size_t i = 0; i < annotations->size(); ++i) {
      m.annotations.push_back(parse_annotation(reader, (*annotations)[i], i));
    }
    // Unsorted annotations (non-conforming) are taken and returned sorted (stably): unlike
    // captures they say nothing about how a sample is read, so nothing is guessed at.
    std::stable_sort(m.annotations.begin(), m.annotations.end(),
                     [](const sigmf_annotation& a, const sigmf_annotation& b) { return a.sample_start < b.sample_start; });
  }

  m.bytes_per_sample = static_cast<std::uint64_t>(m.channels) * (m.datatype == "cf32_le" ? 8U : 4U);
  read_data_size(m.meta_path, trailing_bytes, m);
  return m;
}

std::unique_ptr<radio_sink> create_sigmf_sink(const std::string& path,
                                              const stream_description& description,
                                              const sigmf_options& options) {
  return std::make_unique<sigmf_sink>(path, description, options);
}

std::unique_ptr<radio_source> open_sigmf_source(const std::string& path,
                                                const sigmf_source_options& options) {
  return std::make_unique<sigmf_source>(read_sigmf_metadata(path), options);
}

}  // namespace amimo::radio
