#include <amimo/core/error.h>
#include <amimo/remote/remote_batch_solver.h>
#include <amimo/remote/remote_connection.h>

#include <algorithm>
#include <map>
#include <mutex>
#include <chrono>
#include <cstring>
#include <thread>

namespace amimo::remote {
namespace {

using clock = std::chrono::steady_clock;

template <typename Real>
solver::matrix_batch<Real> sub_batch(const solver::matrix_batch<Real>& v, int first, int count) {
  solver::matrix_batch<Real> out = v;
  out.count = count;
  if (v.format == solver::batch_format::column_major) {
    out.data = v.data + 2 * static_cast<std::ptrdiff_t>(first) * v.matrix_stride;
  } else {
    out.data = v.data + static_cast<std::ptrdiff_t>(first / v.lanes) * 2 * v.lanes * v.rows * v.cols;
  }
  return out;
}
solver::batch_ref sub(const solver::batch_ref& v, int first, int count) {
  return std::visit([&](const auto& b) -> solver::batch_ref { return sub_batch(b, first, count); }, v);
}
solver::batch_cref sub(const solver::batch_cref& v, int first, int count) {
  return std::visit([&](const auto& b) -> solver::batch_cref { return sub_batch(b, first, count); }, v);
}
template <typename View>
int lanes_of(const View& v) {
  return std::visit([](const auto& b) { return b.format == solver::batch_format::compact ? b.lanes : 1; }, v);
}

}  // namespace

struct remote_batch_solver::impl : remote_connection {
  // One request in flight: systems [first, first + count) of the current call.
  struct slot {
    std::uint64_t id = 0;
    int first = 0;
    int count = 0;
    int attempts = 0;
    bool answered = false;
    clock::time_point deadline{};
    bytes encoded;
  };

  using remote_connection::remote_connection;
  std::unique_ptr<solver::batch_solver> local;
  std::vector<slot> slots;
  bytes frame;
  reply replies[2];  // by item count (1: batch; 2: reseed + batch), so storage is reused
  error_reply error;
  std::string spec_text = encode_spec(options.backend);  // encoded once: requests reuse it
  bool warmed = false;

