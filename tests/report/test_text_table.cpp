#include <amimo/report/text_table.h>

#include <gtest/gtest.h>

namespace amimo::report {
namespace {

TEST(TextTable, HeaderAndRowsLineUpOnGroupSeparators) {
  const text_table table({{"A", {{"x", 4}, {"y", 6}}}, {"B", {{"z", 5}}}});
  const std::string header = table.header();
  const std::string row = table.row({"1", "22", "333"});
  EXPECT_EQ(header.substr(0, 2), "# ");
  // Every header line is a legend line.
  std::size_t start = 0;
  while (start < header.size()) {
    EXPECT_EQ(header[start], '#');
    start = header.find('\n', start) + 1;
  }
  // The group separator sits at the same column in the column-title line and a data row.
  const std::size_t titles_line = header.find("\n# ", header.find("\n# ", header.find('\n') + 1) + 1) + 1;
  const std::string titles = header.substr(titles_line, header.find('\n', titles_line) - titles_line);
  EXPECT_EQ(titles.find("||"), row.find("||"));
  EXPECT_NE(row.find("   1 |"), std::string::npos);
  EXPECT_NE(row.find("  333"), std::string::npos);
}

}  // namespace
}  // namespace amimo::report
