# The boot script of a bare-metal board's QEMU example, sourced by
# scripts/qemu-rv32 and scripts/qemu-cortex-m (their headers are the usage
# text), which set first:
#   top, script        the source tree, the script's name
#   board_name         the board ("rv32-virt", "mps2-an385")
#   board_example      its example under examples/
#   board_title        what the banner calls the machine
#   board_hello        the start of the example module's line on the UART
#   board_tools, board_packages   the programs it needs, and their packages
#   board_new_flash FILE          makes an empty storage file
#   board_qemu ARGS...            execs QEMU (its pid is the one killed for a
#                                 restart) on $fw with storage $flash, HTTP
#                                 forwarded from 127.0.0.1:$http_port, and ARGS
set -euo pipefail
build=$top/build/$script
hotd=""
serial_port=5555
http_port=8080
gdb_port=1234
check=0
watch=0
fresh=0
halt=()
usage() { awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "$0"; }
while [ $# -gt 0 ]; do
  case "$1" in
    --build) build=$(realpath -m "$2"); shift ;;
    --hotd) hotd=$(realpath "$2"); shift ;;
    --serial-port) serial_port=$2; shift ;;
    --gdb-port) gdb_port=$2; shift ;;
    --http-port) http_port=$2; shift ;;
    --wait-gdb) halt=(-S) ;;
    --fresh) fresh=1 ;;
    --check) check=1 ;;
    --watch) watch=1 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "$script: unknown option '$1'" >&2; usage >&2; exit 2 ;;
  esac
  shift
done
[ $# -eq 0 ] || { usage >&2; exit 2; }

for tool in "${board_tools[@]}" cmake; do
  command -v "$tool" >/dev/null || {
    echo "$script: $tool not found (Debian: $board_packages, cmake; scripts/test" \
         "installs them)" >&2
    exit 1
  }
done
free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}
[ "$serial_port" != 0 ] || serial_port=$(free_port)
[ "$gdb_port" != 0 ] || gdb_port=$(free_port)
[ "$http_port" != 0 ] || http_port=$(free_port)

mkdir -p "$build"
if [ -z "$hotd" ]; then
  # hotd is a host program: its own (native) build next to the cross one.
  if [ ! -x "$build/host/hostd/hotd" ]; then
    echo "== building hotd (host) in $build/host"
  fi
  cmake -S "$top" -B "$build/host" -DHOTRELOAD_TESTS=OFF >"$build/host.log" 2>&1 &&
    cmake --build "$build/host" --target hotd -j2 >>"$build/host.log" 2>&1 ||
    { cat "$build/host.log"; exit 1; }
  hotd=$build/host/hostd/hotd
fi
example=$build/example
src=$top/examples/$board_example
firmware_c=$top/examples/qemu-riscv32/firmware/main.c # every board's example firmware
if [ $check = 1 ]; then
  # The check edits the firmware: a copy (of the examples it is built from),
  # touched so that a build left by an earlier check (whose edit the copy
  # undoes) is redone.
  example=$build/example-check
  rm -rf "$build/check-src"
  mkdir -p "$build/check-src"
  for d in qemu-riscv32 "$board_example"; do
    [ -e "$build/check-src/$d" ] || cp -a "$top/examples/$d" "$build/check-src/"
  done
  src=$build/check-src/$board_example
  firmware_c=$build/check-src/qemu-riscv32/firmware/main.c
  touch "$firmware_c"
fi
# A build configured from another source folder (a moved tree, an older
# check's layout) is started afresh.
if ! grep -qsx "CMAKE_HOME_DIRECTORY:INTERNAL=$src" "$example/CMakeCache.txt"; then
  rm -rf "$example"
  echo "== configuring the example ($board_name cross build) in $example"
  # Ninja where it is installed: a module rebuild is ~0.1 s instead of make's ~1.9 s.
  gen=()
  ! command -v ninja >/dev/null || gen=(-G Ninja)
  cmake -S "$src" -B "$example" "${gen[@]}" -DHOTRELOAD_HOTD="$hotd" -DHOTRELOAD_DIR="$top" \
        -DCMAKE_BUILD_TYPE=MinSizeRel >"$build/example.log" 2>&1 ||
    { cat "$build/example.log"; exit 1; }
fi
cmake --build "$example" -j2 >"$build/example.log" 2>&1 || { cat "$build/example.log"; exit 1; }
fw=$example/qemu_firmware

# The module storage: a file the board's storage lives in, which persists.
flash=$build/flash.bin
if [ $fresh = 1 ] || [ $check = 1 ] || [ ! -f "$flash" ]; then
  [ $check = 0 ] || flash=$build/flash-check.bin
  rm -f "$flash"
  board_new_flash "$flash"
fi

log=$build/uart.log
: >"$log"
# The UART: a TCP server (nodelay: replies go out at once, not after TCP's
# delayed ack), everything it sends also logged (appended: one log across
# restarts), so output is seen while hotd holds the socket.
uart="socket,id=uart,host=127.0.0.1,port=$serial_port,server=on,wait=off,nodelay=on"
uart+=",logfile=$log,logappend=on"
# A restart is asked for by the restart file: QEMU ending any other way (an
# error, Ctrl-C) ends the loop and the script.
rm -f "$build/qemu.restart"
qemu_loop() {
  while :; do
    board_qemu -display none -monitor none -chardev "$uart" -serial chardev:uart \
      -gdb "tcp:127.0.0.1:$gdb_port" "${halt[@]}" >>"$build/qemu.log" 2>&1 &
    echo $! >"$build/qemu.pid"
    wait $! || true
    rm "$build/qemu.restart" 2>/dev/null || break
  done
}
: >"$build/qemu.log"
rm -f "$build/qemu.pid"
qemu_loop &
loop=$!
tailer=""
watcher=""
stop_all() {
  rm -f "$build/qemu.restart"
  [ -z "$watcher" ] || kill -INT "$watcher" 2>/dev/null || true
  kill $loop $tailer "$(cat "$build/qemu.pid" 2>/dev/null)" 2>/dev/null || true
  wait 2>/dev/null || true
}
trap stop_all EXIT
restart="touch '$build/qemu.restart' && kill \$(cat '$build/qemu.pid')"
spec=tcp:127.0.0.1:$serial_port
start_watch() { # hotd watch over HTTP, restarting QEMU after a firmware edit
  "$hotd" watch --build "$example" --url "http://127.0.0.1:$http_port" "$@" \
    --restart "$restart" >"$build/watch.log" 2>&1 &
  watcher=$!
}

