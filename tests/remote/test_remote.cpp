// Solver offload: the wire format against hand-built and corrupted frames, and the
// service over real loopback sockets (a solver_service on tcp://127.0.0.1:*, clients on
// DEALER sockets): garbage gets error replies, NaN is reported, retries are idempotent,
// and a load of concurrent pipelined clients gets every reply, each matching its request.
#include <amimo/core/rng.h>
#include <amimo/remote/remote_solver.h>
#include <amimo/remote/solver_service.h>
#include <amimo/solver/solver_factory.h>

#include <Eigen/Cholesky>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <iostream>
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
  EXPECT_EQ(decode_code(patched(4, 0x00010002)), error_code::unsupported_version);      // version 2
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

struct running_service {
  explicit running_service(service_options o = {}) : service(std::move(o)), thread([this] { service.run(); }) {}
  ~running_service() {
    service.stop();
    thread.join();
  }
  solver_service service;
  std::thread thread;
};

std::variant<reply, error_reply> round_trip(remote_client& client, const bytes& frame) {
  client.send(frame);
  auto r = client.receive(5000ms);
  if (!r) throw std::runtime_error("no reply within 5 s");
  return *r;
}

TEST(SolverService, GarbageGetsErrorRepliesAndTheServiceKeepsServing) {
  running_service s;
  remote_client client({s.service.endpoint(), "", {}});
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
  remote_client client({s.service.endpoint(), "", {}});
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

TEST(SolverService, ARepeatedRequestIdIsAnsweredFromTheCache) {
  running_service s;
  remote_client client({s.service.endpoint(), "", {}});
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
      remote_client client({s.service.endpoint(), "", {}});
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

}  // namespace
}  // namespace amimo::remote
