#include <amimo/core/error.h>
#include <amimo/sweep/sweep_config.h>

#include <gtest/gtest.h>

namespace amimo::sweep {
namespace {

TEST(SweepConfig, EmbeddedDefaultParsesAndValidates) {
  const sweep_config c = parse_sweep_yaml(embedded_default_config());
  EXPECT_NO_THROW(validate(c));
  EXPECT_EQ(c.antennas, 16);
  EXPECT_EQ(c.users, 8);
  EXPECT_EQ(c.solvers.size(), 2U);
  EXPECT_GE(c.snr_db.size(), 3U);
}

TEST(SweepConfig, YamlOverridesBaseAndAcceptsListsOrCommaStrings) {
  const sweep_config c = parse_sweep_yaml(
      "antennas: 32\nusers: 8\nmodulation: qam64\ndetector: zf,mmse\nsolver: [digital-f32]\n"
      "snr_db: [1, 2.5]\nchannel: kronecker\nrho_bs: 0.5\nmax_bits: 1e6\n");
  EXPECT_EQ(c.antennas, 32);
  EXPECT_EQ(c.modulation, modem::modulation::qam64);
  EXPECT_EQ(c.detectors.size(), 2U);
  EXPECT_EQ(c.solvers.at(0).name, "digital-f32");
  EXPECT_EQ(c.snr_db, (std::vector<double>{1.0, 2.5}));
  EXPECT_EQ(c.max_bits, 1000000U);
  EXPECT_DOUBLE_EQ(c.rho_bs, 0.5);
}

TEST(SweepConfig, SnrRangesAndLists) {
  EXPECT_EQ(parse_snr_list("0:5:20"), (std::vector<double>{0, 5, 10, 15, 20}));
  EXPECT_EQ(parse_snr_list("0:0.5:1"), (std::vector<double>{0, 0.5, 1}));
  EXPECT_EQ(parse_snr_list("3, 7"), (std::vector<double>{3, 7}));
  EXPECT_THROW(parse_snr_list("0:-1:5"), config_error);
  EXPECT_THROW(parse_snr_list("5:1:0"), config_error);
  EXPECT_THROW(parse_snr_list("1:2"), config_error);
  EXPECT_THROW(parse_snr_list("abc"), config_error);
  EXPECT_THROW(parse_snr_list("0:0.001:100"), config_error);
}

TEST(SweepConfig, UnknownKeysAndBadValuesNameTheProblem) {
  try {
    parse_sweep_yaml("antenas: 4\n");
    FAIL();
  } catch (const config_error& e) {
    EXPECT_NE(std::string(e.what()).find("antenas"), std::string::npos);
  }
  EXPECT_THROW(parse_sweep_yaml("antennas: many\n"), config_error);
  EXPECT_THROW(parse_sweep_yaml("modulation: qam512\n"), config_error);
  EXPECT_THROW(parse_sweep_yaml("[1, 2]\n"), config_error);
  EXPECT_THROW(parse_sweep_yaml("antennas: [\n"), config_error);
}

// The error's message, or "" when parsing and validating `yaml` throws none.
std::string config_error_of(const std::string& yaml) {
  try {
    validate(parse_sweep_yaml(yaml));
  } catch (const config_error& e) {
    return e.what();
  }
  return "";
}

// A repeated key was read silently (the last copy here, the first in the link config).
TEST(SweepConfig, RepeatedKeysAreRefused) {
  EXPECT_NE(config_error_of("snr_db: \"20\"\nsnr_db: \"0\"\n").find("'snr_db' given twice"), std::string::npos);
  EXPECT_NE(config_error_of("solver: analog\nanalog: {iters: 1, iters: 2}\n").find("'analog.iters' given twice"),
            std::string::npos);
  EXPECT_NE(config_error_of("remote: {retries: 1, retries: 2}\n").find("'remote.retries' given twice"),
            std::string::npos);
  EXPECT_EQ(config_error_of("snr_db: \"20\"\nantennas: 8\n"), "");
}

// A second YAML document was dropped silently ("antennas: 8\n---\nsnr_db: …" ran with the
// default SNRs); the link config and analog profiles refuse it, and now so does the sweep.
TEST(SweepConfig, ASecondYamlDocumentIsRefused) {
  const std::string message = config_error_of("antennas: 8\n---\nsnr_db: \"0\"\n");
  EXPECT_NE(message.find("more than one YAML document"), std::string::npos) << message;
  EXPECT_NE(message.find("line 2"), std::string::npos) << message;  // the "---"
  EXPECT_NE(config_error_of("antennas: 8\n---\n").find("more than one YAML document"), std::string::npos);
  EXPECT_EQ(config_error_of("---\nantennas: 8\n"), "");  // one document with its start marker
}

// min_errors 0 ended every point after one round with no error needed; SNRs outside the range
// are named with their value.
TEST(SweepConfig, StopRulesNeedAnErrorAndSnrsStayInRange) {
  EXPECT_NE(config_error_of("min_errors: 0\n").find("min_errors must be at least 1"), std::string::npos);
  EXPECT_EQ(config_error_of("min_errors: 1\n"), "");
  EXPECT_EQ(config_error_of("min_error_frames: 0\n"), "");  // the count alone
  EXPECT_NE(config_error_of("min_error_frames: -3\n"), "");
  EXPECT_NE(config_error_of("min_block_errors: 0\n").find("min_block_errors must be at least 1"), std::string::npos);
  EXPECT_NE(config_error_of("snr_db: \"-60\"\n").find("-50..100 dB (got -60)"), std::string::npos);
  EXPECT_EQ(config_error_of("snr_db: \"-50,100\"\n"), "");
}

TEST(SweepConfig, ValidationRejectsImpossibleSetups) {
  sweep_config c;
  c.users = 8;
  c.antennas = 4;
  c.detectors = {detect::detector_kind::zf};
  EXPECT_THROW(validate(c), config_error);
  c.detectors = {detect::detector_kind::mmse};
  EXPECT_NO_THROW(validate(c));
  c.antennas = -4;
  EXPECT_THROW(validate(c), config_error);
  c = {};
  c.solvers = {{"nope", {}}};
  EXPECT_THROW(validate(c), config_error);
  c = {};
  c.solvers = {{"digital-f64", {}}, {"digital-f64", {}}};
  EXPECT_THROW(validate(c), config_error);
  c = {};
  c.channel = "kronecker";
  c.rho_ue = 1.5;
  EXPECT_THROW(validate(c), config_error);
  c = {};
  c.max_bits = 0;
  EXPECT_THROW(validate(c), config_error);
}

}  // namespace
}  // namespace amimo::sweep
