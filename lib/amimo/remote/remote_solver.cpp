#include <amimo/analog/analog_profile.h>
#include <amimo/core/error.h>
#include <amimo/core/file_io.h>
#include <amimo/remote/remote_connection.h>
#include <amimo/remote/remote_solver.h>
#include <amimo/remote/service_policy.h>
#include <amimo/solver/digital_solver.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zmq.hpp>

#include <atomic>
#include <charconv>
#include <cstring>
#include <mutex>
#include <random>
#include <thread>

namespace amimo::remote {

struct remote_client::impl {
  client_options options;
  zmq::context_t context{1};
  std::unique_ptr<zmq::socket_t> socket;

  void connect() {
    socket = std::make_unique<zmq::socket_t>(context, zmq::socket_type::dealer);
    socket->set(zmq::sockopt::linger, 0);
    socket->set(zmq::sockopt::maxmsgsize, static_cast<std::int64_t>(options.limits.max_message));
    if (!options.curve_server_key_file.empty()) {
      if (!zmq_has("curve")) throw io_error("this libzmq has no CURVE support");
      char public_key[41] = {};
      char secret_key[41] = {};
      if (!options.curve_client_key_file.empty()) {
        const std::string secret = read_curve_key(options.curve_client_key_file);
        std::copy(secret.begin(), secret.end(), secret_key);
        if (zmq_curve_public(public_key, secret_key) != 0) {
          throw io_error("key file " + options.curve_client_key_file + " does not hold a Z85 secret key");
        }
      } else if (zmq_curve_keypair(public_key, secret_key) != 0) {
        throw io_error("zmq_curve_keypair failed");
      }
      socket->set(zmq::sockopt::curve_serverkey, read_curve_key(options.curve_server_key_file));
      socket->set(zmq::sockopt::curve_publickey, std::string(public_key));
      socket->set(zmq::sockopt::curve_secretkey, std::string(secret_key));
    }
    try {
      socket->connect(options.endpoint);
    } catch (const zmq::error_t& e) {
      throw config_error("remote endpoint '" + options.endpoint + "': " + e.what());
    }
  }
};

remote_client::remote_client(client_options options) : impl_(std::make_unique<impl>()) {
  impl_->options = std::move(options);
  impl_->connect();
}

remote_client::~remote_client() = default;

void remote_client::reconnect() { impl_->connect(); }

void remote_client::send(const request& r) { send(encode_request(r)); }

void remote_client::send(const bytes& encoded) {
  // DEALER queues while the peer is away (up to the high-water mark); never blocks here.
  (void)impl_->socket->send(zmq::buffer(encoded.data(), encoded.size()), zmq::send_flags::dontwait);
}

std::optional<std::variant<reply, error_reply>> remote_client::receive(std::chrono::milliseconds timeout) {
  bytes frame;
  if (!receive_into(timeout, frame)) return std::nullopt;
  try {
    if (frame.empty()) throw wire_error(error_code::malformed, "multi-frame or empty response");
    return decode_response(frame, impl_->options.limits);
  } catch (const wire_error& e) {
    std::uint64_t id = 0;
    std::uint64_t session = 0;
    peek_ids(frame, id, session);
    return error_reply{id, session, error_code::malformed, e.what()};
  }
}

bool remote_client::receive_into(std::chrono::milliseconds timeout, bytes& frame) {
  zmq::pollitem_t item{impl_->socket->handle(), 0, ZMQ_POLLIN, 0};
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    try {
      zmq::poll(&item, 1, std::max(left, std::chrono::milliseconds(0)));
    } catch (const zmq::error_t& e) {
      if (e.num() == EINTR) continue;
      throw;
    }
    if ((item.revents & ZMQ_POLLIN) == 0) return false;
    zmq::message_t message;
    if (!impl_->socket->recv(message, zmq::recv_flags::dontwait)) continue;
    bool extra = false;
    while (impl_->socket->get(zmq::sockopt::rcvmore) != 0) {
      zmq::message_t more;
      (void)impl_->socket->recv(more, zmq::recv_flags::none);
      extra = true;
    }
    frame.resize(extra ? 0 : message.size());
    if (!frame.empty()) std::memcpy(frame.data(), message.data(), frame.size());
    return true;
  }
}

