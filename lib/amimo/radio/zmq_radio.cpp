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
#include <limits>
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

// Sockets, monitors and FIFOs of a receiving endpoint set.
class receive_core {
 public:
  receive_core(int channels, std::size_t max_backlog)
      : fifos_(static_cast<std::size_t>(channels)), max_backlog_(max_backlog) {}

  zmq::context_t context{1};
  std::vector<zmq::socket_t> sockets;
  radio_events events;

  /// Connects a new socket of `type` to `endpoint` and watches its connection: a lost
  /// connection is counted in other_errors, and re-established here when libzmq does not
  /// (it gives up a connection on which it refused a message larger than ZMQ_MAXMSGSIZE).
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

  /// How long a read may wait before watch_connections() must run again.
  std::chrono::milliseconds watch_interval() const {
    for (const bool lost : lost_) {
      if (lost) return std::chrono::milliseconds(10);
    }
    return std::chrono::milliseconds::max();
  }

  /// Takes one single-frame message for channel c: refused (counted) or appended.
  /// Returns false when it was refused.
  bool ingest(std::size_t c, const zmq::message_t& msg) {
    const std::size_t bytes = msg.size();
    if (bytes == 0 || bytes % bytes_per_sample != 0) {
      ++events.dropped_messages;
      events.dropped_samples += bytes / bytes_per_sample;
      return false;
    }
    const std::size_t n = bytes / bytes_per_sample;
    const std::size_t room = max_backlog_ > fifos_[c].size() ? max_backlog_ - fifos_[c].size() : 0;
    const std::size_t take = std::min(n, room);
    if (take < n) {
      ++events.overflows;
      events.dropped_samples += n - take;
    }
    if (take > 0) {
      cf32* dst = fifos_[c].append(take);
      std::memcpy(dst, msg.data(), take * bytes_per_sample);
      events.nonfinite_samples += count_nonfinite(dst, take);
    }
    return true;
  }

  /// Drops the remaining frames of a multi-part message (counted once).
  void refuse_multipart(zmq::socket_t& socket, zmq::message_t& first) {
    ++events.dropped_messages;
    events.dropped_samples += first.size() / bytes_per_sample;
    bool more = first.more();
    while (more) {
      zmq::message_t rest;
      if (!socket.recv(rest, zmq::recv_flags::dontwait)) break;
      events.dropped_samples += rest.size() / bytes_per_sample;
      more = rest.more();
    }
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
    return n;
  }

  /// Waits until a socket is readable or `wait` passes; false when interrupted.
  bool poll(std::chrono::milliseconds wait) {
    items_.clear();
    for (auto& s : sockets) items_.push_back({s.handle(), 0, ZMQ_POLLIN, 0});
    try {
      zmq::poll(items_.data(), items_.size(), std::max(wait, std::chrono::milliseconds(0)));
    } catch (const zmq::error_t&) {
      return false;  // EINTR (a signal) or context teardown: the caller returns
    }
    return true;
  }

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
  std::vector<sample_fifo> fifos_;
  std::size_t max_backlog_;
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
      : description_(d), pattern_(o.pattern) {
    check_description(d, "ZeroMQ sink");
    const auto wanted = parse_zmq_endpoints(spec, d.channels, true);
    const auto type =
        o.pattern == zmq_pattern::push_pull ? zmq::socket_type::push : zmq::socket_type::xpub;
    for (const auto& endpoint : wanted) {
      zmq::socket_t s(context_, type);
      s.set(zmq::sockopt::sndhwm, std::max(o.send_hwm, 0));
      s.set(zmq::sockopt::linger, linger_ms(o.linger));
      bind_socket(s, endpoint);
      bound_.push_back(s.get(zmq::sockopt::last_endpoint));
      sockets_.push_back(std::move(s));
    }
    subscribed_.assign(sockets_.size(), pattern_ == zmq_pattern::push_pull);
  }

  std::string_view name() const noexcept override { return "zmq-gr-sink"; }
  stream_description description() const override { return description_; }
  const radio_events& events() const noexcept override { return events_; }
  std::vector<std::string> endpoints() const override { return bound_; }

  void write(std::span<const cf32* const> channels, std::size_t count) override {
    check_sink_channels(channels, description_.channels, closed_);
    drain_subscriptions();
    if (count == 0) return;  // an empty message would be refused by the receiver
    for (std::size_t c = 0; c < sockets_.size(); ++c) {
      events_.nonfinite_samples += count_nonfinite(channels[c], count);
      zmq::message_t msg(channels[c], count * bytes_per_sample);
      try {
        // PUSH: blocks at the HWM or with no receiver. XPUB: drops at the HWM, never blocks.
        (void)sockets_[c].send(msg, zmq::send_flags::none);
      } catch (const zmq::error_t&) {
        ++events_.other_errors;  // EINTR: this channel's block is lost
        ++events_.dropped_messages;
        events_.dropped_samples += count;
      }
    }
    events_.samples += count;
  }

  bool wait_for_receivers(std::chrono::milliseconds timeout) override {
    const auto deadline = clock_type::now() + timeout;
    for (;;) {
      drain_subscriptions();
      if (std::all_of(subscribed_.begin(), subscribed_.end(), [](bool b) { return b; })) {
        return true;
      }
      const auto left = remaining(deadline);
      if (left.count() <= 0 || closed_) return false;
      std::vector<zmq::pollitem_t> items;
      for (auto& s : sockets_) items.push_back({s.handle(), 0, ZMQ_POLLIN, 0});
      try {
        zmq::poll(items.data(), items.size(), left);
      } catch (const zmq::error_t&) {
        return false;
      }
    }
  }