  // One request without items and its reply, so that the connection's first-use work
  // happens here and not in the first solve: libzmq allocates on a socket's first send and
  // receive (a fresh client made 27 C++ allocations in its first solve). The service
  // creates the session's backend from create_seed and runs nothing, so no random draw of
  // an analog backend moves. Waits at most the request timeout, capped at 1 s, and after a
  // warm-up to an endpoint went unanswered the process's next ones to it within 30 s only
  // send, until one is answered (a receiver builds one backend per worker and chain, one
  // after another: a dead service costs one wait, not one per backend). No reply is not
  // counted (the first solve meets the service as it is); a late reply is dropped by
  // solve() before it is decoded.
  void warm_up() {
    if (warmed || clock::now() < retry_after) return;
    warmed = true;
    request r;
    r.id = next_id++;
    r.session = session;
    r.create_seed = create_seed;
    r.max_size = static_cast<std::uint32_t>(max_size);
    r.element = options.element;
    r.spec = options.backend;
    client->send(encode_request(r));
    session_max_size = r.max_size;
    // Endpoints whose last warm-up went unanswered, and when (the process's few endpoints).
    static std::mutex unanswered_lock;
    static std::map<std::string, clock::time_point> unanswered;
    const auto start = clock::now();
    {
      const std::lock_guard<std::mutex> hold(unanswered_lock);
      const auto it = unanswered.find(options.endpoint);
      if (it != unanswered.end() && start - it->second < std::chrono::seconds(30)) return;
    }
    const auto deadline = start + std::chrono::milliseconds(std::min(options.timeout_ms, 1000));
    for (;;) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock::now());
      if (left.count() <= 0 || !client->receive_into(left, frame)) {
        const std::lock_guard<std::mutex> hold(unanswered_lock);
        unanswered[options.endpoint] = clock::now();
        return;
      }
      std::uint64_t id = 0;
      std::uint64_t sid = 0;
      if (peek_ids(std::span<const std::byte>(frame.data(), frame.size()), id, sid) && id == r.id && sid == session) {
        const std::lock_guard<std::mutex> hold(unanswered_lock);
        unanswered.erase(options.endpoint);
        return;
      }
    }
  }

  // Systems [first, first + count) answered locally (counted), or io_error with on-failure=error.
  void fall_back(std::span<solver::batch_status> status, const solver::batch_ref& x, const solver::batch_cref& a,
                 const solver::batch_cref& b, solver::matrix_structure structure, int first, int count) {
    if (count <= 0) return;
    if (failure.empty()) failure = "service not asked (backing off after a timeout)";
    if (!options.fallback_on_failure) {
      throw io_error("remote solver at " + options.endpoint + ": " + failure + " (on-failure=error)");
    }
    const auto part = status.subspan(static_cast<std::size_t>(first), static_cast<std::size_t>(count));
    local->solve(part, sub(x, first, count), sub(a, first, count), sub(b, first, count), structure);
    for (solver::batch_status& s : part) s.solve.fallback = true;
    counters.local_fallbacks += static_cast<std::uint64_t>(count);
    note_remote_fallback(failure, static_cast<std::uint64_t>(count));
  }

  void send(slot& s) {
    std::memcpy(s.encoded.data() + 8, &s.id, sizeof s.id);  // the request id (header offset 8)
    client->send(s.encoded);
    s.deadline = clock::now() + std::chrono::milliseconds(options.timeout_ms);
  }

  // Copies a reply's batch result into the caller's views; false when its shape is wrong.
  bool take(const reply& r, const slot& s, std::span<solver::batch_status> status, const solver::batch_ref& x) {
    if (r.items.empty() || r.element != options.element) return false;
    const item_result& res = r.items.back();
    const solver::batch_shape shape = solver::shape_of(x);
    if (res.op != item_op::solve_batch || res.count != static_cast<std::uint32_t>(s.count) ||
        res.rows != static_cast<std::uint32_t>(shape.rows) || res.cols != static_cast<std::uint32_t>(shape.cols) ||
        res.statuses.size() != static_cast<std::size_t>(s.count)) {
      return false;
    }
    const std::size_t per = static_cast<std::size_t>(shape.rows) * static_cast<std::size_t>(shape.cols) * 2;
    const bool f32 = r.element == element_type::cf32;
    if ((f32 ? res.x32.size() : res.x64.size()) != per * static_cast<std::size_t>(s.count)) return false;
    std::visit(
        [&](const auto& v) {
          using real = typename std::remove_cvref_t<decltype(v)>::real_type;
          if (packed_column_major(v) && f32 == std::is_same_v<real, float>) {
            const void* from = f32 ? static_cast<const void*>(res.x32.data()) : static_cast<const void*>(res.x64.data());
            std::memcpy(v.data + static_cast<std::ptrdiff_t>(s.first) * v.matrix_stride * 2, from,
                        per * static_cast<std::size_t>(s.count) * sizeof(real));
            return;
          }
          for (int m = 0; m < s.count; ++m) {
            std::size_t at = per * static_cast<std::size_t>(m);
            for (int j = 0; j < v.cols; ++j) {
              for (int i = 0; i < v.rows; ++i, at += 2) {
                const double re = f32 ? static_cast<double>(res.x32[at]) : res.x64[at];
                const double im = f32 ? static_cast<double>(res.x32[at + 1]) : res.x64[at + 1];
                v.set(s.first + m, i, j, {static_cast<real>(re), static_cast<real>(im)});
              }
            }
          }
        },
        x);
    for (int m = 0; m < s.count; ++m) {
      const batch_item_status& in = res.statuses[static_cast<std::size_t>(m)];
      solver::batch_status& out = status[static_cast<std::size_t>(s.first + m)];
      out = {};
      out.matrix.ok = in.matrix_ok;
      out.matrix.positive_definite = in.positive_definite;
      out.solve.ok = in.solve_ok;
      out.solve.fallback = in.fallback;
      out.solve.iterations = in.iterations;
      out.solve.residual = in.residual;
      out.matrix.modelled_seconds = in.matrix_seconds;
      out.matrix.modelled_joules = in.matrix_joules;
      out.solve.modelled_seconds = in.modelled_seconds;
      out.solve.modelled_joules = in.modelled_joules;
    }
    return true;
  }
};

remote_batch_solver::remote_batch_solver(remote_options options, int max_size, std::uint64_t seed)
    : impl_(std::make_unique<impl>(std::move(options), max_size, seed)) {
  impl_->local = solver::create_digital_batch_solver(false, max_size);
  impl_->slots.resize(static_cast<std::size_t>(std::max(1, impl_->options.window)));
}

remote_batch_solver::~remote_batch_solver() = default;

solver::batch_preference remote_batch_solver::preference() const noexcept {
  return {impl_->options.element == element_type::cf32 ? solver::element_type::f32 : solver::element_type::f64,
          solver::batch_format::column_major, 1};
}

void remote_batch_solver::reseed(std::uint64_t seed) noexcept {
  impl_->reseed_pending = true;
  impl_->reseed_seed = seed;
}

const remote_counters& remote_batch_solver::counters() const noexcept { return impl_->counters; }
const std::string& remote_batch_solver::last_failure() const noexcept { return impl_->failure; }

