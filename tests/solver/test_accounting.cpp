#include <amimo/solver/accounting_solver.h>
#include <amimo/solver/solver_factory.h>

#include <gtest/gtest.h>

#include <cmath>

namespace amimo::solver {
namespace {

// Test double: returns scripted statuses so the decorator's bookkeeping can be checked.
class scripted_solver final : public linear_solver {
 public:
  std::string_view name() const noexcept override { return "scripted"; }
  matrix_status set_matrix(cmat_cref, matrix_structure) override {
    matrix_status s;
    s.ok = next_matrix_ok;
    s.modelled_seconds = 2e-6;
    s.modelled_joules = 3e-9;
    return s;
  }
  solve_status solve(cmat_ref x, cmat_cref b) override {
    x = b;
    solve_status s;
    s.iterations = 3;
    s.residual = residual;
    s.fallback = fallback;
    s.modelled_seconds = 1e-6;
    s.modelled_joules = 1e-9;
    return s;
  }
  void reseed(std::uint64_t seed) noexcept override { last_seed = seed; }
  bool next_matrix_ok = true;
  bool fallback = false;
  double residual = 0.25;
  std::uint64_t last_seed = 0;
};

TEST(AccountingSolver, CountsEverythingTheBackendReports) {
  auto inner = std::make_unique<scripted_solver>();
  scripted_solver* script = inner.get();
  accounting_solver acc(std::move(inner));
  EXPECT_EQ(acc.name(), "scripted");
  cmat x(2, 3);
  acc.set_matrix(cmat::Identity(2, 2), matrix_structure::hermitian);
  acc.solve(x, cmat::Ones(2, 3));
  script->fallback = true;
  script->residual = 0.75;
  acc.solve(x, cmat::Ones(2, 3));
  script->next_matrix_ok = false;
  acc.set_matrix(cmat::Identity(2, 2), matrix_structure::hermitian);
  acc.reseed(77);
  EXPECT_EQ(script->last_seed, 77U);

  const solver_stats& s = acc.stats();
  EXPECT_EQ(s.matrices, 2U);
  EXPECT_EQ(s.unusable_matrices, 1U);
  EXPECT_EQ(s.solves, 2U);
  EXPECT_EQ(s.right_hand_sides, 6U);
  EXPECT_EQ(s.fallbacks, 1U);
  EXPECT_EQ(s.iterations, 6U);
  EXPECT_DOUBLE_EQ(s.mean_iterations(), 3.0);
  EXPECT_DOUBLE_EQ(s.mean_residual(), 0.5);
  EXPECT_DOUBLE_EQ(s.residual_max, 0.75);
  EXPECT_DOUBLE_EQ(s.modelled_matrix_seconds, 4e-6);
  EXPECT_DOUBLE_EQ(s.modelled_solve_joules, 2e-9);
  EXPECT_GE(s.measured_seconds, 0.0);

  solver_stats merged = s;
  merged.merge(s);
  EXPECT_EQ(merged.solves, 4U);
  EXPECT_DOUBLE_EQ(merged.mean_residual(), 0.5);
  acc.reset_stats();
  EXPECT_EQ(acc.stats().solves, 0U);
}

TEST(AccountingSolver, DigitalBackendsReportNoResidualAndNoModelledCost) {
  accounting_solver acc(create_linear_solver({"digital-f64", {}}, 4, 1));
  cmat x(4, 1);
  acc.set_matrix(cmat::Identity(4, 4), matrix_structure::hermitian);
  acc.solve(x, cmat::Ones(4, 1));
  EXPECT_TRUE(std::isnan(acc.stats().mean_residual()));
  EXPECT_EQ(acc.stats().modelled_solve_joules, 0.0);
  EXPECT_EQ(acc.stats().failed_solves, 0U);
}

}  // namespace
}  // namespace amimo::solver
