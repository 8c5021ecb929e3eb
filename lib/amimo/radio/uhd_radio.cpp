#include <amimo/radio/uhd_radio.h>

#include <amimo/core/error.h>

#include <uhd/device.hpp>
#include <uhd/types/stream_cmd.hpp>
#include <uhd/types/tune_request.hpp>
#include <uhd/usrp/multi_usrp.hpp>

#include <algorithm>
#include <cmath>
#include <iomanip>
#include <ostream>
#include <sstream>
#include <thread>
#include <utility>

namespace amimo::radio {

namespace {

using steady = std::chrono::steady_clock;

double seconds_until(steady::time_point deadline) {
  const std::chrono::duration<double> left = deadline - steady::now();
  return std::max(0.0, left.count());
}

void log_line(std::ostream* log, const std::string& line) {
  if (log != nullptr) *log << line << '\n' << std::flush;
}

/// Polls a sensor that reports a lock until it is locked or `wait` has passed.
template <typename Read>
bool wait_for_lock(Read&& read_sensor, std::chrono::milliseconds wait) {
  const auto deadline = steady::now() + wait;
  for (;;) {
    if (read_sensor().to_bool()) return true;
    if (steady::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

bool has_name(const std::vector<std::string>& names, const std::string& wanted) {
  return std::find(names.begin(), names.end(), wanted) != names.end();
}

void validate(const uhd_options& o) {
  if (o.channels.empty()) throw config_error("uhd: at least one RX channel is needed");
  for (std::size_t i = 0; i < o.channels.size(); ++i) {
    for (std::size_t j = 0; j < i; ++j) {
      if (o.channels[i] == o.channels[j]) {
        throw config_error("uhd: RX channel " + std::to_string(o.channels[i]) + " is listed twice");
      }
    }
  }
  if (!(std::isfinite(o.rate) && o.rate > 0)) {
    throw config_error("uhd: sample rate must be positive, got " + std::to_string(o.rate));
  }
  if (!(std::isfinite(o.freq) && o.freq >= 0)) {
    throw config_error("uhd: centre frequency must be >= 0 Hz, got " + std::to_string(o.freq));
  }
  if (!std::isfinite(o.gain)) throw config_error("uhd: gain must be finite");
  if (!(std::isfinite(o.start_delay_s) && o.start_delay_s >= 0 && o.start_delay_s <= 60)) {
    throw config_error("uhd: start delay must be within [0, 60] s, got " +
                       std::to_string(o.start_delay_s));
  }
}

}  // namespace

// ---------------------------------------------------------------------------------------
// uhd_rx_adapter

uhd_rx_adapter::uhd_rx_adapter(uhd::rx_streamer::sptr streamer, stream_description description,
                               uhd_rx_settings settings)
    : settings_(std::move(settings)), streamer_(std::move(streamer)), description_(description) {
  if (!streamer_) throw config_error("uhd: no rx_streamer given");
  if (description_.channels < 1 ||
      streamer_->get_num_channels() != static_cast<std::size_t>(description_.channels)) {
    throw config_error("uhd: the rx_streamer has " + std::to_string(streamer_->get_num_channels()) +
                       " channels but the stream description says " +
                       std::to_string(description_.channels));
  }
  if (!(std::isfinite(settings_.start_delay_s) && settings_.start_delay_s >= 0)) {
    throw config_error("uhd: start delay must be >= 0 s");
  }
  buffers_.resize(static_cast<std::size_t>(description_.channels), nullptr);
}

uhd_rx_adapter::~uhd_rx_adapter() {
  if (!started_) return;
  try {
    // As the examples do when they are done: stop the continuous stream.
    streamer_->issue_stream_cmd(uhd::stream_cmd_t(uhd::stream_cmd_t::STREAM_MODE_STOP_CONTINUOUS));
  } catch (...) {  // NOLINT(bugprone-empty-catch): a destructor cannot report it
  }
}

void uhd_rx_adapter::start_stream() {
  uhd::stream_cmd_t cmd(uhd::stream_cmd_t::STREAM_MODE_START_CONTINUOUS);
  cmd.num_samps = 0;
  const bool timed = description_.channels > 1 && settings_.device_time;
  if (timed) {
    // rx_multi_samples.cpp: a start time in the near future so every channel (and
    // motherboard) begins on the same sample.
    cmd.stream_now = false;
    cmd.time_spec = settings_.device_time() + uhd::time_spec_t(settings_.start_delay_s);
  } else {
    cmd.stream_now = true;
    cmd.time_spec = uhd::time_spec_t(0.0);
  }
  streamer_->issue_stream_cmd(cmd);
  started_ = true;
  first_recv_ = timed;
  have_next_tick_ = false;
  delivered_since_start_ = false;
}

void uhd_rx_adapter::count_nonfinite(std::span<cf32* const> channels, std::size_t count) noexcept {
  std::uint64_t bad = 0;
  for (std::size_t c = 0; c < buffers_.size(); ++c) {
    const cf32* samples = channels[c];
    for (std::size_t i = 0; i < count; ++i) {
      if (!std::isfinite(samples[i].real()) || !std::isfinite(samples[i].imag())) ++bad;
    }
  }
  events_.nonfinite_samples += bad;
}

void uhd_rx_adapter::check_time(const uhd::rx_metadata_t& md, std::size_t count) noexcept {
  if (!(description_.sample_rate > 0) || !md.has_time_spec) {
    have_next_tick_ = false;
    return;
  }
  const long long tick = md.time_spec.to_ticks(description_.sample_rate);
  if (have_next_tick_ && tick > next_tick_) {
    events_.dropped_samples += static_cast<std::uint64_t>(tick - next_tick_);
  }
  next_tick_ = tick + static_cast<long long>(count);
  have_next_tick_ = true;
}

read_result uhd_rx_adapter::read(std::span<cf32* const> channels, std::size_t max_samples,
                                 std::chrono::milliseconds timeout) {
  if (channels.size() < buffers_.size()) {
    throw config_error("uhd: read() needs " + std::to_string(buffers_.size()) +
                       " channel buffers, got " + std::to_string(channels.size()));
  }
  if (max_samples == 0) return {0, read_status::timeout};
  for (std::size_t c = 0; c < buffers_.size(); ++c) buffers_[c] = channels[c];
  const uhd::rx_streamer::buffs_type buffs(buffers_.data(), buffers_.size());

  if (!started_) {
    try {
      start_stream();
    } catch (const std::exception& e) {
      ++events_.other_errors;
      last_error_ = std::string("stream start failed: ") + e.what();
      return {0, read_status::timeout};
    }
  }
  const auto budget = std::max(timeout, std::chrono::milliseconds(0));
  auto deadline = steady::now() + budget;
  if (first_recv_) {
    // The first packet comes start_delay_s after the start command (rx_multi_samples.cpp).
    deadline += std::chrono::duration_cast<steady::duration>(
        std::chrono::duration<double>(settings_.start_delay_s));
  }

  for (;;) {
    uhd::rx_metadata_t md;
    std::size_t n = 0;
    try {
      n = streamer_->recv(buffs, max_samples, md, seconds_until(deadline), false);
    } catch (const std::exception& e) {
      ++events_.other_errors;
      last_error_ = std::string("recv failed: ") + e.what();
      return {0, read_status::timeout};
    }
    first_recv_ = false;
    n = std::min(n, max_samples);

    bool retry = false;
    switch (md.error_code) {
      case uhd::rx_metadata_t::ERROR_CODE_NONE:
        retry = (n == 0);
        break;
      case uhd::rx_metadata_t::ERROR_CODE_TIMEOUT:
        if (n == 0) {
          ++events_.timeouts;
          return {0, read_status::timeout};
        }
        break;
      case uhd::rx_metadata_t::ERROR_CODE_OVERFLOW:
        // The examples go on after an overflow; the stream restarts by itself.
        ++events_.overflows;
        if (md.out_of_sequence) ++out_of_sequence_;
        retry = (n == 0);
        break;
      case uhd::rx_metadata_t::ERROR_CODE_LATE_COMMAND:
        ++events_.late_packets;
        last_error_ = md.strerror();
        if (!delivered_since_start_ && n == 0) {
          // The timed start was already in the past: the device dropped it. Stop and
          // start again (with a fresh start time) on the next read.
          try {
            streamer_->issue_stream_cmd(
                uhd::stream_cmd_t(uhd::stream_cmd_t::STREAM_MODE_STOP_CONTINUOUS));
          } catch (const std::exception& e) {
            last_error_ += std::string("; stop failed: ") + e.what();
          }
          started_ = false;
          return {0, read_status::timeout};
        }
        retry = (n == 0);
        break;
      default:
        ++events_.other_errors;
        last_error_ = md.strerror();
        if (n == 0) return {0, read_status::timeout};
        break;
    }
    if (n > 0) {
      check_time(md, n);
      count_nonfinite(channels, n);
      events_.samples += n;
      delivered_since_start_ = true;
      return {n, read_status::ok};
    }
    if (!retry || steady::now() >= deadline) return {0, read_status::timeout};
  }
}

// ---------------------------------------------------------------------------------------
// open_uhd_source

std::unique_ptr<radio_source> open_uhd_source(const uhd_options& o) {
  validate(o);
  const uhd::device_addr_t address(o.args);
  if (uhd::device::find(address, uhd::device::USRP).empty()) {
    throw config_error("no UHD device found for args '" + o.args +
                       "' (uhd_find_devices lists devices)");
  }

  std::string step = "opening the device";
  try {
    log_line(o.log, "uhd: creating the USRP device with args '" + o.args + "'");
    const uhd::usrp::multi_usrp::sptr usrp = uhd::usrp::multi_usrp::make(address);

    // Always select the subdevice first: the channel mapping affects the other settings.
    if (!o.subdev.empty()) {
      step = "setting subdev '" + o.subdev + "'";
      usrp->set_rx_subdev_spec(uhd::usrp::subdev_spec_t(o.subdev));
    }
    const std::size_t available = usrp->get_rx_num_channels();
    for (const std::size_t ch : o.channels) {
      if (ch >= available) {
        throw config_error("uhd: RX channel " + std::to_string(ch) + " does not exist (the " +
                           usrp->get_mboard_name() + " has " + std::to_string(available) +
                           " RX channels)");
      }
    }
    log_line(o.log, "uhd: using device " + usrp->get_mboard_name() + " with " +
                        std::to_string(available) + " RX channels");
    if (!o.clock_source.empty()) {
      step = "setting clock source '" + o.clock_source + "'";
      usrp->set_clock_source(o.clock_source);
    }
    if (!o.time_source.empty()) {
      step = "setting time source '" + o.time_source + "'";
      usrp->set_time_source(o.time_source);
    }

    for (const std::size_t ch : o.channels) {
      step = "setting up RX channel " + std::to_string(ch);
      usrp->set_rx_rate(o.rate, ch);
      usrp->set_rx_freq(uhd::tune_request_t(o.freq), ch);
      usrp->set_rx_gain(o.gain, ch);
      if (!o.antenna.empty()) usrp->set_rx_antenna(o.antenna, ch);
      std::ostringstream line;
      line << std::fixed << "uhd: channel " << ch << ": actual rate " << std::setprecision(6)
           << usrp->get_rx_rate(ch) / 1e6 << " Msps (asked " << o.rate / 1e6
           << "), actual frequency " << usrp->get_rx_freq(ch) / 1e6 << " MHz (asked "
           << o.freq / 1e6 << "), actual gain " << std::setprecision(1) << usrp->get_rx_gain(ch)
           << " dB (asked " << o.gain << "), antenna " << usrp->get_rx_antenna(ch);
      log_line(o.log, line.str());
    }

    // rx_samples_to_file.cpp: let the LOs settle and check they locked.
    for (const std::size_t ch : o.channels) {
      step = "checking the LO lock of channel " + std::to_string(ch);
      if (!has_name(usrp->get_rx_sensor_names(ch), "lo_locked")) continue;
      if (!wait_for_lock([&] { return usrp->get_rx_sensor("lo_locked", ch); },
                         std::chrono::milliseconds(1000))) {
        throw config_error("uhd: the LO of RX channel " + std::to_string(ch) + " did not lock at " +
                           std::to_string(o.freq) + " Hz");
      }
    }
    if (o.clock_source == "external") {
      step = "checking the reference lock";
      if (has_name(usrp->get_mboard_sensor_names(0), "ref_locked") &&
          !wait_for_lock([&] { return usrp->get_mboard_sensor("ref_locked", 0); },
                         std::chrono::milliseconds(1000))) {
        throw config_error("uhd: the device did not lock to the external reference");
      }
    }

    if (o.channels.size() > 1) {
      // rx_multi_samples.cpp: a common device time so a timed start aligns the channels.
      step = "setting the device time";
      if (!o.time_source.empty() && o.time_source != "internal") {
        usrp->set_time_unknown_pps(uhd::time_spec_t(0.0));
      } else {
        usrp->set_time_now(uhd::time_spec_t(0.0));
      }
    }

    step = "creating the RX streamer";
    uhd::stream_args_t stream_args("fc32", "sc16");
    stream_args.channels = o.channels;
    if (o.samples_per_packet > 0) {
      stream_args.args["spp"] = std::to_string(o.samples_per_packet);
    }
    uhd::rx_streamer::sptr streamer = usrp->get_rx_stream(stream_args);

    stream_description description;
    description.channels = static_cast<int>(o.channels.size());
    description.sample_rate = usrp->get_rx_rate(o.channels.front());
    description.center_frequency = usrp->get_rx_freq(o.channels.front());
    uhd_rx_settings settings;
    // The clock keeps the multi_usrp alive as long as the adapter (and its streamer).
    settings.device_time = [usrp] { return usrp->get_time_now(); };
    settings.start_delay_s = o.start_delay_s;
    return std::make_unique<uhd_rx_adapter>(std::move(streamer), description, std::move(settings));
  } catch (const config_error&) {
    throw;
  } catch (const std::exception& e) {
    throw config_error("uhd: " + step + " failed for args '" + o.args + "': " + e.what());
  }
}

}  // namespace amimo::radio
