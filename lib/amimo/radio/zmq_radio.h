#pragma once
// ZeroMQ radio transports as radio_source / radio_sink, in two wire conventions that other
// software already speaks (README "ZeroMQ radio").
//
// A) GNU Radio's gr-zeromq blocks (PUSH Sink / PULL Source, PUB Sink / SUB Source), "pass
//    tags" off, no key: one socket per antenna channel; every message is one ZeroMQ frame of
//    raw interleaved little-endian float32 (re, im) pairs, 8 bytes per sample, no header.
//    Sinks bind, sources connect (as in GNU Radio). The sample count of a message is free.
//    - Spec: one endpoint, or a comma list of exactly `channels` endpoints. One tcp
//      endpoint with a numeric port serves channel c at port + c; port `*` gives every
//      channel an ephemeral port (sinks only). endpoints() lists what was really bound.
//    - PUSH blocks write() when a receiver's queue is full (ZMQ_SNDHWM messages) or no
//      receiver is connected: lossless back-pressure. The pub_sub sink binds XPUB (the same
//      wire protocol as GNU Radio's PUB) so that it can see subscriptions
//      (wait_for_receivers) and count its losses; it never blocks. A message is lost, and
//      counted in the sink's dropped_messages / dropped_samples, when its channel has no
//      subscriber yet ("slow joiner"; at most one message per channel, sent at the moment
//      of a subscription, can be lost uncounted) or a subscriber's queue is at the HWM
//      (ZMQ_XPUB_NODROP: the send fails instead of the message vanishing unseen). A full
//      queue drops the whole block on every channel (counted once in dropped_samples), so
//      subscribers stay in step: a block refused on one channel after others took it is
//      kept (one at most) and sent to it before anything newer; samples counts blocks sent.
//    - The source keeps one FIFO per channel and delivers only the samples present on
//      every channel, so channels stay aligned as long as every channel receives every
//      message (see the lost connection below). A FIFO holds at most max_backlog_samples;
//      libzmq's queue in front of it about receive_queue_bytes (zmq_gr_options).
//      PULL: a channel whose FIFO is full is not read (a message larger than the room left
//      is held and moved in as room appears), so its messages wait in libzmq's queue, whose
//      HWM then blocks the PUSH sender: nothing is lost, and each channel is read only as
//      far ahead as the slowest allows. SUB cannot push back (libzmq would drop at the HWM,
//      on each channel at a different point), so it takes every message and, when a FIFO
//      would exceed the bound, drops the oldest samples down to half the bound — the same
//      span of stream positions on every channel (a channel with fewer samples drops the
//      rest of the span from its next arrivals): one overflow event, the span counted once
//      in dropped_samples. SUB also counts late_channels: a channel whose first message
//      arrives 20 ms or more after another channel's first, that channel having had two or
//      more messages taken in earlier reads (it joined late: its samples start offset,
//      which the receiver must realign). A hint from arrival times, not a measurement of
//      the offset: channels subscribing within a few ms of each other are not counted.
//    - Refused messages (counted in dropped_messages; their samples in dropped_samples):
//      empty, size not a multiple of 8, multi-part. When the first 4 messages of a channel
//      are all refused, the source warns once (options.log, else std::cerr) naming the
//      channel, the reason and the likely cause (Pass Tags on, a key/topic set) and counts
//      the channel in refused_channels. NaN/Inf samples are counted in
//      nonfinite_samples and delivered. A message larger than max_message_bytes never
//      reaches amimo: libzmq (ZMQ_MAXMSGSIZE) closes that connection and, unlike after an
//      ordinary disconnect, does not reconnect; the source then reconnects itself (when
//      libzmq has not announced a retry within 100 ms). Every lost connection is counted in
//      other_errors; messages in flight on it are lost uncounted. Such a connection lost a
//      span the other channels still have, so at that reconnect every channel's backlog is
//      discarded (one overflow; the largest backlog in dropped_samples) and all go on from
//      the samples sent next: in step when a PUSH sender was blocked on the lost channel,
//      otherwise the receiver re-synchronises on the next preamble.
//    - GNU Radio has no end marker: a source never reports end_of_stream unless an idle
//      limit is set (zmq_gr_options::idle_end); a sink's close() only flushes.
// B) srsRAN's ZMQ radio (srsRAN 4G lib/src/phy/rf/rf_zmq_imp*.c), REQ/REP: per channel the
//    transmitter binds a REP socket at tx_port<c>, the receiver connects a REQ socket to
//    rx_port<c>; the receiver sends a request (1 byte, 0xFF; its content is ignored), the
//    transmitter answers with one block of fc32 samples (the block written).
//    - Args: comma-separated key=value (README). Unknown keys throw config_error.
//    - The sink's write() waits until every channel has a request, then answers them all
//      with the block (so channels stay aligned); after trx_timeout_ms without requests on
//      every channel it drops the block (timeouts, dropped_messages, dropped_samples).
//    - The source keeps one request outstanding per channel, and sends none while that
//      channel's FIFO is full (back-pressure: the transmitter's write() waits); a request
//      unanswered for trx_timeout_ms, counted only while read() waits, is sent again
//      (ZMQ_REQ_RELAXED: the REQ socket never deadlocks on a lost request or a vanished
//      transmitter; counted in other_errors). A reply already waiting is taken first: the
//      re-send would discard it. The reply to the superseded request, which the
//      transmitter still sends, is dropped (ZMQ_REQ_CORRELATE), so that channel lost a
//      block the others get: every re-send is a discontinuity, as after a lost connection
//      (every channel's backlog discarded, one overflow, the largest backlog in
//      dropped_samples), and each channel then drops replies up to the same reply index, so
//      all go on from the same block (those dropped replies also in dropped_samples).
//    - amimo's end marker: the sink's close() answers each channel's next request (waiting
//      at most trx_timeout_ms, and at most 1 s) with an empty reply; the source then reports
//      end_of_stream after the aligned samples. srsRAN ignores empty replies, so this stays
//      compatible. Requests after close() go unanswered: the receiver times out (counted).
//    - No resampling: base_srate, when given, must equal the stream's sample rate (srsRAN
//      decimates/interpolates by an integer factor instead). Other refusals as in A.
//
// No call throws for transport trouble; bad specs/args and failed bind/connect throw
// amimo::config_error naming the token or endpoint, at construction.

