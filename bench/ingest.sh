#!/usr/bin/env bash
# $ingest throughput of the Synthea sample beside psql COPY FROM of the same rows, same database, same run.
#   bench/ingest.sh            (needs ../shared/data/synthea-r4-100 or SYNTHEA=dir, PostgreSQL on 127.0.0.1:5432)
source "$(dirname "$0")/lib.sh"
ensure_jar
FILE=$(synthea_ndjson)
N=$(wc -l < "$FILE")
DB=$(fresh_db)
PORT=${PORT:-18080}
trap stop_app EXIT
start_app "$DB" "$PORT" -Xmx256m

# warm-up: the same file into another tenant, so the figure below is the JIT-warm steady state
curl -fsS -o /dev/null -H 'Content-Type: application/fhir+ndjson' --data-binary @"$FILE" \
  "http://127.0.0.1:$PORT/tenants/warmup/fhir/\$ingest"
t0=$(now)
curl -fsS -o "$OUT/ingest-response.json" -H 'Content-Type: application/fhir+ndjson' --data-binary @"$FILE" \
  "http://127.0.0.1:$PORT/fhir/\$ingest"
t1=$(now)
INGEST_S=$(elapsed "$t0" "$t1")
stop_app

# COPY baseline: the same rows as resource_version rows (tenant, type, id, version 1, content), into a
# table shaped like resource_version with its indexes.
python3 - "$FILE" "$OUT/copy.tsv" <<'PY'
import json, sys
src, dst = sys.argv[1], sys.argv[2]
def esc(s):
    return s.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
with open(src, encoding="utf-8") as f, open(dst, "w", encoding="utf-8") as o:
    for line in f:
        line = line.rstrip("\n")
        r = json.loads(line)
        o.write("\t".join(["bench", r["resourceType"], r["id"], "1", "2026-01-01T00:00:00Z", "\\N", "f", esc(line)]) + "\n")
PY
psql -q -d "$DB" -c "CREATE TABLE bench_copy (LIKE resource_version INCLUDING ALL)"
t0=$(now)
psql -q -d "$DB" -c "\\copy bench_copy FROM '$OUT/copy.tsv'"
t1=$(now)
COPY_S=$(elapsed "$t0" "$t1")

python3 - "$N" "$INGEST_S" "$COPY_S" <<'PY'
import sys
n, ing, cp = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3])
print(f"| what | resources | seconds | resources/s |")
print(f"|---|---:|---:|---:|")
print(f"| $ingest (HTTP, -Xmx256m, after one warm-up run) | {n} | {ing:.2f} | {n/ing:,.0f} |")
print(f"| psql \\copy FROM (baseline) | {n} | {cp:.2f} | {n/cp:,.0f} |")
print(f"\n$ingest / COPY throughput ratio: {cp/ing:.2f} (target >= 0.5)")
PY
echo "machine: $(machine)"
echo "response: $(head -c 400 "$OUT/ingest-response.json")"
psql -q -d postgres -c "DROP DATABASE $DB" >/dev/null || true
