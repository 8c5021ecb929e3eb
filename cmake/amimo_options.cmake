# Compiler warnings (as errors) and optional sanitizers, applied through one
# interface target that every amimo target links.
add_library(amimo_options INTERFACE)
target_compile_options(amimo_options INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wno-sign-conversion
  -Wnon-virtual-dtor -Wold-style-cast -Woverloaded-virtual -Wimplicit-fallthrough
  # GCC 12 reports false -Wrestrict positives inside libstdc++ string concatenation
  # at -O3 (GCC bug 105329).
  -Wno-restrict)
if(AMIMO_WERROR)
  target_compile_options(amimo_options INTERFACE -Werror)
endif()
if(AMIMO_SANITIZE)
  target_compile_options(amimo_options INTERFACE
    -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer)
  target_link_options(amimo_options INTERFACE -fsanitize=address,undefined)
endif()


# Vector width: amimo is configured and built on the machine that runs it (the README's
# commands do both), so when that machine has AVX2 and FMA the code is built for
# x86-64-v3, which roughly doubles Eigen's complex kernels. AVX-512 is not a build target
# (GCC 12 warns inside its AVX-512 intrinsics with Eigen); it is used where chosen at run
# time: Highway's AVX3 kernels (solver/) and the normal stream's AVX-512 blocks (core/).
# -DAMIMO_X86_64_V3=OFF for portable builds.
include(CheckCXXSourceRuns)
check_cxx_source_runs("
int main() {
  __builtin_cpu_init();
  return (__builtin_cpu_supports(\"avx2\") && __builtin_cpu_supports(\"fma\")) ? 0 : 1;
}" AMIMO_HOST_HAS_AVX2_FMA)
option(AMIMO_X86_64_V3 "Build for x86-64-v3 (AVX2, FMA)" ${AMIMO_HOST_HAS_AVX2_FMA})
if(AMIMO_X86_64_V3)
  target_compile_options(amimo_options INTERFACE -march=x86-64-v3)
endif()
