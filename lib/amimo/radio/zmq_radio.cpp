// ZeroMQ radio transports: GNU Radio's gr-zeromq convention and srsRAN's REQ/REP radio
// (conventions in zmq_radio.h and README "ZeroMQ radio").
#include <amimo/radio/zmq_radio.h>

#include <amimo/core/error.h>

#include <zmq.hpp>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <iostream>
#include <limits>
#include <optional>
#include <span>
#include <stdexcept>
#include <string_view>
#include <system_error>

namespace amimo::radio {
namespace {

// Samples go on the wire as the host's float32 pairs: correct on little-endian hosts only.
static_assert(std::endian::native == std::endian::little,
              "the ZeroMQ radio wire format is little-endian fc32");
static_assert(sizeof(cf32) == 8);

using clock_type = std::chrono::steady_clock;
constexpr std::size_t bytes_per_sample = sizeof(cf32);
constexpr int max_channels = 1024;
// Messages taken from one socket per drain, so one busy channel cannot starve a read.
constexpr int max_messages_per_drain = 256;
constexpr unsigned char srsran_request_byte = 0xFF;
// A channel warns (once) when its first this-many messages were all refused.
constexpr std::uint64_t refused_warning_after = 4;
// SUB: a channel whose first message comes this long after another channel's first (which
// had two or more messages taken in earlier reads) counts as joined late.
constexpr std::chrono::milliseconds late_join_gap{20};
// Longest a blocked send or wait goes without looking at the interrupt flag.
constexpr std::chrono::milliseconds interrupt_check{50};
// ZMQ_LINGER at close after an interrupted write (the process wants to stop now).
constexpr std::chrono::milliseconds interrupted_linger{200};
// After a lost connection libzmq reports its reconnect attempt at once (CONNECT_RETRIED);
// when it has not done so within this time it has given the connection up.
constexpr std::chrono::milliseconds reconnect_grace{100};

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::vector<std::string_view> split_commas(std::string_view s) {
  std::vector<std::string_view> out;
  for (;;) {
    const auto comma = s.find(',');
    out.push_back(trim(s.substr(0, comma)));
    if (comma == std::string_view::npos) break;
    s.remove_prefix(comma + 1);
  }
  return out;
}

int check_description(const stream_description& d, const char* what) {
  if (d.channels < 1 || d.channels > max_channels) {
    throw config_error(std::string(what) + ": channels must be 1.." +
                       std::to_string(max_channels) + ", got " + std::to_string(d.channels));
  }
  if (!std::isfinite(d.sample_rate) || d.sample_rate < 0.0) {
    throw config_error(std::string(what) + ": sample rate must be finite and >= 0");
  }
  return d.channels;
}

// An endpoint as written in a spec: scheme://address, tcp with host:port.
struct endpoint_parts {
  std::string_view scheme;
  std::string_view host;  // tcp only
  std::string_view port;  // tcp only: digits or "*"
};

endpoint_parts split_endpoint(std::string_view token, bool for_bind) {
  const auto bad = [&](const std::string& why) {
    return config_error("ZeroMQ endpoint '" + std::string(token) + "': " + why);
  };
  const auto sep = token.find("://");
  if (sep == std::string_view::npos || sep == 0) throw bad("expected scheme://address");
  endpoint_parts p;
  p.scheme = token.substr(0, sep);
  const std::string_view rest = token.substr(sep + 3);
  if (p.scheme != "tcp" && p.scheme != "ipc" && p.scheme != "inproc") {
    throw bad("unsupported transport '" + std::string(p.scheme) + "' (tcp, ipc, inproc)");
  }
  if (rest.empty()) throw bad("empty address");
  if (p.scheme != "tcp") return p;
  const auto colon = rest.rfind(':');
  if (colon == std::string_view::npos || colon == 0) throw bad("expected tcp://host:port");
  p.host = rest.substr(0, colon);
  p.port = rest.substr(colon + 1);
  if (p.port == "*") {
    if (!for_bind) throw bad("port '*' (ephemeral) can only be bound, not connected to");
    return p;
  }
  unsigned value = 0;
  const auto [end, ec] = std::from_chars(p.port.data(), p.port.data() + p.port.size(), value);
  if (ec != std::errc() || end != p.port.data() + p.port.size() || value < 1 || value > 65535) {
    throw bad("port '" + std::string(p.port) + "' is not 1..65535 or '*'");
  }
  return p;
}

void bind_socket(zmq::socket_t& socket, const std::string& endpoint) {
  try {
    socket.bind(endpoint);
  } catch (const zmq::error_t& e) {
    throw config_error("cannot bind ZeroMQ endpoint '" + endpoint + "': " + e.what());
  }
}

void connect_socket(zmq::socket_t& socket, const std::string& endpoint) {
  try {
    socket.connect(endpoint);
  } catch (const zmq::error_t& e) {
    throw config_error("cannot connect to ZeroMQ endpoint '" + endpoint + "': " + e.what());
  }
}

// ---------------------------------------------------------------------------------------
// Shared receive side: one FIFO per channel, refusals and counters, aligned delivery.

// A growable FIFO of samples; after warm-up it reuses its storage (no allocation).
class sample_fifo {
 public:
  std::size_t size() const noexcept { return data_.size() - head_; }
  cf32* append(std::size_t n) {
    if (head_ > 0 && data_.size() + n > data_.capacity()) {
      data_.erase(data_.begin(), data_.begin() + static_cast<std::ptrdiff_t>(head_));
      head_ = 0;
    }
    const std::size_t old = data_.size();
    data_.resize(old + n);
    return data_.data() + old;
  }
  void pop(cf32* out, std::size_t n) {
    std::copy_n(data_.data() + head_, n, out);
    discard(n);
  }
  void discard(std::size_t n) {
    head_ += n;
    if (head_ == data_.size()) {
      data_.clear();
      head_ = 0;
    }
  }

 private:
  std::vector<cf32> data_;
  std::size_t head_ = 0;
};

std::uint64_t count_nonfinite(const cf32* p, std::size_t n) {
  std::uint64_t bad = 0;
  for (std::size_t i = 0; i < n; ++i) {
    if (!std::isfinite(p[i].real()) || !std::isfinite(p[i].imag())) ++bad;
  }
  return bad;
}

// What a receiving endpoint set does when a channel's backlog is full.
enum class backlog_policy {
  // PULL / REQ: the full channel is not read (its data waits in libzmq's queue, whose HWM
  // then blocks the sender); a message larger than the room left is held and moved in as
  // room appears. Nothing is dropped.
  hold,
  // SUB: every message is taken (a SUB cannot push back: libzmq would drop at the HWM, per
  // channel); on overflow the same span of samples (by stream position) is dropped on every
  // channel, so channels stay in step.
  drop_aligned,
};

// Sockets, monitors and FIFOs of a receiving endpoint set.
class receive_core {
 public:
  receive_core(int channels, std::size_t max_backlog, backlog_policy policy, std::ostream* log,
               std::string_view convention)
      : fifos_(static_cast<std::size_t>(channels)),
        held_(static_cast<std::size_t>(channels)),
        held_offset_(static_cast<std::size_t>(channels), 0),
        skip_(static_cast<std::size_t>(channels), 0),
        accepted_(static_cast<std::size_t>(channels), 0),
        refused_(static_cast<std::size_t>(channels), 0),
        first_at_(static_cast<std::size_t>(channels)),
        max_backlog_(max_backlog),
        policy_(policy),
        log_(log),
        convention_(convention) {}

