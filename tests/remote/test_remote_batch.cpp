// Batched solver offload (wire version 3, solve_batch): the message layout and its
// refusals, and remote_batch_solver against a solver_service on tcp://127.0.0.1 — results
// equal to the in-process batch backends and to the per-system remote path, pipelined
// chunks that keep an analog backend's random stream, limits that refuse oversize batches,
// garbage that gets error replies, and counted fallbacks when the service is gone.
#include <amimo/core/error.h>
#include <amimo/core/heap_tuning.h>
#include <amimo/core/rng.h>
#include <amimo/remote/remote_batch_solver.h>
#include <amimo/remote/remote_solver.h>
#include <amimo/remote/solver_service.h>
#include <amimo/solver/batch_solver.h>
#include <amimo/solver/solver_factory.h>

#include "remote_test_support.h"

#include <gtest/gtest.h>
#include <zmq.hpp>

#include <sys/resource.h>

#include <chrono>
#include <memory>
#include <cstring>
#include <thread>
#include <vector>

namespace amimo::remote {
namespace {

using namespace std::chrono_literals;

using test_support::running_service;

// count Hermitian positive definite n×n systems with r right-hand sides, column-major.
struct systems {
  int count, n, r;
  std::vector<cf64> a, b;
  systems(int count_, int n_, int r_, std::uint64_t seed) : count(count_), n(n_), r(r_) {
    rng gen(seed);
    for (int m = 0; m < count; ++m) {
      cmat h(2 * n, n);
      gen.fill_complex_normal(h);
      const cmat g = h.adjoint() * h;
      a.insert(a.end(), g.data(), g.data() + g.size());
      cmat v(n, r);
      gen.fill_complex_normal(v);
      b.insert(b.end(), v.data(), v.data() + v.size());
    }
  }
  solver::batch_cref av() const { return solver::column_major_batch(a.data(), count, n, n); }
  solver::batch_cref bv() const { return solver::column_major_batch(b.data(), count, n, r); }
};

struct result {
  std::vector<cf64> x;
  std::vector<solver::batch_status> status;
};

result run(solver::batch_solver& s, const systems& in, std::uint64_t reseed = 0) {
  result out{std::vector<cf64>(static_cast<std::size_t>(in.count * in.n * in.r)),
             std::vector<solver::batch_status>(static_cast<std::size_t>(in.count))};
  if (reseed != 0) s.reseed(reseed);
  s.solve(out.status, solver::column_major_batch(out.x.data(), in.count, in.n, in.r), in.av(), in.bv(),
          solver::matrix_structure::hermitian);
  return out;
}

using test_support::round_trip;

bytes batch_frame(const systems& in, const solver::solver_spec& spec, std::uint64_t id = 1, std::uint64_t session = 1) {
  bytes frame;
  encode_batch_request(frame, id, session, 7, static_cast<std::uint32_t>(in.n), spec, element_type::cf64, nullptr,
                       solver::matrix_structure::hermitian, in.av(), in.bv());
  return frame;
}

TEST(BatchWire, RequestHasTheDocumentedLayoutAndRoundTrips) {
  const systems in(5, 3, 2, 1);
  const std::uint64_t seed = 77;
  bytes frame;
  encode_batch_request(frame, 9, 4, 7, 3, {"digital-f64", {}}, element_type::cf64, &seed,
                       solver::matrix_structure::hermitian, in.av(), in.bv());
  const std::size_t spec = std::strlen("digital-f64");
  EXPECT_EQ(frame.size(), header_bytes + spec + 2 * item_header_bytes + 5 * (9 + 6) * 16);
  std::uint16_t version = 0;
  std::memcpy(&version, frame.data() + 4, 2);
  EXPECT_EQ(version, 3);
  const request r = decode_request(frame);
  ASSERT_EQ(r.items.size(), 2U);
  EXPECT_EQ(r.items[0].op, item_op::reseed);
  EXPECT_EQ(r.items[0].seed, 77U);
  const request_item& item = r.items[1];
  EXPECT_EQ(item.op, item_op::solve_batch);
  EXPECT_EQ(item.count, 5U);
  EXPECT_EQ(item.rows, 3U);
  EXPECT_EQ(item.cols, 2U);
  // Every A, then every B, exactly (cf64).
  ASSERT_EQ(item.a64.size(), 5U * (9 + 6) * 2);
  EXPECT_EQ(std::memcmp(item.a64.data(), in.a.data(), in.a.size() * sizeof(cf64)), 0);
  EXPECT_EQ(std::memcmp(item.a64.data() + in.a.size() * 2, in.b.data(), in.b.size() * sizeof(cf64)), 0);
  // Re-encoding the decoded request gives the same bytes.
  request copy = r;
  EXPECT_EQ(encode_request(copy), frame);
  // cf32 narrows once.
  encode_batch_request(frame, 9, 4, 7, 3, {"digital-f32", {}}, element_type::cf32, nullptr,
                       solver::matrix_structure::hermitian, in.av(), in.bv());
  const request r32 = decode_request(frame);
  ASSERT_EQ(r32.items[0].a32.size(), 5U * (9 + 6) * 2);
  EXPECT_EQ(r32.items[0].a32[3], static_cast<float>(in.a[1].imag()));
}

error_code decode_code(const bytes& frame, const wire_limits& limits = {}) {
  try {
    (void)decode_request(frame, limits);
  } catch (const wire_error& e) {
    return e.code();
  }
  return error_code::none;
}

TEST(BatchWire, VersionsAndBoundsAreChecked) {
  const systems in(4, 3, 1, 2);
  const bytes good = batch_frame(in, {"digital-f64", {}});
  ASSERT_EQ(decode_code(good), error_code::none);
  const std::size_t item = header_bytes + std::strlen("digital-f64");
  const auto patched = [&](std::size_t at, std::uint32_t value) {
    bytes b = good;
    std::memcpy(b.data() + at, &value, sizeof value);
    return b;
  };
  // solve_batch in a version-1 message; version 2 (read); version 4.
  bytes v1 = good;
  v1[4] = std::byte{1};
  EXPECT_EQ(decode_code(v1), error_code::malformed);
  bytes v2 = good;
  v2[4] = std::byte{2};
  EXPECT_EQ(decode_code(v2), error_code::none);
  bytes v4 = good;
  v4[4] = std::byte{4};
  EXPECT_EQ(decode_code(v4), error_code::unsupported_version);
  EXPECT_EQ(decode_code(patched(item + 12, 1'000'000)), error_code::too_large);  // systems beyond max_items
  EXPECT_EQ(decode_code(patched(item + 12, 5)), error_code::malformed);          // one more than the payload
  EXPECT_EQ(decode_code(patched(item + 12, 0)), error_code::malformed);          // empty batch
  EXPECT_EQ(decode_code(patched(item + 8, 0)), error_code::malformed);           // no right-hand side
  EXPECT_EQ(decode_code(patched(item + 4, 1024)), error_code::malformed);        // 1024² claimed in a small frame
  EXPECT_EQ(decode_code(patched(item + 16, 1)), error_code::malformed);          // seed must be 0
  wire_limits small;
  small.max_items = 3;
  EXPECT_EQ(decode_code(good, small), error_code::too_large);
  for (std::size_t n = 0; n < good.size(); n += 5) {
    const bytes cut(good.begin(), good.begin() + static_cast<std::ptrdiff_t>(n));
    EXPECT_NE(decode_code(cut), error_code::none) << "truncated to " << n;
  }
}

TEST(RemoteBatch, DigitalResultsEqualInProcessBatchAndThePerSystemPath) {
  running_service s;
  const systems in(50, 6, 3, 3);
  for (const bool f32 : {false, true}) {
    const std::string backend = f32 ? "digital-f32" : "digital-f64";
    // Chunks of 8 with 3 in flight: 7 requests, the last one short.
    auto remote = solver::create_batch_solver({"remote",
                                               {{"endpoint", s.service.endpoint()},
                                                {"backend", backend},
                                                {"element", f32 ? "cf32" : "cf64"},
                                                {"batch-chunk", "8"},
                                                {"window", "3"},
                                                {"on-failure", "error"}}},
                                              6, 5);
    ASSERT_TRUE(solver::has_native_batch({"remote", {}}));
    ASSERT_NE(dynamic_cast<remote_batch_solver*>(remote.get()), nullptr);
    remote->reserve(3);
    const result got = run(*remote, in);
    EXPECT_EQ(dynamic_cast<remote_batch_solver&>(*remote).counters().requests, 7U);
    // In process, the same batch kernels on the same (for cf32: narrowed) inputs.
    systems narrowed = in;
    if (f32) {
      for (cf64& v : narrowed.a) v = cf64(std::complex<float>(v));
      for (cf64& v : narrowed.b) v = cf64(std::complex<float>(v));
    }
    auto local = solver::create_batch_solver({backend, {}}, 6, 5);
    const result want = run(*local, narrowed);
    for (int m = 0; m < in.count; ++m) {
      EXPECT_TRUE(got.status[static_cast<std::size_t>(m)].matrix.ok);
      EXPECT_TRUE(got.status[static_cast<std::size_t>(m)].solve.ok);
      EXPECT_FALSE(got.status[static_cast<std::size_t>(m)].solve.fallback);
    }
    if (!f32) {
      EXPECT_EQ(got.x, want.x) << backend;  // bit-identical: cf64 is exact on the wire
    } else {
      // The f32 kernel's answer rounded to cf32 and back: equal to the in-process f32 answer.
      for (std::size_t k = 0; k < got.x.size(); ++k) {
        ASSERT_EQ(got.x[k], cf64(std::complex<float>(want.x[k]))) << k;
      }
    }
    if (f32) continue;
    // The per-system remote path (set_matrix + solve per system): same answers within rounding.
    auto per = solver::create_linear_solver({"remote", {{"endpoint", s.service.endpoint()}, {"on-failure", "error"}}}, 6, 5);
    for (int m = 0; m < in.count; ++m) {
      const Eigen::Map<const cmat> a(in.a.data() + m * 36, 6, 6);
      const Eigen::Map<const cmat> b(in.b.data() + m * 18, 6, 3);
      cmat x(6, 3);
      ASSERT_TRUE(per->set_matrix(a, solver::matrix_structure::hermitian).ok);
      ASSERT_TRUE(per->solve(x, b).ok);
      const Eigen::Map<const cmat> xb(got.x.data() + m * 18, 6, 3);
      EXPECT_LT((x - xb).norm() / x.norm(), 1e-12) << m;
      EXPECT_LT((a * xb - b).norm() / b.norm(), 1e-10) << m;
    }
  }
}

// A version-3 reply carries each system's matrix and solve costs apart (56-byte records); a
// version-2 client is answered in its own layout (40-byte records, the two together).
TEST(BatchWire, AReplyTakesItsRequestsVersion) {
  running_service s;
  remote_client client({s.service.endpoint(), "", "", {}});
  const systems in(3, 4, 1, 8);
  const solver::solver_spec spec{"analog", {{"iters", "2"}}};
  const bytes v3_frame = batch_frame(in, spec, 1, 1);
  bytes v2_frame = batch_frame(in, spec, 1, 2);  // another session, the same creation seed
  v2_frame[4] = std::byte{2};
  const auto r3 = round_trip(client, v3_frame);
  const auto r2 = round_trip(client, v2_frame);
  ASSERT_TRUE(std::holds_alternative<reply>(r3));
  ASSERT_TRUE(std::holds_alternative<reply>(r2));
  const reply& a = std::get<reply>(r3);
  const reply& b = std::get<reply>(r2);
  EXPECT_EQ(a.version, 3);
  EXPECT_EQ(b.version, 2);
  EXPECT_EQ(encode_reply(a).size(), encode_reply(b).size() + 3 * (batch_status_bytes - batch_status_bytes_v2));
  ASSERT_EQ(a.items.back().statuses.size(), 3U);
  ASSERT_EQ(b.items.back().statuses.size(), 3U);
  for (std::size_t m = 0; m < 3; ++m) {
    const batch_item_status& split = a.items.back().statuses[m];
    const batch_item_status& joint = b.items.back().statuses[m];
    EXPECT_GT(split.matrix_joules, 0.0);
    EXPECT_GT(split.modelled_joules, 0.0);
    EXPECT_EQ(joint.matrix_joules, 0.0);
    EXPECT_EQ(joint.modelled_joules, split.matrix_joules + split.modelled_joules);
    EXPECT_EQ(joint.modelled_seconds, split.matrix_seconds + split.modelled_seconds);
  }
  EXPECT_EQ(a.items.back().x64, b.items.back().x64);
}

TEST(RemoteBatch, PipelinedChunksKeepAnAnalogBackendsRandomStream) {
  running_service s;
  const systems in(12, 4, 2, 4);
  auto remote = solver::create_batch_solver({"remote",
                                             {{"endpoint", s.service.endpoint()},
                                              {"backend", "analog"},
                                              {"iters", "3"},
                                              {"batch-chunk", "5"},
                                              {"window", "4"},
                                              {"on-failure", "error"}}},
                                            4, 21);
  auto local = solver::create_batch_solver({"analog", {{"iters", "3"}}}, 4, 21);
  // reserve()'s connection round trip (a request without items) draws nothing either.
  remote->reserve(2);
  for (const std::uint64_t seed : {0ULL, 11ULL, 12ULL}) {  // 0: no reseed, the stream from the creation seed
    const result got = run(*remote, in, seed);
    const result want = run(*local, in, seed);
    EXPECT_EQ(got.x, want.x) << "seed " << seed;  // bit-identical: the same state sequence
    for (int m = 0; m < in.count; ++m) {
      const solver::batch_status& g = got.status[static_cast<std::size_t>(m)];
      const solver::batch_status& w = want.status[static_cast<std::size_t>(m)];
      EXPECT_EQ(g.solve.iterations, w.solve.iterations);
      EXPECT_GT(g.solve.modelled_joules, 0.0);
      // The modelled costs split as in process (the matrix's programming went into the
      // solve's figures, and the matrix's read 0, before wire version 3).
      EXPECT_GT(w.matrix.modelled_joules, 0.0);
      EXPECT_EQ(g.matrix.modelled_seconds, w.matrix.modelled_seconds);
      EXPECT_EQ(g.matrix.modelled_joules, w.matrix.modelled_joules);
      EXPECT_EQ(g.solve.modelled_seconds, w.solve.modelled_seconds);
      EXPECT_EQ(g.solve.modelled_joules, w.solve.modelled_joules);
    }
  }
}

// The service refuses a session's request that carries another max_size; a call with
// systems larger than the backend was made for starts a new session instead, and later
// smaller ones stay in it (alternating sizes 20 times: no session churn into the
// per-client quota of 16), on the batch and the per-system remote paths.
TEST(RemoteBatch, LargerSystemsThanTheCreationSizeAreServed) {
  running_service s;
  const solver::solver_spec spec{"remote",
                                 {{"endpoint", s.service.endpoint()}, {"backend", "digital-f64"}, {"on-failure", "error"}}};
  auto remote = solver::create_batch_solver(spec, 4, 3);
  auto per = solver::create_linear_solver(spec, 4, 3);
  remote->reserve(2);
  for (int step = 0; step < 20; ++step) {
    const int n = step % 2 == 0 ? 4 : 6;
    const systems in(5, n, 2, static_cast<std::uint64_t>(n));
    const result got = run(*remote, in);
    for (int m = 0; m < in.count; ++m) {
      ASSERT_TRUE(got.status[static_cast<std::size_t>(m)].solve.ok) << n;
      ASSERT_FALSE(got.status[static_cast<std::size_t>(m)].solve.fallback) << n;
      const Eigen::Map<const cmat> a(in.a.data() + m * n * n, n, n), b(in.b.data() + m * n * 2, n, 2),
          x(got.x.data() + m * n * 2, n, 2);
      EXPECT_LT((a * x - b).norm() / b.norm(), 1e-10) << n;
      cmat xp(n, 2);
      ASSERT_TRUE(per->set_matrix(a, solver::matrix_structure::hermitian).ok) << n;
      const solver::solve_status st = per->solve(xp, b);
      ASSERT_TRUE(st.ok) << n;
      ASSERT_FALSE(st.fallback) << n;
      EXPECT_LT((a * xp - b).norm() / b.norm(), 1e-10) << n;
    }
  }
}

TEST(RemoteBatch, LimitsRefuseOversizeBatchesAndFallbacksAreCounted) {
  service_options o;
  o.max_work = 1e5;  // 40 systems of order 16 need ~2e5 multiply-adds
  running_service s(o);
  const systems in(40, 16, 1, 5);
  remote_client client({s.service.endpoint(), "", "", {}});
  auto resp = round_trip(client, batch_frame(in, {"digital-f64", {}}));
  ASSERT_TRUE(std::holds_alternative<error_reply>(resp));
  EXPECT_EQ(std::get<error_reply>(resp).code, error_code::work_limit);
  // Half the batch fits.
  const systems half(2, 16, 1, 6);
  resp = round_trip(client, batch_frame(half, {"digital-f64", {}}, 2));
  ASSERT_TRUE(std::holds_alternative<reply>(resp));
  EXPECT_EQ(std::get<reply>(resp).items.back().count, 2U);
  // Through the backend: refused chunks are answered locally, flagged and counted by reason.
  reset_remote_fallbacks();
  auto remote = solver::create_batch_solver({"remote", {{"endpoint", s.service.endpoint()}, {"batch-chunk", "40"}}}, 16, 1);
  const result got = run(*remote, in);
  for (const auto& st : got.status) {
    EXPECT_TRUE(st.solve.ok);
    EXPECT_TRUE(st.solve.fallback);
  }
  const Eigen::Map<const cmat> a0(in.a.data(), 16, 16), b0(in.b.data(), 16, 1), x0(got.x.data(), 16, 1);
  EXPECT_LT((a0 * x0 - b0).norm() / b0.norm(), 1e-10);
  const fallback_tally t = remote_fallbacks();
  EXPECT_EQ(t.total, 40U);
  EXPECT_EQ(t.by_reason.count("refused: work limit"), 1U);
  // With on-failure=error the same call throws.
  auto strict = solver::create_batch_solver(
      {"remote", {{"endpoint", s.service.endpoint()}, {"batch-chunk", "40"}, {"on-failure", "error"}}}, 16, 1);
  EXPECT_THROW(run(*strict, in), io_error);
  EXPECT_GE(s.service.counters().work_refusals, 3U);
}

TEST(RemoteBatch, GarbageBatchMessagesGetErrorRepliesAndTheServiceKeepsServing) {
  running_service s;
  remote_client client({s.service.endpoint(), "", "", {}});
  const systems in(4, 3, 2, 7);
  const bytes good = batch_frame(in, {"digital-f64", {}}, 1, 3);
  const std::size_t item = header_bytes + std::strlen("digital-f64");
  rng gen(12);
  for (int trial = 0; trial < 40; ++trial) {
    bytes bad = good;
    // Corrupt the item header or cut the payload; the id stays readable.
    if (trial % 2 == 0) {
      const std::size_t at = item + static_cast<std::size_t>(gen.below(24));
      bad[at] = static_cast<std::byte>(1 + gen.below(255));
      if (bad[at] == good[at]) bad[at] ^= std::byte{0x40};
    } else {
      bad.resize(item + static_cast<std::size_t>(gen.below(good.size() - item)));
    }
    std::uint64_t id = 100 + static_cast<std::uint64_t>(trial);
    std::memcpy(bad.data() + 8, &id, sizeof id);
    const auto resp = round_trip(client, bad);
    if (std::holds_alternative<reply>(resp)) {
      // A corruption that is still a valid message (a flipped structure byte, a changed
      // order whose payload still adds up): answered, and shaped as asked.
      EXPECT_EQ(std::get<reply>(resp).id, id);
      continue;
    }
    EXPECT_EQ(std::get<error_reply>(resp).id, id) << "trial " << trial;
    EXPECT_NE(std::get<error_reply>(resp).code, error_code::internal) << std::get<error_reply>(resp).message;
  }
  // A non-finite system is reported by itself; the others are solved.
  systems nan = in;
  nan.a[1 * 9 + 4] = cf64(std::numeric_limits<double>::quiet_NaN(), 0.0);
  const auto resp = round_trip(client, batch_frame(nan, {"digital-f64", {}}, 1000, 5));
  ASSERT_TRUE(std::holds_alternative<reply>(resp));
  const item_result& res = std::get<reply>(resp).items.back();
  ASSERT_EQ(res.statuses.size(), 4U);
  EXPECT_EQ(res.statuses[1].code, error_code::non_finite);
  EXPECT_FALSE(res.statuses[1].matrix_ok);
  for (const int m : {0, 2, 3}) {
    EXPECT_TRUE(res.statuses[static_cast<std::size_t>(m)].solve_ok);
    const Eigen::Map<const cmat> a(in.a.data() + m * 9, 3, 3), b(in.b.data() + m * 6, 3, 2);
    const Eigen::Map<const Eigen::Matrix<cf64, Eigen::Dynamic, Eigen::Dynamic>> x(
        reinterpret_cast<const cf64*>(res.x64.data()) + m * 6, 3, 2);
    EXPECT_LT((a * x - b).norm() / b.norm(), 1e-10);
  }
  for (int k = 0; k < 6; ++k) EXPECT_EQ(res.x64[static_cast<std::size_t>(6 * 2 + k)], 0.0);
}

// Each reserve() waits for its connection's first reply; once one went unanswered the
// next ones only send: a receiver building many backends against a dead service waits
// once, not once per backend.
TEST(RemoteBatch, WarmUpsAgainstADeadServiceWaitOnce) {
  std::vector<std::unique_ptr<solver::batch_solver>> backends;
  for (int k = 0; k < 4; ++k) {
    backends.push_back(solver::create_batch_solver(
        {"remote", {{"endpoint", "tcp://127.0.0.1:9"}, {"timeout-ms", "500"}}}, 4, static_cast<std::uint64_t>(k)));
  }
  const auto t0 = std::chrono::steady_clock::now();
  for (auto& b : backends) b->reserve(2);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 1500ms) << "four waits of 500 ms would take 2 s";
  // And they still answer (locally, counted) after it.
  const systems in(3, 4, 2, 9);
  for (const auto& st : run(*backends[0], in).status) EXPECT_TRUE(st.solve.fallback);
}

TEST(RemoteBatch, ServiceGoneMeansCountedLocalAnswers) {
  reset_remote_fallbacks();
  const systems in(10, 5, 2, 8);
  auto remote = solver::create_batch_solver(
      {"remote", {{"endpoint", "tcp://127.0.0.1:9"}, {"timeout-ms", "100"}, {"retries", "1"}, {"batch-chunk", "4"}}}, 5, 1);
  const result got = run(*remote, in);
  auto local = solver::create_batch_solver({"digital-f64", {}}, 5, 1);
  const result want = run(*local, in);
  EXPECT_EQ(got.x, want.x);
  for (const auto& st : got.status) EXPECT_TRUE(st.solve.fallback);
  const auto& c = dynamic_cast<remote_batch_solver&>(*remote).counters();
  EXPECT_EQ(c.timeouts, 1U);
  EXPECT_EQ(c.local_fallbacks, 10U);
  EXPECT_EQ(remote_fallbacks().total, 10U);
  // Backing off: the next call does not wait for the service again.
  const auto t0 = std::chrono::steady_clock::now();
  (void)run(*remote, in);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 100ms);
  EXPECT_EQ(c.timeouts, 1U);
}

