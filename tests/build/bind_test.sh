#!/usr/bin/env bash
# hotd bind: a module bound to a firmware carries the firmware's build-id,
# and with --absolute its imports become the firmware's addresses, so the
# loader needs no symbol lookup on the device: loading the bound module
# alone gives the same bytes as loading the original against the firmware.
# usage: bind_test.sh HOTD SOURCE_DIR
set -euo pipefail
hotd=$(readlink -f "$1") top=$(readlink -f "$2")
work=$(mktemp -d /tmp/hotreload-bind-XXXXXX)
trap 'rm -rf "$work"' EXIT
cd "$work"
fails=0 passes=0
check() { if eval "$1"; then passes=$((passes + 1)); else fails=$((fails + 1)); echo "FAIL: $2"; fi; }

cc=riscv64-unknown-elf-gcc
flags="-misa-spec=2.2 -march=rv32imc -mabi=ilp32"
$cc $flags -mno-relax -c -O2 -g "$top/examples/modules/greeting.c" -o mod.o
printf 'SECTIONS { .text 0x42000000 : { *(.text) } }\nprintf = 0x40001234;\nfw_ticks = 0x3fc81000;\n' >fw.ld
echo 'void _start(void) {}' >start.c
$cc $flags -nostdlib -Wl,--build-id -T fw.ld start.c -o fw.elf

"$hotd" bind mod.o --firmware fw.elf -o bound.o --absolute
riscv64-unknown-elf-objcopy --dump-section .hotreload.fwid=fwid.bin bound.o /dev/null
check '[ "$(od -An -tx1 fwid.bin | tr -d " \n")" = "$("$hotd" build-id fw.elf)" ]' \
      "the bound module does not carry the firmware's build-id"
"$hotd" relocate -q bound.o --text 0x40380000 --data 0x3fc90000 --out alone
"$hotd" relocate -q mod.o --firmware fw.elf --text 0x40380000 --data 0x3fc90000 --out linked
check 'cmp -s alone/.text.bin linked/.text.bin' "absolute imports load to other bytes"
check '! "$hotd" relocate -q mod.o --text 0x40380000 --data 0x3fc90000 2>/dev/null' \
      "the unbound module loaded without its imports"
check '! "$hotd" bind bound.o --firmware fw.elf -o again.o 2>err && grep -q "already bound" err' \
      "binding twice is not refused"
printf 'SECTIONS { .text 0x42000000 : { *(.text) } }\nprintf = 0x40001234;\n' >fw2.ld
$cc $flags -nostdlib -Wl,--build-id -T fw2.ld start.c -o fw2.elf
check '! "$hotd" bind mod.o --firmware fw2.elf -o x.o --absolute 2>err && grep -q "fw_ticks" err' \
      "a missing firmware symbol is not named"
# An ESP-IDF chip app links no build-id note: its identity is the SHA-256 of
# its ELF file, which ESP-IDF stores in the app (esp_app_get_elf_sha256).
printf 'SECTIONS { .text 0x42000000 : { *(.text) } .flash.appdesc : { *(.appdesc) } }\n' >esp.ld
printf 'void _start(void) {}\n__attribute__((section(".appdesc"))) const int desc = 1;\n' >esp.c
$cc $flags -nostdlib -Wl,--build-id=none -T esp.ld esp.c -o esp.elf
check '[ "$("$hotd" build-id esp.elf)" = "$(sha256sum esp.elf | cut -d" " -f1)" ]' \
      "an ESP-IDF app's identity is not the SHA-256 of its ELF file"
$cc $flags -nostdlib -Wl,--build-id=none -T fw.ld start.c -o noid.elf
check '! "$hotd" build-id noid.elf 2>err && grep -q "no GNU build-id" err' \
      "a firmware without a build-id is not refused with a reason"
echo "bind_test: $passes passed, $fails failed"
[ $fails = 0 ]
