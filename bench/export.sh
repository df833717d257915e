#!/usr/bin/env bash
# Export benchmark (issue 8): one command, one database, everything side by side.
#   bench/export.sh [-n RESOURCES] [-r RUNS] [-w WARMUPS] [-j]   (-n default 1000000; -r timed system exports,
#   default 3, median reported; -w untimed system exports before them, default 5, as bench/ingest.sh warms up
#   before its timed runs: the JIT and the pool's database sessions of a server that has run before; the
#   first of them, the cold export, is reported too; -j records a JFR profile of the system export)
# Prints a Markdown section and appends it to docs/benchmarks.md ("Export (issue 8)").
source "$(dirname "$0")/lib.sh"
N=1000000; JFR=""; RUNS=3; WARMUPS=5
while getopts "n:jr:w:" o; do case $o in n) N=$OPTARG;; j) JFR=1;; r) RUNS=$OPTARG;; w) WARMUPS=$OPTARG;; *) exit 2;; esac; done
command -v wrk >/dev/null || apt-get install -y wrk >/dev/null 2>&1 || { apt-get update >/dev/null && apt-get install -y wrk >/dev/null; }
ensure_jar
B="$OUT/export"; rm -rf "$B"; mkdir -p "$B"
DB=$(fresh_db)
PORT=${PORT:-18380}
HEAP=${HEAP:-192m}
PIDS=()
trap 'for p in "${PIDS[@]}"; do kill $p 2>/dev/null || true; done; wait 2>/dev/null || true' EXIT
q() { psql -At -d "$DB" -c "$1"; }
launch() { # port workerid [java args]
  local port=$1 w=$2; shift 2
  SLUICE_DB_URL="postgresql://$PGHOST:$PGPORT/$DB" SLUICE_AUTH_ENABLED=false SLUICE_SAMPLE_LOAD=never SLUICE_WORKER_ID=$w \
  SLUICE_EXPORT_OUTPUT_DIR="$B/exports" SLUICE_STORE_INGEST_MAX_LINE_BYTES=67108864 SLUICE_EXPORT_MAX_ACTIVE_JOBS_PER_TENANT=100 SLUICE_EXPORT_MAX_ACTIVE_JOBS_PER_CLIENT=100 \
    java "$@" -Dquarkus.http.port="$port" -jar "$ROOT/target/quarkus-app/quarkus-run.jar" > "$B/app-$port.log" 2>&1 &
  PIDS+=($!); LAST=$!
}
ready() { for _ in $(seq 1 240); do curl -fs "http://127.0.0.1:$1/q/health/ready" >/dev/null 2>&1 && return 0; sleep 0.25; done; return 1; }
kick() { # path -> status url
  curl -fsS -D - -o /dev/null -H 'Prefer: respond-async' -H 'Accept: application/fhir+json' "http://127.0.0.1:$PORT$1" \
    | tr -d '\r' | sed -n 's#^[Cc]ontent-[Ll]ocation: ##p'
}
await() { # status url -> writes manifest to $2 (one Python poller with a kept-alive connection, every 20 ms)
  python3 "$ROOT/bench/poll.py" "$1" "$2" 0.02
}
count_manifest() { python3 -c "import json,sys;m=json.load(open(sys.argv[1]));print(sum(o.get('count',0) for o in m['output']))" "$1"; }
timed_export() { # name path -> sets SECS COUNT
  local t0 t1 url; t0=$(now); url=$(kick "$2"); await "$url" "$B/$1.manifest.json"; t1=$(now)
  SECS=$(elapsed "$t0" "$t1"); COUNT=$(count_manifest "$B/$1.manifest.json"); JOBURL=$url
}
hwm() { awk '/VmHWM/{print int($2/1024)}' "/proc/$1/status"; }
# the peak resident size so far becomes the current one (Linux: clear_refs 5), so the next hwm is the
# peak of what ran in between, not of the ingest before it
reset_hwm() { echo 5 > "/proc/$1/clear_refs"; }

