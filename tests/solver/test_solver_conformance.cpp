// Conformance suite every backend must pass: random Hermitian positive-definite systems
// with condition numbers 1…1e6, error bounded by the backend's precision × condition.
#include <amimo/core/error.h>
#include <amimo/core/rng.h>
#include <amimo/solver/solver_factory.h>

#include <Eigen/QR>
#include <gtest/gtest.h>

#include <algorithm>

#include <cmath>
#include <limits>

namespace amimo::solver {
namespace {

// A = Q diag(λ) Qᴴ with λ log-spaced from 1 to 1/cond: condition number exactly `cond`.
cmat random_hpd(int n, double cond, rng& gen) {
  cmat g(n, n);
  gen.fill_complex_normal(g);
  const cmat q = Eigen::HouseholderQR<cmat>(g).householderQ();
  rvec lambda(n);
  for (int i = 0; i < n; ++i) lambda(i) = std::pow(cond, -static_cast<double>(i) / std::max(1, n - 1));
  return q * lambda.cast<cf64>().asDiagonal() * q.adjoint();
}

double unit_roundoff(const std::string& name) {
  return name == "digital-f32" ? std::numeric_limits<float>::epsilon() : std::numeric_limits<double>::epsilon();
}

struct conformance_case {
  std::string solver;
  int size;
  double cond;
};

class SolverConformance : public ::testing::TestWithParam<conformance_case> {};

TEST_P(SolverConformance, SolvesHermitianPositiveDefiniteSystemsToPrecisionTimesCondition) {
  const auto [name, n, cond] = GetParam();
  auto solver = create_linear_solver({name, {}}, n, 1);
  rng gen(static_cast<std::uint64_t>(n * 1000 + std::log10(cond)));
  for (int trial = 0; trial < 5; ++trial) {
    const cmat a = random_hpd(n, cond, gen);
    cmat x_true(n, 3);
    gen.fill_complex_normal(x_true);
    const cmat b = a * x_true;
    cmat x(n, 3);
    const matrix_status loaded = solver->set_matrix(a, matrix_structure::hermitian);
    ASSERT_TRUE(loaded.ok);
    const solve_status status = solver->solve(x, b);
    ASSERT_TRUE(status.ok);
    EXPECT_FALSE(status.fallback);
    const double error = (x - x_true).norm() / x_true.norm();
    EXPECT_LE(error, 20.0 * n * unit_roundoff(name) * cond) << name << " n=" << n << " cond=" << cond;
  }
}

std::vector<conformance_case> all_cases() {
  std::vector<conformance_case> cases;
  for (const std::string& name : available_solvers()) {
    // Precision against condition number is a digital contract; the analog backends'
    // precision (iterations, profile) is tested in tests/analog.
    if (name.rfind("digital", 0) != 0) continue;
    for (const int n : {1, 4, 16, 64}) {
      for (const double cond : {1.0, 1e2, 1e4, 1e6}) cases.push_back({name, n, cond});
    }
  }
  return cases;
}

INSTANTIATE_TEST_SUITE_P(EveryBackend, SolverConformance, ::testing::ValuesIn(all_cases()),
                         [](const auto& param_info) {
                           std::string s = param_info.param.solver + "_n" + std::to_string(param_info.param.size) + "_cond1e" +
                                           std::to_string(static_cast<int>(std::log10(param_info.param.cond)));
                           for (char& c : s) if (c == '-') c = '_';
                           return s;
                         });

class SolverFailures : public ::testing::TestWithParam<std::string> {};

TEST_P(SolverFailures, SingularMatrixIsReportedAndSolutionIsZeroNotNan) {
  auto solver = create_linear_solver({GetParam(), {}}, 4, 1);
  cmat a = cmat::Zero(4, 4);
  a(0, 0) = 1.0;
  a(1, 1) = 2.0;  // rank 2
  EXPECT_FALSE(solver->set_matrix(a, matrix_structure::hermitian).ok);
  cmat x(4, 2);
  const solve_status status = solver->solve(x, cmat::Ones(4, 2));
  EXPECT_FALSE(status.ok);
  EXPECT_TRUE(x.allFinite());
  EXPECT_EQ(x, cmat::Zero(4, 2));
}

TEST_P(SolverFailures, NonFiniteMatrixIsReportedNotPropagated) {
  auto solver = create_linear_solver({GetParam(), {}}, 3, 1);
  cmat a = cmat::Identity(3, 3);
  a(1, 2) = std::numeric_limits<double>::quiet_NaN();
  EXPECT_FALSE(solver->set_matrix(a, matrix_structure::hermitian).ok);
  cmat x(3, 1);
  EXPECT_FALSE(solver->solve(x, cmat::Ones(3, 1)).ok);
  EXPECT_TRUE(x.allFinite());
}

TEST_P(SolverFailures, IndefiniteHermitianFallsBackToLdltAndStillSolves) {
  auto solver = create_linear_solver({GetParam(), {}}, 3, 1);
  cmat a(3, 3);
  a << 2, cf64(0, 1), 0, cf64(0, -1), -3, 1, 0, 1, 1;
  const matrix_status loaded = solver->set_matrix(a, matrix_structure::hermitian);
  EXPECT_TRUE(loaded.ok);
  EXPECT_FALSE(loaded.positive_definite);
  const cmat x_true = cmat::Ones(3, 1);
  cmat x(3, 1);
  ASSERT_TRUE(solver->solve(x, a * x_true).ok);
  EXPECT_LT((x - x_true).norm(), 1e-4);
}

TEST_P(SolverFailures, GeneralMatricesUseLu) {
  if (GetParam().rfind("analog", 0) == 0) GTEST_SKIP() << "digital precision contract (analog: tests/analog)";
  auto solver = create_linear_solver({GetParam(), {}}, 5, 1);
  rng gen(4);
  cmat a(5, 5);
  gen.fill_complex_normal(a);
  a += 5.0 * cmat::Identity(5, 5);
  cmat x_true(5, 2);
  gen.fill_complex_normal(x_true);
  ASSERT_TRUE(solver->set_matrix(a, matrix_structure::general).ok);
  cmat x(5, 2);
  ASSERT_TRUE(solver->solve(x, a * x_true).ok);
  EXPECT_LT((x - x_true).norm() / x_true.norm(), 1e-4);
}

TEST_P(SolverFailures, MismatchedRightHandSideIsAnErrorStatus) {
  auto solver = create_linear_solver({GetParam(), {}}, 4, 1);
  ASSERT_TRUE(solver->set_matrix(cmat::Identity(4, 4), matrix_structure::hermitian).ok);
  cmat x(3, 1);
  EXPECT_FALSE(solver->solve(x, cmat::Ones(3, 1)).ok);
}

// Every in-process backend; "remote" needs a running service and is exercised over
// loopback sockets in tests/remote (bad input, NaN, fallbacks) and tests/apps.
std::vector<std::string> local_solvers() {
  std::vector<std::string> names = available_solvers();
  names.erase(std::remove(names.begin(), names.end(), "remote"), names.end());
  return names;
}

INSTANTIATE_TEST_SUITE_P(EveryBackend, SolverFailures, ::testing::ValuesIn(local_solvers()),
                         [](const auto& param_info) {
                           std::string s = param_info.param;
                           for (char& c : s) if (c == '-') c = '_';
                           return s;
                         });

TEST(SolverFactory, UnknownNamesAndOptionsAreConfigErrorsThatNameTheProblem) {
  try {
    (void)create_linear_solver({"quantum", {}}, 4, 1);
    FAIL() << "expected config_error";
  } catch (const config_error& e) {
    EXPECT_NE(std::string(e.what()).find("quantum"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("digital-f64"), std::string::npos);
  }
  EXPECT_THROW(validate_solver_spec({"digital-f64", {{"iters", "3"}}}), config_error);
  EXPECT_THROW((void)create_linear_solver({"digital-f64", {}}, 0, 1), config_error);
}

TEST(DigitalF32, IsLessPreciseThanF64OnIllConditionedSystems) {
  rng gen(6);
  const cmat a = random_hpd(16, 1e5, gen);
  cmat x_true(16, 1);
  gen.fill_complex_normal(x_true);
  cmat x32(16, 1), x64(16, 1);
  auto f32 = create_linear_solver({"digital-f32", {}}, 16, 1);
  auto f64 = create_linear_solver({"digital-f64", {}}, 16, 1);
  f32->set_matrix(a, matrix_structure::hermitian);
  f64->set_matrix(a, matrix_structure::hermitian);
  f32->solve(x32, a * x_true);
  f64->solve(x64, a * x_true);
  EXPECT_GT((x32 - x_true).norm(), 100.0 * (x64 - x_true).norm());
  EXPECT_GT((x32 - x_true).norm() / x_true.norm(), 1e-6);  // FP32 really is FP32
}

TEST(DigitalSolver, MatricesLargerThanTheDeclaredSizeStillSolve) {
  // max_size sizes buffers up front; a larger system grows them instead of failing.
  for (const std::string& name : available_solvers()) {
    if (name.rfind("digital", 0) != 0) continue;  // analog growth: tests/analog
    auto solver = create_linear_solver({name, {}}, 2, 1);
    const cmat a = 4.0 * cmat::Identity(6, 6) + cmat::Ones(6, 6);
    const cmat x_true = cmat::Ones(6, 9);
    cmat x(6, 9);
    ASSERT_TRUE(solver->set_matrix(a, matrix_structure::hermitian).ok);
    ASSERT_TRUE(solver->solve(x, a * x_true).ok);
    EXPECT_LT((x - x_true).norm(), 1e-4) << name;
  }
}

}  // namespace
}  // namespace amimo::solver