  zmq::context_t context{1};
  std::vector<zmq::socket_t> sockets;
  radio_events events;

  /// Connects a new socket of `type` to `endpoint` and watches its connection: a lost
  /// connection is counted in other_errors, and re-established here when libzmq does not
  /// (it gives up a connection on which it refused a message larger than ZMQ_MAXMSGSIZE;
  /// that is a discontinuity()).
  zmq::socket_t& add_socket(zmq::socket_type type, const std::string& endpoint) {
    zmq::socket_t socket(context, type);
    socket.set(zmq::sockopt::linger, 0);
    const std::string address = "inproc://amimo-zmq-monitor-" + std::to_string(sockets.size());
    if (zmq_socket_monitor(socket.handle(), address.c_str(),
                           ZMQ_EVENT_DISCONNECTED | ZMQ_EVENT_CONNECTED |
                               ZMQ_EVENT_CONNECT_RETRIED) != 0) {
      throw config_error("cannot monitor ZeroMQ socket: " + std::string(zmq_strerror(errno)));
    }
    zmq::socket_t pair(context, zmq::socket_type::pair);
    pair.set(zmq::sockopt::linger, 0);
    pair.connect(address);
    monitors_.push_back(std::move(pair));
    endpoints_.push_back(endpoint);
    lost_.push_back(false);
    lost_since_.emplace_back();
    sockets.push_back(std::move(socket));
    return sockets.back();
  }

  /// Connects every socket (after the caller has set its options).
  void connect_all() {
    for (std::size_t c = 0; c < sockets.size(); ++c) connect_socket(sockets[c], endpoints_[c]);
  }

  /// Reads the connection events; reconnects a socket that libzmq gave up on. Call after
  /// taking the socket's pending messages (a reconnect drops what its queue still holds).
  void watch_connections() {
    const auto now = clock_type::now();
    for (std::size_t c = 0; c < monitors_.size(); ++c) {
      for (;;) {
        zmq::message_t frame;
        try {
          if (!monitors_[c].recv(frame, zmq::recv_flags::dontwait)) break;
          bool more = frame.more();
          if (frame.size() >= 2) {
            std::uint16_t event = 0;
            std::memcpy(&event, frame.data(), sizeof(event));
            if (event == ZMQ_EVENT_DISCONNECTED) {
              ++events.other_errors;
              if (!lost_[c]) lost_since_[c] = now;
              lost_[c] = true;
            } else {
              lost_[c] = false;  // connected again, or libzmq is retrying by itself
            }
          }
          while (more) {
            zmq::message_t rest;
            (void)monitors_[c].recv(rest, zmq::recv_flags::none);
            more = rest.more();
          }
        } catch (const zmq::error_t&) {
          ++events.other_errors;
          break;
        }
      }
      if (lost_[c] && now - lost_since_[c] >= reconnect_grace) {
        lost_[c] = false;
        // libzmq gave the connection up after refusing a message: that span is gone on this
        // channel only, so the channels would stay out of step for good.
        discontinuity();
        try {
          sockets[c].disconnect(endpoints_[c]);
        } catch (const zmq::error_t&) {
          // the session is already gone
        }
        try {
          sockets[c].connect(endpoints_[c]);
        } catch (const zmq::error_t&) {
          ++events.other_errors;
        }
      }
    }
  }

  /// A channel lost a span of its stream that the others still have: every channel's
  /// backlog is discarded (FIFO, held message and, unless the sockets are REQ, what waits
  /// in libzmq), so all channels go on from the samples sent next: one overflow, the
  /// largest backlog discarded counted in dropped_samples. A PUSH sender blocked on the
  /// lost channel resumes it exactly in step; otherwise the receiver re-synchronises on the
  /// next preamble, told by the overflow.
  void discontinuity() {
    ++events.overflows;
    std::uint64_t most = 0;
    for (std::size_t c = 0; c < fifos_.size(); ++c) {
      std::uint64_t n = fifos_[c].size() + (held_[c].size() - held_offset_[c]) / bytes_per_sample;
      fifos_[c].discard(fifos_[c].size());
      held_[c].rebuild();
      held_offset_[c] = 0;
      skip_[c] = 0;
      if (drain_queues_) {
        for (int k = 0; k < max_messages_per_drain; ++k) {
          zmq::message_t msg;
          try {
            if (!sockets[c].recv(msg, zmq::recv_flags::dontwait)) break;
          } catch (const zmq::error_t&) {
            ++events.other_errors;
            break;
          }
          n += msg.size() / bytes_per_sample;
        }
      }
      most = std::max(most, n);
    }
    events.dropped_samples += most;
  }

  /// REQ sockets: a discontinuity leaves libzmq's queues alone (a reply taken here would
  /// leave its request outstanding in the caller's bookkeeping).
  void keep_queues_on_discontinuity() noexcept { drain_queues_ = false; }

  /// How long a read may wait before watch_connections() must run again.
  std::chrono::milliseconds watch_interval() const {
    for (const bool lost : lost_) {
      if (lost) return std::chrono::milliseconds(10);
    }
    return std::chrono::milliseconds::max();
  }

  /// Whether channel c may take another message now: always under drop_aligned; under
  /// hold only while nothing is held and its FIFO is below max_backlog_samples.
  bool accepting(std::size_t c) const noexcept {
    return policy_ == backlog_policy::drop_aligned ||
           (held_offset_[c] >= held_[c].size() && fifos_[c].size() < max_backlog_);
  }

  /// Moves held samples into the FIFOs as far as room allows (hold policy).
  void refill() {
    for (std::size_t c = 0; c < fifos_.size(); ++c) {
      const std::size_t held_samples = (held_[c].size() - held_offset_[c]) / bytes_per_sample;
      if (held_samples == 0) continue;
      const std::size_t room =
          max_backlog_ > fifos_[c].size() ? max_backlog_ - fifos_[c].size() : 0;
      take_held(c, std::min(room, held_samples));
    }
  }

  /// Remembers the message counts at the start of a receive pass (late-join check).
  void begin_pass() noexcept {
    most_accepted_before_pass_ = 0;
    for (const auto a : accepted_) most_accepted_before_pass_ = std::max(most_accepted_before_pass_, a);
  }

