// amimo-solverd as a process on a free loopback port, attacked as a hostile client would:
// a flood of 40 pipelined 16 MiB requests is answered `busy` past the bound while the
// service's VmRSS (read from /proc) stays bounded; SIGTERM stops it within a second while
// its worker is inside a long analog solve. Usage: test_solverd_process PATH-TO-amimo-solverd
#include <amimo/core/rng.h>
#include <amimo/remote/remote_solver.h>

#include <gtest/gtest.h>

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace amimo::remote {
namespace {

using namespace std::chrono_literals;
std::string solverd_path;

#if defined(__SANITIZE_ADDRESS__)
constexpr double rss_slack_mib = 600;  // ASan's quarantine holds freed blocks
#else
constexpr double rss_slack_mib = 96;
#endif

struct service_process {
  explicit service_process(std::vector<std::string> flags) {
    char name[] = "/tmp/amimo-solverd-XXXXXX";
    dir = mkdtemp(name);
    const std::string port_file = dir + "/port";
    std::vector<std::string> args = {solverd_path, "--port-file", port_file};
    args.insert(args.end(), flags.begin(), flags.end());
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    const std::string log = dir + "/log";
    posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (posix_spawn(&pid, solverd_path.c_str(), &actions, nullptr, argv.data(), environ) != 0) pid = -1;
    posix_spawn_file_actions_destroy(&actions);
    for (int k = 0; k < 200 && endpoint.empty(); ++k) {
      std::this_thread::sleep_for(25ms);
      std::ifstream in(port_file);
      std::getline(in, endpoint);
    }
  }
  ~service_process() {
    if (pid > 0) {
      kill(pid, SIGKILL);
      waitpid(pid, nullptr, 0);
    }
    std::filesystem::remove_all(dir);
  }
  double rss_mib() const {
    std::ifstream in("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    while (std::getline(in, line)) {
      if (line.rfind("VmRSS:", 0) == 0) return std::stod(line.substr(6)) / 1024.0;
    }
    return -1.0;
  }
  std::string log() const {
    std::ifstream in(dir + "/log");
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }
  pid_t pid = -1;
  std::string dir;
  std::string endpoint;
};

TEST(SolverdProcess, FloodIsAnsweredBusyWithBoundedMemory) {
  service_process s({"--workers", "1", "--client-queue", "2", "--max-queue", "4", "--queue-mib", "64"});
  ASSERT_FALSE(s.endpoint.empty()) << s.log();
  const double rss0 = s.rss_mib();
  // One 16 MiB request (a 1024×1024 cf64 matrix), sent 40 times with fresh ids.
  request r;
  r.session = 1;
  r.max_size = 1024;
  r.spec = {"digital-f64", {}};
  r.items = {{item_op::set_matrix, solver::matrix_structure::hermitian, 0, cmat::Identity(1024, 1024)}};
  bytes frame = encode_request(r);
  remote_client client({s.endpoint, "", "", {}});
  constexpr int flood = 40;
  for (std::uint64_t k = 1; k <= flood; ++k) {
    std::memcpy(frame.data() + 8, &k, sizeof k);
    client.send(frame);
  }
  frame.clear();
  frame.shrink_to_fit();
  int busy = 0;
  int served = 0;
  double peak = rss0;
  while (busy + served < flood) {
    peak = std::max(peak, s.rss_mib());
    auto resp = client.receive(50ms);
    if (!resp) {
      ASSERT_EQ(waitpid(s.pid, nullptr, WNOHANG), 0) << "the service died";
      continue;
    }
    if (std::holds_alternative<error_reply>(*resp) && std::get<error_reply>(*resp).code == error_code::busy) {
      ++busy;
    } else {
      ++served;
    }
  }
  peak = std::max(peak, s.rss_mib());
  std::cout << "flood: 40 x 16 MiB pipelined: " << busy << " busy, " << served << " served; service VmRSS "
            << rss0 << " -> peak " << peak << " MiB (measured)\n";
  EXPECT_GT(busy, 0);
  EXPECT_GE(served, 1);
  // Bound: the queued bytes (64 MiB) + the request being decoded and run (3 × 16 MiB) + slack.
  EXPECT_LT(peak - rss0, 64 + 3 * 16 + rss_slack_mib);
}

TEST(SolverdProcess, SigtermStopsWithinASecondWhileAWorkerIsBusy) {
  service_process s({"--workers", "1", "--max-work", "1e15", "--deadline", "600", "--client-queue", "16"});
  ASSERT_FALSE(s.endpoint.empty()) << s.log();
  // Eight heavy analog requests on eight sessions, one worker: the worker stays busy for
  // several solves, so the signal finds it inside one whatever the machine's speed (three
  // were no longer enough once the analog simulator got faster); the client queue is raised
  // so that none of them is refused busy.
  constexpr int requests = 8;
  rng gen(3);
  remote_client client({s.endpoint, "", "", {}});
  for (std::uint64_t session = 9; session < 9 + requests; ++session) {
    request r;
    r.id = 1;
    r.session = session;
    r.max_size = 192;
    r.spec = {"analog", {{"iters", "64"}, {"tol", "0"}}};
    cmat h(384, 192);
    gen.fill_complex_normal(h);
    cmat b(192, 192);
    gen.fill_complex_normal(b);
    r.items = {{item_op::set_matrix, solver::matrix_structure::hermitian, 0, h.adjoint() * h},
               {item_op::solve, solver::matrix_structure::hermitian, 0, b}};
    client.send(r);
  }
  // Let the worker start (the process burns CPU); at least one request must still be open.
  std::this_thread::sleep_for(700ms);
  int answered = 0;
  while (client.receive(10ms).has_value()) ++answered;
  ASSERT_LT(answered, requests) << "every request finished already: make them heavier";
  const auto t0 = std::chrono::steady_clock::now();
  ASSERT_EQ(kill(s.pid, SIGTERM), 0);
  int status = 0;
  pid_t done = 0;
  while ((done = waitpid(s.pid, &status, WNOHANG)) == 0 && std::chrono::steady_clock::now() - t0 < 5s) {
    std::this_thread::sleep_for(5ms);
  }
  const double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  ASSERT_EQ(done, s.pid) << "still running " << took << " s after SIGTERM";
  s.pid = -1;
  std::cout << "SIGTERM with a busy worker: exited after " << took << " s (measured)\n";
  EXPECT_LT(took, 1.0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  EXPECT_NE(s.log().find("stopped"), std::string::npos) << s.log();
}

TEST(SolverdProcess, BannerStatesTheLimits) {
  service_process s({"--client-sessions", "3", "--max-work", "5e9"});
  ASSERT_FALSE(s.endpoint.empty()) << s.log();
  std::this_thread::sleep_for(100ms);
  const std::string log = s.log();
  EXPECT_NE(log.find("3 sessions"), std::string::npos) << log;
  EXPECT_NE(log.find("5e+09 modelled multiply-adds"), std::string::npos) << log;
  EXPECT_NE(log.find("plain TCP"), std::string::npos) << log;
}

}  // namespace
}  // namespace amimo::remote

int main(int argc, char** argv) {
  testing::InitGoogleTest(&argc, argv);
  if (argc < 2) {
    std::cerr << "usage: test_solverd_process PATH-TO-amimo-solverd [gtest flags]\n";
    return 2;
  }
  amimo::remote::solverd_path = argv[1];
  return RUN_ALL_TESTS();
}