# ---- data
FILE="$OUT/bench-$N.ndjson"
[ -s "$FILE" ] || python3 "$ROOT/bench/multiply.py" --src "$SYNTHEA/ndjson" --resources "$N" --out "$FILE"
JFROPT=(); [ -n "$JFR" ] && JFROPT=(-XX:StartFlightRecording=filename="$B/export.jfr",settings=default)
launch "$PORT" bench "-Xmx$HEAP" "${JFROPT[@]}"; APP=$LAST; ready "$PORT"
t0=$(now)
curl -fsS -o "$B/ingest.json" -H 'Content-Type: application/fhir+ndjson' --data-binary @"$FILE" "http://127.0.0.1:$PORT/fhir/\$ingest"
INGEST_S=$(elapsed "$t0" "$(now)")
# settle the load before measuring: statistics and visibility map, then the ingest's dirty pages (tables
# and WAL, about a gigabyte for 200K resources) written out, so the kernel's delayed write-back of them
# does not land on the measured exports (nor on their COPY baselines)
psql -q -d "$DB" -c "VACUUM ANALYZE" >/dev/null
psql -q -d "$DB" -c "CHECKPOINT" >/dev/null; sync
RSS_INGEST=$(hwm "$APP"); reset_hwm "$APP"

# ---- system export: after WARMUPS untimed exports (a server that has run before: its JIT done and its
# pool's database sessions used), RUNS timed exports, each followed by the COPY baseline of exactly its
# snapshot rows; medians of both (one sample of either swings by a third on this machine). The first
# warm-up, the cold export of a fresh process, is reported beside them.
WARM_ALL=()
for i in $(seq 1 "$WARMUPS"); do timed_export warmup "/fhir/\$export"; WARM_ALL+=("$SECS"); done
COLD_S=${WARM_ALL[0]:-}
SYS_ALL=(); BASE_ALL=()
for i in $(seq 1 "$RUNS"); do
  timed_export system "/fhir/\$export"; SYS_ALL+=("$SECS"); SYS_N=$COUNT; SYS_URL=$JOBURL
  TT=$(python3 -c "import json,sys;print(json.load(open(sys.argv[1]))['transactionTime'])" "$B/system.manifest.json")
  t0=$(now)
  psql -q -d "$DB" -c "\\copy (SELECT content FROM resource_version WHERE tenant = (SELECT tenant FROM export_job LIMIT 1) AND valid_from <= '$TT' AND (valid_to IS NULL OR valid_to > '$TT') AND NOT deleted ORDER BY resource_type, id) TO '$B/baseline.ndjson'"
  BASE_ALL+=("$(elapsed "$t0" "$(now)")"); BASE_N=$(wc -l < "$B/baseline.ndjson")
  # untimed: write the baseline's file out now, or the next export's fsyncs wait for it (ext4 commits
  # other files' delayed data with a journal commit; measured: +0.3 s on the export after a COPY)
  sync
done
SYS_S=$(median "${SYS_ALL[@]}"); BASE_S=$(median "${BASE_ALL[@]}")
timed_export patient "/fhir/Patient/\$export"; PAT_S=$SECS; PAT_N=$COUNT
GROUP=$(q "SELECT id FROM resource_version WHERE resource_type='Group' LIMIT 1")
timed_export group "/fhir/Group/$GROUP/\$export"; GRP_S=$SECS; GRP_N=$COUNT

