#include <amimo/core/error.h>
#include <amimo/core/file_io.h>
#include <amimo/core/heap_tuning.h>
#include <amimo/remote/service_policy.h>
#include <amimo/remote/solver_service.h>

#include <zmq.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <complex>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <thread>
#include <unordered_map>
#include <vector>

namespace amimo::remote {
namespace {

using clock = std::chrono::steady_clock;
constexpr const char* reply_endpoint = "inproc://amimo-solverd-replies";
constexpr const char* zap_endpoint = "inproc://zeromq.zap.01";

struct job {
  std::string client;    // quota key: "key:Z85" (CURVE) or "conn:HEX" (routing id)
  std::string identity;  // routing id, to address the reply
  zmq::message_t payload;
  clock::time_point deadline;
};

struct session {
  solver::solver_spec spec;
  std::uint64_t create_seed = 0;
  std::uint32_t max_size = 0;
  resolved_spec resolved;
  std::unique_ptr<solver::linear_solver> backend;
  std::unique_ptr<solver::batch_solver> batch;  // solve_batch items (made on first use)
  std::vector<solver::batch_status> batch_status;
  int order = 0;  // order of the loaded matrix; 0: none
  bool usable = false;  // the backend holds the matrix (false: it was non-finite, solves answer "no solution")
  std::uint64_t last_request = 0;
  bool answered = false;
  bytes last_reply;
  std::size_t bytes_charged = 0;  // backends (session_bytes) and the cached reply
  std::size_t reply_charged = 0;  // the part of bytes_charged held for the cached reply
  clock::time_point used;
};

bool same_spec(const solver::solver_spec& a, const solver::solver_spec& b) {
  return a.name == b.name && a.options == b.options;
}

// Thrown from an analog backend's iteration check.
struct cut_short {
  bool stopping;
};

std::string hex(std::string_view raw) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  for (const char ch : raw) {
    const auto b = static_cast<unsigned char>(ch);
    out += digits[b >> 4U];
    out += digits[b & 15U];
  }
  return out;
}

// A small file from the service's own command line: regular, at most max_bytes.
std::string read_small_file(const std::string& path, std::size_t max_bytes) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) throw io_error("cannot read " + path);
  struct stat st {};
  std::string text(max_bytes + 1, '\0');
  ssize_t got = -1;
  if (::fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && static_cast<std::size_t>(st.st_size) <= max_bytes) {
    got = ::read(fd, text.data(), text.size());
  }
  ::close(fd);
  if (got < 0 || static_cast<std::size_t>(got) > max_bytes) {
    throw io_error(path + " is not a regular file of at most " + std::to_string(max_bytes) + " bytes");
  }
  text.resize(static_cast<std::size_t>(got));
  return text;
}

std::set<std::string> load_client_keys(const std::string& dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) throw io_error("--curve-clients '" + dir + "' is not a directory");
  std::set<std::string> keys;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (it->path().extension() != ".pub") continue;
    if (keys.size() >= 4096) throw io_error("--curve-clients holds more than 4096 keys");
    std::string text = read_small_file(it->path().string(), 1024);
    const auto first = text.find_first_not_of(" \t\r\n");
    const auto last = text.find_last_not_of(" \t\r\n");
    text = first == std::string::npos ? std::string() : text.substr(first, last - first + 1);
    std::uint8_t raw[32];
    if (text.size() != 40 || zmq_z85_decode(raw, text.c_str()) == nullptr) {
      throw io_error("client key file " + it->path().string() + " does not hold a 40-character Z85 public key");
    }
    keys.insert(text);
  }
  if (ec) throw io_error("cannot list --curve-clients '" + dir + "': " + ec.message());
  if (keys.empty()) throw io_error("--curve-clients '" + dir + "' holds no *.pub key");
  return keys;
}

