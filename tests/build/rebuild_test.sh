#!/usr/bin/env bash
# Rebuild rules of the build integration, on a copy of examples/basic:
#  - editing module code rebuilds the module only: the firmware is not
#    relinked (same bytes, same modification time);
#  - editing firmware code rebuilds both: the module is bound to the new
#    firmware's build-id;
#  - hotd push builds first: an edit saved but not built is what gets pushed,
#    a build that fails pushes nothing, --no-build pushes the image as it is;
#  - a new function the firmware does not call gets no stub: the firmware
#    stays the same and the module is pushed; once the firmware calls it, a
#    push to the old firmware names the function and sends nothing.
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
# The private key (HR2, the default): for its owner only, and none of its
# bytes in the firmware or in any file of the build others can read.
check '[ "$(stat -c %a "$b/hotreload-sign.pem")" = 600 ]' "hotreload-sign.pem is not 0600"
check '[ ! -e "$b/hotreload.key" ]' "an ECDSA build wrote an HMAC key"
check '/usr/bin/python3 "$top/tests/build/secret_scan.py" "$b" "$fw"' "the private key leaked"
# The explicit HMAC option: the key and its C copy for their owner only.
cmake -S "$work/src" -B "$work/hmac" -DHOTRELOAD_DIR="$top" -DHOTRELOAD_AUTH=hmac >/dev/null
cmake --build "$work/hmac" -j2 >"$work/log0" 2>&1 || { cat "$work/log0"; exit 1; }
h=$work/hmac
check '[ "$(stat -c %a "$h/hotreload.key")" = 600 ]' "hotreload.key is not 0600"
check '[ "$(stat -c %a "$h/hotreload/key")" = 700 ]' "the key's C copy's folder is not 0700"
check '[ "$(stat -c %a "$h/hotreload/key/hotreload_key.c")" = 600 ]' "the key's C copy is not 0600"
check '[ ! -e "$h/hotreload-sign.pem" ]' "an HMAC build wrote a private key"
# HOTRELOAD_SIGN_KEY: a key outside the build folder, made there once, kept
# when the folder goes; a folder with a key of its own is never touched.
team=$work/team/sign.pem
mkdir -m 700 "$work/team"
pub() { grep -o '0x[0-9a-f][0-9a-f]' "$1/hotreload/key/hotreload_key.c" | tr -d '\n'; }
for round in 1 2; do
  rm -rf "$work/t"
  HOTRELOAD_SIGN_KEY=$team cmake -S "$work/src" -B "$work/t" -DHOTRELOAD_DIR="$top" >/dev/null
  cmake --build "$work/t" -j2 >"$work/logt" 2>&1 || { cat "$work/logt"; exit 1; }
  check '[ "$(readlink "$work/t/hotreload-sign.pem")" = "$team" ]' "no link to the team key"
  check '[ "$(stat -c %a "$team")" = 600 ]' "the team key is not 0600"
  [ "$round" = 1 ] && team_pub=$(pub "$work/t")
  check '[ "$(pub "$work/t")" = "$team_pub" ] && [ -n "$team_pub" ]' "round $round: other key"
done
check '[ "$(pub "$work/t")" != "$(pub "$b")" ]' "the team key is the build's own"
b_key=$(sha256sum <"$b/hotreload-sign.pem")
check '! HOTRELOAD_SIGN_KEY=$team cmake -S "$work/src" -B "$b" -DHOTRELOAD_DIR="$top" \
       >"$work/logk" 2>&1 && grep -q "a key of its own" "$work/logk"' "own key not refused"
check '[ "$(sha256sum <"$b/hotreload-sign.pem")" = "$b_key" ]' "a build's own key changed"
cmake -S "$work/src" -B "$b" -DHOTRELOAD_SIGN_KEY= >/dev/null
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
# hotd push never sends a stale image.
hotd=$b/hotreload/hostd/hotd
mkdir "$work/storage"
HOTRELOAD_STORAGE_DIR=$work/storage "$fw" 0 >"$work/fw.log" 2>&1 </dev/null &
dev=$!
trap 'kill $dev 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 100); do grep -q "device up" "$work/fw.log" && break; sleep 0.1; done
url=$(grep -o 'http://127.0.0.1:[0-9]*' "$work/fw.log" | head -1)
shows() { for _ in $(seq 50); do tail -1 "$work/fw.log" | grep -q "$1" && return 0; sleep 0.1; done; return 1; }
sed -i 's/Hello from the module/Saved, not built/' "$work/src/module/greet.c"
rc=0; "$hotd" push greet --build "$b" --url "$url" >"$work/push1" 2>&1 || rc=$?
check '[ $rc = 0 ]' "push after an edit: $(cat "$work/push1")"
check 'shows "Saved, not built"' "the pushed module is not the edited one: $(tail -1 "$work/fw.log")"
sed -i 's/return ++count;/return ++count error;/' "$work/src/module/greet.c"
check '! "$hotd" push greet --build "$b" --url "$url" >"$work/push2" 2>&1' "a failed build was pushed"
check 'grep -q "error" "$work/push2" && grep -q "not pushed: the build of .greet. failed" "$work/push2"' \
      "the failed build is not shown or not named: $(cat "$work/push2")"
check 'shows "Saved, not built"' "the device stopped running its module after a failed build"
rc=0; "$hotd" push greet --build "$b" --url "$url" --no-build >"$work/push3" 2>&1 || rc=$?
check '[ $rc = 0 ]' "--no-build did not push the built image: $(cat "$work/push3")"

# A new function the firmware does not call: no stub, the same firmware, and
# it is pushed to the running device like any edit.
sed -i 's/return ++count error;/return ++count;/' "$work/src/module/greet.c"
fw_sum=$(sha256sum <"$fw")
printf '\nint greet_scaled(int x)\n{\n    return 3 * x;\n}\n' >>"$work/src/module/greet.c"
sed -i 's/Saved, not built/With a new helper/' "$work/src/module/greet.c"
rc=0; "$hotd" push greet --build "$b" --url "$url" >"$work/push4" 2>&1 || rc=$?
check '[ $rc = 0 ]' "a new uncalled function was not pushed: $(cat "$work/push4")"
check 'shows "With a new helper"' "the device does not run the module with the new function"
check '[ "$(sha256sum <"$fw")" = "$fw_sum" ]' "a new uncalled function changed the firmware"
check 'grep -qx greet_scaled "$b/modules/greet_functions.txt"' "the module's functions lack it"
check '! grep -q greet_scaled "$b/modules/greet_stubs.S"' "an uncalled function got a stub"
# The firmware starts calling it: now the firmware has a stub for it, and a
# push to the device running the old firmware names the function and asks
# for the reflash, sending nothing.
sed -i -e 's|^int main(|int greet_scaled(int x);\nint main(|' \
       -e 's|^    hotreload_server_stop();|    printf("scaled %d\\n", greet_scaled(2));\n&|' \
       "$work/src/firmware/main.c"
rc=0; "$hotd" push greet --build "$b" --url "$url" >"$work/push5" 2>&1 || rc=$?
check '[ $rc != 0 ]' "a module for a firmware that calls more was pushed to the old firmware"
check 'grep -q "calls greet_scaled(), which the running one has no stub for" "$work/push5"' \
      "the refusal does not name the function: $(cat "$work/push5")"
check 'grep -q greet_scaled "$b/modules/greet_stubs.S"' "a function the firmware calls has no stub"
check '[ "$(sha256sum <"$fw")" != "$fw_sum" ]' "the firmware did not change when it called more"
echo "rebuild_test: $passes passed, $fails failed"
[ $fails = 0 ]
