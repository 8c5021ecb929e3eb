// The receiver allocates nothing per frame once warmed up, on the digital chains (batched
// detection): a counting global operator new in this executable counts every allocation
// made while frames stream through.
#include "allocation_stream.h"

namespace amimo::pipeline {
namespace {

TEST(ReceiverAllocations, DigitalChainsAllocateNothingPerFrameAfterWarmUp) {
  for (const detect::detection_mode mode : {detect::detection_mode::per_block, detect::detection_mode::per_vector}) {
    receiver_config cfg;
    cfg.antennas = 16;
    cfg.users = 4;
    cfg.threads = 2;
    cfg.mode = mode;
    cfg.chains = {{detect::detector_kind::mmse, {"digital-f32", {}}, {}},
                  {detect::detector_kind::zf, {"digital-f64", {}}, {}}};
    const test_support::counted_run run = test_support::stream(cfg, 12);
    EXPECT_GE(run.decoded, 7U) << "frames must really stream through the counted interval";
    EXPECT_EQ(run.allocations, 0U) << detect::to_string(mode) << ": " << run.allocations << " allocations over "
                                   << run.decoded << " frames";
    EXPECT_EQ(run.stats.chains[0].bit_errors, 0U);
  }
}

}  // namespace
}  // namespace amimo::pipeline
