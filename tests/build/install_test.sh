#!/usr/bin/env bash
# `cmake --install` into a temporary prefix: hotd --version, its man page and
# bash completion (commands and options taken from hotd itself), the gdb
# helper, and examples/basic built against the installed package
# (find_package(hotreload)) then pushed to with the installed hotd.
# usage: install_test.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build=$(readlink -f "$1") top=$(readlink -f "$2")
work=$(mktemp -d /tmp/hotreload-install-XXXXXX)
fw=
trap '[ -n "$fw" ] && kill "$fw" 2>/dev/null; rm -rf "$work"' EXIT
fails=0 passes=0
check() { if eval "$1"; then passes=$((passes + 1)); else fails=$((fails + 1)); echo "FAIL: $2"; fi; }

prefix=$work/prefix
cmake --install "$build" --prefix "$prefix" >/dev/null
hotd=$prefix/bin/hotd
version=$(sed -n 's/^#define HOTRELOAD_VERSION "\(.*\)"/\1/p' "$top/agent/include/hotreload/version.h")
check '[ "$("$hotd" --version)" = "hotd $version" ]' "hotd --version is not 'hotd $version'"
check '[ -f "$prefix/share/hotreload/gdb/hotreload.gdb" ]' "the gdb helper is not installed"

man1=$prefix/share/man/man1/hotd.1
commands=$("$hotd" --help | awk '/^commands:/ { on = 1; next } on && /^  [a-z]/ { print $1 }')
for c in $commands; do
  check 'grep -qx ".B $c" "$man1"' "the man page does not describe '$c'"
done
if command -v man >/dev/null; then
  check 'MANWIDTH=80 man -l "$man1" 2>&1 | grep -q "hotd COMMAND"' "the man page does not render"
fi

complete() { # complete WORD... : what bash completion offers for the last word
  bash -c 'source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _hotd
           printf "%s\n" "${COMPREPLY[@]}"' _ "$prefix/share/bash-completion/completions/hotd" "$@"
}
check '[ "$(complete "$hotd" pu)" = push ]' "completion of a command"
check 'complete "$hotd" push --u | grep -qx -- --url' "completion of an option"

# examples/basic against the installed package, then the installed hotd pushes.
cmake -S "$top/examples/basic" -B "$work/basic" -DHOTRELOAD_INSTALLED=ON \
      -DCMAKE_PREFIX_PATH="$prefix" >"$work/configure.log" 2>&1 ||
  { cat "$work/configure.log"; exit 1; }
check 'grep -q "HOTRELOAD_HOTD:FILEPATH=$hotd" "$work/basic/CMakeCache.txt"' \
      "the package's build does not use the installed hotd"
cmake --build "$work/basic" -j2 >"$work/build.log" 2>&1 || { cat "$work/build.log"; exit 1; }
mkdir "$work/storage"
HOTRELOAD_STORAGE_DIR=$work/storage "$work/basic/basic_firmware" 0 >"$work/fw.log" 2>&1 </dev/null &
fw=$!
for _ in $(seq 100); do grep -q "device up" "$work/fw.log" && break; sleep 0.1; done
url=$(grep -o 'http://127.0.0.1:[0-9]*' "$work/fw.log" | head -1)
check '"$hotd" push greet --build "$work/basic" --url "$url" >/dev/null' "push with the installed hotd"
running() { tail -1 "$work/fw.log" | grep "count" | grep -vq "(no module)"; }
for _ in $(seq 50); do running && break; sleep 0.1; done
check running "the pushed module does not run: $(tail -2 "$work/fw.log")"
echo "install_test: $passes passed, $fails failed"
[ $fails = 0 ]