// A solve_batch item: every system solved by the session's batch backend in one call.
// A system whose A or B is not finite is reported non_finite with X = 0 (it is solved as
// I·X = 0 so the others keep their place in the call); a batch wider than the session's
// order is a dimension mismatch.
template <typename Real>
void run_batch(session& s, std::vector<Real>& reals, std::vector<Real>& x, request_item& item, item_result& res) {
  const int count = static_cast<int>(item.count);
  const int n = static_cast<int>(item.rows);
  const int r = static_cast<int>(item.cols);
  const std::size_t a_reals = static_cast<std::size_t>(count) * n * n * 2;
  auto* a = reinterpret_cast<std::complex<Real>*>(reals.data());
  auto* b = reinterpret_cast<std::complex<Real>*>(reals.data() + a_reals);
  res.statuses.assign(item.count, batch_item_status{});
  std::vector<unsigned char> bad(item.count, 0);
  for (int m = 0; m < count; ++m) {
    std::complex<Real>* am = a + static_cast<std::ptrdiff_t>(m) * n * n;
    std::complex<Real>* bm = b + static_cast<std::ptrdiff_t>(m) * n * r;
    bool finite = true;
    for (int k = 0; k < n * n && finite; ++k) finite = std::isfinite(am[k].real()) && std::isfinite(am[k].imag());
    for (int k = 0; k < n * r && finite; ++k) finite = std::isfinite(bm[k].real()) && std::isfinite(bm[k].imag());
    if (finite) continue;
    bad[static_cast<std::size_t>(m)] = 1;
    for (int j = 0; j < n; ++j) {
      for (int i = 0; i < n; ++i) am[j * n + i] = i == j ? Real(1) : Real(0);
    }
    for (int k = 0; k < n * r; ++k) bm[k] = Real(0);
  }
  x.assign(static_cast<std::size_t>(count) * n * r * 2, Real(0));
  s.batch_status.resize(item.count);
  s.batch->solve(s.batch_status, solver::column_major_batch(reinterpret_cast<std::complex<Real>*>(x.data()), count, n, r),
                 solver::column_major_batch(static_cast<const std::complex<Real>*>(a), count, n, n),
                 solver::column_major_batch(static_cast<const std::complex<Real>*>(b), count, n, r), item.structure);
  res.ok = true;
  for (int m = 0; m < count; ++m) {
    const solver::batch_status& in = s.batch_status[static_cast<std::size_t>(m)];
    batch_item_status& out = res.statuses[static_cast<std::size_t>(m)];
    if (bad[static_cast<std::size_t>(m)] != 0) {
      out.code = error_code::non_finite;
      std::fill_n(x.begin() + static_cast<std::ptrdiff_t>(m) * n * r * 2, n * r * 2, Real(0));
      continue;
    }
    out.matrix_ok = in.matrix.ok;
    out.positive_definite = in.matrix.positive_definite;
    out.solve_ok = in.solve.ok;
    out.fallback = in.solve.fallback;
    out.iterations = in.solve.iterations;
    out.residual = in.solve.residual;
    out.modelled_seconds = in.solve.modelled_seconds;
    out.modelled_joules = in.solve.modelled_joules;
    out.matrix_seconds = in.matrix.modelled_seconds;
    out.matrix_joules = in.matrix.modelled_joules;
    res.modelled_seconds += out.matrix_seconds + out.modelled_seconds;
    res.modelled_joules += out.matrix_joules + out.modelled_joules;
  }
}

}  // namespace

struct solver_service::impl {
  service_options options;
  profile_registry profiles;
  zmq::context_t context{1};
  zmq::socket_t router{context, zmq::socket_type::router};
  zmq::socket_t replies{context, zmq::socket_type::pull};
  std::string bound;
  std::atomic<bool> stopping{false};
  bool shut = false;
  bool curve = false;
  std::set<std::string> client_keys;  // empty: any CURVE client
  std::thread zap_thread;
  std::atomic<bool> zap_ready{false};

  struct worker {
    std::mutex mutex;
    std::condition_variable wake;
    std::map<std::string, std::deque<job>> queues;  // per client, served round-robin
    std::deque<std::string> ready;                  // clients with queued jobs, in turn order
    std::thread thread;
    std::atomic<bool> finished{false};
    std::map<std::pair<std::string, std::uint64_t>, session> sessions;  // (client, session id)
    clock::time_point last_sweep{};
    clock::time_point current_deadline{};  // of the job this worker runs (worker thread only)
  };
  std::vector<std::unique_ptr<worker>> workers;

  // Per-client and global accounting (queue bound checked on arrival, sessions on creation).
  struct usage {
    int queued = 0;
    int sessions = 0;
    std::size_t session_bytes = 0;
  };
  std::mutex usage_mutex;
  std::unordered_map<std::string, usage> clients;
  int queued_total = 0;
  std::size_t queued_bytes = 0;
  int sessions_total = 0;
  std::size_t session_bytes_total = 0;

  mutable std::mutex counter_mutex;
  service_counters counts;