  void close() override {
    if (closed_) return;
    closed_ = true;
    for (auto& s : sockets_) s.close();  // unsent messages linger (ZMQ_LINGER) in the context
  }

 private:
  // XPUB hands each new subscription ("\x01" topic) and unsubscription ("\x00") to us.
  void drain_subscriptions() {
    if (pattern_ != zmq_pattern::pub_sub || closed_) return;
    for (std::size_t c = 0; c < sockets_.size(); ++c) {
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
  }

  stream_description description_;
  zmq_pattern pattern_;
  zmq::context_t context_{1};
  std::vector<zmq::socket_t> sockets_;
  std::vector<std::string> bound_;
  std::vector<bool> subscribed_;
  radio_events events_;
  bool closed_ = false;
};

class gr_source final : public radio_source {
 public:
  gr_source(const std::string& spec, const stream_description& d, const zmq_gr_options& o)
      : description_(d),
        core_(check_description(d, "ZeroMQ source"),
              std::max<std::size_t>(o.max_backlog_samples, 1)),
        idle_end_(o.idle_end) {
    const auto endpoints = parse_zmq_endpoints(spec, d.channels, false);
    const auto type =
        o.pattern == zmq_pattern::push_pull ? zmq::socket_type::pull : zmq::socket_type::sub;
    for (const auto& endpoint : endpoints) {
      auto& s = core_.add_socket(type, endpoint);
      s.set(zmq::sockopt::rcvhwm, std::max(o.receive_hwm, 0));
      s.set(zmq::sockopt::maxmsgsize, static_cast<std::int64_t>(std::min<std::size_t>(
                                          o.max_message_bytes,
                                          std::numeric_limits<std::int64_t>::max())));
      if (type == zmq::socket_type::sub) s.set(zmq::sockopt::subscribe, "");
    }
    core_.connect_all();
    last_message_ = clock_type::now();
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
      if (!core_.poll(std::min(wait, core_.watch_interval()))) {
        return {0, read_status::timeout};
      }
    }
  }

 private:
  void receive_available() {
    for (std::size_t c = 0; c < core_.sockets.size(); ++c) {
      auto& s = core_.sockets[c];
      for (int k = 0; k < max_messages_per_drain; ++k) {
        try {
          if (!s.recv(message_, zmq::recv_flags::dontwait)) break;
          last_message_ = clock_type::now();
          if (message_.more()) {
            core_.refuse_multipart(s, message_);
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
      : description_(d) {
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
      ++events_.timeouts;
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
    (void)wait_for_requests(limit);
    for (std::size_t c = 0; c < sockets_.size(); ++c) {
      if (pending_[c]) {
        zmq::message_t empty;
        reply(c, empty);
      }
    }
    for (auto& s : sockets_) s.close();
  }

 private:
  // Receives requests until every channel has one pending; false after `limit` (0: none).
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
      const auto wait = forever ? std::chrono::milliseconds(-1) : remaining(deadline);
      if (!forever && wait.count() <= 0) return false;
      try {
        zmq::poll(items.data(), items.size(), wait);
      } catch (const zmq::error_t&) {
        return false;
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
  zmq::context_t context_{1};
  std::vector<zmq::socket_t> sockets_;
  std::vector<std::string> bound_;
  std::vector<bool> pending_;
  radio_events events_;
  bool closed_ = false;
};

class srsran_source final : public radio_source {
 public:
  srsran_source(const std::string& args, const stream_description& d,
                const zmq_srsran_options& o)
      : description_(d),
        core_(check_description(d, "srsRAN ZMQ source"),
              std::max<std::size_t>(o.max_backlog_samples, 1)) {
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
      s.set(zmq::sockopt::maxmsgsize, static_cast<std::int64_t>(std::min<std::size_t>(
                                          o.max_message_bytes,
                                          std::numeric_limits<std::int64_t>::max())));
    }
    core_.connect_all();
    outstanding_.assign(core_.sockets.size(), false);
    sent_at_.assign(core_.sockets.size(), clock_type::time_point{});
  }

  std::string_view name() const noexcept override { return "srsran-zmq-source"; }
  stream_description description() const override { return description_; }
  const radio_events& events() const noexcept override { return core_.events; }

  read_result read(std::span<cf32* const> channels, std::size_t max_samples,
                   std::chrono::milliseconds timeout) override {
    core_.check_channels(channels);
    if (max_samples == 0) return {0, read_status::timeout};
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

 private:
  // Sends the requests due, takes the replies that are there.
  void exchange() {
    for (std::size_t c = 0; c < core_.sockets.size() && !end_seen_; ++c) {
      auto& s = core_.sockets[c];
      for (int k = 0; k < max_messages_per_drain && !end_seen_; ++k) {
        const auto now = clock_type::now();
        if (outstanding_[c] && trx_timeout_.count() > 0 && now - sent_at_[c] >= trx_timeout_) {
          ++core_.events.other_errors;  // unanswered: ask again (ZMQ_REQ_RELAXED)
          outstanding_[c] = false;
        }
        if (!outstanding_[c]) {
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
        try {
          if (!s.recv(message_, zmq::recv_flags::dontwait)) break;
        } catch (const zmq::error_t&) {
          break;  // EFSM cannot happen with a request outstanding; anything else: later
        }
        outstanding_[c] = false;
        if (message_.more()) {
          core_.refuse_multipart(s, message_);
        } else if (message_.size() == 0) {
          end_seen_ = true;  // amimo's end marker
        } else {
          (void)core_.ingest(c, message_);
        }
      }
    }
  }

  stream_description description_;
  receive_core core_;
  std::chrono::milliseconds trx_timeout_{2000};
  std::vector<bool> outstanding_;
  std::vector<clock_type::time_point> sent_at_;
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