  /// Takes one single-frame message for channel c: refused (counted) or taken (appended,
  /// or held in part under the hold policy; `msg` is then left empty). Returns false when
  /// it was refused.
  bool ingest(std::size_t c, zmq::message_t& msg) {
    const std::size_t bytes = msg.size();
    if (bytes == 0 || bytes % bytes_per_sample != 0) {
      ++events.dropped_messages;
      events.dropped_samples += bytes / bytes_per_sample;
      refused(c, bytes == 0 ? std::string("empty message")
                            : "message size " + std::to_string(bytes) +
                                  " bytes not a multiple of 8 (fc32 samples)");
      return false;
    }
    if (accepted_[c] == 0) {
      first_at_[c] = clock_type::now();
      // Another channel was already streaming (two messages taken in earlier reads, the
      // first of them late_join_gap ago or more): this one joined late and starts offset.
      if (count_late_ && most_accepted_before_pass_ >= 2) {
        for (std::size_t k = 0; k < accepted_.size(); ++k) {
          if (k != c && accepted_[k] >= 2 && first_at_[c] - first_at_[k] >= late_join_gap) {
            ++events.late_channels;
            break;
          }
        }
      }
    }
    ++accepted_[c];
    const std::size_t n = bytes / bytes_per_sample;
    const auto* bytes_in = static_cast<const unsigned char*>(msg.data());
    if (policy_ == backlog_policy::hold) {
      if (held_[c].size() > 0) {
        // Only possible after a re-sent srsRAN request got two replies: keep the order and
        // overshoot the bound by this one message rather than lose anything.
        take_held(c, (held_[c].size() - held_offset_[c]) / bytes_per_sample);
        append(c, bytes_in, n);
        return true;
      }
      const std::size_t room = max_backlog_ > fifos_[c].size() ? max_backlog_ - fifos_[c].size() : 0;
      const std::size_t take = std::min(n, room);
      if (take < n) {  // keep the message (zero-copy) until the reader makes room
        std::swap(held_[c], msg);
        held_offset_[c] = 0;
        take_held(c, take);
      } else {
        append(c, bytes_in, n);
      }
      return true;
    }
    if (fifos_[c].size() + n > max_backlog_) {
      // Bring this channel down to half the bound by dropping the oldest span of the stream
      // on every channel (hysteresis: one event per half backlog, not per message).
      drop_span(fifos_[c].size() + n - max_backlog_ / 2);
    }
    const std::size_t skip = static_cast<std::size_t>(std::min<std::uint64_t>(skip_[c], n));
    skip_[c] -= skip;
    append(c, bytes_in + skip * bytes_per_sample, n - skip);
    return true;
  }

  /// Drops the remaining frames of a multi-part message on channel c (counted once).
  void refuse_multipart(std::size_t c, zmq::socket_t& socket, zmq::message_t& first) {
    ++events.dropped_messages;
    events.dropped_samples += first.size() / bytes_per_sample;
    std::size_t parts = 1;
    bool more = first.more();
    while (more) {
      zmq::message_t rest;
      if (!socket.recv(rest, zmq::recv_flags::dontwait)) break;
      events.dropped_samples += rest.size() / bytes_per_sample;
      more = rest.more();
      ++parts;
    }
    refused(c, "multi-part message (" + std::to_string(parts) + (more ? "+" : "") + " parts)");
  }

  std::size_t aligned() const {
    std::size_t n = std::numeric_limits<std::size_t>::max();
    for (const auto& f : fifos_) n = std::min(n, f.size());
    return n;
  }

  std::size_t deliver(std::span<cf32* const> out, std::size_t max_samples) {
    const std::size_t n = std::min(aligned(), max_samples);
    if (n == 0) return 0;
    for (std::size_t c = 0; c < fifos_.size(); ++c) fifos_[c].pop(out[c], n);
    events.samples += n;
    if (policy_ == backlog_policy::hold) refill();
    return n;
  }

  /// Waits until a socket is readable or `wait` passes; false when interrupted. With
  /// `only_accepting`, sockets of channels that take nothing now are left out (their
  /// pending messages would wake the poll at once, forever).
  bool poll(std::chrono::milliseconds wait, bool only_accepting = false) {
    items_.clear();
    for (std::size_t c = 0; c < sockets.size(); ++c) {
      if (only_accepting && !accepting(c)) continue;
      items_.push_back({sockets[c].handle(), 0, ZMQ_POLLIN, 0});
    }
    try {
      zmq::poll(items_.data(), items_.size(), std::max(wait, std::chrono::milliseconds(0)));
    } catch (const zmq::error_t&) {
      return false;  // EINTR (a signal) or context teardown: the caller returns
    }
    return true;
  }

  /// Counts channels that begin after another channel is already streaming (SUB).
  void count_late_channels() noexcept { count_late_ = true; }

  void check_channels(std::span<cf32* const> out) const {
    if (out.size() < fifos_.size()) {
      throw std::invalid_argument("radio read: " + std::to_string(out.size()) +
                                  " buffers for " + std::to_string(fifos_.size()) + " channels");
    }
  }

  std::size_t channels() const noexcept { return fifos_.size(); }

 private:
  std::vector<zmq::socket_t> monitors_;  // PAIR ends of zmq_socket_monitor, one per socket
  std::vector<std::string> endpoints_;
  std::vector<bool> lost_;
  std::vector<clock_type::time_point> lost_since_;
  void append(std::size_t c, const unsigned char* bytes, std::size_t n) {
    if (n == 0) return;
    cf32* dst = fifos_[c].append(n);
    std::memcpy(dst, bytes, n * bytes_per_sample);
    events.nonfinite_samples += count_nonfinite(dst, n);
  }

  // Moves n samples of channel c's held message into its FIFO.
  void take_held(std::size_t c, std::size_t n) {
    append(c, static_cast<const unsigned char*>(held_[c].data()) + held_offset_[c], n);
    held_offset_[c] += n * bytes_per_sample;
    if (held_offset_[c] >= held_[c].size()) {
      held_[c].rebuild();
      held_offset_[c] = 0;
    }
  }

  // Drops `span` samples from the head of every channel's stream; a channel holding fewer
  // skips the rest of the span from its next samples. Counted once per channel span.
  void drop_span(std::size_t span) {
    ++events.overflows;
    events.dropped_samples += span;
    for (std::size_t c = 0; c < fifos_.size(); ++c) {
      const std::size_t have = std::min(span, fifos_[c].size());
      fifos_[c].discard(have);
      skip_[c] += span - have;
    }
  }

  // A refused message on channel c; warns once when every message of a channel so far
  // (at least refused_warning_after) has been refused.
  void refused(std::size_t c, const std::string& why) {
    ++refused_[c];
    if (accepted_[c] != 0 || refused_[c] != refused_warning_after) return;
    ++events.refused_channels;
    std::string hint;
    if (convention_ == "gr") {
      hint = why.rfind("multi-part", 0) == 0
                 ? ": is a key (topic) set in the GNU Radio sink? amimo takes no key"
                 : ": is Pass Tags on in the GNU Radio sink? amimo takes raw fc32 samples";
    } else {
      hint = ": is the transmitter sending fc32 (tx_format=fc32)?";
    }
    std::ostream& out = log_ != nullptr ? *log_ : std::cerr;
    out << "# warning: ZeroMQ source channel " << c << ": every message refused ("
        << refused_[c] << " so far, counted in dropped_messages): " << why << hint << '\n'
        << std::flush;
  }