void remote_batch_solver::reserve(int max_rhs) {
  impl& m = *impl_;
  const std::size_t n = static_cast<std::size_t>(m.max_size);
  const std::size_t r = static_cast<std::size_t>(std::max(max_rhs, 1));
  const std::size_t chunk = static_cast<std::size_t>(m.options.batch_chunk) + 64;  // + lane rounding
  const std::size_t scalar = m.options.element == element_type::cf32 ? sizeof(float) : sizeof(double);
  const std::size_t spec = encode_spec(m.options.backend).size();
  for (impl::slot& s : m.slots) s.encoded.reserve(header_bytes + spec + 2 * item_header_bytes + chunk * n * (n + r) * 2 * scalar);
  m.frame.reserve(header_bytes + 2 * result_header_bytes + chunk * (batch_status_bytes + n * r * 2 * scalar));
  for (int k = 0; k < 2; ++k) {
    m.replies[k].items.resize(static_cast<std::size_t>(k + 1));
    item_result& res = m.replies[k].items.back();
    res.statuses.reserve(chunk);
    (m.options.element == element_type::cf32 ? res.x32.reserve(chunk * n * r * 2) : res.x64.reserve(chunk * n * r * 2));
  }
  m.local->reserve(max_rhs);
  m.warm_up();
}

