// The receiver allocates nothing per frame once warmed up on its non-digital chains too:
// the remote chain (remote_batch_solver against an amimo-solverd engine in a child
// process, so only this process's allocations are counted) and the analog chain at 32×8,
// where K = 8 users make a 16×16 real system that the paper-board profile's 8×8 arrays
// only hold through BlockAMC. A counting global operator new in this executable counts
// every C++ allocation made while frames stream through (libzmq's message buffers are
// malloc'ed inside libzmq and are not C++ allocations of this code).
//
// The remote chain with a digital-f64 service backend also gives the same outputs as the
// in-process digital-f64 chain, bit for bit (the same compact kernels run on exactly the
// same cf64 values, only on the other side of a socket).
#include <amimo/core/rng.h>
#include <amimo/remote/remote_solver.h>
#include <amimo/remote/solver_service.h>
#include <amimo/solver/batch_solver.h>
#include <amimo/solver/solver_factory.h>

#include "allocation_stream.h"

#include <gtest/gtest.h>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <new>
#include <string>
#include <vector>

namespace amimo::pipeline {
namespace {

using test_support::counted_run;

std::atomic<bool> g_child_stop{false};
extern "C" void on_term(int) { g_child_stop = true; }

// amimo-solverd's engine in a child process (forked while this process has no threads).
class child_service {
 public:
  child_service() {
    int fds[2];
    if (::pipe(fds) != 0) throw std::runtime_error("pipe");
    pid_ = ::fork();
    if (pid_ == 0) {
      ::close(fds[0]);
      ::signal(SIGTERM, on_term);
      int status = 0;
      {
        remote::service_options o;
        o.workers = 2;
        remote::solver_service service(o);
        const std::string endpoint = service.endpoint() + "\n";
        if (::write(fds[1], endpoint.data(), endpoint.size()) != static_cast<ssize_t>(endpoint.size())) status = 1;
        ::close(fds[1]);
        service.run(&g_child_stop);
        if (!service.shutdown()) std::_Exit(status);
      }
      std::_Exit(status);
    }
    ::close(fds[1]);
    char ch = 0;
    while (::read(fds[0], &ch, 1) == 1 && ch != '\n') endpoint_ += ch;
    ::close(fds[0]);
  }
  ~child_service() {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      int status = 0;
      ::waitpid(pid_, &status, 0);
    }
  }
  const std::string& endpoint() const noexcept { return endpoint_; }

