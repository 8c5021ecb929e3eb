// ZeroMQ radio transports over real sockets on 127.0.0.1 (ephemeral ports). Every read has a
// timeout and every wait loop a bounded number of rounds, so nothing can hang.
#include <amimo/core/error.h>
#include <amimo/core/rng.h>
#include <amimo/radio/zmq_radio.h>

#include <gtest/gtest.h>
#include <zmq.hpp>

#include <algorithm>
#include <atomic>
#include <bit>
#include <sstream>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace amimo::radio {
namespace {

using namespace std::chrono_literals;
using channel_data = std::vector<std::vector<cf32>>;

channel_data random_data(int channels, std::size_t n, std::uint64_t seed) {
  channel_data out(static_cast<std::size_t>(channels));
  for (int c = 0; c < channels; ++c) {
    rng g(derive_seed(seed, {static_cast<std::uint64_t>(c)}));
    for (std::size_t i = 0; i < n; ++i) {
      out[static_cast<std::size_t>(c)].emplace_back(static_cast<float>(g.normal()),
                                                    static_cast<float>(g.normal()));
    }
  }
  return out;
}

// Channel c of `data`, samples [first, first + n).
std::vector<const cf32*> pointers(const channel_data& data, std::size_t first = 0) {
  std::vector<const cf32*> p;
  for (const auto& ch : data) p.push_back(ch.data() + first);
  return p;
}

bool bit_equal(const std::vector<cf32>& a, const std::vector<cf32>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(cf32)) == 0;
}

// Reads until `n` samples per channel arrived or a read does not return ok.
channel_data read_samples(radio_source& src, std::size_t n, std::size_t chunk = 333,
                          std::chrono::milliseconds timeout = 2000ms) {
  const auto channels = static_cast<std::size_t>(src.description().channels);
  channel_data out(channels);
  std::vector<std::vector<cf32>> buf(channels, std::vector<cf32>(chunk));
  std::vector<cf32*> p;
  for (auto& b : buf) p.push_back(b.data());
  while (out[0].size() < n) {
    const auto r = src.read(p, std::min(chunk, n - out[0].size()), timeout);
    if (r.status != read_status::ok) break;
    for (std::size_t c = 0; c < channels; ++c) {
      out[c].insert(out[c].end(), buf[c].begin(),
                    buf[c].begin() + static_cast<std::ptrdiff_t>(r.count));
    }
  }
  return out;
}

// The wire format written out by hand: each float's IEEE-754 bits, least significant byte
// first, real part then imaginary part.
std::string encode_fc32_le(const std::vector<cf32>& v) {
  std::string bytes;
  for (const cf32 s : v) {
    for (const float f : {s.real(), s.imag()}) {
      const auto bits = std::bit_cast<std::uint32_t>(f);
      for (int k = 0; k < 4; ++k) bytes.push_back(static_cast<char>((bits >> (8 * k)) & 0xFFU));
    }
  }
  return bytes;
}

// An independent raw ZeroMQ socket bound on an ephemeral port.
struct raw_socket {
  raw_socket(zmq::context_t& ctx, zmq::socket_type type) : socket(ctx, type) {
    socket.set(zmq::sockopt::linger, 0);
    socket.set(zmq::sockopt::rcvtimeo, 2000);
    socket.set(zmq::sockopt::sndtimeo, 2000);
    socket.bind("tcp://127.0.0.1:*");
    endpoint = socket.get(zmq::sockopt::last_endpoint);
  }
  void send(const std::string& bytes, zmq::send_flags flags = zmq::send_flags::none) {
    ASSERT_TRUE(socket.send(zmq::buffer(bytes), flags).has_value());
  }
  zmq::socket_t socket;
  std::string endpoint;
};

std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& e : v) s += (s.empty() ? "" : ",") + e;
  return s;
}

template <class F>
std::string config_error_of(F&& f) {
  try {
    f();
  } catch (const config_error& e) {
    return e.what();
  }
  return "(no config_error)";
}

stream_description channels_of(int n, double rate = 0.0) {
  stream_description d;
  d.channels = n;
  d.sample_rate = rate;
  return d;
}

// ---------------------------------------------------------------------------------------
// Spec and args parsing.

TEST(ZmqEndpoints, BasePortIsIncrementedPerChannel) {
  const auto e = parse_zmq_endpoints("tcp://127.0.0.1:5000", 3, false);
  EXPECT_EQ(e, (std::vector<std::string>{"tcp://127.0.0.1:5000", "tcp://127.0.0.1:5001",
                                         "tcp://127.0.0.1:5002"}));
  const auto list = parse_zmq_endpoints("tcp://a:1, ipc:///tmp/x", 2, false);
  EXPECT_EQ(list, (std::vector<std::string>{"tcp://a:1", "ipc:///tmp/x"}));
  EXPECT_EQ(parse_zmq_endpoints("tcp://127.0.0.1:*", 2, true),
            (std::vector<std::string>{"tcp://127.0.0.1:*", "tcp://127.0.0.1:*"}));
}

TEST(ZmqEndpoints, BadTokensAreNamed) {
  EXPECT_NE(config_error_of([] { (void)parse_zmq_endpoints("udp://h:5", 1, true); })
                .find("udp://h:5"), std::string::npos);
  EXPECT_NE(config_error_of([] { (void)parse_zmq_endpoints("tcp://h:99999", 1, true); })
                .find("99999"), std::string::npos);
  EXPECT_NE(config_error_of([] { (void)parse_zmq_endpoints("tcp://h:5,tcp://h:abc", 2, true); })
                .find("tcp://h:abc"), std::string::npos);
  EXPECT_NE(config_error_of([] { (void)parse_zmq_endpoints("tcp://h:*", 1, false); })
                .find("tcp://h:*"), std::string::npos);
  EXPECT_NE(config_error_of([] { (void)parse_zmq_endpoints("tcp://h:1,tcp://h:2", 3, true); })
                .find("lists 2 endpoints for 3"), std::string::npos);
  EXPECT_NE(config_error_of([] { (void)parse_zmq_endpoints("tcp://h:65535", 2, true); })
                .find("exceed 65535"), std::string::npos);
  EXPECT_NE(config_error_of([] { (void)parse_zmq_endpoints("tcp://h:1,tcp://h:1", 2, true); })
                .find("twice"), std::string::npos);
  EXPECT_NE(config_error_of([] { (void)parse_zmq_endpoints("ipc:///tmp/x", 2, true); })
                .find("one per channel"), std::string::npos);
  EXPECT_NE(config_error_of([] { (void)parse_zmq_endpoints("", 1, true); }).find("empty"),
            std::string::npos);
}

TEST(SrsranArgs, ParsesSrsranStyleArgs) {
  const auto a = parse_srsran_zmq_args(
      "tx_port=tcp://*:2000, tx_port1=tcp://*:2002,rx_port0=tcp://localhost:2001,"
      "rx_port1=tcp://localhost:2003,base_srate=7.68e6,id=ue,trx_timeout_ms=150",
      2);
  EXPECT_EQ(a.tx_ports, (std::vector<std::string>{"tcp://*:2000", "tcp://*:2002"}));
  EXPECT_EQ(a.rx_ports,
            (std::vector<std::string>{"tcp://localhost:2001", "tcp://localhost:2003"}));
  EXPECT_EQ(a.base_srate, 7.68e6);
  EXPECT_EQ(a.id, "ue");
  EXPECT_EQ(a.trx_timeout, 150ms);
  const auto one = parse_srsran_zmq_args("rx_port=tcp://h:1", 1);
  EXPECT_EQ(one.rx_ports[0], "tcp://h:1");
  EXPECT_EQ(one.tx_ports[0], "");
  EXPECT_EQ(one.trx_timeout, 2000ms);
}

