# Debian packages the build and the tests need, and an idempotent installer.
# Sourced by scripts/test and scripts/demo.

# What scripts/demo needs: the simulated device, hotd, a build.
HOTRELOAD_DEMO_PACKAGES=(
  gcc libc6-dev make cmake ninja-build pkg-config
  libelf-dev libdw-dev libcurl4-openssl-dev libreadline-dev
  # the simulated device verifies HR2 signatures with mbedTLS (PSA Crypto),
  # inflates compressed uploads with zlib; hotd compresses with it
  libmbedtls-dev zlib1g-dev
)

# What scripts/test needs: the demo's, and every toolchain and tool the tests use.
HOTRELOAD_PACKAGES=(
  "${HOTRELOAD_DEMO_PACKAGES[@]}"
  gcc-riscv64-unknown-elf binutils-riscv64-unknown-elf
  gcc-xtensa-lx106 binutils-xtensa-lx106
  # Cortex-M: the oracle, hostile and fuzz modules (arm-none-eabi-gcc, -ld),
  # and the mps2-an385 board on qemu-system-arm
  gcc-arm-none-eabi binutils-arm-none-eabi libnewlib-arm-none-eabi qemu-system-arm
  python3 python3-pyelftools
  # tests sign HR2 requests and look for the private key (tests/lib/hrtest.py)
  python3-cryptography
  openssl curl gdb
  # the bare-metal targets on QEMU, and gdb for them
  qemu-system-misc gdb-multiarch
  # fuzzing (libFuzzer) with clang
  clang-14 libfuzzer-14-dev libclang-rt-14-dev
  # ESP-IDF's build (tests/esp-idf; the list of ../shared/esp-idf/README.md)
  python3-click python3-rich python3-rich-click python3-serial python3-packaging
  python3-pyparsing python3-yaml python3-psutil python3-typing-extensions
  libbsd-dev picolibc-riscv64-unknown-elf liblwip-dev
)

# Install whichever of the given packages are missing; silent when none are.
hotreload_install() {
  local missing=()
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "installing: ${missing[*]}"
  local sudo=()
  [ "$(id -u)" -eq 0 ] || sudo=(sudo)
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get update -qq
  "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}