# COPY baselines of the same rows for the Patient and Group levels: the level's snapshot query as ONE
# statement (resources of the type visible at the job's transactionTime that are in the compartment of a
# patient alive then; for the Group, of a member at that time), copied to a file by psql.
tt() { python3 -c "import json,sys;print(json.load(open(sys.argv[1]))['transactionTime'])" "$1"; }
level_copy() { # name tt patient-condition -> sets LSECS LCOUNT
  local t0; t0=$(now)
  psql -q -d "$DB" -c "\\copy (SELECT v.content FROM resource_version v WHERE v.tenant = 'default' AND v.valid_from <= '$2' AND (v.valid_to IS NULL OR v.valid_to > '$2') AND NOT v.deleted AND EXISTS (SELECT 1 FROM resource_compartment c WHERE c.tenant = v.tenant AND c.resource_type = v.resource_type AND c.id = v.id AND c.version_id = v.version_id AND $3 AND EXISTS (SELECT 1 FROM resource_version p WHERE p.tenant = c.tenant AND p.resource_type = 'Patient' AND p.id = c.patient_id AND p.valid_from <= '$2' AND (p.valid_to IS NULL OR p.valid_to > '$2') AND NOT p.deleted)) ORDER BY v.resource_type, v.id) TO '$B/baseline-$1.ndjson'"
  LSECS=$(elapsed "$t0" "$(now)"); LCOUNT=$(wc -l < "$B/baseline-$1.ndjson")
}
PTT=$(tt "$B/patient.manifest.json"); level_copy patient "$PTT" "true"; PBASE_S=$LSECS; PBASE_N=$LCOUNT
GTT=$(tt "$B/group.manifest.json")
level_copy group "$GTT" "c.patient_id IN (SELECT m.member_id FROM resource_version g JOIN group_member m ON m.tenant = g.tenant AND m.group_id = g.id AND m.version_id = g.version_id WHERE g.tenant = 'default' AND g.resource_type = 'Group' AND g.id = '$GROUP' AND g.valid_from <= '$GTT' AND (g.valid_to IS NULL OR g.valid_to > '$GTT') AND NOT g.deleted AND m.member_type = 'Patient' AND NOT m.inactive AND (m.period_start IS NULL OR m.period_start <= '$GTT') AND (m.period_end IS NULL OR m.period_end >= '$GTT'))"
GBASE_S=$LSECS; GBASE_N=$LCOUNT
RSS_EXPORT=$(hwm "$APP")

# ---- downloads: plain and gzip
urls=$(python3 -c "import json,sys;print('\n'.join(o['url'] for o in json.load(open(sys.argv[1]))['output']))" "$B/system.manifest.json")
t0=$(now); RAW_BYTES=0
for u in $urls; do b=$(curl -fsS -o /dev/null -w '%{size_download}' "$u"); RAW_BYTES=$((RAW_BYTES + b)); done
DL_S=$(elapsed "$t0" "$(now)")
t0=$(now); GZ_BYTES=0
for u in $urls; do b=$(curl -fsS -H 'Accept-Encoding: gzip' -o /dev/null -w '%{size_download}' "$u"); GZ_BYTES=$((GZ_BYTES + b)); done
GZ_S=$(elapsed "$t0" "$(now)")

# ---- status latency: idle, then while two system exports run (3 s each: two warm 200K exports at once
# take about 4 s, and the exports' status at the end shows they were still running)
STATUS="$SYS_URL"
IDLE=$(wrk -t2 -c8 -d3s --latency "$STATUS" | tee "$B/wrk-idle.txt" | awk '/^ +50%/{p50=$2} /^ +99%/{p99=$2} /Requests\/sec/{r=$2} END{print p50, p99, r}')
U1=$(kick "/fhir/\$export"); U2=$(kick "/fhir/\$export")
BUSY=$(wrk -t2 -c8 -d3s --latency "$STATUS" | tee "$B/wrk-busy.txt" | awk '/^ +50%/{p50=$2} /^ +99%/{p99=$2} /Requests\/sec/{r=$2} END{print p50, p99, r}')
BUSY_STATE=$(curl -s -o /dev/null -w '%{http_code}' "$U1")/$(curl -s -o /dev/null -w '%{http_code}' "$U2")
await "$U1" "$B/c1.json"; await "$U2" "$B/c2.json"
RSS_ALL=$(hwm "$APP")