TEST(SrsranArgs, BadTokensAreNamed) {
  const auto err = [](const std::string& args, int channels) {
    return config_error_of([&] { (void)parse_srsran_zmq_args(args, channels); });
  };
  EXPECT_NE(err("tx_port=tcp://*:1,foo=bar", 1).find("foo=bar"), std::string::npos);
  EXPECT_NE(err("tx_port=tcp://*:1,tx_port0=tcp://*:2", 1).find("tx_port0=tcp://*:2"),
            std::string::npos);
  EXPECT_NE(err("tx_port2=tcp://*:1", 2).find("tx_port2"), std::string::npos);
  EXPECT_NE(err("base_srate=fast", 1).find("base_srate=fast"), std::string::npos);
  EXPECT_NE(err("trx_timeout_ms=-5", 1).find("trx_timeout_ms=-5"), std::string::npos);
  EXPECT_NE(err("tx_format=sc16", 1).find("tx_format=sc16"), std::string::npos);
  EXPECT_NE(err("rx_port", 1).find("key=value"), std::string::npos);
  EXPECT_NE(err("rx_port=udp://h:1", 1).find("udp://h:1"), std::string::npos);
  EXPECT_NE(err("", 1).find("empty"), std::string::npos);
}

TEST(ZmqFactories, BadConfigurationsThrowNamingTheProblem) {
  EXPECT_NE(config_error_of([] { (void)create_zmq_gr_sink("udp://127.0.0.1:5", channels_of(1)); })
                .find("udp://127.0.0.1:5"), std::string::npos);
  EXPECT_NE(config_error_of([] {
              (void)create_zmq_gr_source("tcp://127.0.0.1:*", channels_of(1));
            }).find("tcp://127.0.0.1:*"), std::string::npos);
  EXPECT_NE(config_error_of([] {
              (void)create_zmq_gr_sink("tcp://127.0.0.1:*", channels_of(0));
            }).find("channels"), std::string::npos);
  // Binding an endpoint that is taken names the endpoint.
  auto first = create_zmq_gr_sink("tcp://127.0.0.1:*", channels_of(1));
  const std::string taken = first->endpoints()[0];
  EXPECT_NE(config_error_of([&] { (void)create_zmq_gr_sink(taken, channels_of(1)); }).find(taken),
            std::string::npos);
  EXPECT_NE(config_error_of([&] {
              (void)create_srsran_zmq_sink("tx_port=" + taken, channels_of(1));
            }).find(taken), std::string::npos);
  // srsRAN: a channel without a port, a base rate that disagrees, an unknown key.
  EXPECT_NE(config_error_of([] {
              (void)create_srsran_zmq_sink("tx_port0=tcp://127.0.0.1:*", channels_of(2));
            }).find("tx_port1"), std::string::npos);
  EXPECT_NE(config_error_of([] {
              (void)create_srsran_zmq_source("rx_port=tcp://127.0.0.1:1,base_srate=1.92e6",
                                             channels_of(1, 7.68e6));
            }).find("base_srate"), std::string::npos);
  EXPECT_NE(config_error_of([] {
              (void)create_srsran_zmq_source("rx_port=tcp://127.0.0.1:1,rx_freq=2.4e9",
                                             channels_of(1));
            }).find("rx_freq"), std::string::npos);
}

// ---------------------------------------------------------------------------------------
// GNU Radio convention.

void round_trip(zmq_pattern pattern) {
  constexpr int channels = 4;
  zmq_gr_options o;
  o.pattern = pattern;
  o.send_hwm = 1000;  // PUB drops beyond the HWM; this test sends all blocks before reading
  auto sink = create_zmq_gr_sink("tcp://127.0.0.1:*", channels_of(channels, 1e6), o);
  const auto eps = sink->endpoints();
  ASSERT_EQ(eps.size(), 4U);
  for (const auto& e : eps) EXPECT_EQ(e.rfind("tcp://127.0.0.1:", 0), 0U) << e;
  EXPECT_NE(eps[0], eps[1]);
  auto source = create_zmq_gr_source(join(eps), channels_of(channels, 1e6), o);
  EXPECT_EQ(source->description().channels, channels);
  if (pattern == zmq_pattern::pub_sub) {
    ASSERT_TRUE(sink->wait_for_receivers(5000ms));
  }

  const std::vector<std::size_t> blocks = {1, 100, 1000, 37, 4096, 3};
  std::size_t total = 0;
  for (const auto b : blocks) total += b;
  const auto data = random_data(channels, total, 11);
  std::size_t at = 0;
  for (const auto b : blocks) {
    sink->write(pointers(data, at), b);
    at += b;
  }
  const auto got = read_samples(*source, total, 333);
  for (int c = 0; c < channels; ++c) {
    EXPECT_TRUE(bit_equal(got[static_cast<std::size_t>(c)], data[static_cast<std::size_t>(c)]))
        << "channel " << c;
  }
  EXPECT_EQ(source->events().samples, total);
  EXPECT_EQ(sink->events().samples, total);
  EXPECT_EQ(source->events().dropped_messages, 0U);
  EXPECT_EQ(source->events().nonfinite_samples, 0U);
  EXPECT_EQ(source->events().late_channels, 0U);
  EXPECT_EQ(source->events().refused_channels, 0U);
  EXPECT_EQ(sink->events().dropped_messages, 0U);
  sink->close();
  sink->close();  // idempotent
  EXPECT_THROW(sink->write(pointers(data), 1), io_error);
}

TEST(ZmqGr, PushPullRoundTripIsBitExactAndAligned) { round_trip(zmq_pattern::push_pull); }

TEST(ZmqGr, PubSubRoundTripIsBitExactAndAligned) { round_trip(zmq_pattern::pub_sub); }

TEST(ZmqGr, PubSinkReportsMissingSubscribers) {
  zmq_gr_options o;
  o.pattern = zmq_pattern::pub_sub;
  auto sink = create_zmq_gr_sink("tcp://127.0.0.1:*", channels_of(2), o);
  // Only channel 0 gets a subscriber.
  auto source = create_zmq_gr_source(sink->endpoints()[0], channels_of(1), o);
  EXPECT_FALSE(sink->wait_for_receivers(100ms));
  auto other = create_zmq_gr_source(sink->endpoints()[1], channels_of(1), o);
  EXPECT_TRUE(sink->wait_for_receivers(5000ms));
}

