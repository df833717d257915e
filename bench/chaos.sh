#!/usr/bin/env bash
# Chaos suite: three service processes on one database, a system export of N resources, and
#   kill9    — kill -9 of the process holding the job at a random point, RUNS kills (one kill per job)
#   sigstop  — SIGSTOP the holder past its lease, SIGCONT after the reclaim: no write of the stale token
#   pgrestart— restart PostgreSQL mid-export: the job completes, readiness goes down and comes back
#   diskfull — output directory on a 2 MB tmpfs (and an unwritable one): job ends `error`, nothing stuck
# Every completed job is checked with bench/verify_export.py (multiset of (type,id,versionId) == snapshot,
# no orphan files). One summary line per scenario.
#
#   bench/chaos.sh [-n RESOURCES] [-r RUNS] [-s SCENARIOS]     (defaults: 200000, 20, "kill9 sigstop pgrestart diskfull")
#
# By default it runs on a DEDICATED PostgreSQL cluster (15/chaos on port 5499, created with
# pg_createcluster if missing) so the restart scenario does not disturb anything else on the machine;
# CHAOS_CLUSTER=main PGPORT=5432 uses the main one.
source "$(dirname "$0")/lib.sh"
N=200000; RUNS=20; SCENARIOS="kill9 sigstop pgrestart diskfull"
while getopts "n:r:s:" o; do case $o in n) N=$OPTARG;; r) RUNS=$OPTARG;; s) SCENARIOS=$OPTARG;; *) exit 2;; esac; done
CLUSTER=${CHAOS_CLUSTER:-chaos}
PGVER=$(ls /etc/postgresql | head -1)
if [ "$CLUSTER" = chaos ]; then
  export PGPORT=${CHAOS_PGPORT:-5499}
  if ! pg_lsclusters -h | awk '{print $2}' | grep -qx chaos; then
    pg_createcluster "$PGVER" chaos -p "$PGPORT" --start -- --auth-host=trust --auth-local=trust >/dev/null
  fi
  pg_ctlcluster --skip-systemctl-redirect "$PGVER" chaos start 2>/dev/null || true
fi
ensure_jar
C="$OUT/chaos"; rm -rf "$C"; mkdir -p "$C/exports"
DB=$(fresh_db)
declare -A PID PORT
BASEPORT=${BASEPORT:-18280}
WORKERS=(w1 w2 w3)

