#!/bin/sh
# A SIGINT while ht-invoke is blocked writing a result to a slow reader:
# the interrupted write is carried on, not lost, so every test still ends
# with exactly one record on stdout, whole, and ht-invoke dies of the
# signal (not exit 74).
. "$HT_SRC/tests/lib.sh"
. "$HT_SRC/tests/helpers/ht-invoke-lib.sh"

# slow-reader.py N CMD...: runs CMD with its stdout a pipe of one page that
# nobody reads until it is full, then sends it SIGINT, then reads slowly.
# Prints the records read to records.jsonl and the way CMD ended.
cat >slow-reader.py <<'PY'
import fcntl, os, signal, subprocess, sys, termios, time, struct
r, w = os.pipe()
F_SETPIPE_SZ = 1031
fcntl.fcntl(w, F_SETPIPE_SZ, 4096)
size = fcntl.fcntl(w, 1032)  # F_GETPIPE_SZ
p = subprocess.Popen(sys.argv[1:], stdout=w)
os.close(w)
def pending():
    return struct.unpack("i", fcntl.ioctl(r, termios.FIONREAD, b"\0\0\0\0"))[0]
# As full as it gets (a record that does not fit is not written in part),
# and unchanged for a while: the writer is blocked in write().
full_since, last = None, -1
deadline = time.time() + 30
while time.time() < deadline and p.poll() is None:
    n = pending()
    if n > size - 2048 and n == last:
        full_since = full_since or time.time()
        if time.time() - full_since > 0.5:
            break
    else:
        full_since = None
    last = n
    time.sleep(0.02)
blocked = p.poll() is None and full_since is not None
p.send_signal(signal.SIGINT)
data = b""
while True:
    time.sleep(0.005)
    chunk = os.read(r, 512)
    if not chunk:
        break
    data += chunk
p.wait()
open("records.jsonl", "wb").write(data)
print("blocked" if blocked else "not-blocked", p.returncode)
PY

test_expect_success 'SIGINT while a write to stdout blocks: no record lost, the signal re-raised' '
  cd proj &&
  for i in $(seq 1 40); do mkrec "t$i" "echo a line of output from test $i"; done >plan.jsonl &&
  HT_BIN=$RUNNER_BIN python3 ../slow-reader.py ht-invoke -q -j 2 plan.jsonl >how 2>err &&
  cat how &&
  test "$(cat how)" = "blocked -2" &&
  test_jq -s "length == 40" ../proj/records.jsonl &&
  test_jq -s "map(.test_id) | unique | length == 40" records.jsonl &&
  test_jq -s "all(.[]; .schema == \"ht.result/1\" and (.status == \"passed\" or .status == \"interrupted\"))" records.jsonl &&
  test_jq -s "map(select(.status == \"passed\")) | length > 0" records.jsonl &&
  ! grep -q "cannot write" err
'

test_done