// A raw PUSH socket, built without any amimo code, proves the wire format: two channels,
// with a truncated, an empty and a multi-part message in the middle.
TEST(ZmqGr, RawPushFeedsSourceAndRefusedMessagesAreCounted) {
  zmq::context_t ctx(1);
  raw_socket r0(ctx, zmq::socket_type::push);
  raw_socket r1(ctx, zmq::socket_type::push);
  auto source = create_zmq_gr_source(r0.endpoint + "," + r1.endpoint, channels_of(2));

  const std::vector<cf32> a0 = {{1.5F, -2.0F}, {0.0F, 3.25F}, {-1e-3F, 7.0F}};
  const std::vector<cf32> a1 = {{4.0F, 5.0F}, {-6.5F, 0.125F}, {9.0F, -1e6F}};
  const std::vector<cf32> b0 = {{10.0F, 11.0F}, {12.0F, 13.0F}};
  const std::vector<cf32> b1 = {{-10.0F, -11.0F}, {-12.0F, -13.0F}};
  r0.send(encode_fc32_le(a0));
  r1.send(encode_fc32_le(a1));
  r0.send(std::string(13, 'x'));                          // truncated: 1 sample + 5 bytes
  r1.send(std::string());                                 // empty
  r0.send(encode_fc32_le({{1.0F, 1.0F}}), zmq::send_flags::sndmore);  // multi-part
  r0.send(encode_fc32_le({{2.0F, 2.0F}}));
  r0.send(encode_fc32_le(b0));
  r1.send(encode_fc32_le(b1));

  const auto got = read_samples(*source, 5, 4);
  std::vector<cf32> want0 = a0, want1 = a1;
  want0.insert(want0.end(), b0.begin(), b0.end());
  want1.insert(want1.end(), b1.begin(), b1.end());
  EXPECT_TRUE(bit_equal(got[0], want0));
  EXPECT_TRUE(bit_equal(got[1], want1));
  EXPECT_EQ(source->events().dropped_messages, 3U);
  EXPECT_EQ(source->events().dropped_samples, 1U + 2U);
  EXPECT_EQ(source->events().samples, 5U);
  EXPECT_EQ(source->events().refused_channels, 0U);  // good messages too: no warning
}

// libzmq refuses a message above ZMQ_MAXMSGSIZE by closing the connection (the connecting
// source reconnects by itself). The refused message never reaches amimo; the lost connection
// is counted in other_errors and later messages arrive normally.
TEST(ZmqGr, OversizedMessageIsRefusedAndStreamContinues) {
  zmq::context_t ctx(1);
  raw_socket raw(ctx, zmq::socket_type::push);
  zmq_gr_options o;
  o.max_message_bytes = 1024;
  auto source = create_zmq_gr_source(raw.endpoint, channels_of(1), o);

  const auto a = random_data(1, 16, 21)[0];
  raw.send(encode_fc32_le(a));
  EXPECT_TRUE(bit_equal(read_samples(*source, 16)[0], a));

  raw.send(std::string(1600, '\0'));  // 200 samples > 1024 bytes
  std::vector<cf32> buf(1000);
  cf32* p[] = {buf.data()};
  std::size_t leaked = 0;
  for (int round = 0; round < 200 && source->events().other_errors == 0; ++round) {
    leaked += source->read(p, buf.size(), 10ms).count;
  }
  EXPECT_EQ(leaked, 0U);
  EXPECT_GE(source->events().other_errors, 1U);

  // libzmq does not reconnect after a refusal; the source does (inside read()). The raw
  // PUSH has no peer until then, so offer the next message without blocking.
  const auto c = random_data(1, 5, 22)[0];
  const std::string c_bytes = encode_fc32_le(c);
  bool sent = false;
  for (int round = 0; round < 300 && !sent; ++round) {
    sent = raw.socket.send(zmq::buffer(c_bytes), zmq::send_flags::dontwait).has_value();
    if (!sent) leaked += source->read(p, buf.size(), 10ms).count;
  }
  ASSERT_TRUE(sent);
  EXPECT_EQ(leaked, 0U);
  EXPECT_TRUE(bit_equal(read_samples(*source, 5)[0], c));
  EXPECT_EQ(source->events().samples, 21U);
}

// Two channels; an oversized message on channel 0 only (channel 1 carries the same samples
// in small messages). libzmq drops channel 0's connection, so that span is gone there but
// not on channel 1: the source discards every channel's backlog, counts an overflow, and
// the channels go on in step from the next block (the former source paired channel 0's
// next block with channel 1's copy of the lost one, for the rest of the stream).
TEST(ZmqGr, LostConnectionDiscardsEveryChannelsBacklogSoChannelsStayInStep) {
  constexpr std::size_t block = 100;
  zmq::context_t ctx(1);
  raw_socket tx0(ctx, zmq::socket_type::push);
  raw_socket tx1(ctx, zmq::socket_type::push);
  zmq_gr_options o;
  o.max_message_bytes = 4096;  // 512 samples
  auto source = create_zmq_gr_source(tx0.endpoint + "," + tx1.endpoint, channels_of(2), o);
  // Samples numbered by stream position, the same on both channels.
  const auto samples = [](std::size_t first, std::size_t n) {
    std::vector<cf32> v;
    for (std::size_t i = 0; i < n; ++i) v.emplace_back(static_cast<float>(first + i), 0.0F);
    return encode_fc32_le(v);
  };
  std::size_t at = 0;
  for (int b = 0; b < 3; ++b, at += block) {
    tx0.send(samples(at, block));
    tx1.send(samples(at, block));
  }
  const auto first = read_samples(*source, 3 * block);
  ASSERT_EQ(first[0].size(), 3 * block);
  EXPECT_TRUE(bit_equal(first[0], first[1]));

  tx0.send(samples(at, 10 * block));  // 8000 bytes: refused by libzmq, connection dropped
  for (int k = 0; k < 10; ++k) tx1.send(samples(at + k * block, block));
  at += 10 * block;
  std::vector<cf32> b0(4 * block), b1(4 * block);
  cf32* p[] = {b0.data(), b1.data()};
  std::size_t leaked = 0;
  // Until the source has reconnected channel 0 (hang guard: 4 s).
  for (int round = 0; round < 400 && source->events().overflows == 0; ++round) {
    leaked += source->read(p, b0.size(), 10ms).count;
  }
  EXPECT_EQ(leaked, 0U);  // channel 0 had nothing to pair channel 1's samples with
  EXPECT_EQ(source->events().overflows, 1U);
  EXPECT_EQ(source->events().dropped_samples, 10 * block);  // channel 1's copy of the span
  EXPECT_GE(source->events().other_errors, 1U);             // the lost connection

  for (int b = 0; b < 2; ++b, at += block) {  // tx0 waits (sndtimeo) for the reconnect
    tx0.send(samples(at, block));
    tx1.send(samples(at, block));
  }
  const auto next = read_samples(*source, 2 * block);
  ASSERT_EQ(next[0].size(), 2 * block);
  for (std::size_t i = 0; i < next[0].size(); ++i) {
    ASSERT_EQ(next[0][i].real(), static_cast<float>(13 * block + i)) << "channel 0 sample " << i;
    ASSERT_EQ(next[1][i].real(), next[0][i].real()) << "channel 1 sample " << i;
  }
}

TEST(ZmqGr, NonFiniteSamplesAreCountedAndDelivered) {
  auto sink = create_zmq_gr_sink("tcp://127.0.0.1:*", channels_of(2));
  auto source = create_zmq_gr_source(join(sink->endpoints()), channels_of(2));
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float inf = std::numeric_limits<float>::infinity();
  const channel_data data = {{{nan, 0.0F}, {1.0F, 2.0F}, {inf, nan}},
                             {{1.0F, -inf}, {3.0F, 4.0F}, {5.0F, 6.0F}}};
  sink->write(pointers(data), 3);
  const auto got = read_samples(*source, 3);
  ASSERT_EQ(got[0].size(), 3U);
  EXPECT_TRUE(std::isnan(got[0][0].real()));
  EXPECT_EQ(got[0][1], cf32(1.0F, 2.0F));
  EXPECT_TRUE(std::isinf(got[0][2].real()) && std::isnan(got[0][2].imag()));
  EXPECT_TRUE(std::isinf(got[1][0].imag()) && got[1][0].imag() < 0.0F);
  EXPECT_EQ(source->events().nonfinite_samples, 3U);  // per sample, not per component
  EXPECT_EQ(sink->events().nonfinite_samples, 3U);
}