# ---- one 50 MB resource through $ingest and $export at the same heap
python3 - "$B/big.ndjson" <<'PY'
import json, sys
blob = "A" * (50 * 1024 * 1024)
with open(sys.argv[1], "w") as f:
    f.write(json.dumps({"resourceType": "Binary", "id": "big1", "contentType": "application/octet-stream", "data": blob}) + "\n")
PY
t0=$(now)
BIG_INGEST=$(curl -s -o "$B/big-ingest.json" -w '%{http_code}' -H 'Content-Type: application/fhir+ndjson' --data-binary @"$B/big.ndjson" "http://127.0.0.1:$PORT/tenants/big/fhir/\$ingest")
BIGI_S=$(elapsed "$t0" "$(now)")
# when $ingest at this heap cannot hold the line (it rejects it in its report), a helper process with a
# larger heap stores it, so that the export is still measured at -Xmx$HEAP
BIG_STORED=$(python3 -c "import json,sys;p=json.load(open(sys.argv[1]))['parameter'];print([x['valueInteger'] for x in p if x['name']=='stored'][0])" "$B/big-ingest.json" 2>/dev/null || echo 0)
BIG_HOW="by \$ingest at -Xmx$HEAP"
if [ "$BIG_STORED" != 1 ]; then
  launch $((PORT + 9)) bigstore -Xmx1g; HELPER=$LAST; ready $((PORT + 9))
  curl -fsS -o /dev/null -H 'Content-Type: application/fhir+ndjson' --data-binary @"$B/big.ndjson" "http://127.0.0.1:$((PORT + 9))/tenants/big/fhir/\$ingest"
  kill "$HELPER"; wait "$HELPER" 2>/dev/null || true
  BIG_HOW="by a helper process at -Xmx1g"
fi
reset_hwm "$APP"
t0=$(now); BU=$(curl -fsS -D - -o /dev/null -H 'Prefer: respond-async' "http://127.0.0.1:$PORT/tenants/big/fhir/\$export" | tr -d '\r' | sed -n 's#^[Cc]ontent-[Ll]ocation: ##p')
BIG_OK=no; if await "$BU" "$B/big.manifest.json"; then
  BIGURL=$(python3 -c "import json,sys;o=json.load(open(sys.argv[1]))['output'];print(o[0]['url'] if o else '')" "$B/big.manifest.json")
  if [ -n "$BIGURL" ] && curl -fsS -o "$B/big-out.ndjson" "$BIGURL"; then
    BIG_OK=$(python3 -c "import json,sys;l=open(sys.argv[1]).read().split('\n');r=json.loads(l[0]);print('yes' if len(l)==2 and r['id']=='big1' and r['data']=='A'*(50*1024*1024) else 'no')" "$B/big-out.ndjson")
    rm -f "$B/big-out.ndjson"
  fi
fi
BIGE_S=$(elapsed "$t0" "$(now)")
RSS_BIG=$(hwm "$APP"); ALIVE=$(kill -0 "$APP" 2>/dev/null && echo yes || echo no)
kill "$APP"; wait "$APP" 2>/dev/null || true

