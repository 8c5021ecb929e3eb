#!/usr/bin/env bash
# amimo's one set-up script: installs the Debian packages the project needs (idempotent,
# --no-install-recommends, as root or through sudo), configures and builds, then runs.
#
#   tools/amimo.sh run  [amimo-bs flags]      build (Release) and run amimo-bs on the embedded
#                                             synthetic default (analog vs digital side by side)
#   tools/amimo.sh sweep [amimo-sweep flags]  build (Release) and run the default BER sweep
#   tools/amimo.sh image [amimo-image flags]  build (Release) and run the image-recovery demo
#   tools/amimo.sh report [amimo-report args] build (Release) and run the analog/digital comparison
#   tools/amimo.sh test                       build Release + ASan/UBSan and run the tests
#   tools/amimo.sh deps | build               only install packages | only build Release
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# ccache: paths relative to the checkout, and no working directory in the hash, so a clone
# in another folder (CI's) reuses what this one compiled.
export CCACHE_BASEDIR="${CCACHE_BASEDIR:-$root}" CCACHE_NOHASHDIR=1
jobs="${AMIMO_JOBS:-$(nproc)}"
packages=(
  build-essential cmake ninja-build ccache pkg-config git python3
  libeigen3-dev libliquid-dev libyaml-cpp-dev libcli11-dev nlohmann-json3-dev libfmt-dev libpng-dev
  libarmadillo-dev libgtest-dev libgmock-dev libbenchmark-dev libzmq3-dev cppzmq-dev clang libfftw3-dev libuhd-dev libboost-dev
  libopenblas-dev libitpp-dev libhwy-dev
)

install_packages() {
  local missing=()
  for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ ${#missing[@]} -eq 0 ]; then
    echo "amimo: all ${#packages[@]} Debian packages present"
    return
  fi
  echo "amimo: installing ${missing[*]}"
  local sudo=()
  if [ "$(id -u)" -ne 0 ]; then sudo=(sudo); fi
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get update -qq
  "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

# configure_and_build DIR [cmake args...] [-- targets...]
configure_and_build() {
  local dir="$1"; shift
  local cmake_args=() targets=()
  while [ $# -gt 0 ] && [ "$1" != "--" ]; do cmake_args+=("$1"); shift; done
  if [ $# -gt 0 ]; then shift; targets=("$@"); fi
  cmake -S "$root" -B "$root/$dir" -G Ninja "${cmake_args[@]}" >/dev/null
  cmake --build "$root/$dir" -j "$jobs" ${targets[@]+--target "${targets[@]}"}
}

build_release() { configure_and_build build -DCMAKE_BUILD_TYPE=Release; }

command="${1:-run}"
shift || true
case "$command" in
  deps) install_packages ;;
  build) install_packages; build_release ;;
  run)
    install_packages
    build_release
    exec "$root/build/apps/amimo-bs" --out "$root/results/bs" "$@"
    ;;
  sweep)
    install_packages
    build_release
    exec "$root/build/apps/amimo-sweep" --out "$root/results/sweep" "$@"
    ;;
  image)
    install_packages
    build_release
    exec "$root/build/apps/amimo-image" --out "$root/results/image" "$@"
    ;;
  report)
    install_packages
    build_release
    exec "$root/build/apps/amimo-report" "$@"
    ;;
  test)
    install_packages
    build_release
    echo "amimo: Release tests"
    (cd "$root/build" && ctest -j "$jobs" --output-on-failure --timeout 900)
    echo "amimo: AddressSanitizer + UndefinedBehaviorSanitizer unit tests"
    configure_and_build build-asan -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG="-O1 -g" \
      -DAMIMO_SANITIZE=ON -DAMIMO_BUILD_BENCH=OFF -DAMIMO_WITH_CUDA=OFF
    (cd "$root/build-asan" && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
      ctest -j "$jobs" -L unit --output-on-failure --timeout 900)
    ;;
  *) echo "usage: tools/amimo.sh run|sweep|image|report|test|deps|build [args]" >&2; exit 2 ;;
esac