start_worker() { # name [outdir]
  local w=$1 dir=${2:-$C/exports} i
  i=${w#w}; PORT[$w]=$((BASEPORT + i))
  SLUICE_DB_URL="postgresql://$PGHOST:$PGPORT/$DB" SLUICE_AUTH_ENABLED=false SLUICE_SAMPLE_LOAD=never \
  SLUICE_WORKER_ID=$w SLUICE_WORKER_TICK=500ms SLUICE_EXPORT_LEASE=PT3S SLUICE_EXPORT_HEARTBEAT=PT1S \
  SLUICE_EXPORT_PART_MAX_RESOURCES=${PART:-5000} SLUICE_EXPORT_BATCH_SIZE=1000 SLUICE_EXPORT_MAX_ATTEMPTS=1000 \
  SLUICE_EXPORT_TRANSIENT_RETRIES=20 SLUICE_EXPORT_OUTPUT_DIR="$dir" \
    java -Xmx256m -Dquarkus.http.port="${PORT[$w]}" -jar "$ROOT/target/quarkus-app/quarkus-run.jar" >> "$C/$w.log" 2>&1 &
  PID[$w]=$!
}
wait_ready() { local w=$1; for _ in $(seq 1 240); do curl -fs "http://127.0.0.1:${PORT[$w]}/q/health/ready" >/dev/null 2>&1 && return 0; sleep 0.25; done; echo "$w not ready" >&2; return 1; }
stop_all() { for w in "${!PID[@]}"; do kill "${PID[$w]}" 2>/dev/null || true; done; for w in "${!PID[@]}"; do wait "${PID[$w]}" 2>/dev/null || true; done; PID=(); }
cleanup() { for w in "${!PID[@]}"; do kill -CONT "${PID[$w]}" 2>/dev/null || true; done; stop_all; umount "$C/tmpfs" 2>/dev/null || true; }
trap cleanup EXIT
q() { psql -At -d "$DB" -c "$1"; }
kickoff() { # port -> job id
  curl -fsS -D - -o /dev/null -H 'Prefer: respond-async' -H 'Accept: application/fhir+json' "http://127.0.0.1:$1/fhir/\$export" \
    | tr -d '\r' | sed -n 's#^[Cc]ontent-[Ll]ocation: .*/##p'
}
wait_status() { # job status timeout_s
  local end=$(( $(date +%s) + $3 ))
  while [ "$(q "SELECT status FROM export_job WHERE id='$1'")" != "$2" ]; do
    [ "$(date +%s)" -lt "$end" ] || return 1; sleep 0.1
  done
}
holder() { q "SELECT worker_id FROM export_job WHERE id='$1' AND status='in-progress'"; }
verify() { python3 "$ROOT/bench/verify_export.py" "$DB" "$1" "$C/exports"; }
summary() { # scenario runs passed lost duplicated note
  printf '%-10s runs=%-3s passed=%-3s lost=%-6s duplicated=%-6s %s\n' "$1" "$2" "$3" "$4" "$5" "${6:-}" | tee -a "$C/summary.txt"
}

# ---- data
FILE="$OUT/chaos-$N.ndjson"
[ -s "$FILE" ] || python3 "$ROOT/bench/multiply.py" --src "$SYNTHEA/ndjson" --resources "$N" --out "$FILE"
start_worker w1; wait_ready w1
curl -fsS -o "$C/ingest.json" -H 'Content-Type: application/fhir+ndjson' --data-binary @"$FILE" "http://127.0.0.1:${PORT[w1]}/fhir/\$ingest"
echo "loaded $(q "SELECT count(*) FROM resource_version") resources into $DB (port $PGPORT)"
start_worker w2; start_worker w3; wait_ready w2; wait_ready w3

check_job() { # job -> sets LOST DUP OK
  local v; v=$(verify "$1"); echo "  $v" >> "$C/verify.log"
  LOST=$(python3 -c "import json,sys;d=json.loads(sys.argv[1]);print(d['lost'])" "$v")
  DUP=$(python3 -c "import json,sys;d=json.loads(sys.argv[1]);print(d['duplicated']+d['extra'])" "$v")
  ORPH=$(python3 -c "import json,sys;d=json.loads(sys.argv[1]);print(d['orphans'])" "$v")
  OK=0; if [ "$LOST" = 0 ] && [ "$DUP" = 0 ] && [ "$ORPH" = 0 ]; then OK=1; fi; return 0
}

# ---- kill -9 of the holder at a random point
if [[ " $SCENARIOS " == *" kill9 "* ]]; then
  passed=0; lost=0; dup=0; kills=0
  # one export without a kill first: its parts, so that every kill point falls inside an export (a point in
  # time did not: a warm export ends in about 2 s, a cold one in 5)
  job=$(kickoff "${PORT[w1]}"); wait_status "$job" complete 300; check_job "$job"
  PARTS=$(q "SELECT count(*) FROM export_part WHERE job_id='$job'")
  echo "  calibration: an export recorded $PARTS parts; each run is killed after a random number of them in [0, $PARTS)" >> "$C/verify.log"
  # RUNS kills: a run whose export ends before its kill point (the last parts come fast) does not count
  run=0
  while [ "$kills" -lt "$RUNS" ] && [ "$run" -lt $((2 * RUNS)) ]; do
    run=$((run + 1))
    job=$(kickoff "${PORT[w1]}")
    at=$(python3 -c "import random;print(random.randrange($PARTS))")
    for _ in $(seq 1 3000); do
      [ "$(q "SELECT count(*) FROM export_part WHERE job_id='$job'")" -ge "$at" ] && [ -n "$(holder "$job")" ] && break
      [ "$(q "SELECT status FROM export_job WHERE id='$job'")" = complete ] && break
      sleep 0.02
    done
    h=$(holder "$job")
    [ -z "$h" ] && [ "$(q "SELECT status FROM export_job WHERE id='$job'")" = complete ] && echo "  run $run: finished before the kill" >> "$C/verify.log"
    if [ -n "$h" ]; then
      parts=$(q "SELECT count(*) FROM export_part WHERE job_id='$job'")
      kill -9 "${PID[$h]}"; wait "${PID[$h]}" 2>/dev/null || true
      echo "  run $run: killed $h holding $job after $parts parts" >> "$C/verify.log"
      kills=$((kills + 1))
      start_worker "$h"
    fi
    if wait_status "$job" complete 300; then
      check_job "$job"; [ $OK = 1 ] && passed=$((passed + 1)); lost=$((lost + LOST)); dup=$((dup + DUP))
    else
      echo "  run $run: job $job not complete: $(q "SELECT status, error_message FROM export_job WHERE id='$job'")" >> "$C/verify.log"
    fi
    [ -n "$h" ] && wait_ready "$h"
  done
  summary kill9 "$run" "$passed" "$lost" "$dup" "(kill -9 of the holder after a random number of recorded parts in [0, $PARTS); $kills runs killed, the others finished first)"
fi

# ---- SIGSTOP past the lease, SIGCONT after reclaim
if [[ " $SCENARIOS " == *" sigstop "* ]]; then
  runs=3; passed=0; lost=0; dup=0
  for run in $(seq 1 $runs); do
    job=$(kickoff "${PORT[w1]}")
    for _ in $(seq 1 200); do [ "$(q "SELECT count(*) FROM export_part WHERE job_id='$job'")" -ge 2 ] && break; sleep 0.05; done
    h=$(holder "$job"); tok=$(q "SELECT fencing_token FROM export_job WHERE id='$job'")
    [ -n "$h" ] || { echo "  sigstop run $run: no holder" >> "$C/verify.log"; continue; }
    kill -STOP "${PID[$h]}"
    reclaimed=""
    for _ in $(seq 1 300); do
      [ "$(q "SELECT fencing_token FROM export_job WHERE id='$job'")" -gt "$tok" ] && { reclaimed=$(q "SELECT clock_timestamp()"); break; }
      [ "$(q "SELECT status FROM export_job WHERE id='$job'")" = complete ] && break
      sleep 0.1
    done
    sleep 1; kill -CONT "${PID[$h]}"
    wait_status "$job" complete 300 || true
    stale=$(q "SELECT count(*) FROM export_part WHERE job_id='$job' AND fencing_token=$tok AND created_at >= '${reclaimed:-infinity}'")
    check_job "$job"
    echo "  sigstop run $run: stopped $h (token $tok), reclaimed at ${reclaimed:-never}, stale-token parts after reclaim: $stale, new token $(q "SELECT fencing_token FROM export_job WHERE id='$job'")" >> "$C/verify.log"
    [ $OK = 1 ] && [ "$stale" = 0 ] && [ -n "$reclaimed" ] && passed=$((passed + 1))
    lost=$((lost + LOST)); dup=$((dup + DUP))
  done
  summary sigstop $runs $passed $lost $dup "(stale token writes after reclaim must be 0)"
fi

# ---- restart PostgreSQL mid-export
if [[ " $SCENARIOS " == *" pgrestart "* ]]; then
  runs=2; passed=0; lost=0; dup=0
  for run in $(seq 1 $runs); do
    job=$(kickoff "${PORT[w1]}")
    for _ in $(seq 1 200); do [ "$(q "SELECT count(*) FROM export_part WHERE job_id='$job'")" -ge 3 ] && break; sleep 0.05; done
    ( for _ in $(seq 1 400); do curl -s -o /dev/null -w '%{http_code}\n' -m 1 "http://127.0.0.1:${PORT[w2]}/q/health/ready"; sleep 0.05; done ) > "$C/ready-$run.txt" &
    probe=$!
    sleep 0.3
    pg_ctlcluster --skip-systemctl-redirect "$PGVER" "$CLUSTER" restart
    ok=1; wait_status "$job" complete 300 || ok=0
    wait $probe || true
    down=$(grep -vc '^200$' "$C/ready-$run.txt" || true); back=""
    for _ in $(seq 1 40); do back=$(curl -s -o /dev/null -w '%{http_code}' -m 2 "http://127.0.0.1:${PORT[w2]}/q/health/ready"); [ "$back" = 200 ] && break; sleep 0.25; done
    check_job "$job"
    echo "  pgrestart run $run: complete=$ok readiness non-200 samples=$down, readiness after completion=$back" >> "$C/verify.log"
    [ $ok = 1 ] && [ $OK = 1 ] && [ "$down" -gt 0 ] && [ "$back" = 200 ] && passed=$((passed + 1))
    lost=$((lost + LOST)); dup=$((dup + DUP))
  done
  summary pgrestart $runs $passed $lost $dup "(readiness must drop and return)"
fi

# ---- output directory full / unwritable
if [[ " $SCENARIOS " == *" diskfull "* ]]; then
  stop_all
  runs=0; passed=0; note=""
  mkdir -p "$C/tmpfs"
  dirs=()
  if mount -t tmpfs -o size=2m tmpfs "$C/tmpfs" 2>/dev/null; then dirs+=("$C/tmpfs"); else note="tmpfs skipped: mount failed (not root?)"; fi
  touch "$C/not-a-dir"; dirs+=("$C/not-a-dir/exports")
  for d in "${dirs[@]}"; do
    runs=$((runs + 1))
    start_worker w1 "$d"; wait_ready w1
    job=$(kickoff "${PORT[w1]}")
    st=""; wait_status "$job" error 120 && st=error
    msg=$(q "SELECT error_message FROM export_job WHERE id='$job'")
    body=$(curl -s "http://127.0.0.1:${PORT[w1]}/fhir/\$export-status/$job")
    left=$( (find "$d" -type f 2>/dev/null || true) | wc -l)
    stuck=$(q "SELECT count(*) FROM export_job WHERE status IN ('accepted','in-progress')")
    echo "  diskfull $d: status=${st:-$(q "SELECT status FROM export_job WHERE id='$job'")} files-left=$left stuck=$stuck message=$msg status-body=${body:0:300}" >> "$C/verify.log"
    [ "$st" = error ] && [ -n "$msg" ] && [ "$stuck" = 0 ] && [[ "$body" == *OperationOutcome* ]] && passed=$((passed + 1))
    stop_all
  done
  umount "$C/tmpfs" 2>/dev/null || true
  summary diskfull $runs $passed - - "(2 MB tmpfs and an output dir under a regular file; $note)"
fi
cat "$C/verify.log"
psql -q -d postgres -c "DROP DATABASE $DB" >/dev/null 2>&1 || true
