#!/usr/bin/env bash
# benches/callgrind.sh BIN PATH [N]: CPU instructions per request for `GET PATH` on the server binary
# BIN (a fresh SQLite database, rate limits off; extra settings in $EXTRA, e.g.
# EXTRA="CACHE_ENABLED=false"), counted by valgrind's callgrind over N keep-alive requests (default
# 1000) after 100 of warm-up. Unlike requests per second, the count repeats to within a few hundred
# instructions whatever else the machine is doing: use it to compare two builds of a change.
set -e
bin=$1; path=$2; n=${3:-1000}
dir=$(mktemp -d); port=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
cd $dir
env -i PATH=$PATH HOME=$HOME DATABASE_URL=sqlite://$dir/db.sqlite PORT=$port BIND_ADDR=127.0.0.1 RUST_LOG=warn DJANGO_SECRET_KEY=cg-secret-key-0123456789abcdef0123456789 RATE_LIMIT_ENABLED=false $EXTRA \
  valgrind --tool=callgrind --callgrind-out-file=$dir/cg.out --dump-instr=no $bin serve > $dir/log 2>&1 &
vpid=$!
for i in $(seq 1 200); do curl -s -o /dev/null "http://127.0.0.1:$port/health/" && break; sleep 0.3; done
python3 - "$port" "$path" 100 <<'PY'
import http.client, sys
port, path, n = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
c = http.client.HTTPConnection("127.0.0.1", port)
for _ in range(n):
    c.request("GET", path); r = c.getresponse(); r.read()
PY
callgrind_control -z $vpid >/dev/null
python3 - "$port" "$path" "$n" <<'PY'
import http.client, sys
port, path, n = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
c = http.client.HTTPConnection("127.0.0.1", port)
for _ in range(n):
    c.request("GET", path); r = c.getresponse(); r.read()
    assert r.status == 200, r.status
PY
callgrind_control -d $vpid >/dev/null
sleep 1
total=$(grep -h '^summary:\|^totals:' $dir/cg.out* | tail -1 | awk '{print $2}')
kill $vpid; wait $vpid 2>/dev/null || true
echo "$path: $((total / n)) instructions/request (total $total over $n)"
rm -rf $dir