  void count(void (*f)(service_counters&)) {
    const std::lock_guard<std::mutex> lock(counter_mutex);
    f(counts);
  }

  void release_usage(const std::string& client, int queued, std::size_t qbytes, int sessions, std::size_t sbytes) {
    const std::lock_guard<std::mutex> lock(usage_mutex);
    auto it = clients.find(client);
    queued_total -= queued;
    queued_bytes -= qbytes;
    sessions_total -= sessions;
    session_bytes_total -= sbytes;
    if (it == clients.end()) return;
    it->second.queued -= queued;
    it->second.sessions -= sessions;
    it->second.session_bytes -= sbytes;
    if (it->second.queued == 0 && it->second.sessions == 0) clients.erase(it);
  }

  void drop_session(worker& w, decltype(worker::sessions)::iterator it) {
    release_usage(it->first.first, 0, 0, 1, it->second.bytes_charged);
    w.sessions.erase(it);
  }

  void expire_sessions(worker& w) {
    const auto now = clock::now();
    if (now - w.last_sweep < std::chrono::seconds(1)) return;
    w.last_sweep = now;
    const auto idle = std::chrono::duration<double>(options.session_idle_s);
    for (auto s = w.sessions.begin(); s != w.sessions.end();) {
      if (now - s->second.used > idle) {
        auto dead = s++;
        drop_session(w, dead);
        count([](service_counters& c) { ++c.sessions_expired; });
      } else {
        ++s;
      }
    }
  }

  bytes refuse(std::uint64_t id, std::uint64_t sid, error_code code, const std::string& text) {
    count([](service_counters& c) { ++c.error_replies; });
    return encode_error({id, sid, code, text});
  }

  bytes handle(worker& w, const job& j);
  void worker_loop(worker& w);
  void zap_loop();
};