# ---- claim contention: 4 instances, 1,000 small jobs inserted at once
psql -q -d "$DB" -c "INSERT INTO resource_version (tenant, resource_type, id, version_id, valid_from, content) VALUES ('claims','Patient','c1',1,now(),'{\"resourceType\":\"Patient\",\"id\":\"c1\"}')" >/dev/null 2>&1 || true
CP=(); for i in 1 2 3 4; do launch $((PORT + i)) "claim$i" -Xmx160m; CP+=($LAST); done
for i in 1 2 3 4; do ready $((PORT + i)); done
t0=$(now)
psql -q -d "$DB" <<SQL
SELECT pg_advisory_xact_lock(hashtext('sluice-snapshot:claims'));
INSERT INTO export_job (id, tenant, status, level, request, request_url, owner, transaction_time, created_at)
SELECT gen_random_uuid(), 'claims', 'accepted', 'system', '{}'::jsonb, 'http://bench/\$export', 'bench', clock_timestamp(), now()
FROM generate_series(1, 1000);
SELECT pg_notify('sluice_export_jobs', 'bench');
SQL
while [ "$(q "SELECT count(*) FROM export_job WHERE tenant='claims' AND status IN ('accepted','in-progress')")" != 0 ]; do sleep 0.1; done
CLAIM_S=$(elapsed "$t0" "$(now)")
CLAIM_DONE=$(q "SELECT count(*) FROM export_job WHERE tenant='claims' AND status='complete'")
DOUBLE=$(q "SELECT count(*) FROM export_job WHERE tenant='claims' AND (attempts <> 1 OR fencing_token <> 1)")
DOUBLE_PARTS=$(q "SELECT count(*) FROM (SELECT job_id FROM export_part p JOIN export_job j ON j.id = p.job_id WHERE j.tenant='claims' GROUP BY job_id HAVING count(DISTINCT p.fencing_token) > 1) x")
PER=$(q "SELECT string_agg(worker_id || '=' || n, ' ') FROM (SELECT worker_id, count(*) n FROM export_job WHERE tenant='claims' GROUP BY 1 ORDER BY 1) x")
for p in "${CP[@]}"; do kill "$p"; done; wait 2>/dev/null || true

# ---- the load beside COPY FROM: the same resources as resource_version rows (tenant, type, id, version 1,
# the raw line) into a table made like resource_version, as bench/ingest.sh's baseline A; last, so its
# writes land on nothing measured
version_rows "$FILE" "$B/load.tsv"
psql -q -d "$DB" -c "CREATE TABLE bench_load (LIKE resource_version INCLUDING ALL)" >/dev/null
t0=$(now); psql -q -d "$DB" -c "\\copy bench_load FROM '$B/load.tsv'"; COPYIN_S=$(elapsed "$t0" "$(now)")
rm -f "$B/load.tsv"

# ---- JFR summary
PROFILE=""
if [ -n "$JFR" ] && [ -s "$B/export.jfr" ]; then
  jfr print --events jdk.ExecutionSample "$B/export.jfr" > "$B/samples.txt" 2>/dev/null || true
  PROFILE=$(python3 - "$B/samples.txt" <<'PY'
import re, sys, collections
top = collections.Counter(); n = 0
frames = None
for line in open(sys.argv[1], encoding="utf-8", errors="replace"):
    if line.startswith("jdk.ExecutionSample"):
        frames = []; n += 1
    elif frames is not None and "line:" in line:
        if not frames:
            top[line.strip().split("  ")[0].split(" line:")[0]] += 1
        frames.append(1)
for m, c in top.most_common(12):
    print(f"| {c*100/max(n,1):.1f}% | `{m}` |")
PY
)
fi

python3 - "$@" > "$B/section.md" <<PY
base_rate = $BASE_N / $BASE_S
def row(name, n, s, target=None, copy_n=$BASE_N, copy_s=$BASE_S):
    rate = n / s
    r = f"| {name} | {n:,} | {s:.2f} | {rate:,.0f} | {copy_n:,} in {copy_s:.2f} s | {rate / (copy_n / copy_s):.2f} |"
    return r + (f" {target} |" if target else " |")
print("## Export (issue 8)\n")
print("Run: \`bench/export.sh -n $N -r $RUNS -w $WARMUPS${JFR:+ -j}\` on $(date -u +%Y-%m-%dT%H:%MZ); machine: $(machine | sed 's/"/\\"/g').")
print("Data: \`bench/multiply.py\` copies of the Synthea sample ($N resources, one Group per copy), loaded through \`\$ingest\` in ${INGEST_S} s ({:,.0f} resources/s).\n".format($N / $INGEST_S))
print("Baseline of each level: \`psql \\\\copy (SELECT content FROM <the level's snapshot query> ORDER BY type, id) TO file\` of the same rows, one statement.\n")
print("| what | resources | seconds | resources/s | COPY of the same rows | ratio to that COPY | target |")
print("|---|---:|---:|---:|---|---:|---|")
print(row("system \$export, all types, kick-off → manifest (-Xmx$HEAP), after $WARMUPS warm-up exports, median of $RUNS", $SYS_N, $SYS_S, "≥ 0.8 and ≥ 50K/s"))
if "$COLD_S":
    print(row("the first warm-up: the first system \$export of the process (cold)", $SYS_N, float("$COLD_S")))
