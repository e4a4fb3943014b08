#!/usr/bin/env bash
# ABI-change detection on a copy of examples/basic: the build records, per
# firmware build-id, the interface the firmware was built against; a module
# whose body changed passes `hotd abi check` against the record of the
# firmware on the device, one whose exported function changed its parameter
# type is refused with the function named.
# usage: abi_test.sh HOTRELOAD_SOURCE_DIR
set -euo pipefail
top=$(readlink -f "$1")
work=$(mktemp -d /tmp/hotreload-abi-XXXXXX)
trap 'kill $dev 2>/dev/null || true; rm -rf "$work"' EXIT
dev=
cp -r "$top/examples/basic" "$work/src"
b=$work/build
cmake -S "$work/src" -B "$b" -DHOTRELOAD_DIR="$top" >/dev/null
cmake --build "$b" -j2 >"$work/log" 2>&1 || { cat "$work/log"; exit 1; }
hotd=$b/hotreload/hostd/hotd
fails=0 passes=0
check() { if eval "$1"; then passes=$((passes + 1)); else fails=$((fails + 1)); echo "FAIL: $2"; fi; }

device_fw=$("$hotd" build-id "$b/basic_firmware")    # what the device runs
mkdir -p "$work/storage"
HOTRELOAD_STORAGE_DIR=$work/storage "$b/basic_firmware" 0 >"$work/device.log" 2>&1 </dev/null &
dev=$!
for _ in $(seq 100); do grep -q 'simulated device up' "$work/device.log" && break; sleep 0.1; done
url=$(sed -n 's|.*\(http://127.0.0.1:[0-9]*\).*|\1|p' "$work/device.log" | head -1)
check '"$hotd" push greet --build "$b" --url "$url" >/dev/null' "the first push failed"

record=$b/modules/greet.abi.d/$device_fw.abi
check '[ -s "$record" ] && grep -q "^arithmetic: (int:4, int:4)->int:4" "$record"' \
      "no interface record for the firmware"

sed -i 's/return a + b;/return a * b - 1;/' "$work/src/module/greet.c"
cmake --build "$b" --target greet_image >"$work/log" 2>&1 || { cat "$work/log"; exit 1; }
check '"$hotd" abi check "$b/modules/greet.debug.o" "$record" >/dev/null' \
      "a body-only change was refused"

sed -i 's/int arithmetic(int a, int b)/long arithmetic(long a, int b)/' \
    "$work/src/module/greet.c" "$work/src/include/greet.h"
sed -i 's/= %d | count/= %ld | count/' "$work/src/firmware/main.c"
cmake --build "$b" --target greet_image >"$work/log" 2>&1 || { cat "$work/log"; exit 1; }
set +e
"$hotd" abi check "$b/modules/greet.debug.o" "$record" >"$work/out" 2>&1
rc=$?
set -e
check '[ $rc = 1 ]' "a changed parameter type was not refused (exit $rc)"
check 'grep -q "^arithmetic changed" "$work/out" && ! grep -q "^greeting" "$work/out"' \
      "the report does not name exactly the changed function: $(cat "$work/out")"
check 'grep -q "rebuild and reflash the firmware" "$work/out"' "no advice in the report"
set +e
"$hotd" push greet --build "$b" --url "$url" >"$work/push" 2>&1
rc=$?
set -e
check '[ $rc = 1 ] && grep -q "arithmetic changed" "$work/push" && grep -q "not pushed" "$work/push"' \
      "hotd push sent a module whose interface changed (exit $rc): $(cat "$work/push")"
check '[ "$(grep -c "generation" "$work/device.log")" = 1 ]' "the device reloaded anyway"
new_fw=$("$hotd" build-id "$b/basic_firmware")
check '[ "$new_fw" != "$device_fw" ] && "$hotd" abi check "$b/modules/greet.debug.o" \
      "$b/modules/greet.abi.d/$new_fw.abi" >/dev/null' "the rebuilt firmware's record disagrees"
echo "abi_test: $passes passed, $fails failed"
[ $fails = 0 ]