// PULL whose reader is stalled: libzmq's receive queue takes receive_queue_bytes (here two
// 1 MiB messages), not receive_hwm messages of up to max_message_bytes each, before the
// sender is held back. The sender counts what it could hand over; besides the receiver's
// queue that is its own (1 message) and the kernel's loopback buffers. The former source
// took 64 messages per channel (64 × 64 MiB with the defaults).
TEST(ZmqGr, PullReceiveQueueIsBoundedInBytes) {
  constexpr std::size_t message_bytes = 1U << 20U;
  zmq::context_t ctx(1);
  zmq::socket_t tx(ctx, zmq::socket_type::push);
  tx.set(zmq::sockopt::linger, 0);
  tx.set(zmq::sockopt::sndhwm, 1);  // before bind: the listener copies the options
  tx.bind("tcp://127.0.0.1:*");
  zmq_gr_options o;
  o.max_message_bytes = message_bytes;
  o.receive_queue_bytes = 2 * message_bytes;
  o.max_backlog_samples = message_bytes / sizeof(cf32);
  auto source =
      create_zmq_gr_source(tx.get(zmq::sockopt::last_endpoint), channels_of(1), o);
  const std::vector<char> message(message_bytes, 0);
  std::size_t handed_over = 0;
  for (int round = 0; round < 200; ++round) {
    if (tx.send(zmq::buffer(message), zmq::send_flags::dontwait)) {
      ++handed_over;
      continue;
    }
    // Full for now; room appears only while libzmq still moves messages on (hang guard).
    zmq::pollitem_t item{tx.handle(), 0, ZMQ_POLLOUT, 0};
    zmq::poll(&item, 1, 500ms);
    if ((item.revents & ZMQ_POLLOUT) == 0) break;
  }
  EXPECT_GE(handed_over, 2U);
  // Receiver 2 + 1 being decoded, sender 1 + 1, kernel buffers at most 36 MiB (Linux's
  // default tcp_rmem/tcp_wmem maxima; 8..17 seen): under 48; the former source, over 64.
  EXPECT_LT(handed_over, 48U);
  // Nothing was lost: the reader takes every message, in order.
  std::vector<cf32> buf(4096);
  cf32* p[] = {buf.data()};
  std::size_t got = 0;
  for (int round = 0; round < 10000 && got < handed_over * (message_bytes / sizeof(cf32));
       ++round) {
    const auto r = source->read(p, buf.size(), 2000ms);
    if (r.status != read_status::ok) break;
    got += r.count;
  }
  EXPECT_EQ(got, handed_over * (message_bytes / sizeof(cf32)));
  EXPECT_EQ(source->events().dropped_samples, 0U);
}

// PULL: one channel sends far more than the other. The backlog bound holds the excess back
// (the rest of the message waits, later messages stay in libzmq's queue) instead of
// dropping it; once the other channel catches up, everything is delivered aligned.
TEST(ZmqGr, PullBacklogHoldsBackInsteadOfDropping) {
  zmq::context_t ctx(1);
  raw_socket r0(ctx, zmq::socket_type::push);
  raw_socket r1(ctx, zmq::socket_type::push);
  zmq_gr_options o;
  o.max_backlog_samples = 256;
  auto source = create_zmq_gr_source(r0.endpoint + "," + r1.endpoint, channels_of(2), o);
  const auto data = random_data(2, 1500, 31);
  r0.send(encode_fc32_le(std::vector<cf32>(data[0].begin(), data[0].begin() + 1000)));
  r0.send(encode_fc32_le(std::vector<cf32>(data[0].begin() + 1000, data[0].end())));
  std::vector<cf32> b0(2000), b1(2000);
  cf32* p[] = {b0.data(), b1.data()};
  for (int round = 0; round < 20; ++round) {
    EXPECT_EQ(source->read(p, 2000, 10ms).status, read_status::timeout);
  }
  EXPECT_EQ(source->events().dropped_samples, 0U);
  EXPECT_EQ(source->events().overflows, 0U);

  r1.send(encode_fc32_le(data[1]));
  const auto got = read_samples(*source, 1500, 100);
  EXPECT_TRUE(bit_equal(got[0], data[0]));
  EXPECT_TRUE(bit_equal(got[1], data[1]));
  EXPECT_EQ(source->events().dropped_samples, 0U);
  EXPECT_EQ(source->events().samples, 1500U);
}

// A PUSH sender ten times faster than the PULL consumer, whole-frame messages, small queues
// and a small backlog: the sender is held back, nothing is dropped, every sample arrives in
// order on every channel. (The former source read every socket whatever its backlog and
// dropped the excess per channel here.)
TEST(ZmqGr, FastPushSenderIsHeldBackAndNothingIsLost) {
  constexpr int channels = 4;
  constexpr std::size_t frame = 2000;
  constexpr std::size_t frames = 150;
  zmq_gr_options o;
  o.send_hwm = 4;
  o.receive_hwm = 4;
  o.max_backlog_samples = 3 * frame;
  auto sink = create_zmq_gr_sink("tcp://127.0.0.1:*", channels_of(channels), o);
  auto source = create_zmq_gr_source(join(sink->endpoints()), channels_of(channels), o);
  const auto data = random_data(channels, frame * frames, 51);

  std::thread sender([&] {
    for (std::size_t f = 0; f < frames; ++f) {
      sink->write(pointers(data, f * frame), frame);
      std::this_thread::sleep_for(100us);  // 0.1 ms per frame ...
    }
  });
  channel_data got(channels);
  std::vector<std::vector<cf32>> buf(channels, std::vector<cf32>(frame));
  std::vector<cf32*> p;
  for (auto& b : buf) p.push_back(b.data());
  for (int round = 0; round < 20000 && got[0].size() < frame * frames; ++round) {
    const auto r = source->read(p, frame, 2000ms);
    if (r.status != read_status::ok) break;
    for (int c = 0; c < channels; ++c) {
      got[c].insert(got[c].end(), buf[c].begin(), buf[c].begin() + static_cast<std::ptrdiff_t>(r.count));
    }
    std::this_thread::sleep_for(std::chrono::microseconds(1000 * r.count / frame));  // ... 1 ms per frame
  }
  sender.join();
  for (int c = 0; c < channels; ++c) {
    EXPECT_TRUE(bit_equal(got[static_cast<std::size_t>(c)], data[static_cast<std::size_t>(c)]))
        << "channel " << c << ": " << got[static_cast<std::size_t>(c)].size() << " samples";
  }
  EXPECT_EQ(source->events().dropped_samples, 0U);
  EXPECT_EQ(source->events().dropped_messages, 0U);
  EXPECT_EQ(source->events().overflows, 0U);
  EXPECT_EQ(source->events().samples, frame * frames);
  EXPECT_EQ(sink->events().dropped_messages, 0U);
}

// Each sample carries its stream position (real part) and channel (imaginary part).
channel_data numbered(int channels, std::size_t n) {
  channel_data out(static_cast<std::size_t>(channels));
  for (int c = 0; c < channels; ++c) {
    for (std::size_t i = 0; i < n; ++i) {
      out[static_cast<std::size_t>(c)].emplace_back(static_cast<float>(i), static_cast<float>(c));
    }
  }
  return out;
}