  std::vector<sample_fifo> fifos_;
  std::vector<zmq::message_t> held_;       // hold policy: the part of a message not yet in the FIFO
  std::vector<std::size_t> held_offset_;   // bytes of held_[c] already moved
  std::vector<std::uint64_t> skip_;        // drop_aligned: samples still to drop on arrival
  std::vector<std::uint64_t> accepted_;    // messages taken per channel
  std::vector<std::uint64_t> refused_;     // messages refused per channel
  std::vector<clock_type::time_point> first_at_;  // when each channel's first message was taken
  std::uint64_t most_accepted_before_pass_ = 0;
  std::size_t max_backlog_;
  backlog_policy policy_;
  std::ostream* log_;
  std::string_view convention_;
  bool count_late_ = false;
  bool drain_queues_ = true;
  std::vector<zmq::pollitem_t> items_;
};

std::chrono::milliseconds remaining(clock_type::time_point deadline) {
  return std::chrono::ceil<std::chrono::milliseconds>(deadline - clock_type::now());
}

void check_sink_channels(std::span<const cf32* const> in, int channels, bool closed) {
  if (closed) throw io_error("radio write after close()");
  if (in.size() < static_cast<std::size_t>(channels)) {
    throw std::invalid_argument("radio write: " + std::to_string(in.size()) + " buffers for " +
                                std::to_string(channels) + " channels");
  }
}

int linger_ms(std::chrono::milliseconds linger) {
  return static_cast<int>(std::clamp<std::int64_t>(linger.count(), -1, 3600000));
}

// ---------------------------------------------------------------------------------------
// A) GNU Radio convention.

class gr_sink final : public zmq_sink {
 public:
  gr_sink(const std::string& spec, const stream_description& d, const zmq_gr_options& o)
      : description_(d), pattern_(o.pattern), linger_(o.linger) {
    check_description(d, "ZeroMQ sink");
    const auto wanted = parse_zmq_endpoints(spec, d.channels, true);
    const auto type =
        o.pattern == zmq_pattern::push_pull ? zmq::socket_type::push : zmq::socket_type::xpub;
    for (const auto& endpoint : wanted) {
      zmq::socket_t s(context_, type);
      s.set(zmq::sockopt::sndhwm, std::max(o.send_hwm, 0));
      s.set(zmq::sockopt::linger, linger_ms(o.linger));
      // XPUB: at the HWM the send fails (EAGAIN, so amimo can count the message) instead of
      // the message vanishing silently; either way it is lost for that subscriber.
      if (type == zmq::socket_type::xpub) s.set(zmq::sockopt::xpub_nodrop, 1);
      bind_socket(s, endpoint);
      bound_.push_back(s.get(zmq::sockopt::last_endpoint));
      sockets_.push_back(std::move(s));
    }
    subscribed_.assign(sockets_.size(), pattern_ == zmq_pattern::push_pull);
    owed_.resize(sockets_.size());
  }

  ~gr_sink() override {
    if (!closed_) close();
  }

  std::string_view name() const noexcept override { return "zmq-gr-sink"; }
  stream_description description() const override { return description_; }
  const radio_events& events() const noexcept override { return events_; }
  std::vector<std::string> endpoints() const override { return bound_; }

  void write(std::span<const cf32* const> channels, std::size_t count) override {
    check_sink_channels(channels, description_.channels, closed_);
    if (count == 0) return;  // an empty message would be refused by the receiver
    if (pattern_ == zmq_pattern::pub_sub) {
      publish_block(channels, count);
      return;
    }
    for (std::size_t c = 0; c < sockets_.size(); ++c) {
      events_.nonfinite_samples += count_nonfinite(channels[c], count);
      zmq::message_t msg(channels[c], count * bytes_per_sample);
      if (!push(c, msg)) {
        ++events_.dropped_messages;
        events_.dropped_samples += count;
      }
      if (interrupted_) {  // the caller is stopping: the rest of the block is not sent
        events_.dropped_messages += sockets_.size() - c - 1;
        events_.dropped_samples += count * (sockets_.size() - c - 1);
        return;
      }
    }
    events_.samples += count;
  }

  bool wait_for_receivers(std::chrono::milliseconds timeout) override {
    const auto deadline = clock_type::now() + timeout;
    for (;;) {
      for (std::size_t c = 0; c < sockets_.size(); ++c) drain_subscriptions(c);
      if (std::all_of(subscribed_.begin(), subscribed_.end(), [](bool b) { return b; })) {
        return true;
      }
      const auto left = remaining(deadline);
      if (left.count() <= 0 || closed_ || stop_requested()) return false;
      std::vector<zmq::pollitem_t> items;
      for (auto& s : sockets_) items.push_back({s.handle(), 0, ZMQ_POLLIN, 0});
      try {
        zmq::poll(items.data(), items.size(), std::min(left, interrupt_check));
      } catch (const zmq::error_t&) {
        // EINTR: look at the interrupt flag and go on
      }
    }
  }

  void close() override {
    if (closed_) return;
    // A block still owed to a channel is sent if its queue has room now, else counted lost.
    if (pattern_ == zmq_pattern::pub_sub) (void)flush_owed();
    for (std::size_t c = 0; c < owed_.size(); ++c) {
      if (owed_[c].size() == 0) continue;
      ++events_.dropped_messages;
      events_.dropped_samples += owed_[c].size() / bytes_per_sample;
      owed_[c].rebuild();
    }
    closed_ = true;
    for (auto& s : sockets_) {
      // Unsent messages linger (ZMQ_LINGER) in the context; briefly after an interrupt.
      if (interrupted_) s.set(zmq::sockopt::linger, linger_ms(std::min(linger_, interrupted_linger)));
      s.close();
    }
  }

 private:
  // PUSH: blocks while the receiver's queue is full or no receiver is connected, looking at
  // the interrupt flag every interrupt_check. False when interrupted (nothing sent).
  bool push(std::size_t c, zmq::message_t& msg) {
    for (;;) {
      try {
        if (sockets_[c].send(msg, zmq::send_flags::dontwait)) return true;
      } catch (const zmq::error_t&) {
        ++events_.other_errors;
        return false;
      }
      if (stop_requested()) {
        interrupted_ = true;
        return false;
      }
      zmq::pollitem_t item{sockets_[c].handle(), 0, ZMQ_POLLOUT, 0};
      try {
        zmq::poll(&item, 1, interrupt_check);
      } catch (const zmq::error_t&) {
        // EINTR: look at the flag, try again
      }
    }
  }

