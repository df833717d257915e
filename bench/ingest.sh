#!/usr/bin/env bash
# $ingest throughput of the Synthea sample beside psql COPY FROM of the same rows, same database, same run.
#   bench/ingest.sh [-w WARMUPS] [-r RUNS]   (needs ../shared/data/synthea-r4-100 or SYNTHEA=dir,
#                                             PostgreSQL on 127.0.0.1:5432)
# Prints the median of RUNS timed ingests (each into its own tenant, after WARMUPS untimed ones that
# bring the JIT to its steady state) beside two COPY baselines, each also the median of RUNS:
#   A. the resources as resource_version rows into a table shaped like resource_version (raw JSON only);
#   B. every row $ingest stored for one timed run (resource heads, resource_version, resource_compartment,
#      group_member), dumped from the database and copied into empty tables with the same indexes.
source "$(dirname "$0")/lib.sh"
WARMUPS=6
RUNS=5
while getopts "w:r:" o; do case $o in w) WARMUPS=$OPTARG ;; r) RUNS=$OPTARG ;; *) exit 2 ;; esac; done
ensure_jar
FILE=$(synthea_ndjson)
N=$(wc -l < "$FILE")
DB=$(fresh_db)
PORT=${PORT:-18080}
trap stop_app EXIT
start_app "$DB" "$PORT" -Xmx256m

post() {
  curl -fsS -o "$OUT/ingest-response.json" -H 'Content-Type: application/fhir+ndjson' --data-binary @"$FILE" \
    "http://127.0.0.1:$PORT/tenants/$1/fhir/\$ingest"
}

for i in $(seq 1 "$WARMUPS"); do post "warmup-$i"; done
INGEST=()
for i in $(seq 1 "$RUNS"); do
  t0=$(now); post "timed-$i"; t1=$(now)
  INGEST+=("$(elapsed "$t0" "$t1")")
done
stop_app

# Baseline A: the raw lines as resource_version rows.
version_rows "$FILE" "$OUT/copy.tsv"
COPY_A=()
for i in $(seq 1 "$RUNS"); do
  psql -q -d "$DB" -c "DROP TABLE IF EXISTS bench_a" -c "CREATE TABLE bench_a (LIKE resource_version INCLUDING ALL)"
  t0=$(now); psql -q -d "$DB" -c "\\copy bench_a FROM '$OUT/copy.tsv'"; t1=$(now)
  COPY_A+=("$(elapsed "$t0" "$t1")")
done

# Baseline B: exactly the rows the first timed $ingest stored, all four tables, in one psql session.
TABLES="resource resource_version resource_compartment group_member"
for t in $TABLES; do
  psql -q -d "$DB" -c "\\copy (SELECT * FROM $t WHERE tenant = 'timed-1') TO '$OUT/rows-$t.tsv'"
done
ROWS_B=$(cat "$OUT"/rows-*.tsv | wc -l)
COPY_B=()
for i in $(seq 1 "$RUNS"); do
  script=""
  for t in $TABLES; do
    psql -q -d "$DB" -c "DROP TABLE IF EXISTS bench_b_$t" -c "CREATE TABLE bench_b_$t (LIKE $t INCLUDING ALL)"
    script+="\\copy bench_b_$t FROM '$OUT/rows-$t.tsv'"$'\n'
  done
  t0=$(now); printf '%s' "$script" | psql -q -d "$DB" -v ON_ERROR_STOP=1; t1=$(now)
  COPY_B+=("$(elapsed "$t0" "$t1")")
done

python3 - "$N" "$ROWS_B" "$(median "${INGEST[@]}")" "$(median "${COPY_A[@]}")" "$(median "${COPY_B[@]}")" \
  "${INGEST[*]}" "${COPY_A[*]}" "${COPY_B[*]}" "$WARMUPS" <<'PY'
import sys
n, rows_b = int(sys.argv[1]), int(sys.argv[2])
ing, a, b = float(sys.argv[3]), float(sys.argv[4]), float(sys.argv[5])
print("| what | resources | seconds (median) | resources/s | all runs (s) |")
print("|---|---:|---:|---:|---|")
print(f"| $ingest (HTTP, -Xmx256m, after {sys.argv[9]} warm-up runs) | {n} | {ing:.2f} | {n/ing:,.0f} | {sys.argv[6]} |")
print(f"| A: psql \\copy FROM, resources as resource_version rows | {n} | {a:.2f} | {n/a:,.0f} | {sys.argv[7]} |")
print(f"| B: psql \\copy FROM, the {rows_b} rows $ingest stored (4 tables) | {n} | {b:.2f} | {n/b:,.0f} | {sys.argv[8]} |")
print(f"\n$ingest / COPY throughput ratio: {a/ing:.2f} against A, {b/ing:.2f} against B (target >= 0.5)")
PY
echo "machine: $(machine); load average before the run: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "response: $(head -c 300 "$OUT/ingest-response.json")"
psql -q -d postgres -c "DROP DATABASE $DB" >/dev/null || true
