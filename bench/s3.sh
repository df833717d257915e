#!/usr/bin/env bash
# Object storage (issue 7): the Synthea set exported to S3 (an s3mock process) and to local disk in the
# same run, then the peak RSS (VmHWM) of the service while it exports one ~1 GB file to S3.
#   bench/s3.sh        (needs PostgreSQL on 127.0.0.1:5432 and ../shared/data/synthea-r4-100 or SYNTHEA=dir)
#   BIG_MB=1000 BIG_NOTE=20000 bench/s3.sh   (size of the big file and of each resource in it)
source "$(dirname "$0")/lib.sh"
ensure_jar
S3MOCK_JAR="$ROOT/target/s3mock-5.2.0-exec.jar"
[ -f "$S3MOCK_JAR" ] || (cd "$ROOT" && ./mvnw -B -q process-test-resources)
BIG_MB=${BIG_MB:-1000}
BIG_NOTE=${BIG_NOTE:-20000}
PORT=${PORT:-18081}
S3PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
S3TLS=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
S3ROOT=$(mktemp -d "$OUT/s3mock-XXXX")
S3PID=""
cleanup() { stop_app; [ -n "$S3PID" ] && kill "$S3PID" 2>/dev/null; wait 2>/dev/null; rm -rf "$S3ROOT"; }
trap cleanup EXIT

java -Xmx512m -jar "$S3MOCK_JAR" --http.port="$S3PORT" --server.port="$S3TLS" \
  --com.adobe.testing.s3mock.store.initial-buckets=sluice-bench --com.adobe.testing.s3mock.store.root="$S3ROOT" \
  --logging.level.root=WARN > "$OUT/s3mock.log" 2>&1 &
S3PID=$!
for _ in $(seq 1 120); do curl -fs "http://127.0.0.1:$S3PORT/favicon.ico" >/dev/null 2>&1 && break; sleep 0.5; done

S3_ARGS=(-Dsluice.output.kind=s3 -Dsluice.output.s3.bucket=sluice-bench
  -Dquarkus.s3.endpoint-override="http://127.0.0.1:$S3PORT" -Dquarkus.s3.path-style-access=true
  -Dquarkus.s3.aws.region=us-east-1 -Dquarkus.s3.aws.credentials.type=static
  -Dquarkus.s3.aws.credentials.static-provider.access-key-id=bench
  -Dquarkus.s3.aws.credentials.static-provider.secret-access-key=bench)
LOCAL_ARGS=(-Dsluice.output.kind=local -Dsluice.export.output-dir="$OUT/exports")

# export_once TENANT -> "seconds files bytes resources" (system export, all files downloaded and counted)
export_once() {
  local tenant=$1 base="http://127.0.0.1:$PORT/tenants/$1/fhir" t0 t1 status code
  t0=$(now)
  status=$(curl -fsS -D - -o /dev/null -H 'Prefer: respond-async' -H 'Accept: application/fhir+json' \
    "$base/\$export" | tr -d '\r' | sed -n 's/^[Cc]ontent-[Ll]ocation: //p')
  while :; do
    code=$(curl -s -o "$OUT/manifest.json" -w '%{http_code}' "$status")
    [ "$code" != 202 ] && break
    sleep 0.2
  done
  t1=$(now)
  [ "$code" = 200 ] || { echo "export failed ($code): $(cat "$OUT/manifest.json")" >&2; return 1; }
  local export_s; export_s=$(elapsed "$t0" "$t1")
  t0=$(now)
  local stats; stats=$(python3 - "$OUT/manifest.json" <<'PY'
import json, sys, urllib.request
m = json.load(open(sys.argv[1]))
files = nbytes = lines = 0
for o in m["output"]:
    with urllib.request.urlopen(o["url"]) as r:
        data = r.read()
    files += 1; nbytes += len(data); lines += data.count(b"\n")
print(files, nbytes, lines, "presigned" if "X-Amz-Signature" in m["output"][0]["url"] else "api")
PY
)
  t1=$(now)
  echo "$export_s $(elapsed "$t0" "$t1") $stats"
}

# ---- 1. Synthea: S3 vs local, same database, same run
FILE=$(synthea_ndjson)
N=$(wc -l < "$FILE")
DB=$(fresh_db)
start_app "$DB" "$PORT" -Xmx512m "${S3_ARGS[@]}" -Dsluice.output.s3.download=presigned
curl -fsS -o /dev/null -H 'Content-Type: application/fhir+ndjson' --data-binary @"$FILE" \
  "http://127.0.0.1:$PORT/tenants/bench/fhir/\$ingest"
export_once bench >/dev/null   # warm-up
S3_PRESIGNED=$(export_once bench)
stop_app
start_app "$DB" "$PORT" -Xmx512m "${S3_ARGS[@]}" -Dsluice.output.s3.download=proxy
export_once bench >/dev/null
S3_PROXY=$(export_once bench)
stop_app
start_app "$DB" "$PORT" -Xmx512m "${LOCAL_ARGS[@]}"
export_once bench >/dev/null
LOCAL=$(export_once bench)
stop_app