bytes solver_service::impl::handle(worker& w, const job& j) {
  const std::span<const std::byte> payload(static_cast<const std::byte*>(j.payload.data()), j.payload.size());
  std::uint64_t id = 0;
  std::uint64_t session_id = 0;
  peek_ids(payload, id, session_id);
  if (stopping) return refuse(id, session_id, error_code::shutting_down, "the service is stopping");
  if (clock::now() > j.deadline) {
    count([](service_counters& c) { ++c.deadline_cuts; });
    return refuse(id, session_id, error_code::deadline, "the request waited past its deadline");
  }
  request req;
  try {
    req = decode_request(payload, options.limits);
  } catch (const wire_error& e) {
    return refuse(id, session_id, e.code(), e.what());
  }
  const auto now = clock::now();
  const auto key = std::make_pair(j.client, req.session);
  auto it = w.sessions.find(key);
  if (it != w.sessions.end()) {
    session& s = it->second;
    if (!same_spec(s.spec, req.spec) || s.create_seed != req.create_seed || s.max_size != req.max_size) {
      return refuse(req.id, req.session, error_code::bad_spec, "session exists with a different backend spec");
    }
    if (s.answered && req.id == s.last_request) {
      count([](service_counters& c) { ++c.retries_answered; });
      s.used = now;
      return s.last_reply;
    }
    if (s.answered && !request_id_newer(req.id, s.last_request)) {
      return refuse(req.id, req.session, error_code::stale_request, "request id older than the session's last");
    }
  }
  // The backend spec is checked against the closed lists before anything is created.
  resolved_spec resolved;
  try {
    resolved = it != w.sessions.end() ? it->second.resolved : resolve_wire_spec(req.spec, profiles);
  } catch (const wire_error& e) {
    return refuse(req.id, req.session, e.code(), e.what());
  }
  const double work = request_work(resolved, req);
  if (work > options.max_work) {
    count([](service_counters& c) { ++c.work_refusals; });
    return refuse(req.id, req.session, error_code::work_limit,
                  "request needs " + std::to_string(static_cast<long long>(work / 1e6)) +
                      "e6 modelled multiply-adds; this service allows " +
                      std::to_string(static_cast<long long>(options.max_work / 1e6)) + "e6 per request (--max-work)");
  }
  if (it == w.sessions.end()) {
    expire_sessions(w);
    const std::size_t bytes_needed = session_bytes(resolved, req.max_size);
    {
      const std::lock_guard<std::mutex> lock(usage_mutex);
      usage& u = clients[j.client];
      const auto client_cap = static_cast<std::size_t>(options.client_session_mib * 1048576.0);
      const auto global_cap = static_cast<std::size_t>(options.session_mib * 1048576.0);
      std::string why;
      error_code code = error_code::quota;
      if (u.sessions >= options.client_sessions) {
        why = "this client holds its " + std::to_string(options.client_sessions) + " sessions (--client-sessions)";
      } else if (u.session_bytes + bytes_needed > client_cap) {
        why = "this client's sessions would exceed " + std::to_string(static_cast<long long>(options.client_session_mib)) +
              " MiB of modelled memory (--client-session-mib)";
      } else if (sessions_total >= options.max_sessions || session_bytes_total + bytes_needed > global_cap) {
        why = "the service holds its maximum of sessions or session memory (--max-sessions, --session-mib)";
        code = error_code::session_limit;
      }
      if (!why.empty()) {
        count([](service_counters& c) { ++c.quota_refusals; });
        count([](service_counters& c) { ++c.error_replies; });
        return encode_error({req.id, req.session, code, why});
      }
      ++u.sessions;
      u.session_bytes += bytes_needed;
      ++sessions_total;
      session_bytes_total += bytes_needed;
    }
    session s;
    s.spec = req.spec;
    s.create_seed = req.create_seed;
    s.max_size = req.max_size;
    s.resolved = resolved;
    s.bytes_charged = bytes_needed;
    try {
      s.backend = create_backend(resolved, static_cast<int>(req.max_size), req.create_seed, [this, &w] {
        // Runs between analog refinement iterations, on this worker, for its current job.
        if (stopping) throw cut_short{true};
        if (clock::now() > w.current_deadline) throw cut_short{false};
      });
    } catch (const std::exception& e) {
      release_usage(j.client, 0, 0, 1, bytes_needed);
      return refuse(req.id, req.session, error_code::bad_spec, e.what());
    }
    it = w.sessions.emplace(key, std::move(s)).first;
    count([](service_counters& c) { ++c.sessions_created; });
  }
  session& s = it->second;
  s.used = now;
  // The reply is cached for a retry: its bytes count against the client's and the service's
  // session memory before any work is done (a small session cannot hold a huge reply).
  const std::size_t reply_need = reply_bytes(req);
  if (reply_need > s.reply_charged) {
    const std::size_t more = reply_need - s.reply_charged;
    const std::lock_guard<std::mutex> lock(usage_mutex);
    usage& u = clients[j.client];
    const auto client_cap = static_cast<std::size_t>(options.client_session_mib * 1048576.0);
    const auto global_cap = static_cast<std::size_t>(options.session_mib * 1048576.0);
    if (u.session_bytes + more > client_cap || session_bytes_total + more > global_cap) {
      count([](service_counters& c) { ++c.quota_refusals; });
      count([](service_counters& c) { ++c.error_replies; });
      return encode_error({req.id, req.session, u.session_bytes + more > client_cap ? error_code::quota : error_code::session_limit,
                           "the reply to this request (" + std::to_string(reply_need >> 10U) +
                               " KiB, kept for a retry) would exceed the session memory (--client-session-mib, --session-mib)"});
    }
    u.session_bytes += more;
    session_bytes_total += more;
    s.bytes_charged += more;
    s.reply_charged = reply_need;
  }
  reply out;
  out.version = req.version;  // the status records its client reads
  out.id = req.id;
  out.session = req.session;
  out.element = req.element;
  out.items.resize(req.items.size());
  std::uint64_t solves = 0;
  try {
    for (std::size_t k = 0; k < req.items.size(); ++k) {
      if (stopping) throw cut_short{true};
      if (clock::now() > j.deadline) throw cut_short{false};
      request_item& item = req.items[k];
      item_result& res = out.items[k];
      res.op = item.op;
      switch (item.op) {
        case item_op::solve_batch: {
          res.count = item.count;
          res.rows = item.rows;
          res.cols = item.cols;
          if (item.rows > s.max_size) {
            res.code = error_code::dimension_mismatch;
            res.statuses.assign(item.count, batch_item_status{false, false, false, false, error_code::dimension_mismatch});
            if (req.element == element_type::cf32) {
              res.x32.assign(static_cast<std::size_t>(item.count) * item.rows * item.cols * 2, 0.0F);
            } else {
              res.x64.assign(static_cast<std::size_t>(item.count) * item.rows * item.cols * 2, 0.0);
            }
            break;
          }
          if (!s.batch) s.batch = create_batch_backend(s.resolved, *s.backend, static_cast<int>(s.max_size));
          s.order = 0;  // a per-matrix backend run through the batch no longer holds the session's matrix
          if (req.element == element_type::cf32) {
            run_batch(s, item.a32, res.x32, item, res);
          } else {
            run_batch(s, item.a64, res.x64, item, res);
          }
          solves += item.count;
          break;
        }
        case item_op::reseed:
          s.backend->reseed(item.seed);
          res.ok = true;
          break;
        case item_op::set_matrix: {
          if (item.data.rows() > static_cast<Eigen::Index>(s.max_size)) {
            // Beyond the order the session was created (and charged) for.
            res.code = error_code::dimension_mismatch;
            s.order = 0;
            break;
          }
          // An unusable matrix is data, as in process: the session keeps its order and its
          // solves answer "no solution" (X = 0). A singular one goes to the backend (which says
          // ok = false, as its solves will); a non-finite one is reported and never loaded.
          s.order = static_cast<int>(item.data.rows());
          if (!item.data.allFinite()) {
            res.code = error_code::non_finite;
            s.usable = false;
            break;
          }
          const solver::matrix_status st = s.backend->set_matrix(item.data, item.structure);
          s.usable = true;
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
          if (!s.usable || !item.data.allFinite()) {
            // No solution (ok = false, X = 0 of B's shape); a non-finite B is also reported.
            if (s.usable) res.code = error_code::non_finite;
            res.x.setZero(item.data.rows(), item.data.cols());
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
  } catch (const cut_short& cut) {
    // The backend's state is mid-solve: the session is dropped (the client's next
    // request opens a fresh one after its fallback).
    drop_session(w, it);
    if (cut.stopping) return refuse(req.id, req.session, error_code::shutting_down, "the service is stopping");
    count([](service_counters& c) { ++c.deadline_cuts; });
    return refuse(req.id, req.session, error_code::deadline,
                  "request cut at its deadline of " + std::to_string(options.deadline_s) + " s (--deadline)");
  }
  s.last_request = req.id;
  s.answered = true;
  s.last_reply = encode_reply(out);
  if (s.last_reply.size() < s.reply_charged) {  // true-up to what is held
    const std::size_t less = s.reply_charged - s.last_reply.size();
    release_usage(j.client, 0, 0, 0, less);
    s.bytes_charged -= less;
    s.reply_charged -= less;
  }
  {
    const std::lock_guard<std::mutex> lock(counter_mutex);
    counts.solves += solves;
  }
  return s.last_reply;
}

void solver_service::impl::worker_loop(worker& w) {
  zmq::socket_t push(context, zmq::socket_type::push);
  push.set(zmq::sockopt::linger, 0);
  push.set(zmq::sockopt::sndhwm, 0);  // bounded by the job bound; never blocks a worker
  push.connect(reply_endpoint);
  for (;;) {
    job j;
    {
      std::unique_lock<std::mutex> lock(w.mutex);
      w.wake.wait_for(lock, std::chrono::seconds(1), [&] { return stopping.load() || !w.ready.empty(); });
      if (stopping) break;
      if (w.ready.empty()) {
        lock.unlock();
        expire_sessions(w);
        continue;
      }
      const std::string client = std::move(w.ready.front());
      w.ready.pop_front();
      auto q = w.queues.find(client);
      j = std::move(q->second.front());
      q->second.pop_front();
      if (q->second.empty()) {
        w.queues.erase(q);
      } else {
        w.ready.push_back(client);
      }
      w.current_deadline = j.deadline;
    }
    bytes out;
    try {
      out = handle(w, j);
    } catch (const std::exception& e) {
      std::uint64_t id = 0;
      std::uint64_t session_id = 0;
      peek_ids({static_cast<const std::byte*>(j.payload.data()), j.payload.size()}, id, session_id);
      out = encode_error({id, session_id, error_code::internal, e.what()});
    }
    release_usage(j.client, 1, j.payload.size(), 0, 0);
    try {
      push.send(zmq::buffer(j.identity), zmq::send_flags::sndmore | zmq::send_flags::dontwait);
      push.send(zmq::buffer(out.data(), out.size()), zmq::send_flags::dontwait);
    } catch (const zmq::error_t&) {
      // The context is terminating: the reply has nobody to go to.
    }
  }
  w.finished = true;
}

void solver_service::impl::zap_loop() {
  zmq::socket_t handler(context, zmq::socket_type::rep);
  handler.set(zmq::sockopt::linger, 0);
  handler.bind(zap_endpoint);
  zap_ready = true;
  zmq::pollitem_t item{handler.handle(), 0, ZMQ_POLLIN, 0};
  while (!stopping) {
    try {
      zmq::poll(&item, 1, std::chrono::milliseconds(100));
    } catch (const zmq::error_t& e) {
      if (e.num() == EINTR) continue;
      return;
    }
    if ((item.revents & ZMQ_POLLIN) == 0) continue;
    // ZAP request (RFC 27): version, request id, domain, address, identity, mechanism, credentials...
    std::vector<zmq::message_t> frames;
    do {
      zmq::message_t frame;
      if (!handler.recv(frame, zmq::recv_flags::none)) break;
      frames.push_back(std::move(frame));
    } while (handler.get(zmq::sockopt::rcvmore) != 0 && frames.size() < 16);
    while (handler.get(zmq::sockopt::rcvmore) != 0) {
      zmq::message_t drop;
      (void)handler.recv(drop, zmq::recv_flags::none);
    }
    std::string request_id = frames.size() > 1 ? frames[1].to_string() : std::string();
    std::string user;
    bool ok = false;
    if (frames.size() >= 7 && frames[5].to_string_view() == "CURVE" && frames[6].size() == 32) {
      char z85[41] = {};
      if (zmq_z85_encode(z85, static_cast<const std::uint8_t*>(frames[6].data()), 32) != nullptr) {
        user = z85;
        ok = client_keys.empty() || client_keys.count(user) != 0;
      }
    }
    if (ok) {
      count([](service_counters& c) { ++c.auth_accepted; });
    } else {
      count([](service_counters& c) { ++c.auth_refused; });
    }
    const std::string status = ok ? "200" : "400";
    const std::string text = ok ? "OK" : "client key not authorised";
    try {
      handler.send(zmq::buffer(std::string_view("1.0")), zmq::send_flags::sndmore);
      handler.send(zmq::buffer(request_id), zmq::send_flags::sndmore);
      handler.send(zmq::buffer(status), zmq::send_flags::sndmore);
      handler.send(zmq::buffer(text), zmq::send_flags::sndmore);
      handler.send(zmq::buffer(ok ? user : std::string()), zmq::send_flags::sndmore);
      handler.send(zmq::buffer(std::string_view()), zmq::send_flags::none);
    } catch (const zmq::error_t&) {
      return;
    }
  }
}

solver_service::solver_service(service_options options) : impl_(std::make_shared<impl>()) {
  impl& m = *impl_;
  m.options = std::move(options);
  const service_options& o = m.options;
  if (o.workers < 1 || o.workers > 256) throw config_error("workers must be 1…256");
  // Requests' buffers are freed on other threads than allocated them: keep freed memory
  // for reuse rather than faulting it in again on every request (core/heap_tuning.h).
  (void)keep_freed_memory_for_reuse();
  if (o.max_sessions < 1) throw config_error("max_sessions must be positive");
  if (o.client_sessions < 1 || o.client_queue < 1 || o.max_queue < 1) {
    throw config_error("client sessions and queue bounds must be positive");
  }
  if (!(o.client_session_mib > 0) || !(o.session_mib > 0) || !(o.queue_mib > 0) || !(o.max_work > 0) ||
      !(o.deadline_s > 0) || !(o.stop_grace_s >= 0) || !(o.session_idle_s > 0)) {
    throw config_error("memory, work, deadline and idle limits must be positive");
  }
  if (!o.curve_clients_dir.empty() && o.curve_secret_key_file.empty()) {
    throw config_error("--curve-clients needs CURVE (--curve-secret-key)");
  }
  m.profiles = load_profile_registry(o.profile_dir);
  try {
    m.router.set(zmq::sockopt::maxmsgsize, static_cast<std::int64_t>(o.limits.max_message));
    m.router.set(zmq::sockopt::linger, 0);
    m.router.set(zmq::sockopt::router_mandatory, 0);
    // Per-connection pipes stay short: the main loop drains them at once, and a client
    // that does not read its replies loses the excess instead of growing the service.
    m.router.set(zmq::sockopt::rcvhwm, o.client_queue + 2);
    m.router.set(zmq::sockopt::sndhwm, o.client_queue + 2);
    if (!o.curve_secret_key_file.empty()) {
      if (!zmq_has("curve")) throw io_error("this libzmq has no CURVE support");
      m.curve = true;
      if (!o.curve_clients_dir.empty()) m.client_keys = load_client_keys(o.curve_clients_dir);
      {
        const std::lock_guard<std::mutex> lock(m.counter_mutex);
        m.counts.authorised_keys = m.client_keys.size();
      }
      // The ZAP handler is bound before the CURVE socket, so no handshake misses it.
      m.zap_thread = std::thread([&m] { m.zap_loop(); });
      for (int k = 0; k < 400 && !m.zap_ready; ++k) std::this_thread::sleep_for(std::chrono::milliseconds(5));
      if (!m.zap_ready) throw io_error("the ZAP handler did not start");
      m.router.set(zmq::sockopt::curve_server, 1);
      m.router.set(zmq::sockopt::zap_domain, std::string("amimo-solverd"));
      m.router.set(zmq::sockopt::curve_secretkey, read_curve_key(o.curve_secret_key_file));
    }
    m.router.bind(o.endpoint);
    m.bound = m.router.get(zmq::sockopt::last_endpoint);
    m.replies.bind(reply_endpoint);
  } catch (const zmq::error_t& e) {
    m.stopping = true;
    if (m.zap_thread.joinable()) m.zap_thread.join();
    throw io_error("cannot bind '" + o.endpoint + "': " + e.what());
  } catch (...) {
    m.stopping = true;
    if (m.zap_thread.joinable()) m.zap_thread.join();
    throw;
  }
  for (int k = 0; k < o.workers; ++k) m.workers.push_back(std::make_unique<impl::worker>());
  for (auto& w : m.workers) {
    impl::worker* raw = w.get();
    // Each worker owns a reference to the shared state, so one abandoned at shutdown
    // (busy in a backend past the grace period) never touches freed memory.
    w->thread = std::thread([state = impl_, raw] { state->worker_loop(*raw); });
  }
}

bool solver_service::shutdown() {
  impl& m = *impl_;
  if (m.shut) return true;
  m.shut = true;
  m.stopping = true;
  for (auto& w : m.workers) {
    { const std::lock_guard<std::mutex> lock(w->mutex); }
    w->wake.notify_all();
  }
  const auto deadline = clock::now() + std::chrono::duration<double>(m.options.stop_grace_s);
  bool all = true;
  for (auto& w : m.workers) {
    while (!w->finished && clock::now() < deadline) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    if (w->finished) {
      if (w->thread.joinable()) w->thread.join();
    } else {
      all = false;
      if (w->thread.joinable()) w->thread.detach();
    }
  }
  if (m.zap_thread.joinable()) m.zap_thread.join();
  return all;
}

solver_service::~solver_service() { (void)shutdown(); }

const std::string& solver_service::endpoint() const noexcept { return impl_->bound; }

void solver_service::stop() noexcept { impl_->stopping = true; }

service_counters solver_service::counters() const {
  const std::lock_guard<std::mutex> lock(impl_->counter_mutex);
  return impl_->counts;
}

void solver_service::run(const std::atomic<bool>* stop_flag) {
  impl& m = *impl_;
  const auto queue_cap = static_cast<std::size_t>(m.options.queue_mib * 1048576.0);
  std::vector<zmq::pollitem_t> items = {{m.router.handle(), 0, ZMQ_POLLIN, 0}, {m.replies.handle(), 0, ZMQ_POLLIN, 0}};
  const auto answer_here = [&m](const zmq::message_t& identity, const bytes& err) {
    try {
      m.router.send(zmq::buffer(identity.data(), identity.size()), zmq::send_flags::sndmore | zmq::send_flags::dontwait);
      m.router.send(zmq::buffer(err.data(), err.size()), zmq::send_flags::dontwait);
    } catch (const zmq::error_t&) {
    }
  };
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
          m.router.send(identity, zmq::send_flags::sndmore | zmq::send_flags::dontwait);
          m.router.send(payload, zmq::send_flags::dontwait);
        } catch (const zmq::error_t&) {
          // The client is gone (or does not read): its reply is dropped.
        }
      }
    }
    if ((items[0].revents & ZMQ_POLLIN) != 0) {
      for (int drained = 0; drained < 256; ++drained) {
        zmq::message_t identity;
        if (!m.router.recv(identity, zmq::recv_flags::dontwait)) break;
        zmq::message_t payload;
        std::size_t frames = 0;
        while (m.router.get(zmq::sockopt::rcvmore) != 0) {
          zmq::message_t frame;
          (void)m.router.recv(frame, zmq::recv_flags::none);
          if (++frames == 1) payload = std::move(frame);  // later frames are dropped at once
        }
        {
          const std::lock_guard<std::mutex> lock(m.counter_mutex);
          ++m.counts.requests;
        }
        const std::span<const std::byte> view(static_cast<const std::byte*>(payload.data()), payload.size());
        std::uint64_t id = 0;
        std::uint64_t session_id = 0;
        if (frames != 1 || !peek_ids(view, id, session_id)) {
          // Not addressable to a session: answered here.
          m.count([](service_counters& c) { ++c.error_replies; });
          answer_here(identity, encode_error({id, session_id, error_code::malformed,
                                              frames != 1 ? "expected exactly one frame" : "bad magic or short header"}));
          continue;
        }
        job j;
        j.identity.assign(static_cast<const char*>(identity.data()), identity.size());
        const char* user = m.curve ? zmq_msg_gets(payload.handle(), "User-Id") : nullptr;
        j.client = user != nullptr && *user != '\0' ? std::string("key:") + user : "conn:" + hex(j.identity);
        const std::size_t size = payload.size();
        std::string busy;
        {
          const std::lock_guard<std::mutex> lock(m.usage_mutex);
          impl::usage& u = m.clients[j.client];
          if (u.queued >= m.options.client_queue) {
            busy = "this client has " + std::to_string(u.queued) + " requests queued (--client-queue)";
          } else if (m.queued_total >= m.options.max_queue || m.queued_bytes + size > queue_cap) {
            busy = "the service queue is full (--max-queue, --queue-mib)";
          } else {
            ++u.queued;
            ++m.queued_total;
            m.queued_bytes += size;
          }
          if (!busy.empty() && u.queued == 0 && u.sessions == 0) m.clients.erase(j.client);
        }
        if (!busy.empty()) {
          m.count([](service_counters& c) {
            ++c.busy_replies;
            ++c.error_replies;
          });
          answer_here(identity, encode_error({id, session_id, error_code::busy, busy + ": retry later"}));
          continue;
        }
        j.payload = std::move(payload);
        j.deadline = clock::now() + std::chrono::duration_cast<clock::duration>(std::chrono::duration<double>(m.options.deadline_s));
        const std::size_t h = std::hash<std::string>{}(j.client) ^ (std::hash<std::uint64_t>{}(session_id) * 0x9E3779B97F4A7C15ULL);
        impl::worker& w = *m.workers[h % m.workers.size()];
        {
          const std::lock_guard<std::mutex> lock(w.mutex);
          auto& q = w.queues[j.client];
          if (q.empty()) w.ready.push_back(j.client);
          q.push_back(std::move(j));
        }
        w.wake.notify_one();
      }
    }
  }
  m.stopping = true;
}

