#!/usr/bin/env bash
# scripts/demo --check, with dpkg-query saying nothing is installed and
# apt-get only noting what it is asked for: the demo must ask for its own
# packages (HOTRELOAD_DEMO_PACKAGES), none of the test suite's toolchains
# (QEMU, clang, the cross compilers), and then run to the end.
# usage: demo_check.sh HOTRELOAD_SOURCE_DIR
set -euo pipefail
top=$1
work=$(mktemp -d /tmp/hotreload-democheck-XXXXXX)
trap 'rm -rf "$work"' EXIT
mkdir "$work/bin"
printf '#!/bin/sh\nexit 1\n' >"$work/bin/dpkg-query"
printf '#!/bin/sh\necho "$*" >>"%s/apt.log"\n' "$work" >"$work/bin/apt-get"
printf '#!/bin/sh\n"$@"\n' >"$work/bin/sudo"
chmod +x "$work/bin/"*
PATH=$work/bin:$PATH "$top/scripts/demo" --check
asked=$(grep '^install' "$work/apt.log" | tr ' ' '\n' | grep -v '^-' | grep -v '^install$' | sort)
. "$top/scripts/lib/deps.sh"
want=$(printf '%s\n' "${HOTRELOAD_DEMO_PACKAGES[@]}" | sort)
if [ "$asked" != "$want" ]; then
  echo "FAIL: the demo asked for: $(echo $asked); its list: $(echo $want)"
  exit 1
fi
for p in qemu-system-misc clang-14 gcc-xtensa-lx106 gcc-riscv64-unknown-elf gdb-multiarch; do
  if grep -qw "$p" <<<"$asked"; then echo "FAIL: the demo installs $p"; exit 1; fi
done
echo "demo_check: the demo asked for its ${#HOTRELOAD_DEMO_PACKAGES[@]} packages only, and ran"
