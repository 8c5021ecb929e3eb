#pragma once
// SigMF recordings (Signal Metadata Format, v1.x, https://sigmf.org) as a radio_source and a
// radio_sink. A recording is two files with one base name: BASE.sigmf-data holds the
// samples, BASE.sigmf-meta the JSON metadata ("global", "captures", "annotations").
//
// Conventions:
// - Written data is cf32_le: little-endian float32 (re, im) pairs. Channels are interleaved
//   sample by sample, as core:num_channels requires: s0c0 s0c1 … s0c(C-1) s1c0 …
// - The sink writes both files under temporary names in the target directory and renames
//   them into place only in close(), data first, metadata last: a reader never sees a
//   half-written recording. A sink destroyed without close() removes its temporaries.
// - amimo-specific metadata lives in the "amimo:" namespace (declared in core:extensions
//   as optional): amimo:channel_layout lists the antenna index recorded on each channel.
// - The source reads cf32_le and ci16_le (int16 pairs, scaled by 1/32768 so full scale is
//   1.0); other datatypes are refused. A data file whose size (less core:trailing_bytes)
//   is not a whole number of samples is refused as truncated or corrupt, never guessed at.
//   Captures with core:header_bytes, SigMF archives (.sigmf) and metadata_only recordings
//   are refused too. The center frequency is core:frequency of the capture at sample 0.
// - Malformed metadata is refused, never guessed at: a key twice in one object, a core:version
//   other than 1.x, core:metadata_only not a boolean, a capture or annotation whose
//   core:sample_start is not a non-negative integer, captures not sorted by core:sample_start,
//   an amimo:channel_layout naming an antenna twice or one outside 0 … 4095 (the sink refuses
//   such a layout too). Annotations are written sorted by core:sample_start (SigMF requires
//   it); unsorted ones are read and returned sorted (they change no sample's reading).
// - The sink refuses, when it is created, a base path ending in '/' or naming a directory and
//   a directory at either file's name; an older recording at the names is replaced only by a
//   complete new one.
// - Every refusal is an amimo::io_error whose message names the file and the problem
//   (the field, the expected and the found value). NaN/Inf samples are passed on and
//   counted in radio_events::nonfinite_samples (by the source and by the sink).

#include <amimo/radio/radio.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace amimo::radio {

/// One SigMF annotation (core:sample_start, core:sample_count, core:label, core:comment).
struct sigmf_annotation {
  std::uint64_t sample_start = 0;
  std::uint64_t sample_count = 0;  ///< 0: not written / absent
  std::string label;               ///< empty: not written / absent
  std::string comment;             ///< empty: not written / absent
};

/// What the sink writes into the metadata besides the stream description.
struct sigmf_options {
  std::string description;  ///< core:description (written even when empty)
  std::string author;       ///< core:author; empty: omitted
  std::string hw;           ///< core:hw; empty: omitted
  /// core:datetime of the capture, ISO-8601 UTC "YYYY-MM-DDTHH:MM:SS[.fff…]Z"; empty: now.
  std::string datetime;
  /// amimo:channel_layout, the antenna index of each channel; empty: 0, 1, …, channels-1.
  std::vector<int> channel_layout;
  /// Written sorted by sample_start, as SigMF requires (stable: equal starts keep their
  /// order); may be empty.
  std::vector<sigmf_annotation> annotations;
};

struct sigmf_source_options {
  /// Start over at the end of the data instead of reporting end_of_stream. An empty
  /// recording still ends (there is nothing to repeat).
  bool loop = false;
};

/// The fields of a recording's metadata that amimo uses, validated.
struct sigmf_metadata {
  std::string meta_path;            ///< BASE.sigmf-meta
  std::string data_path;            ///< BASE.sigmf-data
  std::string datatype;             ///< "cf32_le" or "ci16_le"
  std::string version;              ///< core:version ("" when absent)
  double sample_rate = 0.0;         ///< core:sample_rate, finite and > 0
  int channels = 1;                 ///< core:num_channels (1 when absent)
  double frequency = 0.0;           ///< core:frequency of the capture at sample 0 (0 when absent)
  std::string datetime;             ///< core:datetime of the capture at sample 0 ("" when absent)
  std::string description;          ///< core:description ("" when absent)
  std::string author;               ///< core:author ("" when absent)
  std::string hw;                   ///< core:hw ("" when absent)
  std::string recorder;             ///< core:recorder ("" when absent)
  std::vector<int> channel_layout;  ///< amimo:channel_layout, else 0 … channels-1
  /// Sorted by sample_start (stably; a recording that lists them unsorted is read, not refused).
  std::vector<sigmf_annotation> annotations;
  std::uint64_t total_samples = 0;     ///< samples per channel in the data file
  std::uint64_t bytes_per_sample = 0;  ///< one sample of all channels, in bytes
};

/// The base name of a recording: `path` without a trailing ".sigmf-meta" / ".sigmf-data".
std::string sigmf_base_path(const std::string& path);

/// The current UTC time as SigMF core:datetime, e.g. "2025-01-31T12:34:56.789Z".
std::string sigmf_datetime_now();

/// Whether `text` has the form "YYYY-MM-DDTHH:MM:SS[.digits]Z" with fields in range.
bool is_sigmf_datetime(const std::string& text) noexcept;

/// Reads and validates BASE.sigmf-meta and the size of BASE.sigmf-data (`path` as in
/// sigmf_base_path). Throws amimo::io_error naming the file and the problem.
sigmf_metadata read_sigmf_metadata(const std::string& path);

/// Records a stream as a cf32_le SigMF recording at `path` (base name, or either file
/// name). Throws amimo::config_error for a description or options that cannot be
/// written (channels < 1, sample rate not finite and > 0, a non-finite frequency, a
/// malformed datetime, a channel layout of the wrong length) and amimo::io_error when the
/// temporary data file cannot be created. write() throws io_error when the disk refuses
/// data and config_error for fewer buffers than channels; close() throws io_error naming
/// the file when a file cannot be completed or renamed (no temporary is left behind).
std::unique_ptr<radio_sink> create_sigmf_sink(const std::string& path,
                                              const stream_description& description,
                                              const sigmf_options& options = {});

/// Plays a SigMF recording (see read_sigmf_metadata for `path` and validation). read()
/// never waits (the timeout is unused), de-interleaves up to max_samples per channel and
/// reports end_of_stream with the call that reaches the end of the data (its count may be
/// > 0) and with every call after it, unless options.loop. A data file that becomes
/// unreadable while playing is counted in other_errors and ends the stream.
std::unique_ptr<radio_source> open_sigmf_source(const std::string& path,
                                                const sigmf_source_options& options = {});

}  // namespace amimo::radio