remote_options parse_remote_options(const std::map<std::string, std::string>& options) {
  remote_options r;
  std::map<std::string, std::string> passthrough;
  const auto to_int = [](const std::string& key, const std::string& v, int lo, int hi) {
    int out = 0;
    const auto [ptr, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
    if (ec != std::errc() || ptr != v.data() + v.size() || out < lo || out > hi) {
      throw config_error("remote option '" + key + "': '" + v + "' is not an integer in " + std::to_string(lo) + "…" +
                         std::to_string(hi));
    }
    return out;
  };
  for (const auto& [key, value] : options) {
    if (key == "endpoint") {
      r.endpoint = value;
    } else if (key == "backend") {
      r.backend.name = value;
    } else if (key == "timeout-ms") {
      r.timeout_ms = to_int(key, value, 1, 3'600'000);
    } else if (key == "retries") {
      r.retries = to_int(key, value, 0, 100);
    } else if (key == "element") {
      if (value != "cf64" && value != "cf32") throw config_error("remote option 'element' must be cf64|cf32");
      r.element = value == "cf32" ? element_type::cf32 : element_type::cf64;
    } else if (key == "batch-chunk") {
      r.batch_chunk = to_int(key, value, 1, 4096);
    } else if (key == "window") {
      r.window = to_int(key, value, 1, 64);
    } else if (key == "curve-server-key") {
      r.curve_server_key_file = value;
    } else if (key == "curve-client-key") {
      r.curve_client_key_file = value;
    } else if (key == "on-failure") {
      if (value != "fallback" && value != "error") throw config_error("remote option 'on-failure' must be fallback|error");
      r.fallback_on_failure = value == "fallback";
    } else if (key == "profile" && (value.find('/') != std::string::npos ||
                                    (value.size() > 5 && value.compare(value.size() - 5, 5, ".yaml") == 0))) {
      // The client's own file, read here and sent as content: the service opens no path.
      const std::string text = analog::read_profile_file(value, max_inline_profile_bytes);
      try {
        passthrough["profile-yaml"] = escape_option_value(text);
      } catch (const wire_error& e) {
        throw config_error("analog profile '" + value + "': " + e.what());
      }
    } else {
      passthrough[key] = value;
    }
  }
  if (r.endpoint.rfind("tcp://", 0) != 0 && r.endpoint.rfind("ipc://", 0) != 0) {
    throw config_error("remote endpoint '" + r.endpoint + "' must be tcp://HOST:PORT or ipc://PATH");
  }
  if (r.backend.name == "remote") throw config_error("remote backend cannot itself be 'remote'");
  r.backend.options = std::move(passthrough);
  return r;
}

std::string read_curve_key(const std::string& path) {
  // A regular file of at most 1 KiB (never a FIFO or device), surrounding whitespace ignored.
  const std::string text = read_bounded_file(path, 1024, "CURVE key file");
  const auto first = text.find_first_not_of(" \t\r\n");
  const auto last = text.find_last_not_of(" \t\r\n");
  const std::string key = first == std::string::npos ? std::string() : text.substr(first, last - first + 1);
  if (key.size() != 40) throw io_error("key file " + path + " does not hold a 40-character Z85 key");
  return key;
}

namespace {
std::mutex tally_mutex;
fallback_tally tally;

void note_fallback(const std::string& reason) { note_remote_fallback(reason, 1); }
}  // namespace

void note_remote_fallback(const std::string& reason, std::uint64_t count) {
  const std::lock_guard<std::mutex> lock(tally_mutex);
  tally.total += count;
  if (tally.by_reason.size() < 32 || tally.by_reason.count(reason) != 0) {
    tally.by_reason[reason] += count;
  } else {
    tally.by_reason["other"] += count;
  }
}

std::uint64_t new_session_id() {
  static std::atomic<std::uint64_t> counter{0};
  std::random_device device;
  std::uint64_t session = (static_cast<std::uint64_t>(device()) << 32U) ^ device() ^ (++counter << 48U);
  return session == 0 ? 1 : session;
}

fallback_tally remote_fallbacks() {
  const std::lock_guard<std::mutex> lock(tally_mutex);
  return tally;
}

void reset_remote_fallbacks() {
  const std::lock_guard<std::mutex> lock(tally_mutex);
  tally = {};
}

std::string remote_fallback_warning() {
  const fallback_tally t = remote_fallbacks();
  if (t.total == 0) return {};
  std::string text = "warning: " + std::to_string(t.total) +
                     " remote solve(s) were answered by the local digital-f64 fallback, not the service (";
  bool first = true;
  for (const auto& [reason, n] : t.by_reason) {
    text += (first ? "" : "; ") + reason + ": " + std::to_string(n);
    first = false;
  }
  return text + "); use remote option on-failure=error to fail instead";
}

struct remote_solver::impl : remote_connection {
  using remote_connection::remote_connection;
  bool session_lost = false;     // the current matrix epoch is served locally
  cmat a;                        // the current matrix, for the local fallback
  solver::matrix_structure structure = solver::matrix_structure::hermitian;
  std::unique_ptr<solver::linear_solver> local;
  bool local_loaded = false;
  request req;

  // Sends req and waits for its reply (retrying with the same id); nullopt when the
  // service did not answer or refused.
  std::optional<reply> exchange() {
    req.id = next_id++;
    req.session = session;
    const bytes encoded = encode_request(req);
    ++counters.requests;
    for (int attempt = 0; attempt <= options.retries; ++attempt) {
      if (attempt > 0) ++counters.retries;
      client->send(encoded);
      const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(options.timeout_ms);
      for (;;) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) break;
        auto response = client->receive(left);
        if (!response) break;
        if (auto* r = std::get_if<reply>(&*response)) {
          if (r->id != req.id || r->session != session) continue;  // a late reply of an abandoned request
          backoff = std::chrono::milliseconds(500);
          busy_backoff = std::chrono::milliseconds(10);
          if (r->items.size() != req.items.size()) {
            ++counters.error_replies;
            failure = "malformed reply";
            return std::nullopt;
          }
          return std::move(*r);
        }
        const auto& e = std::get<error_reply>(*response);
        if (e.id != req.id && e.code != error_code::malformed) continue;
        if (e.code == error_code::busy) {
          // The service's queue is full: back off (bounded by this attempt's deadline) and resend.
          ++counters.busy_replies;
          const auto pause = std::min(busy_backoff, std::chrono::duration_cast<std::chrono::milliseconds>(
                                                         deadline - std::chrono::steady_clock::now()));
          if (pause.count() > 0) std::this_thread::sleep_for(pause);
          busy_backoff = std::min(busy_backoff * 2, std::chrono::milliseconds(200));
          if (std::chrono::steady_clock::now() >= deadline) {
            failure = "service busy";
            ++counters.error_replies;
            return std::nullopt;
          }
          client->send(encoded);
          continue;
        }
        ++counters.error_replies;
        failure = std::string("refused: ") + to_string(e.code);
        return std::nullopt;
      }
    }
    ++counters.timeouts;
    failure = "no reply (service down or slow, or this client's CURVE key not authorised)";
    client->reconnect();  // drop what is queued for a dead peer
    retry_after = std::chrono::steady_clock::now() + backoff;
    backoff = std::min(backoff * 2, std::chrono::milliseconds(30'000));
    return std::nullopt;
  }

  void lose_session() {
    session_lost = true;
    new_session();
    if (failure.empty()) failure = "service not asked (backing off after a timeout)";
    if (!options.fallback_on_failure) {
      throw io_error("remote solver at " + options.endpoint + ": " + failure + " (on-failure=error)");
    }
  }

  solver::linear_solver& local_backend() {
    if (!local_loaded) {
      local->set_matrix(a, structure);
      local_loaded = true;
    }
    return *local;
  }
};

remote_solver::remote_solver(remote_options options, int max_size, std::uint64_t seed)
    : impl_(std::make_unique<impl>(std::move(options), max_size, seed)) {
  impl_->local = solver::create_digital_solver(solver::digital_precision::f64, max_size);
}

remote_solver::~remote_solver() = default;

const remote_counters& remote_solver::counters() const noexcept { return impl_->counters; }

const std::string& remote_solver::last_failure() const noexcept { return impl_->failure; }

void remote_solver::reseed(std::uint64_t seed) noexcept {
  impl_->reseed_pending = true;
  impl_->reseed_seed = seed;
}

solver::matrix_status remote_solver::set_matrix(cmat_cref a, solver::matrix_structure structure) {
  impl& m = *impl_;
  m.a = a;
  m.structure = structure;
  m.local_loaded = false;
  m.session_lost = false;
  m.req.create_seed = m.create_seed;
  const auto size = static_cast<std::uint32_t>(std::max<Eigen::Index>(m.max_size, a.rows()));
  if (m.session_max_size != 0 && m.session_max_size < size) m.new_session();  // the service would refuse it
  m.session_max_size = std::max(m.session_max_size, size);
  m.req.max_size = m.session_max_size;
  m.req.element = m.options.element;
  m.req.spec = m.options.backend;
  m.req.items.clear();
  if (m.reseed_pending) m.req.items.push_back({item_op::reseed, structure, m.reseed_seed, cmat()});
  m.req.items.push_back({item_op::set_matrix, structure, 0, a});
  m.reseed_pending = false;
  const bool square = a.rows() == a.cols() && a.rows() > 0 && a.rows() <= static_cast<Eigen::Index>(wire_limits{}.max_dim);
  const bool service_up = std::chrono::steady_clock::now() >= m.retry_after;
  m.failure.clear();
  if (!square) m.failure = "matrix beyond the wire limits";
  std::optional<reply> r = square && service_up ? m.exchange() : std::nullopt;
  if (!r) {
    // Unanswered (or not sendable): the local backend loads the matrix; its solves count as fallbacks.
    m.lose_session();
    return m.local_backend().set_matrix(a, structure);
  }
  const item_result& res = r->items.back();
  solver::matrix_status status;
  status.ok = res.ok;
  status.positive_definite = res.positive_definite;
  status.modelled_seconds = res.modelled_seconds;
  status.modelled_joules = res.modelled_joules;
  return status;
}

solver::solve_status remote_solver::solve(cmat_ref x, cmat_cref b) {
  impl& m = *impl_;
  solver::solve_status status;
  if (!m.session_lost && b.cols() > 0 && b.cols() <= static_cast<Eigen::Index>(wire_limits{}.max_dim)) {
    m.failure.clear();
    m.req.items.clear();
    m.req.items.push_back({item_op::solve, m.structure, 0, b});
    std::optional<reply> r = m.exchange();
    if (r && r->items.back().x.rows() == x.rows() && r->items.back().x.cols() == x.cols()) {
      const item_result& res = r->items.back();
      x = res.x;
      status.ok = res.ok;
      status.fallback = res.fallback;
      status.iterations = res.iterations;
      status.residual = res.residual;
      status.modelled_seconds = res.modelled_seconds;
      status.modelled_joules = res.modelled_joules;
      return status;
    }
    if (r && !r->items.back().ok && r->items.back().code == error_code::none) {
      // The service answered "no solution" (an unusable matrix): that is data, not a failure.
      x.setZero();
      status.ok = false;
      return status;
    }
    if (r && m.failure.empty()) m.failure = "reply of the wrong shape";
    m.lose_session();
  } else if (!m.session_lost) {
    m.failure = "right-hand sides beyond the wire limits";
    if (!m.options.fallback_on_failure) throw io_error("remote solver: " + m.failure + " (on-failure=error)");
  }
  ++m.counters.local_fallbacks;
  note_fallback(m.failure.empty() ? "unknown" : m.failure);
  status = m.local_backend().solve(x, b);
  status.fallback = true;
  return status;
}

}  // namespace amimo::remote
