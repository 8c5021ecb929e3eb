// Base graphs and lifting sizes against TS 38.212 §5.3.2 and the checksums of the two public
// copies the tables were checked against (see ldpc_base_graph.cpp).
#include <amimo/fec/ldpc_base_graph.h>

#include <gtest/gtest.h>

#include <cstdint>
#include <set>
#include <vector>

namespace amimo::fec {
namespace {

std::uint64_t fnv1a(base_graph bg) {
  std::uint64_t h = 0xcbf29ce484222325ull;
  auto mix = [&](unsigned v) {
    for (unsigned byte : {v & 0xFFu, (v >> 8) & 0xFFu}) {
      h ^= byte;
      h *= 0x100000001b3ull;
    }
  };
  for (const auto& e : base_graph_entries(bg)) {
    mix(e.row);
    mix(e.col);
    for (auto s : e.shift) {
      mix(s);
    }
  }
  return h;
}

TEST(LdpcTables, ChecksumsMatchTheCheckedSources) {
  EXPECT_EQ(base_graph_entries(base_graph::bg1).size(), 316u);
  EXPECT_EQ(base_graph_entries(base_graph::bg2).size(), 197u);
  EXPECT_EQ(fnv1a(base_graph::bg1), 0xbf74e3614b90bee2ull);
  EXPECT_EQ(fnv1a(base_graph::bg2), 0xffb0d2af0d69fd30ull);
}

// The structure of §5.3.2: kb information columns, a 4-column double-diagonal core, and one
// degree-1 extension column per row ≥ 4 (shift 0); every shift below the set's largest Z.
TEST(LdpcTables, StructureOfBothBaseGraphs) {
  for (base_graph bg : {base_graph::bg1, base_graph::bg2}) {
    const auto shape = shape_of(bg);
    std::vector<std::set<int>> cols_of_row(static_cast<std::size_t>(shape.rows));
    std::vector<int> col_weight(static_cast<std::size_t>(shape.cols), 0);
    int prev = -1;
    for (const auto& e : base_graph_entries(bg)) {
      const int key = e.row * 100 + e.col;
      EXPECT_GT(key, prev) << "entries sorted and unique";
      prev = key;
      ASSERT_LT(e.row, shape.rows);
      ASSERT_LT(e.col, shape.cols);
      cols_of_row[e.row].insert(e.col);
      if (e.row < 4) {
        ++col_weight[e.col];  // weight within the core rows
      }
      for (std::size_t set = 0; set < 8; ++set) {
        const int largest_z_of_set[8] = {256, 384, 320, 224, 288, 352, 208, 240};
        EXPECT_LT(e.shift[set], largest_z_of_set[set]) << "row " << int(e.row) << " col " << int(e.col);
      }
      if (e.row >= 4 && e.col >= shape.info_cols + 4) {
        EXPECT_EQ(e.col, shape.info_cols + e.row);
        for (auto s : e.shift) {
          EXPECT_EQ(s, 0);
        }
      }
    }
    EXPECT_EQ(col_weight[static_cast<std::size_t>(shape.info_cols)], 3);
    for (int c = shape.info_cols + 1; c < shape.info_cols + 4; ++c) {
      EXPECT_EQ(col_weight[static_cast<std::size_t>(c)], 2) << "core column " << c;
    }
  }
  // Row degrees quoted in the literature (Richardson & Kudekar 2018): BG1 row 0 has 19 ones,
  // BG2 row 0 has 8.
  int bg1_row0 = 0;
  for (const auto& e : base_graph_entries(base_graph::bg1)) {
    bg1_row0 += e.row == 0 ? 1 : 0;
  }
  EXPECT_EQ(bg1_row0, 19);
  int bg2_row0 = 0;
  for (const auto& e : base_graph_entries(base_graph::bg2)) {
    bg2_row0 += e.row == 0 ? 1 : 0;
  }
  EXPECT_EQ(bg2_row0, 8);
}

TEST(LdpcTables, LiftingSizesOfTable5321) {
  const auto sizes = lifting_sizes();
  ASSERT_EQ(sizes.size(), 51u);
  EXPECT_EQ(sizes.front(), 2);
  EXPECT_EQ(sizes.back(), 384);
  // Table 5.3.2-1 row by row.
  const std::vector<std::vector<int>> sets = {{2, 4, 8, 16, 32, 64, 128, 256},   {3, 6, 12, 24, 48, 96, 192, 384},
                                              {5, 10, 20, 40, 80, 160, 320},     {7, 14, 28, 56, 112, 224},
                                              {9, 18, 36, 72, 144, 288},         {11, 22, 44, 88, 176, 352},
                                              {13, 26, 52, 104, 208},            {15, 30, 60, 120, 240}};
  std::size_t count = 0;
  for (std::size_t set = 0; set < sets.size(); ++set) {
    for (int z : sets[set]) {
      EXPECT_EQ(lifting_set_index(z), static_cast<int>(set)) << "Z = " << z;
      ++count;
    }
  }
  EXPECT_EQ(count, 51u);
  for (int z : {0, 1, 17, 25, 27, 385, 512}) {
    EXPECT_EQ(lifting_set_index(z), -1) << z;
  }
  EXPECT_EQ(smallest_lifting_size(8448, 22), 384);
  EXPECT_EQ(smallest_lifting_size(8449 - 22, 22), 384);
  EXPECT_THROW((void)smallest_lifting_size(8449, 22), std::invalid_argument);
}

}  // namespace
}  // namespace amimo::fec
