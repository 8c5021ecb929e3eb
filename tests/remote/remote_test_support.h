#pragma once
// Shared by the remote tests: a solver_service running on its own thread for a test's
// scope, and one request/response exchange.
#include <amimo/remote/remote_solver.h>
#include <amimo/remote/solver_service.h>

#include <chrono>
#include <stdexcept>
#include <thread>
#include <variant>

namespace amimo::remote::test_support {

struct running_service {
  explicit running_service(service_options o = {}) : service(std::move(o)), thread([this] { service.run(); }) {}
  ~running_service() {
    service.stop();
    thread.join();
  }
  solver_service service;
  std::thread thread;
};

inline std::variant<reply, error_reply> round_trip(remote_client& client, const bytes& frame) {
  client.send(frame);
  auto r = client.receive(std::chrono::milliseconds(5000));
  if (!r) throw std::runtime_error("no reply within 5 s");
  return *r;
}

}  // namespace amimo::remote::test_support
