#pragma once
// Opens a radio source or sink from one spec string (the `source:` / `sink:` keys and the
// --source / --sink flags of amimo-bs and amimo-ue):
//
//   zmq-pull:ENDPOINTS   zmq-sub:ENDPOINTS     GNU Radio ZMQ convention, receive (connect)
//   zmq-push:ENDPOINTS   zmq-pub:ENDPOINTS     GNU Radio ZMQ convention, send (bind)
//   srsran:ARGS                                srsRAN ZMQ radio (REQ/REP): tx_port=…,rx_port=…
//   sigmf:PATH                                 SigMF recording (read or write)
//   uhd:ARGS                                   USRP through UHD multi_usrp (receive only)
//
// ENDPOINTS: one endpoint per antenna, comma-separated, or one whose port is incremented
// per antenna (tcp://127.0.0.1:5000 → 5000, 5001, …); port * binds ephemeral ports.
// "synthetic" (the in-process source) is built by the applications, not here.

#include <amimo/radio/radio.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

namespace amimo::radio {

struct source_options {
  std::chrono::milliseconds idle_end{0};  ///< network sources: report end after this silence
  double gain_db = 30.0;                  ///< uhd
  std::ostream* log = nullptr;            ///< uhd: actual settings; zmq/srsran: refused-channel warnings (nullptr: std::cerr)
};

/// Throws config_error for an unknown scheme or a bad spec (naming it), io_error for an
/// unreadable file. `expected` gives channels, sample rate and centre frequency.
std::unique_ptr<radio_source> open_radio_source(const std::string& spec,
                                                const stream_description& expected,
                                                const source_options& options = {});
std::unique_ptr<radio_sink> open_radio_sink(const std::string& spec,
                                            const stream_description& description);

/// The endpoints a network sink really bound (empty for other sinks).
std::vector<std::string> bound_endpoints(const radio_sink& sink);
/// For pub/sub sinks: waits until every channel has a subscriber (true at once otherwise).
bool wait_for_receivers(radio_sink& sink, std::chrono::milliseconds timeout);

/// Whether this build has the UHD transport.
bool have_uhd() noexcept;

}  // namespace amimo::radio