// SUB cannot push back: forced over its backlog, it drops the same span of stream positions
// on every channel (channels stay in step) and counts it.
TEST(ZmqGr, SubDropsTheSameSpanOnEveryChannel) {
  constexpr int channels = 3;
  constexpr std::size_t block = 300;
  constexpr std::size_t blocks = 20;
  zmq_gr_options o;
  o.pattern = zmq_pattern::pub_sub;
  o.send_hwm = 1000;
  o.receive_hwm = 1000;
  o.max_message_bytes = block * sizeof(cf32);  // so the byte budget allows those 1000
  o.max_backlog_samples = 1000;
  auto sink = create_zmq_gr_sink("tcp://127.0.0.1:*", channels_of(channels), o);
  auto source = create_zmq_gr_source(join(sink->endpoints()), channels_of(channels), o);
  ASSERT_TRUE(sink->wait_for_receivers(5000ms));
  const auto data = numbered(channels, block * blocks);
  for (std::size_t b = 0; b < blocks; ++b) sink->write(pointers(data, b * block), block);
  EXPECT_EQ(sink->events().dropped_messages, 0U);
  std::this_thread::sleep_for(100ms);  // let every message arrive before reading

  const auto got = read_samples(*source, block * blocks, 64, 300ms);
  const std::size_t delivered = got[0].size();
  ASSERT_GT(delivered, 0U);
  EXPECT_LE(delivered, o.max_backlog_samples);
  for (int c = 0; c < channels; ++c) {
    const auto& g = got[static_cast<std::size_t>(c)];
    ASSERT_EQ(g.size(), delivered) << "channel " << c;
    for (std::size_t i = 0; i < delivered; ++i) {
      ASSERT_EQ(g[i].real(), got[0][i].real()) << "channel " << c << " sample " << i;  // in step
      ASSERT_EQ(g[i].imag(), static_cast<float>(c));
      if (i > 0) {
        ASSERT_EQ(g[i].real(), g[i - 1].real() + 1.0F);  // one span dropped, at the front
      }
    }
  }
  EXPECT_EQ(got[0].back().real(), static_cast<float>(block * blocks - 1));  // the newest kept
  EXPECT_GE(source->events().overflows, 1U);
  EXPECT_EQ(source->events().dropped_samples + delivered, block * blocks);  // counted once per span
  EXPECT_EQ(source->events().dropped_messages, 0U);
  EXPECT_EQ(source->events().late_channels, 0U);
}

// Block ids each raw SUB socket received, in order.
struct block_log {
  std::vector<std::vector<float>> ids;
  // Takes what is waiting on channel c (dontwait); a message's id is its first sample.
  void drain(zmq::socket_t& s, std::size_t c) {
    zmq::message_t m;
    while (s.recv(m, zmq::recv_flags::dontwait)) {
      ids[c].push_back(static_cast<const cf32*>(m.data())->real());
    }
  }
};

// PUB: one subscriber reads, the other stalls until its queue is full, then catches up. A
// block goes to both channels or (counted) to neither; a block the stalled channel refused
// after the other took it is sent to it before anything newer. So each channel receives
// the same blocks in the same order (the former sink sent the reading channel blocks the
// stalled one never got, and counted them as written).
TEST(ZmqGr, PubSinkSendsEachBlockToEveryChannelOrToNone) {
  constexpr std::size_t block = 8192;  // 64 KiB messages: queues fill after a few
  zmq_gr_options o;
  o.pattern = zmq_pattern::pub_sub;
  o.send_hwm = 2;
  auto sink = create_zmq_gr_sink("tcp://127.0.0.1:*", channels_of(2), o);
  zmq::context_t ctx(1);
  std::vector<zmq::socket_t> subs;
  for (const auto& ep : sink->endpoints()) {
    zmq::socket_t s(ctx, zmq::socket_type::sub);
    s.set(zmq::sockopt::linger, 0);
    s.set(zmq::sockopt::rcvhwm, 2);
    s.set(zmq::sockopt::rcvtimeo, 5000);  // hang guard
    s.set(zmq::sockopt::subscribe, "");
    s.connect(ep);
    subs.push_back(std::move(s));
  }
  ASSERT_TRUE(sink->wait_for_receivers(5000ms));
  std::vector<cf32> a(block), b(block);
  std::size_t written = 0;
  const auto write_next = [&] {
    std::fill(a.begin(), a.end(), cf32(static_cast<float>(written), 0.0F));
    std::fill(b.begin(), b.end(), cf32(static_cast<float>(written), 1.0F));
    const cf32* p[] = {a.data(), b.data()};
    sink->write(p, block);
    ++written;
  };
  block_log got;
  got.ids.resize(2);
  // Channel 1 stalls until the sink has refused some block, and a few more after that.
  std::size_t extra = 0;
  for (int round = 0; round < 20000 && extra < 5; ++round) {
    write_next();
    got.drain(subs[0], 0);
    if (sink->events().dropped_messages > 0) ++extra;
  }
  ASSERT_GT(sink->events().dropped_messages, 0U) << "channel 1's queue never filled";
  // Both read now; the sink keeps writing.
  for (int round = 0; round < 50; ++round) {
    for (std::size_t c = 0; c < 2; ++c) {
      zmq::pollitem_t item{subs[c].handle(), 0, ZMQ_POLLIN, 0};
      zmq::poll(&item, 1, 5ms);
      got.drain(subs[c], c);
    }
    write_next();
  }
  sink->close();  // sends a block still owed to a channel, or counts it lost
  // What each channel must receive, from the sink's own counts: channel 0 every block
  // taken, channel 1 the rest of the messages not counted as dropped.
  const auto& e = sink->events();
  ASSERT_EQ(e.samples % block, 0U);
  const std::size_t taken = e.samples / block;
  const std::size_t to_ch1 = 2 * written - e.dropped_messages - taken;
  const std::size_t want[] = {taken, to_ch1};
  for (std::size_t c = 0; c < 2; ++c) {
    while (got.ids[c].size() < want[c]) {
      zmq::message_t m;
      if (!subs[c].recv(m, zmq::recv_flags::none)) break;  // checked below
      got.ids[c].push_back(static_cast<const cf32*>(m.data())->real());
    }
    EXPECT_EQ(got.ids[c].size(), want[c]) << "channel " << c << ": the sink's counts";
  }
  // Channel 1 got exactly channel 0's blocks, in order (the last one possibly lost at close).
  ASSERT_LE(got.ids[1].size(), got.ids[0].size());
  EXPECT_LE(got.ids[0].size() - got.ids[1].size(), 1U);
  for (std::size_t i = 0; i < got.ids[1].size(); ++i) {
    ASSERT_EQ(got.ids[1][i], got.ids[0][i]) << "message " << i;
  }
  EXPECT_LT(taken, written);  // some blocks dropped on both channels
  // Each lost block counted once in dropped_samples.
  EXPECT_EQ(e.dropped_samples,
            (written - taken + got.ids[0].size() - got.ids[1].size()) * block);
}

// A block lost on several channels is one block: its samples count once in dropped_samples
// (a channel without a subscriber and a full one on the same block counted it twice).
TEST(ZmqGr, PubSinkCountsADroppedBlocksSamplesOnce) {
  constexpr std::size_t block = 8192;
  zmq_gr_options o;
  o.pattern = zmq_pattern::pub_sub;
  o.send_hwm = 2;
  auto sink = create_zmq_gr_sink("tcp://127.0.0.1:*", channels_of(2), o);
  zmq::context_t ctx(1);
  zmq::socket_t sub(ctx, zmq::socket_type::sub);  // channel 1 only, never read
  sub.set(zmq::sockopt::linger, 0);
  sub.set(zmq::sockopt::rcvhwm, 2);
  sub.set(zmq::sockopt::subscribe, "");
  sub.connect(sink->endpoints()[1]);
  std::vector<cf32> a(block), b(block);
  const cf32* p[] = {a.data(), b.data()};
  std::size_t written = 0;
  // Until channel 1's subscription is known and its queue has refused several blocks.
  for (int round = 0; round < 20000; ++round) {
    sink->write(p, block);
    ++written;
    const auto& e = sink->events();
    if (e.samples > 0 && e.dropped_messages > written + 3) break;  // both channels refused some
    if (e.samples == 0) std::this_thread::sleep_for(1ms);         // let the subscription arrive
  }
  const auto& e = sink->events();
  ASSERT_GT(e.samples, 0U) << "channel 1 never took a block";
  ASSERT_GT(e.dropped_messages, written) << "no block was refused on both channels";
  // Every block was lost on channel 0 at least: once each, whatever else refused it.
  EXPECT_EQ(e.dropped_samples, written * block);
  sink->close();
}