print(row("Patient-level \$export", $PAT_N, $PAT_S, "≥ 0.5", $PBASE_N, $PBASE_S))
print(row("Group-level \$export (one Group = one copy)", $GRP_N, $GRP_S, "≥ 0.5", $GBASE_N, $GBASE_S))
print("\nSystem exports (s): warm-ups ${WARM_ALL[*]}; timed ${SYS_ALL[*]}; their COPY baselines (s): ${BASE_ALL[*]}.")
print(f"\nThe load: \$ingest of the {$N:,} resources (one HTTP body, at the start of the run) {$INGEST_S:.2f} s = {$N / $INGEST_S:,.0f} resources/s; \`psql \\\\copy FROM\` of the same resources as resource_version rows into a table made like it (at the end of the run) {$COPYIN_S:.2f} s = {$N / $COPYIN_S:,.0f} resources/s; ratio {$COPYIN_S / $INGEST_S:.2f} (issue 3's bench, \`bench/ingest.sh\`, measures it warm).")
print(f"\nDownloads of the system export: plain {$RAW_BYTES/1e6:,.0f} MB in {$DL_S:.2f} s; \`Accept-Encoding: gzip\` {$GZ_BYTES/1e6:,.0f} MB on the wire in {$GZ_S:.2f} s.")
print(f"\nMemory (-Xmx$HEAP): peak resident size (VmHWM) of the exports above {$RSS_EXPORT} MB, with the two concurrent exports after them {$RSS_ALL} MB (target < 400 MB); of the \$ingest of the data before them, in the same process, {$RSS_INGEST} MB (the peak is reset after the load).")
print("One 50 MB Binary (ingest line limit raised to 64 MB): \$ingest at -Xmx$HEAP HTTP $BIG_INGEST (" + """$(head -c 200 "$B/big-ingest.json" | tr -d '"')""" + ")" + f" in {$BIGI_S:.1f} s; stored $BIG_HOW; its export at -Xmx$HEAP complete, downloaded and intact: $BIG_OK ({$BIGE_S:.1f} s); peak resident size of that export {$RSS_BIG} MB; process alive: $ALIVE.")
print("\nStatus endpoint under \`wrk -t2 -c8 -d3s --latency\` (p50 / p99 / requests/s):")
print("- idle: $IDLE")
print("- while two system exports run (their status then: $BUSY_STATE): $BUSY")
print(f"\nClaim contention: 4 instances, 1,000 one-resource jobs inserted at once: {$CLAIM_DONE} complete in {$CLAIM_S:.2f} s = {$CLAIM_DONE / $CLAIM_S:,.0f} jobs/s; jobs claimed more than once (attempts or token ≠ 1): $DOUBLE; jobs with parts from two tokens: $DOUBLE_PARTS; per worker: $PER.")
prof = """$PROFILE"""
if prof.strip():
    print("\nJFR (default settings) of the whole run, top frames of jdk.ExecutionSample:\n\n| samples | top frame |\n|---:|---|")
    print(prof)
PY
cat "$B/section.md"
DOC="$ROOT/docs/benchmarks.md"; [ -f "$DOC" ] || printf '# Benchmarks\n' > "$DOC"
{ echo; echo "Load average at the end of the run: $(cut -d' ' -f1-3 /proc/loadavg)"; echo; cat "$B/section.md"; } >> "$DOC"
psql -q -d postgres -c "DROP DATABASE $DB" >/dev/null 2>&1 || true
