// Solver offload: the wire format against hand-built and corrupted frames, and the
// service over real loopback sockets (a solver_service on tcp://127.0.0.1:*, clients on
// DEALER sockets): garbage gets error replies, NaN is reported, retries are idempotent,
// and a load of concurrent pipelined clients gets every reply, each matching its request.
#include <amimo/analog/analog_profile.h>
#include <amimo/core/error.h>
#include <amimo/core/rng.h>
#include <amimo/remote/remote_solver.h>
#include <amimo/remote/service_policy.h>
#include <amimo/remote/solver_service.h>
#include <amimo/solver/solver_factory.h>

#include <Eigen/Cholesky>
#include "remote_test_support.h"

#include <gtest/gtest.h>
#include <zmq.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <sys/stat.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <limits>
#include <thread>

namespace amimo::remote {
namespace {

using namespace std::chrono_literals;

cmat random_spd(int n, rng& gen) {
  cmat h(2 * n, n);
  gen.fill_complex_normal(h);
  return h.adjoint() * h;
}

request sample_request(element_type element) {
  rng gen(5);
  request r;
  r.id = 42;
  r.session = 7;
  r.create_seed = 99;
  r.max_size = 4;
  r.element = element;
  r.spec = {"analog", {{"iters", "12"}, {"profile", "paper-board"}}};
  cmat b(4, 2);
  gen.fill_complex_normal(b);
  r.items = {{item_op::reseed, solver::matrix_structure::hermitian, 1234, cmat()},
             {item_op::set_matrix, solver::matrix_structure::hermitian, 0, random_spd(4, gen)},
             {item_op::solve, solver::matrix_structure::hermitian, 0, b}};
  return r;
}

TEST(WireFormat, RequestRoundTripsAndHasTheDocumentedLayout) {
  for (const element_type e : {element_type::cf64, element_type::cf32}) {
    const request r = sample_request(e);
    const bytes frame = encode_request(r);
    const std::size_t scalar = e == element_type::cf32 ? 4 : 8;
    const std::string spec = encode_spec(r.spec);
    EXPECT_EQ(frame.size(), header_bytes + spec.size() + 3 * item_header_bytes + (16 + 8) * 2 * scalar);
    EXPECT_EQ(std::memcmp(frame.data(), "AMSV", 4), 0);
    const request d = decode_request(frame);
    EXPECT_EQ(d.id, 42U);
    EXPECT_EQ(d.session, 7U);
    EXPECT_EQ(d.create_seed, 99U);
    EXPECT_EQ(d.spec.name, "analog");
    EXPECT_EQ(d.spec.options, r.spec.options);
    ASSERT_EQ(d.items.size(), 3U);
    EXPECT_EQ(d.items[0].seed, 1234U);
    const double tol = e == element_type::cf32 ? 1e-6 : 0.0;
    EXPECT_LE((d.items[1].data - r.items[1].data).norm(), tol * r.items[1].data.norm());
    EXPECT_LE((d.items[2].data - r.items[2].data).norm(), tol * r.items[2].data.norm() + 0.0);
  }
}

error_code decode_code(const bytes& frame) {
  try {
    (void)decode_request(frame);
  } catch (const wire_error& e) {
    return e.code();
  }
  return error_code::none;
}

TEST(WireFormat, EveryCorruptionIsRefusedWithACode) {
  const bytes good = encode_request(sample_request(element_type::cf64));
  ASSERT_EQ(decode_code(good), error_code::none);
  // Every truncation.
  for (std::size_t n = 0; n < good.size(); n += 7) {
    const bytes cut(good.begin(), good.begin() + static_cast<std::ptrdiff_t>(n));
    EXPECT_NE(decode_code(cut), error_code::none) << "truncated to " << n;
  }
  const auto patched = [&](std::size_t at, std::uint32_t value) {
    bytes b = good;
    std::memcpy(b.data() + at, &value, sizeof value);
    return b;
  };
  EXPECT_EQ(decode_code(patched(0, 0xDEADBEEF)), error_code::malformed);                // magic
  EXPECT_EQ(decode_code(patched(4, 0x00010004)), error_code::unsupported_version);      // version 4
  EXPECT_EQ(decode_code(patched(32, 5000)), error_code::too_large);                     // max size
  EXPECT_EQ(decode_code(patched(36, 1'000'000)), error_code::too_large);                // item count
  EXPECT_EQ(decode_code(patched(36, 4)), error_code::malformed);                        // one item too many
  EXPECT_EQ(decode_code(patched(40, 100'000)), error_code::too_large);                  // spec length
  EXPECT_EQ(decode_code(patched(44, 7)), error_code::malformed);                        // element type
  bytes trailing = good;
  trailing.push_back(std::byte{0});
  EXPECT_EQ(decode_code(trailing), error_code::malformed);
  // An item claiming 1024×1024 in a small frame is refused before any allocation.
  const std::size_t first_item = header_bytes + encode_spec(sample_request(element_type::cf64).spec).size();
  EXPECT_EQ(decode_code(patched(first_item + 4, 1024)), error_code::malformed);
  EXPECT_EQ(decode_code(patched(first_item + 4, 1u << 30)), error_code::too_large);
}

using test_support::running_service;

using test_support::round_trip;

TEST(SolverService, GarbageGetsErrorRepliesAndTheServiceKeepsServing) {
  running_service s;
  remote_client client({s.service.endpoint(), "", "", {}});
  const bytes garbage = {std::byte{1}, std::byte{2}, std::byte{3}};
  auto r = round_trip(client, garbage);
  ASSERT_TRUE(std::holds_alternative<error_reply>(r));
  EXPECT_EQ(std::get<error_reply>(r).code, error_code::malformed);
  bytes bad = encode_request(sample_request(element_type::cf64));
  bad[44] = std::byte{9};
  r = round_trip(client, bad);
  ASSERT_TRUE(std::holds_alternative<error_reply>(r));
  EXPECT_EQ(std::get<error_reply>(r).id, 42U);  // addressed to the request
  request unknown = sample_request(element_type::cf64);
  unknown.spec = {"digital-f16", {}};
  r = round_trip(client, encode_request(unknown));
  ASSERT_TRUE(std::holds_alternative<error_reply>(r));
  EXPECT_EQ(std::get<error_reply>(r).code, error_code::bad_spec);
  // Still serving: a good request is answered and correct.
  const request good = sample_request(element_type::cf64);
  r = round_trip(client, encode_request(good));
  ASSERT_TRUE(std::holds_alternative<reply>(r));
  const reply& ok = std::get<reply>(r);
  ASSERT_EQ(ok.items.size(), 3U);
  EXPECT_TRUE(ok.items[2].ok);
  const cmat exact = good.items[1].data.ldlt().solve(good.items[2].data);
  EXPECT_LT((ok.items[2].x - exact).norm() / exact.norm(), 1e-5);
  EXPECT_GE(s.service.counters().error_replies, 3U);
}

TEST(SolverService, NonFiniteInputIsReportedPerItem) {
  running_service s;
  remote_client client({s.service.endpoint(), "", "", {}});
  request r = sample_request(element_type::cf64);
  r.spec = {"digital-f64", {}};
  r.items[2].data(1, 0) = cf64(std::numeric_limits<double>::quiet_NaN(), 0.0);
  auto resp = round_trip(client, encode_request(r));
  ASSERT_TRUE(std::holds_alternative<reply>(resp));
  const reply& rep = std::get<reply>(resp);
  EXPECT_TRUE(rep.items[1].ok);
  EXPECT_FALSE(rep.items[2].ok);
  EXPECT_EQ(rep.items[2].code, error_code::non_finite);
  // A solve before any matrix in a new session: dimension mismatch, not a crash.
  request no_matrix = sample_request(element_type::cf64);
  no_matrix.session = 8;
  no_matrix.items.erase(no_matrix.items.begin() + 1);
  resp = round_trip(client, encode_request(no_matrix));
  ASSERT_TRUE(std::holds_alternative<reply>(resp));
  EXPECT_EQ(std::get<reply>(resp).items[1].code, error_code::dimension_mismatch);
}

// A singular or non-finite matrix, or a non-finite B, is data through `remote` as in process:
// ok = false, X = 0, no fallback, and the session kept (each unusable matrix made the next
// solve a "reply of the wrong shape": a counted fallback and an orphaned session, until the
// client's 16 sessions were spent and even good matrices were solved locally).
TEST(SolverService, UnusableMatricesAndRightHandSidesAreDataLikeInProcess) {
  running_service s;
  reset_remote_fallbacks();
  auto remote = solver::create_linear_solver(
      {"remote", {{"endpoint", s.service.endpoint()}, {"backend", "digital-f64"}, {"on-failure", "error"}}}, 4, 1);
  auto local = solver::create_linear_solver({"digital-f64", {}}, 4, 1);
  rng gen(12);
  cmat b(4, 2);
  gen.fill_complex_normal(b);
  cmat v(4, 1);
  gen.fill_complex_normal(v);
  const cmat singular = v * v.adjoint();  // rank 1
  cmat nan_matrix = random_spd(4, gen);
  nan_matrix(2, 1) = cf64(std::numeric_limits<double>::quiet_NaN(), 0.0);
  cmat nan_b = b;
  nan_b(3, 1) = cf64(0.0, std::numeric_limits<double>::infinity());
  const cmat good = random_spd(4, gen);
  for (int round = 0; round < 20; ++round) {  // more than a client's 16 sessions
    for (const cmat* a : std::initializer_list<const cmat*>{&singular, &nan_matrix, &good}) {
      for (const cmat* rhs : std::initializer_list<const cmat*>{&b, &nan_b}) {
        cmat x_remote = cmat::Constant(4, 2, cf64(7.0, 7.0));
        cmat x_local = x_remote;
        const auto ms_remote = remote->set_matrix(*a, solver::matrix_structure::hermitian);
        const auto ms_local = local->set_matrix(*a, solver::matrix_structure::hermitian);
        EXPECT_EQ(ms_remote.ok, ms_local.ok) << round;
        const auto st_remote = remote->solve(x_remote, *rhs);
        const auto st_local = local->solve(x_local, *rhs);
        EXPECT_EQ(st_remote.ok, st_local.ok) << round;
        EXPECT_FALSE(st_remote.fallback) << round;
        if (!st_local.ok) {
          EXPECT_TRUE(x_remote.isZero(0.0)) << round;
          EXPECT_TRUE(x_local.isZero(0.0)) << round;
        } else {
          EXPECT_LT((x_remote - x_local).norm(), 1e-12 * x_local.norm()) << round;
        }
      }
    }
  }
  EXPECT_EQ(remote_fallbacks().total, 0U);
  EXPECT_EQ(s.service.counters().sessions_created, 1U);
}

// A session is charged for the order it was created with and for the reply it keeps for a
// retry: a larger matrix is refused per item, and a reply beyond the client's session memory
// is refused before any work (a max_size-1 session held a 1024×1024 matrix; 8 such sessions
// cached 64 MB replies each under a 1 MiB limit).
TEST(SolverService, SessionMemoryCoversLargerMatricesAndTheCachedReply) {
  service_options o;
  o.client_session_mib = 1;
  running_service s(o);
  remote_client client({s.service.endpoint(), "", "", {}});
  rng gen(3);
  request r;
  r.id = 1;
  r.session = 5;
  r.max_size = 4;
  r.element = element_type::cf64;
  r.spec = {"digital-f64", {}};
  r.items = {{item_op::set_matrix, solver::matrix_structure::hermitian, 0, random_spd(64, gen)}};
  auto resp = round_trip(client, encode_request(r));
  ASSERT_TRUE(std::holds_alternative<reply>(resp));
  EXPECT_EQ(std::get<reply>(resp).items[0].code, error_code::dimension_mismatch);
  EXPECT_FALSE(std::get<reply>(resp).items[0].ok);
  // Within the order: served, with eight solves whose reply (64 KiB each) fits; then 80,
  // whose 5 MiB reply would not.
  cmat b(4, 1024);
  gen.fill_complex_normal(b);
  const cmat a = random_spd(4, gen);
  r.id = 2;
  r.items = {{item_op::set_matrix, solver::matrix_structure::hermitian, 0, a}};
  for (int k = 0; k < 8; ++k) r.items.push_back({item_op::solve, solver::matrix_structure::hermitian, 0, b});
  resp = round_trip(client, encode_request(r));
  ASSERT_TRUE(std::holds_alternative<reply>(resp));
  const reply& fits = std::get<reply>(resp);
  ASSERT_EQ(fits.items.size(), 9U);
  EXPECT_TRUE(fits.items[8].ok);
  EXPECT_LT((a * fits.items[8].x - b).norm(), 1e-10 * b.norm());
  r.id = 3;
  r.items.resize(1);
  for (int k = 0; k < 80; ++k) r.items.push_back({item_op::solve, solver::matrix_structure::hermitian, 0, b});
  resp = round_trip(client, encode_request(r));
  ASSERT_TRUE(std::holds_alternative<error_reply>(resp));
  EXPECT_EQ(std::get<error_reply>(resp).code, error_code::quota);
  EXPECT_GE(s.service.counters().quota_refusals, 1U);
  // The session still serves what fits.
  r.id = 4;
  r.items.resize(2);
  resp = round_trip(client, encode_request(r));
  ASSERT_TRUE(std::holds_alternative<reply>(resp));
  EXPECT_TRUE(std::get<reply>(resp).items[1].ok);
}

TEST(SolverService, ARepeatedRequestIdIsAnsweredFromTheCache) {
  running_service s;
  remote_client client({s.service.endpoint(), "", "", {}});
  const bytes frame = encode_request(sample_request(element_type::cf64));
  const auto first = round_trip(client, frame);
  const auto second = round_trip(client, frame);
  ASSERT_TRUE(std::holds_alternative<reply>(first));
  ASSERT_TRUE(std::holds_alternative<reply>(second));
  // The analog backend is noisy and stateful: identical answers prove it was not re-run.
  EXPECT_EQ(std::get<reply>(first).items[2].x, std::get<reply>(second).items[2].x);
  EXPECT_EQ(s.service.counters().retries_answered, 1U);
}

TEST(SolverService, RemoteBackendMatchesInProcessAndFallsBackWhenTheServiceIsGone) {
  rng gen(9);
  const cmat a = random_spd(6, gen);
  cmat b(6, 3);
  gen.fill_complex_normal(b);
  cmat x_remote(6, 3);
  cmat x_local(6, 3);
  {
    running_service s;
    auto remote = solver::create_linear_solver(
        {"remote", {{"endpoint", s.service.endpoint()}, {"backend", "analog"}, {"iters", "4"}}}, 6, 17);
    auto local = solver::create_linear_solver({"analog", {{"iters", "4"}}}, 6, 17);
    for (auto* backend : {remote.get(), local.get()}) {
      backend->reseed(3);
      ASSERT_TRUE(backend->set_matrix(a, solver::matrix_structure::hermitian).ok);
    }
    const auto sr = remote->solve(x_remote, b);
    const auto sl = local->solve(x_local, b);
    EXPECT_EQ(x_remote, x_local);  // bit-identical: same seed, same state sequence
    EXPECT_EQ(sr.iterations, sl.iterations);
    EXPECT_FALSE(sr.fallback);
    EXPECT_GT(sr.modelled_joules, 0.0);
  }
  // Nothing listens on port 9: a short timeout, a retry, then the local digital answer, flagged.
  auto remote = solver::create_linear_solver(
      {"remote", {{"endpoint", "tcp://127.0.0.1:9"}, {"timeout-ms", "100"}, {"retries", "1"}}}, 6, 17);
  ASSERT_TRUE(remote->set_matrix(a, solver::matrix_structure::hermitian).ok);
  const auto st = remote->solve(x_remote, b);
  EXPECT_TRUE(st.ok);
  EXPECT_TRUE(st.fallback);
  EXPECT_LT((a * x_remote - b).norm() / b.norm(), 1e-10);
  const auto& counters = dynamic_cast<remote_solver&>(*remote).counters();
  EXPECT_EQ(counters.timeouts, 1U);
  EXPECT_EQ(counters.retries, 1U);
  EXPECT_EQ(counters.local_fallbacks, 1U);
}

TEST(SolverService, LoadManyPipelinedClientsGetEveryReplyMatchingItsRequest) {
  service_options o;
  o.workers = 2;
  running_service s(o);
  constexpr int clients = 8;
  constexpr int requests_per_client = 250;
  constexpr int window = 4;  // batches in flight per client
  std::atomic<int> mismatched{0};
  std::atomic<int> lost{0};
  std::vector<std::vector<double>> latencies(clients);
  const auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> threads;
  for (int c = 0; c < clients; ++c) {
    threads.emplace_back([&, c] {
      remote_client client({s.service.endpoint(), "", "", {}});
      rng gen(derive_seed(77, {static_cast<std::uint64_t>(c)}));
      std::vector<request> sent(requests_per_client);
      std::vector<std::chrono::steady_clock::time_point> sent_at(requests_per_client);
      int next = 0;
      int done = 0;
      while (done < requests_per_client) {
        while (next < requests_per_client && next - done < window) {
          request& r = sent[static_cast<std::size_t>(next)];
          r.id = static_cast<std::uint64_t>(next) + 1;
          r.session = static_cast<std::uint64_t>(c) + 1;  // one session per client, requests in order
          r.max_size = 8;
          r.spec = {"digital-f64", {}};
          cmat b(8, 1);
          gen.fill_complex_normal(b);
          r.items = {{item_op::set_matrix, solver::matrix_structure::hermitian, 0, random_spd(8, gen)},
                     {item_op::solve, solver::matrix_structure::hermitian, 0, b}};
          sent_at[static_cast<std::size_t>(next)] = std::chrono::steady_clock::now();
          client.send(r);
          ++next;
        }
        auto resp = client.receive(10'000ms);
        if (!resp || !std::holds_alternative<reply>(*resp)) {
          lost += requests_per_client - done;
          return;
        }
        const reply& rep = std::get<reply>(*resp);
        const std::size_t k = rep.id - 1;
        if (rep.id == 0 || k >= sent.size() || rep.session != sent[k].session || rep.items.size() != 2) {
          ++mismatched;
        } else {
          const request& r = sent[k];
          const cmat exact = r.items[0].data.ldlt().solve(r.items[1].data);
          if ((rep.items[1].x - exact).norm() > 1e-9 * exact.norm()) ++mismatched;
          latencies[static_cast<std::size_t>(c)].push_back(
              std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - sent_at[k]).count());
        }
        ++done;
      }
    });
  }
  for (auto& t : threads) t.join();
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::vector<double> all;
  for (const auto& l : latencies) all.insert(all.end(), l.begin(), l.end());
  std::sort(all.begin(), all.end());
  EXPECT_EQ(lost.load(), 0);
  EXPECT_EQ(mismatched.load(), 0);
  ASSERT_EQ(all.size(), static_cast<std::size_t>(clients * requests_per_client));
  std::cout << "load: " << clients << " clients x " << requests_per_client << " requests (window " << window
            << "), measured p50 " << all[all.size() / 2] << " us, p99 " << all[all.size() * 99 / 100]
            << " us, " << static_cast<double>(all.size()) / seconds << " solves/s\n";
}


// --- A shared network: hostile clients on 127.0.0.1 -------------------------------------

struct temp_dir {
  temp_dir() {
    char name[] = "/tmp/amimo-remote-XXXXXX";
    path = mkdtemp(name);
  }
  ~temp_dir() { std::filesystem::remove_all(path); }
  std::string path;
};

request analog_request(std::uint64_t session, std::map<std::string, std::string> options, int n = 4) {
  rng gen(11);
  request r;
  r.id = 1;
  r.session = session;
  r.create_seed = 5;
  r.max_size = static_cast<std::uint32_t>(n);
  r.spec = {"analog", std::move(options)};
  cmat b(n, 1);
  gen.fill_complex_normal(b);
  r.items = {{item_op::set_matrix, solver::matrix_structure::hermitian, 0, random_spd(n, gen)},
             {item_op::solve, solver::matrix_structure::hermitian, 0, b}};
  return r;
}

error_reply expect_error(const std::variant<reply, error_reply>& r) {
  if (!std::holds_alternative<error_reply>(r)) throw std::runtime_error("expected an error reply, got a reply");
  return std::get<error_reply>(r);
}

TEST(SharedNetwork, NoClientNamesAServerFileAndNoContentLeaks) {
  temp_dir dir;
  const std::string canary = dir.path + "/canary.yaml";
  {
    std::ofstream out(canary);
    out << "name: CANARY-7f3a91\ndevice: {bits: CANARY-BITS}\n";
  }
  const std::string fifo = dir.path + "/fifo.yaml";
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  running_service s;
  remote_client client({s.service.endpoint(), "", "", {}});
  std::vector<std::string> messages;
  std::uint64_t session = 100;
  for (const std::string& value : {canary, std::string("/etc/passwd"), dir.path + "/missing.yaml", std::string("/dev/zero"),
                                   fifo, std::string("../configs/analog/ideal.yaml"), std::string("canary")}) {
    const auto t0 = std::chrono::steady_clock::now();
    const error_reply e = expect_error(round_trip(client, encode_request(analog_request(++session, {{"profile", value}}))));
    // Refused at once: nothing was opened (a FIFO would block, /dev/zero would grow the service).
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 1s) << value;
    EXPECT_EQ(e.code, error_code::bad_spec) << value;
    EXPECT_EQ(e.message.find("CANARY"), std::string::npos) << e.message;
    EXPECT_EQ(e.message.find("root"), std::string::npos) << e.message;
    messages.push_back(e.message);
  }
  // Same answer for a file that exists and one that does not: no existence oracle.
  EXPECT_EQ(messages[0], messages[2]);
  EXPECT_EQ(messages[1], messages[2]);
  // Options beyond the closed list and duplicate keys are refused.
  EXPECT_EQ(expect_error(round_trip(client, encode_request(analog_request(++session, {{"chip-file", "/etc/passwd"}})))).code,
            error_code::bad_spec);
  request dup = analog_request(++session, {});
  dup.spec = {"analog\niters=3\niters=4", {}};  // encode_spec writes the name as given: two "iters" lines
  EXPECT_NE(expect_error(round_trip(client, encode_request(dup))).message.find("duplicate"), std::string::npos);
  EXPECT_THROW((void)decode_spec("analog\nprofile=ideal\nprofile=/etc/passwd"), wire_error);
  // Still serving, by name.
  const auto ok = round_trip(client, encode_request(analog_request(++session, {{"profile", "ideal"}})));
  ASSERT_TRUE(std::holds_alternative<reply>(ok));
  EXPECT_TRUE(std::get<reply>(ok).items[1].ok);
  // The client side reads its own profile files with the same care: FIFO and /dev/zero refused at once.
  for (const std::string& bad : {fifo, std::string("/dev/zero")}) {
    const auto t0 = std::chrono::steady_clock::now();
    EXPECT_THROW((void)parse_remote_options({{"endpoint", "tcp://127.0.0.1:1"}, {"backend", "analog"}, {"profile", bad}}),
                 io_error);
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 1s);
  }
}

TEST(SharedNetwork, InlineProfileIsCappedAndMatchesTheNamedOne) {
  running_service s;
  remote_client client({s.service.endpoint(), "", "", {}});
  const std::string board(analog::builtin_profile_yaml("paper-board"));
  const auto named = round_trip(client, encode_request(analog_request(1, {{"profile", "paper-board"}, {"iters", "5"}})));
  const auto sent = round_trip(client, encode_request(analog_request(2, {{"profile-yaml", escape_option_value(board)}, {"iters", "5"}})));
  ASSERT_TRUE(std::holds_alternative<reply>(named));
  ASSERT_TRUE(std::holds_alternative<reply>(sent));
  EXPECT_EQ(std::get<reply>(named).items[1].x, std::get<reply>(sent).items[1].x);  // same chip, same seed
  // Over the cap: refused, whatever it holds.
  std::string big = board;
  while (big.size() <= max_inline_profile_bytes) big += "# padding line to exceed the inline cap\n";
  EXPECT_EQ(expect_error(round_trip(client, encode_request(analog_request(3, {{"profile-yaml", escape_option_value(big)}})))).code,
            error_code::bad_spec);
  // Deep flow nesting is refused before the YAML parser.
  const std::string deep = "device: " + std::string(2000, '[') + std::string(2000, ']') + "\n";
  EXPECT_EQ(expect_error(round_trip(client, encode_request(analog_request(4, {{"profile-yaml", escape_option_value(deep)}})))).code,
            error_code::bad_spec);
  // Valid YAML that is no profile: a mapping or a sequence as a key, a 'source' that is not
  // text (yaml-cpp's conversions throw there; the fuzz target found the first). Refused as
  // bad_spec, and the service keeps serving.
  std::uint64_t id = 10;
  for (const char* odd : {"? [device]\n: {bits: 4}\n", "? {a: 1}\n: x\n", "device:\n  ? [bits]\n  : 4\n",
                          "device:\n  bits: {value: 4, source: [a, b]}\n"}) {
    EXPECT_EQ(expect_error(round_trip(client, encode_request(analog_request(id++, {{"profile-yaml", escape_option_value(odd)}}))))
                  .code,
              error_code::bad_spec)
        << odd;
    EXPECT_THROW(analog::parse_analog_profile(odd, "test"), config_error) << odd;
  }
  ASSERT_TRUE(std::holds_alternative<reply>(
      round_trip(client, encode_request(analog_request(id++, {{"profile", "paper-board"}, {"iters", "5"}})))));
  // Both a name and inline text: ambiguous, refused.
  EXPECT_EQ(expect_error(round_trip(client, encode_request(analog_request(
                                                5, {{"profile", "ideal"}, {"profile-yaml", escape_option_value(board)}}))))
                .code,
            error_code::bad_spec);
  // A client naming its own file sends the content: same answers as the named profile.
  temp_dir dir;
  const std::string file = dir.path + "/mine.yaml";
  std::ofstream(file) << board;
  const remote_options o = parse_remote_options({{"endpoint", s.service.endpoint()}, {"backend", "analog"}, {"profile", file}});
  EXPECT_EQ(o.backend.options.count("profile"), 0U);
  EXPECT_EQ(unescape_option_value(o.backend.options.at("profile-yaml")), board);
}

TEST(SharedNetwork, OneClientsSessionQuotaDoesNotStopAnother) {
  service_options o;
  o.client_sessions = 4;
  o.max_sessions = 16;
  running_service s(o);
  remote_client hog({s.service.endpoint(), "", "", {}});
  request r = sample_request(element_type::cf64);
  r.spec = {"digital-f64", {}};
  int served = 0;
  int refused = 0;
  for (std::uint64_t session = 1; session <= 10; ++session) {
    r.session = session;
    const auto resp = round_trip(hog, encode_request(r));
    if (std::holds_alternative<reply>(resp)) {
      ++served;
    } else {
      EXPECT_EQ(std::get<error_reply>(resp).code, error_code::quota);
      ++refused;
    }
  }
  EXPECT_EQ(served, 4);
  EXPECT_EQ(refused, 6);
  // A second client (its own connection) is served through the remote backend, no fallback,
  // even using the same session ids (sessions are scoped to their client).
  reset_remote_fallbacks();
  auto remote = solver::create_linear_solver({"remote", {{"endpoint", s.service.endpoint()}, {"on-failure", "error"}}}, 6, 1);
  rng gen(3);
  for (int k = 0; k < 5; ++k) {
    const cmat a = random_spd(6, gen);
    cmat b(6, 2);
    gen.fill_complex_normal(b);
    cmat x(6, 2);
    ASSERT_TRUE(remote->set_matrix(a, solver::matrix_structure::hermitian).ok);
    const auto st = remote->solve(x, b);
    EXPECT_FALSE(st.fallback);
    EXPECT_LT((a * x - b).norm() / b.norm(), 1e-10);
  }
  EXPECT_EQ(remote_fallbacks().total, 0U);
  EXPECT_EQ(dynamic_cast<remote_solver&>(*remote).counters().local_fallbacks, 0U);
  EXPECT_GE(s.service.counters().quota_refusals, 6U);
}

TEST(SharedNetwork, AFloodIsAnsweredBusyPastTheBound) {
  service_options o;
  o.workers = 1;
  o.client_queue = 2;
  o.max_queue = 4;
  running_service s(o);
  remote_client client({s.service.endpoint(), "", "", {}});
  request r;
  r.session = 1;
  r.max_size = 256;
  r.spec = {"digital-f64", {}};
  rng gen(4);
  r.items = {{item_op::set_matrix, solver::matrix_structure::hermitian, 0, random_spd(256, gen)}};  // 1 MiB
  constexpr int flood = 40;
  for (int k = 1; k <= flood; ++k) {
    r.id = static_cast<std::uint64_t>(k);
    client.send(r);
  }
  int busy = 0;
  int replies = 0;
  // This client sends everything before reading: past the per-connection send bound the
  // service drops excess replies to it (README: a client that does not read its replies
  // loses the excess instead of growing the service), so wait for silence, not for 40.
  while (busy + replies < flood) {
    auto resp = client.receive(busy + replies == 0 ? 10'000ms : 2'000ms);
    if (!resp.has_value()) break;
    if (std::holds_alternative<reply>(*resp)) {
      ++replies;
    } else {
      const error_reply& e = std::get<error_reply>(*resp);
      if (e.code == error_code::busy) {
        ++busy;
      } else {
        EXPECT_EQ(e.code, error_code::stale_request);  // a later id overtook it in the same session
        ++replies;
      }
    }
  }
  EXPECT_GT(busy, 0);
  EXPECT_GE(replies, 2);
  EXPECT_GE(busy + replies, flood / 2) << "most answers reach a client even when it reads late";
  EXPECT_GE(s.service.counters().busy_replies, static_cast<std::uint64_t>(busy));
  // The remote backend backs off on busy and counts it; it is never a silent answer.
  std::cout << "flood: " << flood << " pipelined 1 MiB requests, " << busy << " answered busy, " << replies
            << " served (measured)\n";
}

// Time bounds in these tests hold for optimised builds; under AddressSanitizer everything,
// including the matrix programming a deadline cannot interrupt, runs several times slower.
#if defined(__SANITIZE_ADDRESS__)
constexpr double kSlowdown = 8.0;
#else
constexpr double kSlowdown = 1.0;
#endif

TEST(SharedNetwork, WorkLimitAndDeadline) {
  service_options o;
  o.max_work = 1e8;
  o.deadline_s = 0.2;
  running_service s(o);
  remote_client client({s.service.endpoint(), "", "", {}});
  // 512² analog with 64 iterations and 512 right-hand sides: refused before it runs.
  request big = analog_request(1, {{"iters", "64"}}, 4);
  big.max_size = 512;
  big.items[0].data = cmat::Identity(512, 512);
  big.items[1].data = cmat::Ones(512, 512);
  auto t0 = std::chrono::steady_clock::now();
  const error_reply e = expect_error(round_trip(client, encode_request(big)));
  EXPECT_EQ(e.code, error_code::work_limit);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 2s);
  // Within the work limit but far slower than the deadline (about 0.2 s of 64 iterations
  // at 192 on a quiet 2-core machine; 256 is ≈ 2.4× that, against a 0.05 s deadline): cut
  // between iterations.
  o.max_work = 1e15;
  o.deadline_s = 0.05;
  running_service slow(o);
  remote_client c2({slow.service.endpoint(), "", "", {}});
  request heavy = analog_request(2, {{"iters", "64"}, {"tol", "0"}}, 4);
  rng gen(8);
  heavy.max_size = 256;
  heavy.items[0].data = random_spd(256, gen);
  heavy.items[1].data.resize(256, 256);
  gen.fill_complex_normal(heavy.items[1].data);
  t0 = std::chrono::steady_clock::now();
  const auto resp = round_trip(c2, encode_request(heavy));
  const double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  ASSERT_TRUE(std::holds_alternative<error_reply>(resp)) << "finished in " << took << " s: make the request heavier";
  EXPECT_EQ(std::get<error_reply>(resp).code, error_code::deadline);
  EXPECT_LT(took, 1.5 * kSlowdown);
  EXPECT_EQ(slow.service.counters().deadline_cuts, 1U);
  std::cout << "deadline 0.05 s: cut after " << took << " s (measured)\n";
}

TEST(SharedNetwork, StopReturnsWithinASecondWhileAWorkerIsBusy) {
  service_options o;
  o.workers = 1;
  o.max_work = 1e15;
  o.deadline_s = 600;
  auto service = std::make_unique<solver_service>(o);
  std::thread runner([&] { service->run(); });
  remote_client client({service->endpoint(), "", "", {}});
  // Two heavy analog requests on two sessions, one worker: whichever moment the stop comes,
  // the worker is inside one of them (the second starts when the first is answered).
  rng gen(8);
  for (const std::uint64_t session : {std::uint64_t{2}, std::uint64_t{3}}) {
    request heavy = analog_request(session, {{"iters", "64"}, {"tol", "0"}}, 4);
    heavy.max_size = 192;
    heavy.items[0].data = random_spd(192, gen);
    heavy.items[1].data.resize(192, 192);
    gen.fill_complex_normal(heavy.items[1].data);
    client.send(heavy);
  }
  // Past the first programming: at most the first request has been answered by now.
  const auto early = client.receive(1500ms);
  if (early.has_value()) {
    ASSERT_TRUE(std::holds_alternative<reply>(*early));
  }
  const auto t0 = std::chrono::steady_clock::now();
  service->stop();
  runner.join();
  const bool joined = service->shutdown();
  const double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_LT(took, 1.0);
  EXPECT_TRUE(joined);  // the analog backend saw the stop flag between iterations
  service.reset();
}

TEST(SharedNetwork, RequestIdsWrapAround) {
  running_service s;
  remote_client client({s.service.endpoint(), "", "", {}});
  request r = sample_request(element_type::cf64);
  r.spec = {"digital-f64", {}};
  r.id = std::numeric_limits<std::uint64_t>::max();
  auto first = round_trip(client, encode_request(r));
  ASSERT_TRUE(std::holds_alternative<reply>(first));
  EXPECT_EQ(std::get<reply>(first).id, std::numeric_limits<std::uint64_t>::max());
  for (const std::uint64_t id : {std::uint64_t{0}, std::uint64_t{1}, std::uint64_t{2}}) {
    r.id = id;
    const auto next = round_trip(client, encode_request(r));
    ASSERT_TRUE(std::holds_alternative<reply>(next)) << "id " << id << ": " << std::get<error_reply>(next).message;
    EXPECT_EQ(std::get<reply>(next).id, id);
  }
  r.id = std::numeric_limits<std::uint64_t>::max();  // now older than 2: stale
  EXPECT_EQ(expect_error(round_trip(client, encode_request(r))).code, error_code::stale_request);
  EXPECT_TRUE(request_id_newer(0, std::numeric_limits<std::uint64_t>::max()));
  EXPECT_FALSE(request_id_newer(5, 5));
}

TEST(SharedNetwork, CurveServesOnlyAuthorisedClientKeys) {
  if (zmq_has("curve") == 0) GTEST_SKIP() << "libzmq without CURVE";
  temp_dir dir;
  const std::string clients = dir.path + "/clients";
  std::filesystem::create_directory(clients);
  write_curve_keys(dir.path, "server");
  write_curve_keys(dir.path, "alice");
  write_curve_keys(dir.path, "mallory");
  std::filesystem::copy_file(dir.path + "/alice.pub", clients + "/alice.pub");
  service_options o;
  o.curve_secret_key_file = dir.path + "/server.key";
  o.curve_clients_dir = clients;
  running_service s(o);
  request r = sample_request(element_type::cf64);
  r.spec = {"digital-f64", {}};
  remote_client alice({s.service.endpoint(), dir.path + "/server.pub", dir.path + "/alice.key", {}});
  EXPECT_TRUE(std::holds_alternative<reply>(round_trip(alice, encode_request(r))));
  remote_client mallory({s.service.endpoint(), dir.path + "/server.pub", dir.path + "/mallory.key", {}});
  mallory.send(r);
  EXPECT_FALSE(mallory.receive(700ms).has_value());
  remote_client anonymous({s.service.endpoint(), dir.path + "/server.pub", "", {}});
  anonymous.send(r);
  EXPECT_FALSE(anonymous.receive(700ms).has_value());
  EXPECT_GE(s.service.counters().auth_refused, 2U);
  EXPECT_GE(s.service.counters().auth_accepted, 1U);
  // A remote backend with a refused key: the fallback is counted with its reason, or an error.
  reset_remote_fallbacks();
  const solver::solver_spec spec{"remote",
                                 {{"endpoint", s.service.endpoint()},
                                  {"curve-server-key", dir.path + "/server.pub"},
                                  {"curve-client-key", dir.path + "/mallory.key"},
                                  {"timeout-ms", "200"},
                                  {"retries", "0"}}};
  auto fallback = solver::create_linear_solver(spec, 4, 1);
  rng gen(2);
  const cmat a = random_spd(4, gen);
  cmat x(4, 1);
  ASSERT_TRUE(fallback->set_matrix(a, solver::matrix_structure::hermitian).ok);
  EXPECT_TRUE(fallback->solve(x, cmat::Ones(4, 1)).fallback);
  EXPECT_EQ(remote_fallbacks().total, 1U);
  EXPECT_NE(remote_fallback_warning().find("not authorised"), std::string::npos) << remote_fallback_warning();
  solver::solver_spec strict = spec;
  strict.options["on-failure"] = "error";
  auto failing = solver::create_linear_solver(strict, 4, 1);
  EXPECT_THROW((void)failing->set_matrix(a, solver::matrix_structure::hermitian), io_error);
}

}  // namespace
}  // namespace amimo::remote