// A chunk that timed out is retried with its id; when that copy is answered `busy`, the
// first copy may still be queued at the service, so the chunk waits for it instead of going
// again under a fresh id (which the service's retry cache cannot recognise: the chunk ran
// twice, and an analog backend's later chunks drew other noise). A scripted service: it
// answers the warm-up, keeps the chunk's first copy, answers the retry `busy`, listens, and
// then answers the first copy.
TEST(RemoteBatch, AChunkAnsweredBusyAfterARetryIsNotSentAgainUnderAFreshId) {
  zmq::context_t context(1);
  zmq::socket_t router(context, zmq::socket_type::router);
  router.set(zmq::sockopt::linger, 0);
  router.bind("tcp://127.0.0.1:*");
  const std::string endpoint = router.get(zmq::sockopt::last_endpoint);
  std::vector<std::uint64_t> ids;  // request ids the service received, in order
  std::vector<double> answer;      // the X the service sent (reals)
  std::thread service([&] {
    const auto next = [&](std::chrono::milliseconds wait, std::string& peer, request& req) {
      zmq::pollitem_t item{router.handle(), 0, ZMQ_POLLIN, 0};
      if (zmq::poll(&item, 1, wait) == 0) return false;
      zmq::message_t who;
      zmq::message_t body;
      (void)router.recv(who);
      (void)router.recv(body);
      peer = who.to_string();
      req = decode_request(std::span<const std::byte>(static_cast<const std::byte*>(body.data()), body.size()));
      ids.push_back(req.id);
      return true;
    };
    const auto send = [&](const std::string& peer, const bytes& frame) {
      router.send(zmq::buffer(peer), zmq::send_flags::sndmore);
      router.send(zmq::buffer(frame.data(), frame.size()));
    };
    std::string peer;
    request req;
    if (!next(5000ms, peer, req)) return;  // the warm-up: no items
    send(peer, encode_reply({req.id, req.session, req.element, {}}));
    if (!next(5000ms, peer, req)) return;  // the chunk
    const request first = req;
    if (!next(5000ms, peer, req)) return;  // its retry, after the 400 ms timeout
    send(peer, encode_error({req.id, req.session, error_code::busy, "queue full"}));
    (void)next(250ms, peer, req);  // a fresh-id copy would come within the busy back-off
    reply r{first.id, first.session, first.element, {}};
    item_result res;
    res.op = item_op::solve_batch;
    res.ok = true;
    res.count = 1;
    res.rows = 3;
    res.cols = 1;
    res.statuses = {batch_item_status{true, true, true, false, error_code::none, 1, 0.0, 0.0, 0.0}};
    for (int k = 0; k < 6; ++k) answer.push_back(0.25 * (k + 1));
    res.x64 = answer;
    r.items.push_back(res);
    send(peer, encode_reply(r));
    (void)next(600ms, peer, req);  // nothing else may come
  });
  reset_remote_fallbacks();
  const systems in(1, 3, 1, 4);
  auto remote = solver::create_batch_solver(
      {"remote", {{"endpoint", endpoint}, {"timeout-ms", "400"}, {"retries", "1"}, {"batch-chunk", "1"}, {"window", "1"}}},
      3, 1);
  remote->reserve(1);  // the warm-up
  const result got = run(*remote, in);
  service.join();
  ASSERT_EQ(ids.size(), 3U) << "a fourth request is the chunk sent again under a fresh id";
  EXPECT_EQ(ids[1], ids[2]);  // the retry kept the chunk's id
  ASSERT_EQ(got.status.size(), 1U);
  EXPECT_TRUE(got.status[0].solve.ok);
  EXPECT_FALSE(got.status[0].solve.fallback);
  for (int k = 0; k < 3; ++k) EXPECT_EQ(got.x[static_cast<std::size_t>(k)], cf64(answer[2 * k], answer[2 * k + 1]));
  EXPECT_EQ(remote_fallbacks().total, 0U);
}