// A PUB sink counts what it sends to a channel nobody has subscribed to yet.
TEST(ZmqGr, PubSinkCountsMessagesSentBeforeSubscription) {
  zmq_gr_options o;
  o.pattern = zmq_pattern::pub_sub;
  auto sink = create_zmq_gr_sink("tcp://127.0.0.1:*", channels_of(2), o);
  auto first = create_zmq_gr_source(sink->endpoints()[0], channels_of(1), o);
  EXPECT_FALSE(sink->wait_for_receivers(300ms));  // channel 1 has none; channel 0 has time
  const auto data = random_data(2, 50, 61);
  for (int b = 0; b < 3; ++b) sink->write(pointers(data), 50);
  ASSERT_EQ(read_samples(*first, 150)[0].size(), 150U);  // channel 0 got all three
  EXPECT_EQ(sink->events().dropped_messages, 3U);        // channel 1 none of them
  EXPECT_EQ(sink->events().dropped_samples, 150U);
  auto second = create_zmq_gr_source(sink->endpoints()[1], channels_of(1), o);
  ASSERT_TRUE(sink->wait_for_receivers(5000ms));
  sink->write(pointers(data), 50);
  EXPECT_EQ(sink->events().dropped_messages, 3U);
  EXPECT_EQ(read_samples(*second, 50)[0].size(), 50U);
}

// A SUB channel whose publisher is reached only later (joined late) is counted.
TEST(ZmqGr, SubJoiningLateIsCounted) {
  zmq_gr_options o;
  o.pattern = zmq_pattern::pub_sub;
  auto early = create_zmq_gr_sink("tcp://127.0.0.1:*", channels_of(1), o);
  std::string late_endpoint;
  {
    zmq::context_t ctx(1);
    raw_socket probe(ctx, zmq::socket_type::pub);  // a free port, released at once
    late_endpoint = probe.endpoint;
  }
  auto source = create_zmq_gr_source(early->endpoints()[0] + "," + late_endpoint, channels_of(2), o);
  ASSERT_TRUE(early->wait_for_receivers(5000ms));
  const auto data = numbered(1, 400);
  std::vector<cf32> b0(100), b1(100);
  cf32* p[] = {b0.data(), b1.data()};
  for (std::size_t b = 0; b < 3; ++b) {
    early->write(pointers(data, b * 100), 100);
    EXPECT_EQ(source->read(p, 100, 30ms).status, read_status::timeout);  // channel 1 silent
  }
  EXPECT_EQ(source->events().late_channels, 0U);
  auto late = create_zmq_gr_sink(late_endpoint, channels_of(1), o);
  ASSERT_TRUE(late->wait_for_receivers(5000ms));
  early->write(pointers(data, 300), 100);
  late->write(pointers(data, 300), 100);  // the same stream positions, on the late channel
  const auto got = read_samples(*source, 100);
  ASSERT_EQ(got[1].size(), 100U);
  EXPECT_EQ(got[0][0].real(), 0.0F);    // the channels arrive offset by 300 samples
  EXPECT_EQ(got[1][0].real(), 300.0F);  // (the receiver realigns) ...
  EXPECT_EQ(source->events().late_channels, 1U);  // ... and the late join is counted
}

// A channel whose every message is refused warns once, naming the channel and the likely
// cause, and is counted; a channel that had good messages before a bad one does not warn.
TEST(ZmqGr, AllRefusedChannelWarnsOnceAndIsCounted) {
  zmq::context_t ctx(1);
  raw_socket r0(ctx, zmq::socket_type::push);
  raw_socket r1(ctx, zmq::socket_type::push);
  raw_socket r2(ctx, zmq::socket_type::push);
  std::ostringstream log;
  zmq_gr_options o;
  o.log = &log;
  auto source =
      create_zmq_gr_source(r0.endpoint + "," + r1.endpoint + "," + r2.endpoint, channels_of(3), o);
  r0.send(encode_fc32_le({{1.0F, 2.0F}}));
  r0.send(std::string(13, 'x'));  // refused after a good one: no warning
  for (int m = 0; m < 10; ++m) {
    r1.send(std::string(8 * 10 + 3, 'x'));  // a tag header in front of the samples
    r2.send("key", zmq::send_flags::sndmore);
    r2.send(encode_fc32_le({{1.0F, 1.0F}}));
  }
  std::vector<cf32> b0(8), b1(8), b2(8);
  cf32* p[] = {b0.data(), b1.data(), b2.data()};
  for (int round = 0; round < 200 && source->events().dropped_messages < 21; ++round) {
    EXPECT_EQ(source->read(p, 8, 10ms).count, 0U);
  }
  EXPECT_EQ(source->events().dropped_messages, 21U);
  EXPECT_EQ(source->events().refused_channels, 2U);
  const std::string text = log.str();
  EXPECT_NE(text.find("channel 1: every message refused"), std::string::npos) << text;
  EXPECT_NE(text.find("not a multiple of 8"), std::string::npos) << text;
  EXPECT_NE(text.find("Pass Tags"), std::string::npos) << text;
  EXPECT_NE(text.find("channel 2: every message refused"), std::string::npos) << text;
  EXPECT_NE(text.find("multi-part"), std::string::npos) << text;
  EXPECT_EQ(text.find("channel 0"), std::string::npos) << text;
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 2) << text;  // once per channel
}

// A PUSH write blocked with no receiver returns once the interrupt flag is set.
TEST(ZmqGr, BlockedPushWriteStopsOnTheInterruptFlag) {
  zmq_gr_options o;
  o.send_hwm = 1;
  auto sink = create_zmq_gr_sink("tcp://127.0.0.1:*", channels_of(2), o);
  std::atomic<bool> stop{false};
  sink->set_interrupt_flag(&stop);
  const auto data = random_data(2, 10, 71);
  std::thread setter([&] {
    std::this_thread::sleep_for(150ms);
    stop = true;
  });
  const auto t0 = std::chrono::steady_clock::now();
  for (int b = 0; b < 100 && !stop; ++b) sink->write(pointers(data), 10);  // no receiver: blocks
  const auto waited = std::chrono::steady_clock::now() - t0;
  setter.join();
  EXPECT_GE(waited, 140ms);
  EXPECT_LT(waited, 1000ms);
  EXPECT_GE(sink->events().dropped_messages, 1U);
  const auto c0 = std::chrono::steady_clock::now();
  sink->close();
  sink.reset();  // the context is gone after the short linger, not the configured 1 s
  EXPECT_LT(std::chrono::steady_clock::now() - c0, 800ms);
}