void write_curve_keys(const std::string& directory, const std::string& name, bool overwrite) {
  if (name.empty() || name.find('/') != std::string::npos) throw config_error("key name must be a plain file name");
  if (!zmq_has("curve")) throw io_error("this libzmq has no CURVE support");
  const std::string secret_path = directory + "/" + name + ".key";
  const std::string public_path = directory + "/" + name + ".pub";
  // A key pair in use is never replaced by accident: its clients would be locked out.
  for (const std::string& path : {secret_path, public_path}) {
    std::error_code ec;
    const auto status = std::filesystem::symlink_status(path, ec);
    if (std::filesystem::exists(status) && !overwrite) {
      throw io_error("'" + path + "' exists: refusing to replace a key pair (--force replaces it)");
    }
  }
  char public_key[41] = {};
  char secret_key[41] = {};
  if (zmq_curve_keypair(public_key, secret_key) != 0) throw io_error("zmq_curve_keypair failed");
  const std::string secret_text = std::string(secret_key) + "\n";
  const std::string public_text = std::string(public_key) + "\n";
  // The one output writer (unpredictable temporaries, O_EXCL|O_NOFOLLOW, fsync, renames), as a
  // set: nothing is renamed until both are written and no directory is in the way, so a failure
  // leaves the names as they were. The secret key is created owner-only from the start.
  const output_file files[] = {{secret_path, secret_text, 0600U}, {public_path, public_text, 0644U}};
  write_file_set_atomically(files);
}

}  // namespace amimo::remote