# ---- 2. one ~1 GB file to S3: peak RSS of the service (fresh JVM after the data is loaded)
DB2=$(fresh_db)
start_app "$DB2" "$PORT" -Xmx1g "${LOCAL_ARGS[@]}"
COUNT=$(( BIG_MB * 1000000 / (BIG_NOTE + 200) ))
python3 - "$COUNT" "$BIG_NOTE" "$PORT" <<'PY'
import sys, urllib.request
count, note, port = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
filler = "x" * note
batch = []
def post(lines):
    req = urllib.request.Request(f"http://127.0.0.1:{port}/tenants/big/fhir/$ingest", data="".join(lines).encode(),
                                 headers={"Content-Type": "application/fhir+ndjson"}, method="POST")
    urllib.request.urlopen(req, timeout=600).read()
for i in range(count):
    batch.append('{"resourceType":"Observation","id":"b%d","status":"final","code":{"text":"bench"},'
                 '"note":[{"text":"%d%s"}]}\n' % (i, i, filler))
    if len(batch) == 2000:
        post(batch); batch = []
if batch:
    post(batch)
PY
stop_app
HEAP=${BIG_HEAP:-256m}
BIG_ARGS=(-Dsluice.export.part-max-bytes=4000000000 -Dsluice.export.part-max-resources=10000000
  -Dsluice.export.batch-size=${BIG_BATCH:-200})
# big_export LABEL ARGS... -> "label seconds bytes files hwm_idle hwm_after peak_sampled" (fresh JVM each)
big_export() {
  local label=$1; shift
  start_app "$DB2" "$PORT" "-Xmx$HEAP" "$@" "${BIG_ARGS[@]}"
  local idle; idle=$(awk '/VmHWM/{print $2}' "/proc/$APP_PID/status")
  local t0 t1 status code rss peak=0
  t0=$(now)
  status=$(curl -fsS -D - -o /dev/null -H 'Prefer: respond-async' "http://127.0.0.1:$PORT/tenants/big/fhir/\$export?_type=Observation" \
    | tr -d '\r' | sed -n 's/^[Cc]ontent-[Ll]ocation: //p')
  while :; do
    code=$(curl -s -o "$OUT/big-manifest.json" -w '%{http_code}' "$status")
    rss=$(awk '/VmRSS/{print $2}' "/proc/$APP_PID/status")
    [ "$rss" -gt "$peak" ] && peak=$rss
    [ "$code" != 202 ] && break
    sleep 0.5
  done
  t1=$(now)
  [ "$code" = 200 ] || { echo "big export ($label) failed: $(cat "$OUT/big-manifest.json")" >&2; exit 1; }
  local hwm; hwm=$(awk '/VmHWM/{print $2}' "/proc/$APP_PID/status")
  local url files bytes
  url=$(python3 -c 'import json,sys; m=json.load(open(sys.argv[1])); print(m["output"][0]["url"])' "$OUT/big-manifest.json")
  files=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["output"]))' "$OUT/big-manifest.json")
  bytes=$(curl -s "$url" | wc -c)
  stop_app
  echo "$label $(elapsed "$t0" "$t1") $bytes $files $idle $hwm $peak"
}
BIG_S3=$(big_export s3 "${S3_ARGS[@]}" -Dsluice.output.s3.download=presigned)
BIG_LOCAL=$(big_export local "${LOCAL_ARGS[@]}")

python3 - "$N" "$S3_PRESIGNED" "$S3_PROXY" "$LOCAL" "$COUNT" "$HEAP" "$BIG_S3" "$BIG_LOCAL" <<'PY'
import sys
n = int(sys.argv[1])
rows = [("S3 (s3mock), presigned URLs", sys.argv[2]), ("S3 (s3mock), proxied by the API", sys.argv[3]),
        ("local disk, API downloads", sys.argv[4])]
print("Synthea system export, %d resources (second run of each; the first warms up):\n" % n)
print("| output store | export s | resources/s | files | MB | download all s | download via |")
print("|---|---:|---:|---:|---:|---:|---|")
for name, r in rows:
    e, d, files, nbytes, lines, via = r.split()
    print(f"| {name} | {float(e):.2f} | {int(lines)/float(e):,.0f} | {files} | {int(nbytes)/1e6:.1f} | {float(d):.2f} | {via} |")
count, heap = sys.argv[5], sys.argv[6]
print(f"\nOne Observation file of {count} resources, fresh JVM -Xmx{heap} each (VmHWM from /proc/<pid>/status):\n")
print("| output store | file MB | files | export s | MB/s | VmHWM after start MiB | VmHWM after export MiB | max sampled VmRSS MiB |")
print("|---|---:|---:|---:|---:|---:|---:|---:|")
for r in sys.argv[7:9]:
    label, secs, nbytes, files, idle, hwm, peak = r.split()
    mb = int(nbytes) / 1e6
    print(f"| {label} | {mb:,.0f} | {files} | {float(secs):.1f} | {mb/float(secs):.1f} | {int(idle)/1024:.0f} | {int(hwm)/1024:.0f} | {int(peak)/1024:.0f} |")
PY
echo "machine: $(machine)"
psql -q -d postgres -c "DROP DATABASE $DB" >/dev/null || true
psql -q -d postgres -c "DROP DATABASE $DB2" >/dev/null || true