// Steady-state service traffic must not hand pages back to the kernel and fault them in
// again on every request: each request's buffers (ZeroMQ's receive buffers, the decoded
// request, the reply) are freed on other threads than the ones that allocated them, and
// glibc's default 128 KiB trim threshold then returned the tops of the worker arenas to the
// kernel after most requests. On the 2-core VM that halved amimo-bs's remote real-time
// factor (README "Solver offload"). The service keeps freed memory for reuse
// (core/heap_tuning.h); this counts the process's minor page faults over many requests after
// a warm-up.
TEST(RemoteBatch, SteadyStateRequestsDoNotFaultPagesBackIn) {
  running_service s;
  // The service set glibc's thresholds; a sanitizer's allocator (or another C library)
  // refuses them, and its faults say nothing about the service.
  if (!keep_freed_memory_for_reuse()) GTEST_SKIP() << "the allocator does not take glibc's mallopt thresholds";
  for (const int n : {4, 16}) {
    const systems in(256, n, n, 8);
    auto remote = solver::create_batch_solver({"remote",
                                               {{"endpoint", s.service.endpoint()},
                                                {"backend", "digital-f64"},
                                                {"batch-chunk", "64"},
                                                {"window", "4"},
                                                {"on-failure", "error"}}},
                                              n, 1);
    remote->reserve(1);
    for (int k = 0; k < 30; ++k) (void)run(*remote, in);
    rusage before{};
    getrusage(RUSAGE_SELF, &before);
    constexpr int kCalls = 60;
    for (int k = 0; k < kCalls; ++k) (void)run(*remote, in);
    rusage after{};
    getrusage(RUSAGE_SELF, &after);
    const long faults = after.ru_minflt - before.ru_minflt;
    // A request of 64 systems of order 16 is 278 KiB (68 pages); with glibc's default
    // thresholds this counted 22k-36k faults (~150 per request), with the service's
    // settings 7-330 (start-up of lazily grown buffers).
    EXPECT_LT(faults, 16 * kCalls) << "order " << n << ": " << faults << " minor page faults over " << kCalls
                                  << " calls of 4 requests";
  }
}

}  // namespace
}  // namespace amimo::remote