  // PUB: a block goes to every channel or to none, so SUB receivers, which pair channels by
  // stream position, never pair samples from different blocks. XPUB reports ZMQ_POLLOUT
  // even at the HWM (libzmq 4.3), so a full queue shows only when a send is refused: a
  // block refused before any channel took it is dropped on every channel; one refused on
  // a channel after others took it is kept for that channel (one block at most) and sent
  // before anything newer. While a channel still owes a block, new blocks are dropped on
  // every channel. Either way the loss is counted once: one message per channel in
  // dropped_messages, the block's samples once in dropped_samples.
  void publish_block(std::span<const cf32* const> channels, std::size_t count) {
    for (std::size_t c = 0; c < sockets_.size(); ++c) {
      events_.nonfinite_samples += count_nonfinite(channels[c], count);
    }
    if (!flush_owed()) {
      drop_block(count);
      return;
    }
    bool taken = false;           // some channel's subscriber took this block
    bool samples_counted = false;  // this block's samples are in dropped_samples (once a block)
    const auto count_samples = [&] {
      if (!samples_counted) events_.dropped_samples += count;
      samples_counted = true;
    };
    for (std::size_t c = 0; c < sockets_.size(); ++c) {
      zmq::message_t msg(channels[c], count * bytes_per_sample);
      switch (publish(c, msg)) {
        case publish_result::sent:
          taken = true;
          break;
        case publish_result::no_subscriber:  // nobody to keep in step with on this channel
          ++events_.dropped_messages;
          count_samples();
          break;
        case publish_result::full:
          if (!taken) {
            // Nothing of this block is out yet: drop it on every channel (the channels
            // before this one had no subscriber and are counted already).
            events_.dropped_messages += sockets_.size() - c;
            count_samples();
            return;
          }
          owed_[c] = std::move(msg);
          break;
        case publish_result::error:
          ++events_.dropped_messages;
          count_samples();
          break;
      }
    }
    if (taken) events_.samples += count;
  }

  // Sends what each channel still owes; false while some channel's queue is still full.
  bool flush_owed() {
    bool all = true;
    for (std::size_t c = 0; c < owed_.size(); ++c) {
      if (owed_[c].size() == 0) continue;
      const std::size_t n = owed_[c].size() / bytes_per_sample;
      switch (publish(c, owed_[c])) {
        case publish_result::sent:
          break;
        case publish_result::full:
          all = false;
          continue;  // still owed
        case publish_result::no_subscriber:
        case publish_result::error:
          ++events_.dropped_messages;
          events_.dropped_samples += n;
          break;
      }
      owed_[c].rebuild();
    }
    return all;
  }

  void drop_block(std::size_t count) {
    events_.dropped_messages += sockets_.size();
    events_.dropped_samples += count;
  }

  enum class publish_result { sent, no_subscriber, full, error };

  // XPUB: never blocks. A message is lost when the channel has no subscriber yet; refused
  // (`full`, the message kept) when the subscriber's queue is at the HWM.
  publish_result publish(std::size_t c, zmq::message_t& msg) {
    drain_subscriptions(c);
    const bool had_subscriber = subscribed_[c];
    bool sent = false;
    try {
      sent = sockets_[c].send(msg, zmq::send_flags::dontwait).has_value();
    } catch (const zmq::error_t&) {
      ++events_.other_errors;
      return publish_result::error;
    }
    if (!sent) return publish_result::full;  // EAGAIN: a subscriber's queue is at the HWM
    if (had_subscriber) return publish_result::sent;
    // No subscriber was known before the send. A subscription that libzmq took in during
    // the send got the message; one that is still unknown after it did not.
    drain_subscriptions(c);
    return subscribed_[c] ? publish_result::sent : publish_result::no_subscriber;
  }

  // XPUB hands each new subscription ("\x01" topic) and unsubscription ("\x00") to us.
  void drain_subscriptions(std::size_t c) {
    if (pattern_ != zmq_pattern::pub_sub || closed_) return;
    zmq::message_t msg;
    try {
      while (sockets_[c].recv(msg, zmq::recv_flags::dontwait)) {
        if (msg.size() >= 1 && *static_cast<const unsigned char*>(msg.data()) == 1) {
          subscribed_[c] = true;
        }
      }
    } catch (const zmq::error_t&) {
      ++events_.other_errors;
    }
  }

  stream_description description_;
  zmq_pattern pattern_;
  std::chrono::milliseconds linger_;
  zmq::context_t context_{1};
  std::vector<zmq::socket_t> sockets_;
  std::vector<std::string> bound_;
  std::vector<bool> subscribed_;
  std::vector<zmq::message_t> owed_;  // PUB: a block refused on a channel others took (size 0: none)
  radio_events events_;
  bool closed_ = false;
  bool interrupted_ = false;
};

class gr_source final : public radio_source {
 public:
  gr_source(const std::string& spec, const stream_description& d, const zmq_gr_options& o)
      : description_(d),
        core_(check_description(d, "ZeroMQ source"),
              std::max<std::size_t>(o.max_backlog_samples, 1),
              o.pattern == zmq_pattern::push_pull ? backlog_policy::hold
                                                  : backlog_policy::drop_aligned,
              o.log, "gr"),
        idle_end_(o.idle_end) {
    const auto endpoints = parse_zmq_endpoints(spec, d.channels, false);
    const auto type =
        o.pattern == zmq_pattern::push_pull ? zmq::socket_type::pull : zmq::socket_type::sub;
    for (const auto& endpoint : endpoints) {
      auto& s = core_.add_socket(type, endpoint);
      s.set(zmq::sockopt::rcvhwm, receive_hwm(o));
      s.set(zmq::sockopt::maxmsgsize, static_cast<std::int64_t>(std::min<std::size_t>(
                                          o.max_message_bytes,
                                          std::numeric_limits<std::int64_t>::max())));
      if (type == zmq::socket_type::sub) s.set(zmq::sockopt::subscribe, "");
    }
    if (type == zmq::socket_type::sub) core_.count_late_channels();
    core_.connect_all();
    last_message_ = clock_type::now();
  }

  // ZMQ_RCVHWM counts messages of up to max_message_bytes each: a message cap alone let a
  // sender of large messages pin receive_hwm × max_message_bytes (64 × 64 MiB = 4 GiB) per
  // channel, so the byte budget decides (0, libzmq's "no limit", is never set).
  static int receive_hwm(const zmq_gr_options& o) {
    const std::size_t by_bytes = std::max<std::size_t>(
        1, o.receive_queue_bytes / std::max<std::size_t>(o.max_message_bytes, 1));
    const std::size_t cap = o.receive_hwm > 0 ? static_cast<std::size_t>(o.receive_hwm) : by_bytes;
    return static_cast<int>(std::min({by_bytes, cap,
                                      static_cast<std::size_t>(std::numeric_limits<int>::max())}));
  }

  std::string_view name() const noexcept override { return "zmq-gr-source"; }
  stream_description description() const override { return description_; }
  const radio_events& events() const noexcept override { return core_.events; }

  read_result read(std::span<cf32* const> channels, std::size_t max_samples,
                   std::chrono::milliseconds timeout) override {
    core_.check_channels(channels);
    if (max_samples == 0) return {0, read_status::timeout};
    const auto deadline = clock_type::now() + timeout;
    for (;;) {
      if (!ended_) receive_available();
      core_.watch_connections();
      if (const std::size_t n = core_.deliver(channels, max_samples); n > 0) {
        return {n, read_status::ok};
      }
      if (ended_) return {0, read_status::end_of_stream};
      const auto now = clock_type::now();
      auto wait = std::chrono::ceil<std::chrono::milliseconds>(deadline - now);
      if (idle_end_.count() > 0) {
        const auto idle_left =
            std::chrono::ceil<std::chrono::milliseconds>(last_message_ + idle_end_ - now);
        if (idle_left.count() <= 0) {
          ended_ = true;
          return {0, read_status::end_of_stream};
        }
        wait = std::min(wait, idle_left);
      }
      if (now >= deadline) {
        ++core_.events.timeouts;
        return {0, read_status::timeout};
      }
      if (!core_.poll(std::min(wait, core_.watch_interval()), true)) {
        return {0, read_status::timeout};
      }
    }
  }

