#include <amimo/pipeline/frame_sink.h>

#include <amimo/detect/linear_detector.h>

namespace amimo::pipeline {

bool user_frame_view::erased(std::size_t i) const noexcept {
  return !(noise_variance[i] < detect::linear_detector::kErased);
}

}  // namespace amimo::pipeline
