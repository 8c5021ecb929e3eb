#include <amimo/core/error.h>
#include <amimo/remote/solver_service.h>

#include <zmq.hpp>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>
#include <unordered_map>
#include <vector>

namespace amimo::remote {
namespace {

using clock = std::chrono::steady_clock;
constexpr const char* reply_endpoint = "inproc://amimo-solverd-replies";

struct job {
  std::string identity;
  bytes payload;
};

struct session {
  solver::solver_spec spec;
  std::uint64_t create_seed = 0;
  std::uint32_t max_size = 0;
  std::unique_ptr<solver::linear_solver> backend;
  int order = 0;  // order of the loaded matrix; 0: none
  std::uint64_t last_request = 0;
  bool answered = false;
  bytes last_reply;
  clock::time_point used;
};

bool same_spec(const solver::solver_spec& a, const solver::solver_spec& b) {
  return a.name == b.name && a.options == b.options;
}

}  // namespace

struct solver_service::impl {
  service_options options;
  zmq::context_t context{1};
  zmq::socket_t router{context, zmq::socket_type::router};
  zmq::socket_t replies{context, zmq::socket_type::pull};
  std::string bound;
  std::atomic<bool> stopping{false};

  struct worker {
    std::mutex mutex;
    std::condition_variable wake;
    std::deque<job> queue;
    std::thread thread;
    std::unordered_map<std::uint64_t, session> sessions;
  };
  std::vector<std::unique_ptr<worker>> workers;

  mutable std::mutex counter_mutex;
  service_counters counts;

  void count(void (*f)(service_counters&)) {
    const std::lock_guard<std::mutex> lock(counter_mutex);
    f(counts);
  }

