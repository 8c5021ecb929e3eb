#pragma once
// Fixed-width terminal tables in the aff3ct style: column groups separated by "||",
// columns by "|", legend lines starting with "#".

#include <string>
#include <vector>

namespace amimo::report {

struct table_column {
  std::string title;
  int width = 10;
};

struct table_group {
  std::string title;
  std::vector<table_column> columns;
};

class text_table {
 public:
  explicit text_table(std::vector<table_group> groups);
  /// Legend lines ("# ..."): a rule, group titles, column titles, a rule.
  std::string header() const;
  /// One data line; cells.size() must equal the number of columns (extra cells ignored,
  /// missing ones blank). Cells wider than their column are kept whole.
  std::string row(const std::vector<std::string>& cells) const;

 private:
  std::vector<table_group> groups_;
};

/// A value with an SI prefix and three significant digits: (1.23e-6, "J") → "1.23 µJ";
/// "n/a" when not finite. For table cells and report lines.
std::string si(double value, const char* unit);

}  // namespace amimo::report
