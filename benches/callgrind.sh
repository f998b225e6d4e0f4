#!/usr/bin/env bash
# benches/callgrind.sh BIN PATH [N]: CPU instructions per request for `GET PATH` on the server binary
# BIN (a fresh SQLite database, rate limits off; extra settings in $EXTRA, e.g.
# EXTRA="CACHE_ENABLED=false"), counted by valgrind's callgrind over N keep-alive requests (default
# 1000) after 100 of warm-up. Unlike requests per second, the count repeats to within a few hundred
# instructions whatever else the machine is doing: use it to compare two builds of a change.
# AUTH=1: load the demo data first (`seed-demo`) and send every request with demo-customer's token
# (e.g. `AUTH=1 benches/callgrind.sh BIN /api/auth/me/`; add EXTRA="REDIS_URL=redis://…" for the
# Redis-cached user). KEEP=DIR copies callgrind's output there (`callgrind_annotate --inclusive=yes`).
# The requests carry `Accept-Encoding: identity` (Python's http.client adds it), so they take the
# compression layer's path; the load bench's client sends no Accept-Encoding.
set -e
bin=$1; path=$2; n=${3:-1000}
dir=$(mktemp -d); port=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
cd $dir
if [ -n "$AUTH" ]; then
  env -i PATH=$PATH HOME=$HOME DATABASE_URL=sqlite://$dir/db.sqlite DJANGO_SECRET_KEY=cg-secret-key-0123456789abcdef0123456789 $EXTRA \
    $bin seed-demo > $dir/seed.log 2>&1
fi
env -i PATH=$PATH HOME=$HOME DATABASE_URL=sqlite://$dir/db.sqlite PORT=$port BIND_ADDR=127.0.0.1 RUST_LOG=warn DJANGO_SECRET_KEY=cg-secret-key-0123456789abcdef0123456789 RATE_LIMIT_ENABLED=false $EXTRA \
  valgrind --tool=callgrind --callgrind-out-file=$dir/cg.out --dump-instr=no $bin serve > $dir/log 2>&1 &
vpid=$!
for i in $(seq 1 200); do curl -s -o /dev/null "http://127.0.0.1:$port/health/" && break; sleep 0.3; done
python3 - "$port" "$path" 100 "${AUTH:-}" <<'PY' > $dir/token
import http.client, json, sys
port, path, n, auth = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), sys.argv[4]
c = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
headers = {}
if auth:
    c.request("POST", "/api/auth/login/", body=json.dumps({"username": "demo-customer", "password": "DemoCustomer#2026"}), headers={"Content-Type": "application/json"})
    r = c.getresponse(); token = json.loads(r.read())["token"]
    headers = {"Authorization": "Bearer " + token}
    print(token)
for _ in range(n):
    c.request("GET", path, headers=headers); r = c.getresponse(); r.read()
PY
callgrind_control -z $vpid >/dev/null
python3 - "$port" "$path" "$n" "$(cat $dir/token)" <<'PY'
import http.client, sys
port, path, n, token = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), sys.argv[4]
c = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
headers = {"Authorization": "Bearer " + token} if token else {}
for _ in range(n):
    c.request("GET", path, headers=headers); r = c.getresponse(); r.read()
    assert r.status == 200, r.status
PY
callgrind_control -d $vpid >/dev/null
sleep 1
total=$(grep -h '^summary:\|^totals:' $dir/cg.out* | tail -1 | awk '{print $2}')
if [ -n "$KEEP" ]; then mkdir -p "$KEEP" && cp $dir/cg.out* "$KEEP"/; fi
kill $vpid; wait $vpid 2>/dev/null || true
echo "$path: $((total / n)) instructions/request (total $total over $n)"
rm -rf $dir