  bytes handle(worker& w, std::span<const std::byte> payload);
  void worker_loop(worker& w);
};

bytes solver_service::impl::handle(worker& w, std::span<const std::byte> payload) {
  std::uint64_t id = 0;
  std::uint64_t session_id = 0;
  peek_ids(payload, id, session_id);
  request req;
  try {
    req = decode_request(payload, options.limits);
  } catch (const wire_error& e) {
    count([](service_counters& c) { ++c.error_replies; });
    return encode_error({id, session_id, e.code(), e.what()});
  }
  const auto now = clock::now();
  auto it = w.sessions.find(req.session);
  if (it != w.sessions.end()) {
    session& s = it->second;
    if (!same_spec(s.spec, req.spec) || s.create_seed != req.create_seed || s.max_size != req.max_size) {
      count([](service_counters& c) { ++c.error_replies; });
      return encode_error({req.id, req.session, error_code::bad_spec, "session exists with a different backend spec"});
    }
    if (s.answered && req.id == s.last_request) {
      count([](service_counters& c) { ++c.retries_answered; });
      s.used = now;
      return s.last_reply;
    }
    if (s.answered && req.id < s.last_request) {
      count([](service_counters& c) { ++c.error_replies; });
      return encode_error({req.id, req.session, error_code::stale_request, "request id older than the session's last"});
    }
  } else {
    // Expire idle sessions, then respect the bound.
    const auto idle = std::chrono::duration<double>(options.session_idle_s);
    for (auto s = w.sessions.begin(); s != w.sessions.end();) {
      s = now - s->second.used > idle ? w.sessions.erase(s) : std::next(s);
    }
    const std::size_t per_worker = static_cast<std::size_t>(std::max(1, options.max_sessions / static_cast<int>(workers.size())));
    if (w.sessions.size() >= per_worker) {
      count([](service_counters& c) { ++c.error_replies; });
      return encode_error({req.id, req.session, error_code::session_limit, "the service holds its maximum number of sessions"});
    }
    if (req.spec.name == "remote") {
      count([](service_counters& c) { ++c.error_replies; });
      return encode_error({req.id, req.session, error_code::bad_spec, "the service does not forward to another remote"});
    }
    session s;
    s.spec = req.spec;
    s.create_seed = req.create_seed;
    s.max_size = req.max_size;
    try {
      solver::validate_solver_spec(req.spec);
      s.backend = solver::create_linear_solver(req.spec, static_cast<int>(req.max_size), req.create_seed);
    } catch (const std::exception& e) {
      count([](service_counters& c) { ++c.error_replies; });
      return encode_error({req.id, req.session, error_code::bad_spec, e.what()});
    }
    it = w.sessions.emplace(req.session, std::move(s)).first;
    count([](service_counters& c) { ++c.sessions_created; });
  }
  session& s = it->second;
  s.used = now;
  reply out;
  out.id = req.id;
  out.session = req.session;
  out.element = req.element;
  out.items.resize(req.items.size());
  std::uint64_t solves = 0;
  for (std::size_t k = 0; k < req.items.size(); ++k) {
    const request_item& item = req.items[k];
    item_result& res = out.items[k];
    res.op = item.op;
    switch (item.op) {
      case item_op::reseed:
        s.backend->reseed(item.seed);
        res.ok = true;
        break;
      case item_op::set_matrix: {
        if (!item.data.allFinite()) {
          // Reported, and the session then has no usable matrix.
          res.code = error_code::non_finite;
          s.order = 0;
          break;
        }
        const solver::matrix_status st = s.backend->set_matrix(item.data, item.structure);
        s.order = st.ok ? static_cast<int>(item.data.rows()) : 0;
        res.ok = st.ok;
        res.positive_definite = st.positive_definite;
        res.modelled_seconds = st.modelled_seconds;
        res.modelled_joules = st.modelled_joules;
        break;
      }
      case item_op::solve: {
        if (s.order == 0 || item.data.rows() != s.order) {
          res.code = error_code::dimension_mismatch;
          break;
        }
        if (!item.data.allFinite()) {
          res.code = error_code::non_finite;
          break;
        }
        res.x.resize(item.data.rows(), item.data.cols());
        const solver::solve_status st = s.backend->solve(res.x, item.data);
        res.ok = st.ok;
        res.fallback = st.fallback;
        res.iterations = st.iterations;
        res.residual = st.residual;
        res.modelled_seconds = st.modelled_seconds;
        res.modelled_joules = st.modelled_joules;
        ++solves;
        break;
      }
    }
  }
  s.last_request = req.id;
  s.answered = true;
  s.last_reply = encode_reply(out);
  {
    const std::lock_guard<std::mutex> lock(counter_mutex);
    counts.solves += solves;
  }
  return s.last_reply;
}

void solver_service::impl::worker_loop(worker& w) {
  zmq::socket_t push(context, zmq::socket_type::push);
  push.connect(reply_endpoint);
  for (;;) {
    job j;
    {
      std::unique_lock<std::mutex> lock(w.mutex);
      w.wake.wait(lock, [&] { return stopping.load() || !w.queue.empty(); });
      if (w.queue.empty()) return;
      j = std::move(w.queue.front());
      w.queue.pop_front();
    }
    bytes out;
    try {
      out = handle(w, j.payload);
    } catch (const std::exception& e) {
      std::uint64_t id = 0;
      std::uint64_t session_id = 0;
      peek_ids(j.payload, id, session_id);
      out = encode_error({id, session_id, error_code::internal, e.what()});
    }
    push.send(zmq::buffer(j.identity), zmq::send_flags::sndmore);
    push.send(zmq::buffer(out.data(), out.size()), zmq::send_flags::none);
  }
}

solver_service::solver_service(service_options options) : impl_(std::make_unique<impl>()) {
  impl& m = *impl_;
  m.options = std::move(options);
  if (m.options.workers < 1 || m.options.workers > 256) throw config_error("workers must be 1…256");
  if (m.options.max_sessions < 1) throw config_error("max_sessions must be positive");
  try {
    m.router.set(zmq::sockopt::maxmsgsize, static_cast<std::int64_t>(m.options.limits.max_message));
    m.router.set(zmq::sockopt::linger, 0);
    m.router.set(zmq::sockopt::router_mandatory, 0);
    if (!m.options.curve_secret_key_file.empty()) {
      if (!zmq_has("curve")) throw io_error("this libzmq has no CURVE support");
      m.router.set(zmq::sockopt::curve_server, 1);
      m.router.set(zmq::sockopt::curve_secretkey, read_curve_key(m.options.curve_secret_key_file));
    }
    m.router.bind(m.options.endpoint);
    m.bound = m.router.get(zmq::sockopt::last_endpoint);
    m.replies.bind(reply_endpoint);
  } catch (const zmq::error_t& e) {
    throw io_error("cannot bind '" + m.options.endpoint + "': " + e.what());
  }
  for (int k = 0; k < m.options.workers; ++k) m.workers.push_back(std::make_unique<impl::worker>());
  for (auto& w : m.workers) {
    impl::worker* raw = w.get();
    w->thread = std::thread([&m, raw] { m.worker_loop(*raw); });
  }
}

solver_service::~solver_service() {
  impl& m = *impl_;
  m.stopping = true;
  for (auto& w : m.workers) {
    {
      const std::lock_guard<std::mutex> lock(w->mutex);
    }
    w->wake.notify_all();
  }
  for (auto& w : m.workers) {
    if (w->thread.joinable()) w->thread.join();
  }
}

const std::string& solver_service::endpoint() const noexcept { return impl_->bound; }

void solver_service::stop() noexcept { impl_->stopping = true; }

service_counters solver_service::counters() const {
  const std::lock_guard<std::mutex> lock(impl_->counter_mutex);
  return impl_->counts;
}

void solver_service::run(const std::atomic<bool>* stop_flag) {
  impl& m = *impl_;
  std::vector<zmq::pollitem_t> items = {{m.router.handle(), 0, ZMQ_POLLIN, 0}, {m.replies.handle(), 0, ZMQ_POLLIN, 0}};
  while (!m.stopping && (stop_flag == nullptr || !stop_flag->load())) {
    try {
      zmq::poll(items, std::chrono::milliseconds(100));
    } catch (const zmq::error_t& e) {
      if (e.num() == EINTR) continue;
      throw;
    }
    if ((items[1].revents & ZMQ_POLLIN) != 0) {
      // Replies from the workers: identity frame, payload frame.
      for (;;) {
        zmq::message_t identity;
        if (!m.replies.recv(identity, zmq::recv_flags::dontwait)) break;
        zmq::message_t payload;
        (void)m.replies.recv(payload, zmq::recv_flags::none);
        try {
          m.router.send(identity, zmq::send_flags::sndmore);
          m.router.send(payload, zmq::send_flags::none);
        } catch (const zmq::error_t&) {
          // The client is gone; its reply is dropped.
        }
      }
    }
    if ((items[0].revents & ZMQ_POLLIN) != 0) {
      for (;;) {
        zmq::message_t identity;
        if (!m.router.recv(identity, zmq::recv_flags::dontwait)) break;
        std::vector<zmq::message_t> frames;
        while (true) {
          const bool more = m.router.get(zmq::sockopt::rcvmore) != 0;
          if (!more) break;
          zmq::message_t frame;
          (void)m.router.recv(frame, zmq::recv_flags::none);
          frames.push_back(std::move(frame));
        }
        {
          const std::lock_guard<std::mutex> lock(m.counter_mutex);
          ++m.counts.requests;
        }
        const auto* data = static_cast<const std::byte*>(frames.empty() ? nullptr : frames.back().data());
        const std::span<const std::byte> payload(data, frames.empty() ? 0 : frames.back().size());
        std::uint64_t id = 0;
        std::uint64_t session_id = 0;
        if (frames.size() != 1 || !peek_ids(payload, id, session_id)) {
          // Not addressable to a session: answered here.
          const bytes err = encode_error({id, session_id, error_code::malformed,
                                          frames.size() != 1 ? "expected exactly one frame" : "bad magic or short header"});
          {
            const std::lock_guard<std::mutex> lock(m.counter_mutex);
            ++m.counts.error_replies;
          }
          try {
            m.router.send(identity, zmq::send_flags::sndmore);
            m.router.send(zmq::buffer(err.data(), err.size()), zmq::send_flags::none);
          } catch (const zmq::error_t&) {
          }
          continue;
        }
        impl::worker& w = *m.workers[session_id % m.workers.size()];
        job j;
        j.identity.assign(static_cast<const char*>(identity.data()), identity.size());
        j.payload.assign(payload.begin(), payload.end());
        {
          const std::lock_guard<std::mutex> lock(w.mutex);
          w.queue.push_back(std::move(j));
        }
        w.wake.notify_one();
      }
    }
  }
}

void write_curve_keys(const std::string& directory) {
  if (!zmq_has("curve")) throw io_error("this libzmq has no CURVE support");
  char public_key[41] = {};
  char secret_key[41] = {};
  if (zmq_curve_keypair(public_key, secret_key) != 0) throw io_error("zmq_curve_keypair failed");
  for (const auto& [name, key] : {std::pair{"/server.key", secret_key}, std::pair{"/server.pub", public_key}}) {
    const std::string path = directory + name;
    {
      std::ofstream out(path, std::ios::trunc);
      out << key << "\n";
      if (!out) throw io_error("cannot write " + path);
    }
    if (std::string(name) == "/server.key") {
      std::filesystem::permissions(path, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write,
                                   std::filesystem::perm_options::replace);
    }
  }
}

}  // namespace amimo::remote
