#include <amimo/radio/radio_factory.h>

#include <amimo/core/error.h>
#include <amimo/radio/sigmf.h>
#include <amimo/radio/zmq_radio.h>
#if defined(AMIMO_HAVE_UHD)
#include <amimo/radio/uhd_radio.h>
#endif

namespace amimo::radio {
namespace {

bool starts_with(const std::string& s, const char* prefix, std::string& rest) {
  const std::string p(prefix);
  if (s.rfind(p, 0) != 0) return false;
  rest = s.substr(p.size());
  return true;
}

}  // namespace

bool have_uhd() noexcept {
#if defined(AMIMO_HAVE_UHD)
  return true;
#else
  return false;
#endif
}

std::unique_ptr<radio_source> open_radio_source(const std::string& spec, const stream_description& expected,
                                                const source_options& options) {
  std::string rest;
  if (starts_with(spec, "zmq-pull:", rest) || starts_with(spec, "zmq-sub:", rest)) {
    zmq_gr_options o;
    o.pattern = spec.rfind("zmq-sub:", 0) == 0 ? zmq_pattern::pub_sub : zmq_pattern::push_pull;
    o.idle_end = options.idle_end;
    o.log = options.log;
    return create_zmq_gr_source(rest, expected, o);
  }
  if (starts_with(spec, "srsran:", rest)) {
    zmq_srsran_options o;
    o.log = options.log;
    return create_srsran_zmq_source(rest, expected, o);
  }
  if (starts_with(spec, "sigmf:", rest)) return open_sigmf_source(rest);
  if (starts_with(spec, "uhd:", rest) || spec == "uhd") {
#if defined(AMIMO_HAVE_UHD)
    uhd_options o;
    o.args = rest;
    o.channels.clear();
    for (int c = 0; c < expected.channels; ++c) o.channels.push_back(static_cast<std::size_t>(c));
    o.rate = expected.sample_rate;
    o.freq = expected.center_frequency;
    o.gain = options.gain_db;
    o.log = options.log;
    return open_uhd_source(o);
#else
    throw config_error("this build has no UHD support (configure with libuhd-dev installed)");
#endif
  }
  throw config_error("unknown source '" + spec +
                     "' (expected synthetic, zmq-pull:…, zmq-sub:…, srsran:…, sigmf:PATH or uhd:ARGS)");
}

std::unique_ptr<radio_sink> open_radio_sink(const std::string& spec, const stream_description& description) {
  std::string rest;
  if (starts_with(spec, "zmq-push:", rest) || starts_with(spec, "zmq-pub:", rest)) {
    zmq_gr_options o;
    o.pattern = spec.rfind("zmq-pub:", 0) == 0 ? zmq_pattern::pub_sub : zmq_pattern::push_pull;
    // A transmitter that ends should still deliver what is queued to a slow receiver.
    o.linger = std::chrono::milliseconds(10000);
    return create_zmq_gr_sink(rest, description, o);
  }
  if (starts_with(spec, "srsran:", rest)) {
    zmq_srsran_options o;
    o.linger = std::chrono::milliseconds(10000);
    return create_srsran_zmq_sink(rest, description, o);
  }
  if (starts_with(spec, "sigmf:", rest)) {
    sigmf_options o;
    o.description = "amimo-ue uplink: " + std::to_string(description.channels) + " antenna channels";
    return create_sigmf_sink(rest, description, o);
  }
  throw config_error("unknown sink '" + spec + "' (expected zmq-push:…, zmq-pub:…, srsran:… or sigmf:PATH)");
}

std::vector<std::string> bound_endpoints(const radio_sink& sink) {
  if (const auto* z = dynamic_cast<const zmq_sink*>(&sink)) return z->endpoints();
  return {};
}

bool wait_for_receivers(radio_sink& sink, std::chrono::milliseconds timeout) {
  if (auto* z = dynamic_cast<zmq_sink*>(&sink)) return z->wait_for_receivers(timeout);
  return true;
}

}  // namespace amimo::radio