void remote_batch_solver::solve(std::span<solver::batch_status> status, solver::batch_ref x, solver::batch_cref a,
                                solver::batch_cref b, solver::matrix_structure structure) {
  impl& m = *impl_;
  if (!solver::valid_batch(status.size(), x, a, b)) {
    for (solver::batch_status& s : status) s = {};
    if (std::visit([](const auto& v) { return v.format != solver::batch_format::compact || v.lanes > 0; }, x)) {
      solver::zero_batch(x);
    }
    return;
  }
  const solver::batch_shape shape = solver::shape_of(a);
  const int count = shape.count;
  if (count == 0) return;
  const solver::batch_shape bshape = solver::shape_of(b);
  const bool fits = shape.rows <= static_cast<int>(wire_limits{}.max_dim) && bshape.cols <= static_cast<int>(wire_limits{}.max_dim);
  // Chunks hold whole compact groups; views of different group widths go as one chunk.
  const int lanes = std::max({lanes_of(x), lanes_of(a), lanes_of(b)});
  const bool same_lanes = (lanes_of(x) == 1 || lanes_of(x) == lanes) && (lanes_of(a) == 1 || lanes_of(a) == lanes) &&
                          (lanes_of(b) == 1 || lanes_of(b) == lanes);
  const int chunk = !same_lanes ? count : std::max(lanes, m.options.batch_chunk / lanes * lanes);
  const int chunks = (count + chunk - 1) / chunk;
  m.failure.clear();
  if (!fits) {
    m.failure = "systems beyond the wire limits";
    m.fall_back(status, x, a, b, structure, 0, count);
    return;
  }
  if (clock::now() < m.retry_after) {
    m.new_session();
    m.fall_back(status, x, a, b, structure, 0, count);
    return;
  }
  const int window = static_cast<int>(m.slots.size());
  const std::uint32_t max_size = static_cast<std::uint32_t>(std::max(m.max_size, shape.rows));
  if (m.session_max_size != 0 && m.session_max_size < max_size) m.new_session();  // the service would refuse it
  m.session_max_size = std::max(m.session_max_size, max_size);
  int sent = 0;     // chunks sent
  int oldest = 0;   // first chunk not yet answered
  bool failed = false;
  const auto slot_of = [&](int c) -> impl::slot& { return m.slots[static_cast<std::size_t>(c % window)]; };
  while (oldest < chunks) {
    while (!failed && sent < chunks && sent - oldest < window) {
      impl::slot& s = slot_of(sent);
      s.first = sent * chunk;
      s.count = std::min(chunk, count - s.first);
      s.attempts = 0;
      s.answered = false;
      s.id = m.next_id++;
      encode_batch_request_text(s.encoded, s.id, m.session, m.create_seed, m.session_max_size, m.spec_text,
                                m.options.element, m.reseed_pending ? &m.reseed_seed : nullptr, structure,
                                sub(a, s.first, s.count), sub(b, s.first, s.count));
      m.reseed_pending = false;
      ++m.counters.requests;
      m.send(s);
      ++sent;
    }
    if (failed) {
      // The service stopped answering: what is not answered yet is solved here.
      for (int c = oldest; c < chunks; ++c) {
        if (c < sent && slot_of(c).answered) continue;
        const int first = c * chunk;
        m.fall_back(status, x, a, b, structure, first, std::min(chunk, count - first));
      }
      return;
    }
    clock::time_point due = slot_of(oldest).deadline;
    for (int c = oldest; c < sent; ++c) {
      if (!slot_of(c).answered) due = std::min(due, slot_of(c).deadline);
    }
    const auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(due - clock::now()) + std::chrono::milliseconds(1);
    if (m.client->receive_into(std::max(wait, std::chrono::milliseconds(0)), m.frame)) {
      bool is_reply = false;
      std::uint64_t id = 0;
      std::uint64_t sid = 0;
      const std::span<const std::byte> view(m.frame.data(), m.frame.size());
      // A reply to no request in flight (an abandoned one, the warm-up's after it gave up)
      // is dropped before decoding: decoding it would resize the reused reply storage.
      const auto in_flight = [&](std::uint64_t rid, std::uint64_t rsid) {
        for (int c = oldest; c < sent; ++c) {
          if (!slot_of(c).answered && slot_of(c).id == rid && rsid == m.session) return true;
        }
        return false;
      };
      if (peek_ids(view, id, sid) && !in_flight(id, sid)) continue;
      std::uint32_t items = 0;
      if (m.frame.size() >= 28) std::memcpy(&items, m.frame.data() + 24, sizeof items);
      reply& r = m.replies[items == 2 ? 1 : 0];
      try {
        is_reply = decode_response_into(view, wire_limits{}, r, m.error);
        id = is_reply ? r.id : m.error.id;
        sid = is_reply ? r.session : m.error.session;
      } catch (const wire_error& e) {
        peek_ids(view, id, sid);
        m.error = {id, sid, error_code::malformed, e.what()};
      }
      impl::slot* target = nullptr;
      for (int c = oldest; c < sent; ++c) {
        impl::slot& s = slot_of(c);
        if (!s.answered && s.id == id && sid == m.session) target = &s;
      }
      if (target == nullptr && !is_reply && m.error.code == error_code::malformed) {
        for (int c = oldest; c < sent && target == nullptr; ++c) {
          if (!slot_of(c).answered) target = &slot_of(c);
        }
      }
      if (target == nullptr) continue;  // a late reply of an abandoned request
      impl::slot& s = *target;
      if (is_reply) {
        m.backoff = std::chrono::milliseconds(500);
        m.busy_backoff = std::chrono::milliseconds(10);
        if (!m.take(r, s, status, x)) {
          ++m.counters.error_replies;
          m.failure = "malformed reply";
          m.fall_back(status, x, a, b, structure, s.first, s.count);
        }
        s.answered = true;
      } else if (m.error.code == error_code::busy && s.attempts > 0) {
        // One copy of a chunk sent twice (a retry after a timeout) was refused; the other
        // may still be queued at the service. Resending under a fresh id would run the chunk
        // twice (the same id is answered from the service's cache, a fresh one is not), so
        // the chunk waits for that copy's reply or its deadline.
        ++m.counters.busy_replies;
      } else if (m.error.code == error_code::busy) {
        // A queue was full: back off, then resend under a fresh id (later chunks may have run).
        ++m.counters.busy_replies;
        const auto pause = std::min(m.busy_backoff, std::chrono::duration_cast<std::chrono::milliseconds>(s.deadline - clock::now()));
        if (pause.count() > 0) std::this_thread::sleep_for(pause);
        m.busy_backoff = std::min(m.busy_backoff * 2, std::chrono::milliseconds(200));
        if (clock::now() >= s.deadline) {
          ++m.counters.error_replies;
          m.failure = "service busy";
          m.fall_back(status, x, a, b, structure, s.first, s.count);
          s.answered = true;
        } else {
          const auto deadline = s.deadline;
          s.id = m.next_id++;
          m.send(s);
          s.deadline = deadline;
        }
      } else {
        ++m.counters.error_replies;
        m.failure = std::string("refused: ") + to_string(m.error.code);
        m.fall_back(status, x, a, b, structure, s.first, s.count);
        s.answered = true;
      }
    } else {
      // Nothing before the earliest deadline: retry what timed out, or give up on the service.
      const auto now = clock::now();
      for (int c = oldest; c < sent && !failed; ++c) {
        impl::slot& s = slot_of(c);
        if (s.answered || now < s.deadline) continue;
        if (s.attempts < m.options.retries) {
          ++s.attempts;
          ++m.counters.retries;
          m.send(s);
        } else {
          ++m.counters.timeouts;
          m.failure = "no reply (service down or slow, or this client's CURVE key not authorised)";
          m.client->reconnect();
          m.retry_after = clock::now() + m.backoff;
          m.backoff = std::min(m.backoff * 2, std::chrono::milliseconds(30'000));
          m.new_session();
          failed = true;
        }
      }
    }
    while (oldest < sent && slot_of(oldest).answered) ++oldest;
  }
}

}  // namespace amimo::remote