#include <amimo/radio/radio.h>

#include <atomic>
#include <chrono>
#include <iosfwd>
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

namespace amimo::radio {

enum class zmq_pattern {
  push_pull,  ///< PUSH sink / PULL source (lossless, back-pressure)
  pub_sub,    ///< PUB sink / SUB source (subscribes to everything; drops at the HWM)
};

/// Options of the GNU Radio convention (A).
struct zmq_gr_options {
  zmq_pattern pattern = zmq_pattern::push_pull;
  std::size_t max_message_bytes = 64U << 20U;    ///< source: ZMQ_MAXMSGSIZE
  std::size_t max_backlog_samples = 1U << 22U;   ///< source: per-channel FIFO bound
  int send_hwm = 64;                             ///< sink: ZMQ_SNDHWM (messages per channel)
  int receive_hwm = 64;                          ///< source: ZMQ_RCVHWM cap (messages per channel)
  /// source: libzmq's receive queue per channel, in bytes. ZMQ_RCVHWM counts messages, each
  /// up to max_message_bytes, so it is set to min(receive_hwm, max(1, receive_queue_bytes /
  /// max_message_bytes)) (1 with the defaults). A channel then holds at most its FIFO
  /// (max_backlog_samples × 8 bytes), one held message and, in libzmq, ZMQ_RCVHWM + 1
  /// messages (one more being decoded): ≈ 32 + 3 × 64 = 224 MiB with the defaults.
  std::size_t receive_queue_bytes = 64U << 20U;
  std::chrono::milliseconds linger{1000};        ///< sink: ZMQ_LINGER, unsent data at close
  /// source: after this long without any message (since the last one, or since
  /// construction) read() reports end_of_stream from then on; 0: never.
  std::chrono::milliseconds idle_end{0};
  /// source: where the warning about a channel whose every message is refused goes
  /// (nullptr: std::cerr).
  std::ostream* log = nullptr;
};

/// Options of the srsRAN convention (B) that srsRAN's args string does not carry.
struct zmq_srsran_options {
  /// source: ZMQ_MAXMSGSIZE; srsRAN's receive buffer (3,072,000 samples) by default.
  std::size_t max_message_bytes = 3072000U * 8U;
  std::size_t max_backlog_samples = 1U << 22U;   ///< source: per-channel FIFO bound
  std::chrono::milliseconds linger{1000};        ///< sink: ZMQ_LINGER, unsent data at close
  std::ostream* log = nullptr;  ///< source: where refused-channel warnings go (nullptr: std::cerr)
};

/// A sink that binds one socket per channel.
class zmq_sink : public radio_sink {
 public:
  /// The endpoints actually bound (ZMQ_LAST_ENDPOINT), one per channel, e.g.
  /// "tcp://127.0.0.1:40123" for a requested "tcp://127.0.0.1:*".
  virtual std::vector<std::string> endpoints() const = 0;
  /// Waits at most `timeout` until every channel has a receiver and says whether it has.
  /// pub_sub: a subscription has arrived on every channel (the sink binds XPUB, the same
  /// wire protocol as PUB, to see them); writing before that loses messages, and since
  /// subscriptions complete at different moments, leaves channels misaligned by whole
  /// messages. push_pull and srsRAN hold messages until a receiver is there: true at once.
  virtual bool wait_for_receivers(std::chrono::milliseconds timeout) = 0;
  /// A flag (set by a signal handler, say) that blocking calls look at every 50 ms: once it
  /// is true, a write() blocked on back-pressure (PUSH) or waiting for requests (srsRAN)
  /// returns, counting the unsent messages of the block in dropped_messages /
  /// dropped_samples; wait_for_receivers() returns false; close() then lingers at most
  /// 200 ms instead of the configured ZMQ_LINGER. nullptr (default): no flag.
  void set_interrupt_flag(const std::atomic<bool>* flag) noexcept { stop_ = flag; }