TEST(ZmqGr, VanishedSenderGivesTimeoutsThenIdleEnd) {
  auto sink = create_zmq_gr_sink("tcp://127.0.0.1:*", channels_of(2));
  zmq_gr_options o;
  o.idle_end = 300ms;
  auto source = create_zmq_gr_source(join(sink->endpoints()), channels_of(2), o);
  const auto data = random_data(2, 50, 41);
  sink->write(pointers(data), 50);
  const auto got = read_samples(*source, 50);
  EXPECT_TRUE(bit_equal(got[0], data[0]) && bit_equal(got[1], data[1]));
  sink.reset();

  std::vector<cf32> b0(64), b1(64);
  cf32* p[] = {b0.data(), b1.data()};
  for (int i = 0; i < 3; ++i) {
    const auto r = source->read(p, 64, 20ms);
    EXPECT_EQ(r.status, read_status::timeout);
    EXPECT_EQ(r.count, 0U);
  }
  EXPECT_EQ(source->events().timeouts, 3U);
  read_status last = read_status::timeout;
  for (int i = 0; i < 100 && last != read_status::end_of_stream; ++i) {
    last = source->read(p, 64, 50ms).status;
  }
  EXPECT_EQ(last, read_status::end_of_stream);
  EXPECT_EQ(source->read(p, 64, 50ms).status, read_status::end_of_stream);  // stays ended
  EXPECT_EQ(source->events().samples, 50U);
}

// ---------------------------------------------------------------------------------------
// srsRAN convention.

TEST(SrsranZmq, MultiChannelRoundTripEndsWithMarker) {
  constexpr int channels = 2;
  auto sink = create_srsran_zmq_sink(
      "tx_port0=tcp://127.0.0.1:*,tx_port1=tcp://127.0.0.1:*,base_srate=1.92e6,id=ue",
      channels_of(channels));
  EXPECT_EQ(sink->description().sample_rate, 1.92e6);
  const auto eps = sink->endpoints();
  ASSERT_EQ(eps.size(), 2U);
  auto source = create_srsran_zmq_source(
      "rx_port0=" + eps[0] + ",rx_port1=" + eps[1] + ",base_srate=1.92e6,id=bs",
      channels_of(channels, 1.92e6));

  const std::vector<std::size_t> blocks = {1920, 1, 500, 7};
  std::size_t total = 0;
  for (const auto b : blocks) total += b;
  const auto data = random_data(channels, total, 51);
  std::thread writer([&] {
    std::size_t at = 0;
    for (const auto b : blocks) {
      sink->write(pointers(data, at), b);
      at += b;
    }
    sink->close();
  });
  channel_data got(channels);
  std::vector<cf32> b0(300), b1(300);
  cf32* p[] = {b0.data(), b1.data()};
  read_status last = read_status::ok;
  for (int round = 0; round < 1000 && last != read_status::end_of_stream; ++round) {
    const auto r = source->read(p, 300, 100ms);
    last = r.status;
    got[0].insert(got[0].end(), b0.begin(), b0.begin() + static_cast<std::ptrdiff_t>(r.count));
    got[1].insert(got[1].end(), b1.begin(), b1.begin() + static_cast<std::ptrdiff_t>(r.count));
  }
  writer.join();
  EXPECT_EQ(last, read_status::end_of_stream);
  EXPECT_TRUE(bit_equal(got[0], data[0]));
  EXPECT_TRUE(bit_equal(got[1], data[1]));
  EXPECT_EQ(source->events().samples, total);
  EXPECT_EQ(sink->events().samples, total);
  EXPECT_EQ(sink->events().dropped_samples, 0U);
}

// The test plays srsRAN's transmitter with a raw REP socket: the request is one byte 0xFF,
// the reply raw fc32; a truncated reply is refused and the stream goes on.
TEST(SrsranZmq, RawRepProvesWireFormatAndTruncatedReplyIsDropped) {
  zmq::context_t ctx(1);
  raw_socket rep(ctx, zmq::socket_type::rep);
  auto source = create_srsran_zmq_source("rx_port=" + rep.endpoint, channels_of(1));
  std::vector<cf32> buf(16);
  cf32* p[] = {buf.data()};

  const auto serve = [&](const std::string& reply) {
    // The source sends its request from inside read(); wait until the REP socket has it.
    for (int round = 0; round < 400; ++round) {
      EXPECT_EQ(source->read(p, 16, 5ms).status, read_status::timeout);
      zmq::pollitem_t item{rep.socket.handle(), 0, ZMQ_POLLIN, 0};
      zmq::poll(&item, 1, 5ms);
      if ((item.revents & ZMQ_POLLIN) != 0) break;
    }
    zmq::message_t request;
    ASSERT_TRUE(rep.socket.recv(request, zmq::recv_flags::none).has_value());
    ASSERT_EQ(request.size(), 1U);
    EXPECT_EQ(*static_cast<const unsigned char*>(request.data()), 0xFFU);
    rep.send(reply);
  };
  serve(std::string(13, 'x'));
  const std::vector<cf32> block = {{1.0F, -1.0F}, {0.5F, 0.25F}, {-3.0F, 8.0F}, {0.0F, 1e-7F}};
  serve(encode_fc32_le(block));
  const auto got = read_samples(*source, 4);
  EXPECT_TRUE(bit_equal(got[0], block));
  EXPECT_EQ(source->events().dropped_messages, 1U);
  EXPECT_EQ(source->events().dropped_samples, 1U);
}

// An oversized reply: libzmq drops that connection for good, the source reconnects and
// re-sends its unanswered request after trx_timeout_ms, and the next block arrives.
TEST(SrsranZmq, OversizedReplyIsRefusedAndTheRequestIsSentAgain) {
  zmq::context_t ctx(1);
  raw_socket rep(ctx, zmq::socket_type::rep);
  zmq_srsran_options o;
  o.max_message_bytes = 800;
  auto source =
      create_srsran_zmq_source("rx_port=" + rep.endpoint + ",trx_timeout_ms=50", channels_of(1), o);
  std::vector<cf32> buf(256);
  cf32* p[] = {buf.data()};
  const auto next_request = [&] {
    for (int round = 0; round < 400; ++round) {
      EXPECT_EQ(source->read(p, buf.size(), 5ms).count, 0U);
      zmq::pollitem_t item{rep.socket.handle(), 0, ZMQ_POLLIN, 0};
      zmq::poll(&item, 1, 5ms);
      if ((item.revents & ZMQ_POLLIN) != 0) break;
    }
    zmq::message_t request;
    return rep.socket.recv(request, zmq::recv_flags::none).has_value() && request.size() == 1;
  };
  ASSERT_TRUE(next_request());
  rep.send(std::string(1600, '\0'));  // 200 samples > 800 bytes
  ASSERT_TRUE(next_request());        // the same request again, on a new connection
  const auto block = random_data(1, 100, 81)[0];
  rep.send(encode_fc32_le(block));
  EXPECT_TRUE(bit_equal(read_samples(*source, 100)[0], block));
  EXPECT_EQ(source->events().samples, 100U);
  EXPECT_GE(source->events().other_errors, 2U);  // the lost connection and the re-sent request
}