wait_for() { # regex, seconds[, first line of the log to search]
  local n=$(($2 * 10))
  for _ in $(seq "$n"); do
    tail -n +"${3:-1}" "$log" | grep -qE "$1" && return 0
    kill -0 $loop 2>/dev/null || { cat "$build/qemu.log"; return 1; }
    sleep 0.1
  done
  return 1
}

if [ $check = 1 ]; then
  wait_for '^device up' 30 ||
    { echo "$script: the firmware did not come up"; cat "$log"; exit 1; }
  "$hotd" push --build "$example" --serial "$spec" greet ||
    { echo "$script: the push failed"; cat "$log"; exit 1; }
  wait_for "^$board_hello \\| 6 \\(op\\) 7 = 13" 30 ||
    { echo "$script: the module's output never showed"; cat "$log"; exit 1; }
  "$hotd" push --build "$example" --url "http://127.0.0.1:$http_port" greet ||
    { echo "$script: the push over HTTP failed"; cat "$log"; exit 1; }
  wait_for '^hotreload: module .greet. generation 2 running' 30 ||
    { echo "$script: the module pushed over HTTP never ran"; cat "$log"; exit 1; }
  # A firmware edit under hotd watch: rebuilt, QEMU restarted on it (the loop
  # boots it again), the module pushed again; then both pushes still work.
  start_watch
  for _ in $(seq 100); do   # its inotify watches are set once it says "watching"
    grep -qs "^watching" "$build/watch.log" && break
    sleep 0.1
  done
  from=$(($(wc -l <"$log") + 1))
  sed -i 's/count %u/count=%u/' "$firmware_c"
  wait_for "^$board_hello \\| 6 \\(op\\) 7 = 13 \\| count=" 90 "$from" ||
    { echo "$script: the firmware edit did not restart QEMU with the module";
      cat "$log" "$build/watch.log"; exit 1; }
  grep -q "firmware changed .*restarting the device" "$build/watch.log" ||
    { echo "$script: hotd watch did not restart the device"; cat "$build/watch.log"; exit 1; }
  [ "$(grep -c "^qemu example on $board_name: booting" "$log")" = 2 ] ||
    { echo "$script: QEMU did not boot exactly twice"; cat "$log"; exit 1; }
  kill -INT "$watcher"; wait "$watcher" || true; watcher=""
  from=$(($(wc -l <"$log") + 1))
  "$hotd" push --build "$example" --serial "$spec" greet ||
    { echo "$script: the push over the UART after the restart failed"; cat "$log"; exit 1; }
  from2=$(($(wc -l <"$log") + 1))
  "$hotd" push --build "$example" --url "http://127.0.0.1:$http_port" greet ||
    { echo "$script: the push over HTTP after the restart failed"; cat "$log"; exit 1; }
  wait_for "^hotreload: module .greet. generation [0-9]+ running" 30 "$from" &&
    wait_for "^hotreload: module .greet. generation [0-9]+ running" 30 "$from2" &&
    wait_for '| count=' 30 "$from2" ||
    { echo "$script: the pushes after the restart never ran"; cat "$log"; exit 1; }
  echo "$script check: the firmware booted in QEMU and ran the module pushed over the" \
       "UART and over HTTP; a firmware edit restarted QEMU under hotd watch, which pushed" \
       "the module again, and both pushes still work"
  exit 0
fi

cat <<MSG
== $board_title: $fw
   UART on $spec (output below, also in $log)
   HTTP on http://127.0.0.1:$http_port (the device's 10.0.2.15:8080)
   gdb stub on 127.0.0.1:$gdb_port${halt:+ (halted until gdb continues)}
   flash (stored modules): $flash

   push the module:  $hotd push --build $example --serial $spec greet
              or:    $hotd push --build $example --url http://127.0.0.1:$http_port greet
   after an edit of examples/$board_example/module/greet.c: the same push (it builds first),
              or:    $hotd watch --build $example --url http://127.0.0.1:$http_port \\
                       --restart "$restart"
                     (scripts/$script --watch runs it: a firmware edit is rebuilt and
                     QEMU restarted on it, then the module pushed again)
              or:    $hotd watch --build $example --serial $spec
   console:          $hotd console --serial $spec --build $example
                     (it holds the UART: its push, hotd push/watch --serial go through it)
   debug:            gdb-multiarch $fw -ex 'source $top/gdb/hotreload.gdb' \\
                       -ex 'hotreload path $example/modules' -ex 'target remote 127.0.0.1:$gdb_port'
                     (gdb then follows every reload)
   Ctrl-C stops QEMU.
MSG
logs=("$log")
if [ $watch = 1 ]; then
  start_watch --push-now
  logs+=("$build/watch.log")
fi
tail -n +1 -f "${logs[@]}" &
tailer=$!
trap 'exit 130' INT TERM
wait $loop