 protected:
  bool stop_requested() const noexcept { return stop_ != nullptr && stop_->load(); }

 private:
  const std::atomic<bool>* stop_ = nullptr;
};

/// The endpoints of a GNU Radio-convention spec (A), one per channel. `for_bind` allows
/// port `*`. Throws config_error naming the bad token.
std::vector<std::string> parse_zmq_endpoints(const std::string& spec, int channels,
                                             bool for_bind);

/// A parsed srsRAN args string (B).
struct srsran_zmq_args {
  std::vector<std::string> tx_ports;  ///< per channel ("" where not given)
  std::vector<std::string> rx_ports;  ///< per channel ("" where not given)
  double base_srate = 0.0;            ///< 0: not given
  std::string id;
  std::chrono::milliseconds trx_timeout{2000};  ///< srsRAN's ZMQ_TIMEOUT_MS; 0: wait forever
};

/// Parses "key=value,key=value". Keys: tx_port, tx_port<c>, rx_port, rx_port<c> (the
/// unindexed key is channel 0), base_srate, id, trx_timeout_ms, tx_format/rx_format (fc32
/// only). Throws config_error naming the bad token (unknown key, duplicate, bad number,
/// channel index >= channels).
srsran_zmq_args parse_srsran_zmq_args(const std::string& args, int channels);

/// GNU Radio ZMQ PUSH/PUB sink: binds one socket per channel; write() sends one message
/// per channel (channel order 0 … channels-1).
std::unique_ptr<zmq_sink> create_zmq_gr_sink(const std::string& spec,
                                             const stream_description& description,
                                             const zmq_gr_options& options = {});

/// GNU Radio ZMQ PULL/SUB source: connects one socket per channel.
std::unique_ptr<radio_source> create_zmq_gr_source(const std::string& spec,
                                                   const stream_description& description,
                                                   const zmq_gr_options& options = {});

/// srsRAN ZMQ transmitter (REP, bound at tx_port<c>). If args give base_srate and the
/// description a sample rate, they must agree (no resampling).
std::unique_ptr<zmq_sink> create_srsran_zmq_sink(const std::string& args,
                                                 const stream_description& description,
                                                 const zmq_srsran_options& options = {});

/// srsRAN ZMQ receiver (REQ, connected to rx_port<c>).
std::unique_ptr<radio_source> create_srsran_zmq_source(const std::string& args,
                                                       const stream_description& description,
                                                       const zmq_srsran_options& options = {});

}  // namespace amimo::radio