 private:
  // Takes the messages waiting on every socket whose channel has room (PULL: a full
  // channel is left to libzmq, whose HWM then blocks the sender; SUB: always).
  void receive_available() {
    core_.refill();
    core_.begin_pass();
    for (std::size_t c = 0; c < core_.sockets.size(); ++c) {
      auto& s = core_.sockets[c];
      for (int k = 0; k < max_messages_per_drain && core_.accepting(c); ++k) {
        try {
          if (!s.recv(message_, zmq::recv_flags::dontwait)) break;
          last_message_ = clock_type::now();
          if (message_.more()) {
            core_.refuse_multipart(c, s, message_);
          } else {
            (void)core_.ingest(c, message_);
          }
        } catch (const zmq::error_t&) {
          ++core_.events.other_errors;
          break;
        }
      }
    }
  }

  stream_description description_;
  receive_core core_;
  std::chrono::milliseconds idle_end_;
  clock_type::time_point last_message_;
  zmq::message_t message_;
  bool ended_ = false;
};

// ---------------------------------------------------------------------------------------
// B) srsRAN convention.

void check_base_srate(const srsran_zmq_args& a, stream_description& d) {
  if (a.base_srate <= 0.0) return;
  if (d.sample_rate == 0.0) {
    d.sample_rate = a.base_srate;
  } else if (std::abs(d.sample_rate - a.base_srate) > 1e-9 * a.base_srate) {
    throw config_error("srsRAN ZMQ args: base_srate=" + std::to_string(a.base_srate) +
                       " differs from the stream's sample rate " +
                       std::to_string(d.sample_rate) + " (amimo does not resample)");
  }
}

class srsran_sink final : public zmq_sink {
 public:
  srsran_sink(const std::string& args, const stream_description& d,
              const zmq_srsran_options& o)
      : description_(d), linger_(o.linger) {
    check_description(d, "srsRAN ZMQ sink");
    const auto a = parse_srsran_zmq_args(args, d.channels);
    check_base_srate(a, description_);
    trx_timeout_ = a.trx_timeout;
    for (std::size_t c = 0; c < a.tx_ports.size(); ++c) {
      if (a.tx_ports[c].empty()) {
        throw config_error("srsRAN ZMQ args: no tx_port" + std::to_string(c) + " for channel " +
                           std::to_string(c) + " in '" + args + "'");
      }
      zmq::socket_t s(context_, zmq::socket_type::rep);
      s.set(zmq::sockopt::linger, linger_ms(o.linger));
      bind_socket(s, a.tx_ports[c]);
      bound_.push_back(s.get(zmq::sockopt::last_endpoint));
      sockets_.push_back(std::move(s));
    }
    pending_.assign(sockets_.size(), false);
  }

  std::string_view name() const noexcept override { return "srsran-zmq-sink"; }
  stream_description description() const override { return description_; }
  const radio_events& events() const noexcept override { return events_; }
  std::vector<std::string> endpoints() const override { return bound_; }
  bool wait_for_receivers(std::chrono::milliseconds) override { return true; }

  void write(std::span<const cf32* const> channels, std::size_t count) override {
    check_sink_channels(channels, description_.channels, closed_);
    if (count == 0) return;  // an empty reply is the end marker
    if (!wait_for_requests(trx_timeout_)) {
      if (!interrupted_) ++events_.timeouts;
      events_.dropped_messages += sockets_.size();
      events_.dropped_samples += count;
      return;
    }
    for (std::size_t c = 0; c < sockets_.size(); ++c) {
      events_.nonfinite_samples += count_nonfinite(channels[c], count);
      zmq::message_t msg(channels[c], count * bytes_per_sample);
      reply(c, msg);
    }
    events_.samples += count;
  }

  // Answers each channel's next request with the empty end marker (waiting for requests at
  // most trx_timeout_ms, and at most 1 s), then closes the sockets.
  void close() override {
    if (closed_) return;
    closed_ = true;
    const auto limit = trx_timeout_.count() > 0
                           ? std::min(trx_timeout_, std::chrono::milliseconds(1000))
                           : std::chrono::milliseconds(1000);
    if (!interrupted_) (void)wait_for_requests(limit);
    for (std::size_t c = 0; c < sockets_.size(); ++c) {
      if (pending_[c]) {
        zmq::message_t empty;
        reply(c, empty);
      }
    }
    for (auto& s : sockets_) {
      if (interrupted_) s.set(zmq::sockopt::linger, linger_ms(std::min(linger_, interrupted_linger)));
      s.close();
    }
  }

 private:
  // Receives requests until every channel has one pending; false after `limit` (0: none)
  // or once the interrupt flag is set.
  bool wait_for_requests(std::chrono::milliseconds limit) {
    const bool forever = limit.count() <= 0;
    const auto deadline = clock_type::now() + limit;
    std::vector<zmq::pollitem_t> items;
    std::vector<std::size_t> index;
    for (;;) {
      items.clear();
      index.clear();
      for (std::size_t c = 0; c < sockets_.size(); ++c) {
        if (pending_[c]) continue;
        items.push_back({sockets_[c].handle(), 0, ZMQ_POLLIN, 0});
        index.push_back(c);
      }
      if (items.empty()) return true;
      if (stop_requested()) {
        interrupted_ = true;
        return false;
      }
      const auto wait = forever ? interrupt_check : remaining(deadline);
      if (!forever && wait.count() <= 0) return false;
      try {
        zmq::poll(items.data(), items.size(), std::min(wait, interrupt_check));
      } catch (const zmq::error_t&) {
        continue;  // EINTR: look at the interrupt flag
      }
      for (std::size_t k = 0; k < items.size(); ++k) {
        if ((items[k].revents & ZMQ_POLLIN) == 0) continue;
        const std::size_t c = index[k];
        try {
          zmq::message_t request;  // content ignored (srsRAN sends one byte, 0xFF)
          if (!sockets_[c].recv(request, zmq::recv_flags::dontwait)) continue;
          bool more = request.more();
          while (more) {
            zmq::message_t rest;
            (void)sockets_[c].recv(rest, zmq::recv_flags::none);
            more = rest.more();
          }
          pending_[c] = true;
        } catch (const zmq::error_t&) {
          ++events_.other_errors;
        }
      }
    }
  }

  void reply(std::size_t c, zmq::message_t& msg) {
    try {
      (void)sockets_[c].send(msg, zmq::send_flags::none);
    } catch (const zmq::error_t&) {
      ++events_.other_errors;
      ++events_.dropped_messages;
      events_.dropped_samples += msg.size() / bytes_per_sample;
    }
    pending_[c] = false;
  }