// A consumer busy between reads for longer than trx_timeout_ms: the reply that arrived
// meanwhile is taken, not discarded by a re-sent request (ZMQ_REQ_RELAXED drops queued
// replies), and the clock counts only time inside read(), so no request is sent again. The
// pause starts once the transmitter's write() returned, so each reply is on its way before
// the request's time is up (the former source lost blocks 1, 3, ... and never saw the end).
TEST(SrsranZmq, ReplyArrivingWhileTheConsumerIsBusyIsKept) {
  auto sink = create_srsran_zmq_sink("tx_port=tcp://127.0.0.1:*,trx_timeout_ms=10000",
                                     channels_of(1));
  auto source = create_srsran_zmq_source(
      "rx_port=" + sink->endpoints()[0] + ",trx_timeout_ms=100", channels_of(1));
  constexpr std::size_t block = 1000;
  constexpr int blocks = 4;
  std::atomic<int> written{0};
  std::thread writer([&] {
    std::vector<cf32> buf(block);
    for (int b = 0; b < blocks; ++b) {
      for (std::size_t i = 0; i < block; ++i) {
        buf[i] = cf32(static_cast<float>(static_cast<std::size_t>(b) * block + i), 0.0F);
      }
      const cf32* p = buf.data();
      sink->write(std::span<const cf32* const>(&p, 1), block);
      written.fetch_add(1);
    }
    sink->close();
  });
  std::vector<cf32> buf(block / 2);
  cf32* p[] = {buf.data()};
  std::vector<cf32> got;
  read_status last = read_status::ok;
  for (int round = 0; round < 40 && last != read_status::end_of_stream; ++round) {
    const auto r = source->read(p, buf.size(), 2000ms);
    last = r.status;
    got.insert(got.end(), buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(r.count));
    // Each whole block taken has the next request outstanding; its reply is sent while
    // this consumer is away (hang guard: 3 s).
    const int due = std::min(blocks, static_cast<int>(got.size() / block) + 1);
    for (int i = 0; i < 300 && written.load() < due; ++i) std::this_thread::sleep_for(10ms);
    std::this_thread::sleep_for(250ms);  // > trx_timeout_ms of the source
  }
  writer.join();
  EXPECT_EQ(last, read_status::end_of_stream);
  ASSERT_EQ(got.size(), block * blocks);
  for (std::size_t i = 0; i < got.size(); ++i) {
    ASSERT_EQ(got[i].real(), static_cast<float>(i)) << "sample " << i;
  }
  EXPECT_EQ(source->events().samples, block * blocks);
  // No request sent again; the transmitter's close may be seen as a lost connection.
  EXPECT_LE(source->events().other_errors, 1U);
  EXPECT_EQ(sink->events().dropped_samples, 0U);
}

// One channel's reply comes after trx_timeout_ms, so that request is sent again. The late
// reply is lost to that channel alone (ZMQ_REQ_CORRELATE drops it; without it libzmq drops
// it or mismatches it), so the source must realign: every channel's backlog is discarded
// and each channel goes on from the same reply index. Each sample carries (block index,
// channel); afterwards both channels must deliver the same block at every position, and
// each re-send must be counted (an overflow).
TEST(SrsranZmq, ReSentRequestOnOneChannelKeepsTheChannelsAligned) {
  zmq::context_t ctx(1);
  constexpr int channels = 2;
  constexpr int blocks = 8;
  constexpr std::size_t block = 100;
  std::vector<std::unique_ptr<raw_socket>> reps;
  for (int c = 0; c < channels; ++c) {
    reps.push_back(std::make_unique<raw_socket>(ctx, zmq::socket_type::rep));
  }
  zmq_srsran_options o;
  o.max_backlog_samples = 4 * block;  // the channel on time runs at most 4 blocks ahead
  auto source = create_srsran_zmq_source("rx_port0=" + reps[0]->endpoint + ",rx_port1=" +
                                             reps[1]->endpoint + ",trx_timeout_ms=100",
                                         channels_of(channels), o);
  // Each transmitter answers every request with its next block until told to stop.
  std::atomic<bool> stop{false};
  std::vector<std::thread> servers;
  for (int c = 0; c < channels; ++c) {
    servers.emplace_back([&, c] {
      auto& s = reps[static_cast<std::size_t>(c)]->socket;
      for (int b = 0; !stop.load();) {
        zmq::pollitem_t item{s.handle(), 0, ZMQ_POLLIN, 0};
        zmq::poll(&item, 1, 10ms);
        if ((item.revents & ZMQ_POLLIN) == 0) continue;
        zmq::message_t request;
        if (!s.recv(request, zmq::recv_flags::none)) return;
        if (c == 1 && b == 2) std::this_thread::sleep_for(400ms);  // > trx_timeout_ms
        std::vector<cf32> v(block, cf32(static_cast<float>(b), static_cast<float>(c)));
        const auto bytes = encode_fc32_le(v);
        if (!s.send(zmq::buffer(bytes), zmq::send_flags::none)) return;
        ++b;
      }
    });
  }
  const auto got = read_samples(*source, block * blocks, 64, 2000ms);
  const radio_events events = source->events();
  stop = true;
  for (auto& t : servers) t.join();
  ASSERT_EQ(got[0].size(), block * blocks);
  ASSERT_EQ(got[1].size(), block * blocks);
  for (std::size_t i = 0; i < got[0].size(); ++i) {
    ASSERT_EQ(got[0][i].real(), got[1][i].real()) << "sample " << i;
    ASSERT_EQ(got[0][i].imag(), 0.0F);
    ASSERT_EQ(got[1][i].imag(), 1.0F);
  }
  // Blocks 0 and 1, then (block 2 lost on channel 1, and the blocks channel 0 had taken
  // meanwhile discarded) later blocks, in step.
  EXPECT_EQ(got[0][block].real(), 1.0F);
  EXPECT_GE(got[0][2 * block].real(), 3.0F);
  EXPECT_LE(got[0][2 * block].real(), 20.0F);
  // Each re-send (one per trx_timeout_ms while channel 1's transmitter is stalled) is one
  // lost reply: one discontinuity each.
  EXPECT_GE(events.overflows, 1U);
  EXPECT_EQ(events.overflows, events.other_errors);
}

TEST(SrsranZmq, SinkWithoutReceiverDropsTheBlockAfterTimeout) {
  auto sink =
      create_srsran_zmq_sink("tx_port=tcp://127.0.0.1:*,trx_timeout_ms=50", channels_of(1));
  const auto data = random_data(1, 64, 61);
  sink->write(pointers(data), 64);
  EXPECT_EQ(sink->events().timeouts, 1U);
  EXPECT_EQ(sink->events().dropped_samples, 64U);
  EXPECT_EQ(sink->events().samples, 0U);
}

// The transmitter vanishes mid-stream: reads time out (never hang); a new transmitter bound
// at the same endpoint is reached because the unanswered request is sent again.
TEST(SrsranZmq, VanishedTransmitterTimesOutAndANewOneIsPickedUp) {
  auto sink = create_srsran_zmq_sink("tx_port=tcp://127.0.0.1:*,trx_timeout_ms=2000",
                                     channels_of(1));
  const std::string endpoint = sink->endpoints()[0];
  auto source =
      create_srsran_zmq_source("rx_port=" + endpoint + ",trx_timeout_ms=100", channels_of(1));
  const auto first = random_data(1, 40, 71);
  const auto second = random_data(1, 30, 72);
  std::thread writer([&] { sink->write(pointers(first), 40); });
  EXPECT_TRUE(bit_equal(read_samples(*source, 40)[0], first[0]));
  writer.join();
  sink.reset();  // gone without close(): no end marker

  std::vector<cf32> buf(64);
  cf32* p[] = {buf.data()};
  for (int i = 0; i < 3; ++i) EXPECT_EQ(source->read(p, 64, 30ms).status, read_status::timeout);
  EXPECT_EQ(source->events().timeouts, 3U);

  auto again = create_srsran_zmq_sink("tx_port=" + endpoint, channels_of(1));
  std::thread writer2([&] { again->write(pointers(second), 30); });
  EXPECT_TRUE(bit_equal(read_samples(*source, 30)[0], second[0]));
  writer2.join();
  EXPECT_GE(source->events().other_errors, 1U);  // the request re-sent (and the disconnect)
  EXPECT_EQ(again->events().samples, 30U);
}

}  // namespace
}  // namespace amimo::radio
