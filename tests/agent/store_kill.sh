#!/bin/sh
# A process killed with SIGKILL in the middle of storing a module: the
# storage still boots the previous image, intact.
# Usage: store_kill.sh <store_kill binary> <scratch dir>
set -eu
bin=$1
dir=$2
rm -rf "$dir"
mkdir -p "$dir"
export HOTRELOAD_STORAGE_DIR="$dir" HOTRELOAD_STORAGE_SIZE=262144
size=50000 # 50 body writes of 1000 bytes, then the header: 51 writes

"$bin" flash 0 0
"$bin" store 1 $size
"$bin" check 1 $size

# Kill while paused at the first body write, mid-body, at the last body
# write, and just before the header write.
for n in 1 25 50 51; do
    HOTRELOAD_TEST_PAUSE_STORE=$n "$bin" store 2 $size 2>"$dir/err" &
    pid=$!
    i=0
    until grep -q "hotreload-test: paused in storage write" "$dir/err"; do
        i=$((i + 1))
        if [ $i -gt 200 ]; then
            echo "store_kill: write $n never paused" >&2
            kill -9 $pid
            exit 1
        fi
        sleep 0.05
    done
    kill -9 $pid
    wait $pid 2>/dev/null && { echo "store_kill: the store was not killed" >&2; exit 1; }
    echo "killed while paused at write $n"
    "$bin" check 1 $size
done

# Unharmed, the new image wins; a kill during the next store keeps it.
"$bin" store 2 $size
"$bin" check 2 $size
HOTRELOAD_TEST_PAUSE_STORE=30 "$bin" store 3 $size 2>"$dir/err" &
pid=$!
until grep -q "paused in storage write" "$dir/err"; do sleep 0.05; done
kill -9 $pid
wait $pid 2>/dev/null || true
"$bin" check 2 $size
echo "store_kill: ok"