  stream_description description_;
  std::chrono::milliseconds trx_timeout_{2000};
  std::chrono::milliseconds linger_;
  zmq::context_t context_{1};
  std::vector<zmq::socket_t> sockets_;
  std::vector<std::string> bound_;
  std::vector<bool> pending_;
  radio_events events_;
  bool closed_ = false;
  bool interrupted_ = false;
};

class srsran_source final : public radio_source {
 public:
  srsran_source(const std::string& args, const stream_description& d,
                const zmq_srsran_options& o)
      : description_(d),
        core_(check_description(d, "srsRAN ZMQ source"),
              std::max<std::size_t>(o.max_backlog_samples, 1), backlog_policy::hold, o.log,
              "srsran") {
    const auto a = parse_srsran_zmq_args(args, d.channels);
    check_base_srate(a, description_);
    trx_timeout_ = a.trx_timeout;
    for (std::size_t c = 0; c < a.rx_ports.size(); ++c) {
      if (a.rx_ports[c].empty()) {
        throw config_error("srsRAN ZMQ args: no rx_port" + std::to_string(c) + " for channel " +
                           std::to_string(c) + " in '" + args + "'");
      }
      auto& s = core_.add_socket(zmq::socket_type::req, a.rx_ports[c]);
      s.set(zmq::sockopt::req_relaxed, 1);
      // A reply to a superseded request is dropped by libzmq, never taken as the reply
      // to the request sent again (which would shift this channel's blocks by one).
      s.set(zmq::sockopt::req_correlate, 1);
      s.set(zmq::sockopt::maxmsgsize, static_cast<std::int64_t>(std::min<std::size_t>(
                                          o.max_message_bytes,
                                          std::numeric_limits<std::int64_t>::max())));
    }
    core_.keep_queues_on_discontinuity();
    core_.connect_all();
    outstanding_.assign(core_.sockets.size(), false);
    sent_at_.assign(core_.sockets.size(), clock_type::time_point{});
    replies_.assign(core_.sockets.size(), 0);
    skip_replies_.assign(core_.sockets.size(), 0);
  }

  std::string_view name() const noexcept override { return "srsran-zmq-source"; }
  stream_description description() const override { return description_; }
  const radio_events& events() const noexcept override { return core_.events; }

  read_result read(std::span<cf32* const> channels, std::size_t max_samples,
                   std::chrono::milliseconds timeout) override {
    core_.check_channels(channels);
    if (max_samples == 0) return {0, read_status::timeout};
    resume_request_clocks();
    const auto result = read_waiting(channels, max_samples, timeout);
    left_read_at_ = clock_type::now();
    return result;
  }

 private:
  // trx_timeout_ms counts only time spent inside read(): while the caller is busy elsewhere
  // nobody waits for the reply, and a re-sent request (ZMQ_REQ_RELAXED) makes libzmq
  // discard the reply that arrived meanwhile. So the time since the last read() returned is
  // added to each outstanding request's send time.
  void resume_request_clocks() {
    if (!left_read_at_) return;
    const auto away = clock_type::now() - *left_read_at_;
    for (std::size_t c = 0; c < outstanding_.size(); ++c) {
      if (outstanding_[c]) sent_at_[c] += away;
    }
  }

  read_result read_waiting(std::span<cf32* const> channels, std::size_t max_samples,
                           std::chrono::milliseconds timeout) {
    const auto deadline = clock_type::now() + timeout;
    for (;;) {
      if (!end_seen_) exchange();
      core_.watch_connections();
      if (const std::size_t n = core_.deliver(channels, max_samples); n > 0) {
        return {n, read_status::ok};
      }
      if (end_seen_) return {0, read_status::end_of_stream};
      const auto now = clock_type::now();
      if (now >= deadline) {
        ++core_.events.timeouts;
        return {0, read_status::timeout};
      }
      auto wait = std::chrono::ceil<std::chrono::milliseconds>(deadline - now);
      if (trx_timeout_.count() > 0) {
        for (std::size_t c = 0; c < outstanding_.size(); ++c) {
          if (!outstanding_[c]) continue;
          wait = std::min(wait, std::max(std::chrono::milliseconds(1),
                                         std::chrono::ceil<std::chrono::milliseconds>(
                                             sent_at_[c] + trx_timeout_ - now)));
        }
      }
      if (!core_.poll(std::min(wait, core_.watch_interval()))) {
        return {0, read_status::timeout};
      }
    }
  }

  // Sends the requests due, takes the replies that are there. A reply already waiting is
  // taken before an overdue request is sent again: the re-send would discard it.
  void exchange() {
    core_.refill();
    for (std::size_t c = 0; c < core_.sockets.size() && !end_seen_; ++c) {
      auto& s = core_.sockets[c];
      for (int k = 0; k < max_messages_per_drain && !end_seen_; ++k) {
        const auto now = clock_type::now();
        if (!outstanding_[c]) {
          // A full channel asks for nothing more until the reader makes room.
          if (!core_.accepting(c)) break;
          try {
            zmq::message_t request(&srsran_request_byte, 1);
            if (!s.send(request, zmq::send_flags::dontwait)) break;  // HWM: try later
          } catch (const zmq::error_t&) {
            ++core_.events.other_errors;
            break;
          }
          outstanding_[c] = true;
          sent_at_[c] = now;
        }
        bool replied = false;
        try {
          replied = s.recv(message_, zmq::recv_flags::dontwait).has_value();
        } catch (const zmq::error_t&) {
          break;  // EFSM cannot happen with a request outstanding; anything else: later
        }
        if (!replied) {
          if (trx_timeout_.count() > 0 && now - sent_at_[c] >= trx_timeout_) {
            ++core_.events.other_errors;  // unanswered: ask again (ZMQ_REQ_RELAXED)
            outstanding_[c] = false;
            lost_reply(c);
            continue;
          }
          break;
        }
        outstanding_[c] = false;
        const std::uint64_t index = replies_[c]++;
        if (skip_replies_[c] > 0 && !message_.more() && message_.size() > 0) {
          // A block the channel that lost a reply never gets: dropped here too.
          --skip_replies_[c];
          if (index >= counted_through_) {
            core_.events.dropped_samples += message_.size() / bytes_per_sample;
            counted_through_ = index + 1;
          }
          continue;
        }
        if (message_.more()) {
          core_.refuse_multipart(c, s, message_);
        } else if (message_.size() == 0) {
          end_seen_ = true;  // amimo's end marker
        } else {
          (void)core_.ingest(c, message_);
        }
      }
    }
  }

  // Channel c's request was sent again: the reply to the superseded one (already sent, or
  // sent later: the transmitter answers each request in turn) is dropped by libzmq
  // (ZMQ_REQ_CORRELATE), so channel c lost one block the other channels get. A
  // discontinuity as after a lost connection: every channel's backlog is discarded (one
  // overflow, the largest backlog in dropped_samples) and each channel drops the replies
  // up to the same reply index, so that all go on from the same block (the transmitter
  // serves every channel's n-th request with the same span of the stream).
  void lost_reply(std::size_t c) {
    const std::uint64_t before = *std::max_element(replies_.begin(), replies_.end());
    ++replies_[c];
    core_.discontinuity();
    const std::uint64_t target = *std::max_element(replies_.begin(), replies_.end());
    for (std::size_t k = 0; k < replies_.size(); ++k) skip_replies_[k] = target - replies_[k];
    counted_through_ = std::max(counted_through_, before);
  }