 private:
  pid_t pid_ = -1;
  std::string endpoint_;
};

TEST(ReceiverOffloadAllocations, RemoteChainAllocatesNothingPerFrameAndMatchesTheLocalChain) {
  child_service service;
  ASSERT_EQ(service.endpoint().rfind("tcp://127.0.0.1:", 0), 0U) << service.endpoint();
  for (const detect::detection_mode mode : {detect::detection_mode::per_block, detect::detection_mode::per_vector}) {
    receiver_config cfg;
    cfg.antennas = 16;
    cfg.users = 4;
    cfg.threads = 2;
    cfg.mode = mode;
    cfg.chains = {{detect::detector_kind::mmse,
                   {"remote", {{"endpoint", service.endpoint()}, {"backend", "digital-f64"}, {"on-failure", "error"}}},
                   {}},
                  {detect::detector_kind::mmse, {"digital-f64", {}}, {}}};
    remote::reset_remote_fallbacks();
    const counted_run run = test_support::stream(cfg, 10);
    EXPECT_GE(run.decoded, 5U) << "frames must really stream through the counted interval";
    EXPECT_EQ(run.allocations, 0U) << detect::to_string(mode) << ": " << run.allocations << " allocations over "
                                   << run.decoded << " frames";
    EXPECT_EQ(remote::remote_fallbacks().total, 0U) << remote::remote_fallback_warning();
    const chain_stats& remote_chain = run.stats.chains[0];
    const chain_stats& local_chain = run.stats.chains[1];
    EXPECT_GT(remote_chain.frames, 0U);
    EXPECT_EQ(remote_chain.bit_errors, 0U);
    // Bit for bit: Σ|ŝ − s|² over every scored symbol is the same double.
    EXPECT_EQ(remote_chain.user_error_energy, local_chain.user_error_energy) << detect::to_string(mode);
    EXPECT_EQ(remote_chain.erased_streams, local_chain.erased_streams);
  }
}

// A remote chain's own block count (remote_subcarrier_blocks: 0 = the digital chain's 12,
// one block per frame, an odd split) changes which subcarriers share a request, never the
// result: each (chain, block) item must cover its own subcarriers exactly once.
TEST(ReceiverOffloadAllocations, RemoteChainBlocksOfAnySizeGiveTheLocalChainsBits) {
  child_service service;
  ASSERT_EQ(service.endpoint().rfind("tcp://127.0.0.1:", 0), 0U) << service.endpoint();
  for (const int blocks : {0, 1, 7}) {
    receiver_config cfg;
    cfg.antennas = 8;
    cfg.users = 2;
    cfg.threads = 2;
    cfg.remote_subcarrier_blocks = blocks;
    cfg.chains = {{detect::detector_kind::mmse, {"digital-f64", {}}, {}},
                  {detect::detector_kind::mmse,
                   {"remote", {{"endpoint", service.endpoint()}, {"backend", "digital-f64"}, {"on-failure", "error"},
                               {"batch-chunk", "16"}}},
                   {}}};
    remote::reset_remote_fallbacks();
    const counted_run run = test_support::stream(cfg, 8);
    EXPECT_EQ(remote::remote_fallbacks().total, 0U) << remote::remote_fallback_warning();
    const chain_stats& local_chain = run.stats.chains[0];
    const chain_stats& remote_chain = run.stats.chains[1];
    ASSERT_GT(remote_chain.frames, 0U) << blocks;
    EXPECT_EQ(remote_chain.frames, local_chain.frames) << blocks;
    EXPECT_EQ(remote_chain.bits, local_chain.bits) << blocks;
    EXPECT_EQ(remote_chain.user_error_energy, local_chain.user_error_energy) << blocks;
    EXPECT_EQ(remote_chain.solver.matrices, local_chain.solver.matrices) << blocks;
  }
}

// A worker's remote solver may get its first item long after the receiver's warm-up
// frames (with two remote blocks per frame one thread can take both for a while). Its
// first solve must not allocate either: reserve() makes the connection's first round trip
// (without it a fresh client's first solve made 27 allocations inside libzmq), and a
// backend spec with options (longer than a short string's inline buffer) is encoded once,
// not per thread on first use. The analog spec goes first, before any long spec text was
// seen on this thread.
TEST(ReceiverOffloadAllocations, RemoteBatchSolversFirstSolveAfterReserveAllocatesNothing) {
  child_service service;
  ASSERT_EQ(service.endpoint().rfind("tcp://127.0.0.1:", 0), 0U) << service.endpoint();
  constexpr int count = 24, n = 4, r = 4;
  std::vector<cf64> a, b, x(static_cast<std::size_t>(count * n * r));
  rng gen(5);
  for (int m = 0; m < count; ++m) {
    cmat h(2 * n, n), v(n, r);
    gen.fill_complex_normal(h);
    gen.fill_complex_normal(v);
    const cmat g = h.adjoint() * h;
    a.insert(a.end(), g.data(), g.data() + g.size());
    b.insert(b.end(), v.data(), v.data() + v.size());
  }
  std::vector<solver::batch_status> status(count);
  for (const bool analog : {true, false}) {
    solver::solver_spec spec{"remote",
                             {{"endpoint", service.endpoint()}, {"backend", analog ? "analog" : "digital-f64"},
                              {"on-failure", "error"}, {"batch-chunk", "8"}}};
    if (analog) spec.options.insert({{"profile", "paper-board"}, {"iters", "3"}});
    auto remote = solver::create_batch_solver(spec, n, 1);
    remote->reserve(r);
    const std::uint64_t before = g_allocations.load();
    remote->solve(status, solver::column_major_batch(x.data(), count, n, r),
                  solver::column_major_batch(a.data(), count, n, n), solver::column_major_batch(b.data(), count, n, r),
                  solver::matrix_structure::hermitian);
    EXPECT_EQ(g_allocations.load() - before, 0U) << "allocations in the first solve after reserve(), analog " << analog;
    for (int m = 0; m < count; ++m) ASSERT_TRUE(status[static_cast<std::size_t>(m)].solve.ok) << m;
    if (analog) {
      // The service's chip from the same seed, in process: bit for bit (the warm-up drew nothing).
      std::vector<cf64> want(x.size());
      std::vector<solver::batch_status> want_status(count);
      auto local = solver::create_batch_solver({"analog", {{"profile", "paper-board"}, {"iters", "3"}}}, n, 1);
      local->solve(want_status, solver::column_major_batch(want.data(), count, n, r),
                   solver::column_major_batch(a.data(), count, n, n), solver::column_major_batch(b.data(), count, n, r),
                   solver::matrix_structure::hermitian);
      EXPECT_EQ(x, want);
      continue;
    }
    for (int m = 0; m < count; ++m) {
      ASSERT_FALSE(status[static_cast<std::size_t>(m)].solve.fallback) << m;
      const Eigen::Map<const cmat> am(a.data() + m * n * n, n, n), bm(b.data() + m * n * r, n, r),
          xm(x.data() + m * n * r, n, r);
      EXPECT_LT((am * xm - bm).norm() / bm.norm(), 1e-10) << m;
    }
  }
}

TEST(ReceiverOffloadAllocations, AnalogChainWithBlockAmcAllocatesNothingPerFrame) {
  receiver_config cfg;
  cfg.antennas = 32;
  cfg.users = 8;
  cfg.threads = 2;
  cfg.mode = detect::detection_mode::per_block;
  cfg.chains = {{detect::detector_kind::mmse, {"analog", {{"profile", "paper-board"}, {"iters", "3"}}}, {}}};
  const counted_run run = test_support::stream(cfg, 10);
  EXPECT_GE(run.decoded, 5U);
  EXPECT_EQ(run.allocations, 0U) << run.allocations << " allocations over " << run.decoded << " frames";
  EXPECT_GT(run.stats.chains[0].solver.solves, 0U);
}

}  // namespace
}  // namespace amimo::pipeline
