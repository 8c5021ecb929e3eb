// An analog profile's YAML means one thing: a key given twice (in a section, or a section given
// twice) and a second YAML document are refused, not merged, overridden or dropped.
#include <amimo/analog/analog_profile.h>
#include <amimo/core/error.h>

#include <gtest/gtest.h>

#include <string>

namespace amimo::analog {
namespace {

std::string refusal(const std::string& yaml) {
  try {
    (void)parse_analog_profile(yaml, "test.yaml");
  } catch (const config_error& e) {
    return e.what();
  }
  return {};
}

TEST(AnalogProfileYaml, RepeatedKeysAndExtraDocumentsAreRefused) {
  EXPECT_EQ(refusal("device:\n  bits: 3\n"), "");
  EXPECT_NE(refusal("device:\n  bits: 3\n  bits: 6\n").find("section 'device': key 'bits' given twice (line 3)"),
            std::string::npos);
  EXPECT_NE(refusal("device:\n  bits: 3\ncircuit:\n  array_size: 8\ndevice:\n  bits: 6\n")
                .find("key 'device' given twice (line 5)"),
            std::string::npos);
  EXPECT_NE(refusal("device:\n  bits: {value: 3, value: 6}\n").find("key 'value' given twice"), std::string::npos);
  EXPECT_NE(refusal("device:\n  bits: 3\n---\ndevice:\n  bits: 6\n").find("more than one YAML document"), std::string::npos);
}

}  // namespace
}  // namespace amimo::analog
