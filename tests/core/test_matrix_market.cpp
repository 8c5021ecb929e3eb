#include <amimo/core/error.h>
#include <amimo/core/matrix_market.h>
#include <amimo/core/rng.h>

#include <gtest/gtest.h>

#include <unistd.h>
#include <filesystem>
#include <fstream>
#include <string>

namespace amimo {
namespace {

class MatrixMarket : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = std::filesystem::temp_directory_path() /
           ("amimo-test-mm-" + std::string(info->name()) + "-" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string path(const std::string& name) const { return (dir_ / name).string(); }

  std::string write_text(const std::string& name, const std::string& text) const {
    const std::string p = path(name);
    std::ofstream(p, std::ios::binary) << text;
    return p;
  }

  /// The config_error message for reading text, or "" when it does not throw one.
  std::string config_error_for(const std::string& text) const {
    const std::string p = write_text("bad.mtx", text);
    try {
      read_matrix_market(p);
    } catch (const config_error& e) {
      return e.what();
    }
    return "";
  }

  std::filesystem::path dir_;
};

TEST_F(MatrixMarket, RealMatrixRoundTripsExactly) {
  rng gen(11);
  cmat a(7, 7);
  for (Eigen::Index j = 0; j < 7; ++j)
    for (Eigen::Index i = 0; i < 7; ++i) a(i, j) = cf64(gen.normal() * 1e-3, 0.0);
  a(2, 3) = 0.0;  // zeros are not stored but come back as zeros
  a(4, 1) = 1.0 / 3.0;
  a(0, 0) = -1e300;
  const std::string p = path("real.mtx");
  write_matrix_market(p, a);
  {
    std::ifstream in(p);
    std::string banner;
    std::getline(in, banner);
    EXPECT_EQ(banner, "%%MatrixMarket matrix coordinate real general");
  }
  const cmat b = read_matrix_market(p);
  ASSERT_EQ(b.rows(), 7);
  ASSERT_EQ(b.cols(), 7);
  EXPECT_EQ(b, a);  // bit-exact
  EXPECT_FALSE(std::filesystem::exists(p + ".tmp"));
}

TEST_F(MatrixMarket, ComplexMatrixRoundTripsExactly) {
  rng gen(12);
  cmat a(5, 5);
  gen.fill_complex_normal(a);
  a(1, 1) = cf64(0.0, 2.5);  // purely imaginary entries are stored
  a(3, 0) = cf64(-4.0, 0.0);
  const std::string p = path("complex.mtx");
  write_matrix_market(p, a);
  {
    std::ifstream in(p);
    std::string banner;
    std::getline(in, banner);
    EXPECT_EQ(banner, "%%MatrixMarket matrix coordinate complex general");
  }
  EXPECT_EQ(read_matrix_market(p), a);
}

TEST_F(MatrixMarket, SymmetricCoordinateIsExpanded) {
  const std::string p = write_text("sym.mtx",
                                   "%%MatrixMarket matrix coordinate real symmetric\n"
                                   "% a comment\n"
                                   "%another\n"
                                   "\n"
                                   "3 3 4\n"
                                   "1 1 4.0\n"
                                   "2 1 -1\n"
                                   "3 2 2.5e-1\n"
                                   "3 3 +7\n");
  const cmat a = read_matrix_market(p);
  cmat want = cmat::Zero(3, 3);
  want(0, 0) = 4.0;
  want(1, 0) = want(0, 1) = -1.0;
  want(2, 1) = want(1, 2) = 0.25;
  want(2, 2) = 7.0;
  EXPECT_EQ(a, want);
}

TEST_F(MatrixMarket, HermitianCoordinateIsExpandedWithConjugates) {
  const std::string p = write_text("herm.mtx",
                                   "%%MatrixMarket matrix coordinate complex hermitian\r\n"
                                   "2 2 3\r\n"
                                   "1 1 2 0\r\n"
                                   "2 1 1 -3\r\n"
                                   "2 2 5 0\r\n");
  const cmat a = read_matrix_market(p);
  EXPECT_EQ(a(0, 0), cf64(2, 0));
  EXPECT_EQ(a(1, 0), cf64(1, -3));
  EXPECT_EQ(a(0, 1), cf64(1, 3));
  EXPECT_EQ(a(1, 1), cf64(5, 0));
  EXPECT_EQ(a, a.adjoint());
}

TEST_F(MatrixMarket, SkewSymmetricAndIntegerFields) {
  const std::string p = write_text("skew.mtx",
                                   "%%MatrixMarket matrix coordinate integer skew-symmetric\n"
                                   "3 3 2\n"
                                   "2 1 3\n"
                                   "3 1 -2\n");
  const cmat a = read_matrix_market(p);
  EXPECT_EQ(a(1, 0), cf64(3, 0));
  EXPECT_EQ(a(0, 1), cf64(-3, 0));
  EXPECT_EQ(a(2, 0), cf64(-2, 0));
  EXPECT_EQ(a(0, 2), cf64(2, 0));
  EXPECT_EQ(a.diagonal(), cvec::Zero(3));
}

TEST_F(MatrixMarket, ArrayFormatIsColumnMajor) {
  const std::string p = write_text("array.mtx",
                                   "%%MatrixMarket matrix array real general\n"
                                   "% column-major\n"
                                   "2 2\n"
                                   "1\n"
                                   "2\n"
                                   "3\n"
                                   "4\n");
  const cmat a = read_matrix_market(p);
  EXPECT_EQ(a(0, 0), cf64(1, 0));
  EXPECT_EQ(a(1, 0), cf64(2, 0));
  EXPECT_EQ(a(0, 1), cf64(3, 0));
  EXPECT_EQ(a(1, 1), cf64(4, 0));
}

TEST_F(MatrixMarket, ArraySymmetricAndComplexHermitian) {
  const cmat s = read_matrix_market(write_text("arraysym.mtx",
                                               "%%MatrixMarket matrix array real symmetric\n"
                                               "3 3\n1\n2\n3\n4\n5\n6\n"));
  // Lower triangle column by column: (1,1) (2,1) (3,1) (2,2) (3,2) (3,3).
  rmat want(3, 3);
  want << 1, 2, 3, 2, 4, 5, 3, 5, 6;
  EXPECT_EQ(s.real(), want);
  EXPECT_EQ(s.imag(), rmat::Zero(3, 3));

  const cmat h = read_matrix_market(write_text("arrayherm.mtx",
                                               "%%MatrixMarket MATRIX Array Complex Hermitian\n"
                                               "2 2\n1 0\n2 1\n3 0\n"));
  EXPECT_EQ(h(1, 0), cf64(2, 1));
  EXPECT_EQ(h(0, 1), cf64(2, -1));
  EXPECT_EQ(h(1, 1), cf64(3, 0));

  const cmat k = read_matrix_market(write_text("arrayskew.mtx",
                                               "%%MatrixMarket matrix array real skew-symmetric\n"
                                               "3 3\n1\n2\n3\n"));
  EXPECT_EQ(k(1, 0), cf64(1, 0));
  EXPECT_EQ(k(2, 0), cf64(2, 0));
  EXPECT_EQ(k(2, 1), cf64(3, 0));
  EXPECT_EQ(k(1, 2), cf64(-3, 0));
  EXPECT_EQ(k(0, 0), cf64(0, 0));
}

TEST_F(MatrixMarket, MalformedContentThrowsConfigErrorNamingFileAndLine) {
  struct bad_case {
    const char* name;
    std::string text;
    const char* expect;  // part of the message
  };
  const std::string coord = "%%MatrixMarket matrix coordinate real general\n";
  const std::vector<bad_case> cases = {
      {"empty file", "", "banner"},
      {"no banner", "2 2 1\n1 1 1\n", "line 1: the first line must be"},
      {"misspelt banner", "%%MatrixMarkt matrix coordinate real general\n1 1 1\n1 1 1\n", "banner"},
      {"short banner", "%%MatrixMarket matrix coordinate real\n1 1 1\n1 1 1\n", "4 words"},
      {"vector object", "%%MatrixMarket vector coordinate real general\n1 1 1\n1 1 1\n", "object 'vector'"},
      {"unknown format", "%%MatrixMarket matrix sparse real general\n1 1 1\n1 1 1\n", "format 'sparse'"},
      {"pattern field", "%%MatrixMarket matrix coordinate pattern general\n2 2 1\n1 1\n", "'pattern' is not supported"},
      {"unknown field", "%%MatrixMarket matrix coordinate quaternion general\n1 1 1\n1 1 1\n", "field 'quaternion'"},
      {"unknown symmetry", "%%MatrixMarket matrix coordinate real lower\n1 1 1\n1 1 1\n", "symmetry 'lower'"},
      {"no size line", coord + "% only comments\n", "size line"},
      {"bad size line", coord + "2 2\n", "size line"},
      {"non-numeric size", coord + "two 2 1\n1 1 1\n", "'two' is not an integer"},
      {"non-square", coord + "2 3 1\n1 1 1\n", "line 2: the matrix is 2 x 3; a linear solve needs a square matrix"},
      {"zero size", coord + "0 0 0\n", "at least one row"},
      {"too large", coord + "4097 4097 1\n1 1 1\n", "larger than the 4096 x 4096"},
      {"negative count", coord + "2 2 -1\n", "must not be negative"},
      {"count exceeds capacity", coord + "2 2 5\n", "too many entries"},
      {"row index zero", coord + "2 2 1\n0 1 1\n", "line 3: index (0, 1) is outside"},
      {"column index too big", coord + "2 2 1\n1 3 1\n", "index (1, 3) is outside"},
      {"duplicate entry", coord + "2 2 2\n1 1 1\n1 1 2\n", "line 4: duplicate entry (1, 1)"},
      {"too few entries", coord + "2 2 3\n1 1 1\n2 2 1\n", "too few entries: 3 declared"},
      {"too many entries", coord + "2 2 1\n1 1 1\n2 2 1\n", "line 4: too many entries"},
      {"array too many", "%%MatrixMarket matrix array real general\n1 1\n1\n2\n", "too many entries"},
      {"array too few", "%%MatrixMarket matrix array real general\n2 2\n1\n2\n3\n", "too few entries"},
      {"nan value", coord + "2 2 1\n1 1 nan\n", "line 3: value 'nan' is not a finite number"},
      {"inf value", coord + "2 2 1\n1 1 -inf\n", "not a finite number"},
      {"overflowing value", coord + "2 2 1\n1 1 1e999\n", "not a finite number"},
      {"garbage value", coord + "2 2 1\n1 1 1.5x\n", "'1.5x' is not a number"},
      {"missing value", coord + "2 2 1\n1 1\n", "found 2 fields"},
      {"imaginary part in real file", coord + "2 2 1\n1 1 1 2\n", "found 4 fields"},
      {"complex without imaginary", "%%MatrixMarket matrix coordinate complex general\n1 1 1\n1 1 1\n",
       "found 3 fields"},
      {"non-integer in integer file", "%%MatrixMarket matrix coordinate integer general\n1 1 1\n1 1 1.5\n",
       "not an integer"},
      {"upper entry in symmetric", "%%MatrixMarket matrix coordinate real symmetric\n2 2 1\n1 2 1\n",
       "above the diagonal"},
      {"diagonal in skew", "%%MatrixMarket matrix coordinate real skew-symmetric\n2 2 1\n1 1 1\n", "on the diagonal"},
      {"complex hermitian diagonal", "%%MatrixMarket matrix coordinate complex hermitian\n1 1 1\n1 1 1 1\n",
       "must be real"},
      {"nan in array", "%%MatrixMarket matrix array real general\n1 1\nNaN\n", "not a finite number"},
  };
  for (const bad_case& c : cases) {
    const std::string message = config_error_for(c.text);
    EXPECT_NE(message.find(c.expect), std::string::npos)
        << c.name << ": message was '" << message << "', expected it to contain '" << c.expect << "'";
    if (!message.empty()) {
      EXPECT_NE(message.find("bad.mtx"), std::string::npos) << c.name << ": " << message;
      EXPECT_NE(message.find("line "), std::string::npos) << c.name << ": " << message;
    }
  }
}

// A caller's own cap is checked on the size line: the 4096 x 4096 header of an otherwise
// empty file (a 256 MiB matrix) is refused with the caller's limit, and a matrix within it
// still reads. (amimo-solve read such a header into memory before its own check.)
TEST_F(MatrixMarket, CallersSizeCapIsCheckedOnTheSizeLine) {
  const std::string header = write_text("big.mtx", "%%MatrixMarket matrix coordinate real general\n4096 4096 0\n");
  try {
    read_matrix_market(header, 512);
    FAIL() << "expected config_error";
  } catch (const config_error& e) {
    EXPECT_NE(std::string(e.what()).find("line 2: the matrix is 4096 x 4096, larger than the 512 x 512"),
              std::string::npos)
        << e.what();
  }
  const std::string small = write_text("small.mtx", "%%MatrixMarket matrix coordinate real general\n3 3 1\n2 2 5\n");
  EXPECT_THROW(read_matrix_market(small, 2), config_error);
  const cmat a = read_matrix_market(small, 3);
  EXPECT_EQ(a.rows(), 3);
  EXPECT_EQ(a(1, 1), cf64(5.0, 0.0));
  // A cap above the reader's own is the reader's own.
  EXPECT_THROW(read_matrix_market(write_text("huge.mtx", "%%MatrixMarket matrix coordinate real general\n4097 4097 0\n"),
                                  1 << 20),
               config_error);
}

TEST_F(MatrixMarket, UnreadableFilesThrowIoError) {
  try {
    read_matrix_market(path("missing.mtx"));
    FAIL() << "expected io_error";
  } catch (const io_error& e) {
    EXPECT_NE(std::string(e.what()).find("missing.mtx"), std::string::npos);
  }
  EXPECT_THROW(read_matrix_market(dir_.string()), io_error);
}

TEST_F(MatrixMarket, WriteFailuresThrowAndLeaveNothingBehind) {
  const cmat a = cmat::Identity(2, 2);
  EXPECT_THROW(write_matrix_market(path("no-such-dir/a.mtx"), a), io_error);
  cmat bad = a;
  bad(0, 1) = cf64(std::nan(""), 0.0);
  EXPECT_THROW(write_matrix_market(path("nan.mtx"), bad), config_error);
  EXPECT_FALSE(std::filesystem::exists(path("nan.mtx")));
  EXPECT_FALSE(std::filesystem::exists(path("nan.mtx.tmp")));
}

}  // namespace
}  // namespace amimo