  stream_description description_;
  receive_core core_;
  std::chrono::milliseconds trx_timeout_{2000};
  std::vector<std::uint64_t> replies_;       // per channel: replies taken or lost so far
  std::vector<std::uint64_t> skip_replies_;  // per channel: replies still to drop (realign)
  std::uint64_t counted_through_ = 0;        // reply indices below: in dropped_samples
  std::vector<bool> outstanding_;
  std::vector<clock_type::time_point> sent_at_;
  std::optional<clock_type::time_point> left_read_at_;  // when read() last returned
  zmq::message_t message_;
  bool end_seen_ = false;
};

}  // namespace

// ---------------------------------------------------------------------------------------
// Parsing and factories.

std::vector<std::string> parse_zmq_endpoints(const std::string& spec, int channels,
                                             bool for_bind) {
  if (channels < 1) throw config_error("ZeroMQ endpoints: channels must be >= 1");
  if (trim(spec).empty()) throw config_error("ZeroMQ endpoint spec is empty");
  const auto tokens = split_commas(spec);
  std::vector<endpoint_parts> parts;
  for (const auto token : tokens) {
    if (token.empty()) throw config_error("ZeroMQ endpoint spec '" + spec + "' has an empty item");
    parts.push_back(split_endpoint(token, for_bind));
  }
  std::vector<std::string> out;
  const auto n = static_cast<std::size_t>(channels);
  if (tokens.size() == 1 && n > 1) {
    const auto& p = parts[0];
    if (p.scheme != "tcp") {
      throw config_error("ZeroMQ endpoint '" + std::string(tokens[0]) + "': give " +
                         std::to_string(n) + " comma-separated endpoints, one per channel");
    }
    if (p.port == "*") return std::vector<std::string>(n, std::string(tokens[0]));
    unsigned base = 0;
    (void)std::from_chars(p.port.data(), p.port.data() + p.port.size(), base);
    if (base + n - 1 > 65535) {
      throw config_error("ZeroMQ endpoint '" + std::string(tokens[0]) + "': ports " +
                         std::to_string(base) + ".." + std::to_string(base + n - 1) +
                         " exceed 65535");
    }
    for (std::size_t c = 0; c < n; ++c) {
      out.push_back("tcp://" + std::string(p.host) + ":" + std::to_string(base + c));
    }
    return out;
  }
  if (tokens.size() != n) {
    throw config_error("ZeroMQ endpoint spec '" + spec + "' lists " +
                       std::to_string(tokens.size()) + " endpoints for " + std::to_string(n) +
                       " channels");
  }
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t j = 0; j < i; ++j) {
      if (tokens[i] == tokens[j] && parts[i].port != "*") {
        throw config_error("ZeroMQ endpoint '" + std::string(tokens[i]) + "' is listed twice");
      }
    }
    out.emplace_back(tokens[i]);
  }
  return out;
}

srsran_zmq_args parse_srsran_zmq_args(const std::string& args, int channels) {
  if (channels < 1) throw config_error("srsRAN ZMQ args: channels must be >= 1");
  srsran_zmq_args a;
  const auto n = static_cast<std::size_t>(channels);
  a.tx_ports.assign(n, "");
  a.rx_ports.assign(n, "");
  std::vector<std::string> seen;
  bool any = false;
  for (const auto token : split_commas(args)) {
    if (token.empty()) continue;
    any = true;
    const auto bad = [&](const std::string& why) {
      return config_error("srsRAN ZMQ args: '" + std::string(token) + "': " + why);
    };
    const auto eq = token.find('=');
    if (eq == std::string_view::npos) throw bad("expected key=value");
    const std::string_view key = trim(token.substr(0, eq));
    const std::string_view value = trim(token.substr(eq + 1));
    if (value.empty()) throw bad("empty value");
    // tx_port / rx_port with an optional channel index.
    std::string_view base = key;
    std::size_t channel = 0;
    for (const std::string_view port_key : {std::string_view("tx_port"),
                                            std::string_view("rx_port")}) {
      if (key.substr(0, port_key.size()) != port_key) continue;
      const std::string_view digits = key.substr(port_key.size());
      if (!digits.empty()) {
        const auto [end, ec] =
            std::from_chars(digits.data(), digits.data() + digits.size(), channel);
        if (ec != std::errc() || end != digits.data() + digits.size()) throw bad("unknown key");
        if (channel >= n) {
          throw bad("channel " + std::to_string(channel) + " but the stream has " +
                    std::to_string(n) + " channels");
        }
      }
      base = port_key;
    }
    const std::string canonical =
        (base == "tx_port" || base == "rx_port") ? std::string(base) + std::to_string(channel)
                                                 : std::string(key);
    if (std::find(seen.begin(), seen.end(), canonical) != seen.end()) {
      throw bad("'" + canonical + "' given twice");
    }
    seen.push_back(canonical);
    if (base == "tx_port") {
      (void)split_endpoint(value, true);
      a.tx_ports[channel] = std::string(value);
    } else if (base == "rx_port") {
      (void)split_endpoint(value, false);
      a.rx_ports[channel] = std::string(value);
    } else if (key == "base_srate") {
      const std::string v(value);
      char* end = nullptr;
      const double rate = std::strtod(v.c_str(), &end);
      if (end != v.c_str() + v.size() || !std::isfinite(rate) || rate <= 0.0) {
        throw bad("base_srate must be a positive number");
      }
      a.base_srate = rate;
    } else if (key == "id") {
      a.id = std::string(value);
    } else if (key == "trx_timeout_ms") {
      long long ms = 0;
      const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), ms);
      if (ec != std::errc() || end != value.data() + value.size() || ms < 0 || ms > 3600000) {
        throw bad("trx_timeout_ms must be an integer 0..3600000");
      }
      a.trx_timeout = std::chrono::milliseconds(ms);
    } else if (key == "tx_format" || key == "rx_format") {
      if (value != "fc32") throw bad("only fc32 samples are supported");
    } else {
      throw bad("unknown key '" + std::string(key) +
                "' (tx_port[N], rx_port[N], base_srate, id, trx_timeout_ms, tx_format, "
                "rx_format)");
    }
  }
  if (!any) throw config_error("srsRAN ZMQ args are empty");
  return a;
}

std::unique_ptr<zmq_sink> create_zmq_gr_sink(const std::string& spec,
                                             const stream_description& description,
                                             const zmq_gr_options& options) {
  return std::make_unique<gr_sink>(spec, description, options);
}

std::unique_ptr<radio_source> create_zmq_gr_source(const std::string& spec,
                                                   const stream_description& description,
                                                   const zmq_gr_options& options) {
  return std::make_unique<gr_source>(spec, description, options);
}

std::unique_ptr<zmq_sink> create_srsran_zmq_sink(const std::string& args,
                                                 const stream_description& description,
                                                 const zmq_srsran_options& options) {
  return std::make_unique<srsran_sink>(args, description, options);
}

std::unique_ptr<radio_source> create_srsran_zmq_source(const std::string& args,
                                                       const stream_description& description,
                                                       const zmq_srsran_options& options) {
  return std::make_unique<srsran_source>(args, description, options);
}

}  // namespace amimo::radio
