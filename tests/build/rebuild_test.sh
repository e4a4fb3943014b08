#!/usr/bin/env bash
# Rebuild rules of the build integration, on a copy of examples/basic:
#  - editing module code rebuilds the module only: the firmware is not
#    relinked (same bytes, same modification time);
#  - editing firmware code rebuilds both: the module is bound to the new
#    firmware's build-id.
# usage: rebuild_test.sh HOTRELOAD_SOURCE_DIR
set -euo pipefail
top=$1
work=$(mktemp -d /tmp/hotreload-rebuild-XXXXXX)
trap 'rm -rf "$work"' EXIT
cp -r "$top/examples/basic" "$work/src"
b=$work/build
cmake -S "$work/src" -B "$b" -DHOTRELOAD_DIR="$top" >/dev/null
cmake --build "$b" -j2 >"$work/log1" 2>&1 || { cat "$work/log1"; exit 1; }
fw=$b/basic_firmware
img=$b/modules/greet.img
fails=0 passes=0
check() { if eval "$1"; then passes=$((passes + 1)); else fails=$((fails + 1)); echo "FAIL: $2"; fi; }
fwid_of_img() { objcopy --dump-section .hotreload.fwid="$work/fwid" "$img" "$work/x.o" && od -An -tx1 "$work/fwid" | tr -d ' \n'; }

fw_sum=$(sha256sum <"$fw"); fw_time=$(stat -c %Y.%y "$fw"); img_sum=$(sha256sum <"$img")
sleep 1.1
sed -i 's/return a + b;/return a - b;/' "$work/src/module/greet.c"
cmake --build "$b" -j2 >"$work/log2" 2>&1 || { cat "$work/log2"; exit 1; }
check '[ "$(sha256sum <"$fw")" = "$fw_sum" ]' "module edit changed the firmware binary"
check '[ "$(stat -c %Y.%y "$fw")" = "$fw_time" ]' "module edit relinked the firmware"
check '! grep -q "Linking C executable basic_firmware" "$work/log2"' "module edit ran the firmware link"
check '[ "$(sha256sum <"$img")" != "$img_sum" ]' "module edit did not rebuild the module image"
check '[ "$(fwid_of_img)" = "$("$b/hotreload/hostd/hotd" build-id "$fw")" ]' "image not bound to the firmware"

img_sum=$(sha256sum <"$img")
sleep 1.1
sed -i 's/count %u/count=%u/' "$work/src/firmware/main.c"
cmake --build "$b" -j2 >"$work/log3" 2>&1 || { cat "$work/log3"; exit 1; }
check '[ "$(sha256sum <"$fw")" != "$fw_sum" ]' "firmware edit did not rebuild the firmware"
check '[ "$(sha256sum <"$img")" != "$img_sum" ]' "firmware edit did not rebind the module"
check '[ "$(fwid_of_img)" = "$("$b/hotreload/hostd/hotd" build-id "$fw")" ]' "module bound to the old firmware"
echo "rebuild_test: $passes passed, $fails failed"
[ $fails = 0 ]
