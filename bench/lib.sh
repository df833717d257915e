# Shared helpers for the benchmark scripts (sourced, not run).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PGHOST=${PGHOST:-127.0.0.1}
PGPORT=${PGPORT:-5432}
PGUSER=${PGUSER:-postgres}
export PGHOST PGPORT PGUSER
SYNTHEA=${SYNTHEA:-$ROOT/../shared/data/synthea-r4-100}
OUT=${BENCH_OUT:-$ROOT/bench/out}
mkdir -p "$OUT"
APP_PID=""

now() { date +%s.%N; }
elapsed() { python3 -c "print(f'{$2-$1:.3f}')"; }
median() { python3 -c "import statistics,sys; print(f'{statistics.median(float(x) for x in sys.argv[1:]):.3f}')" "$@"; }

ensure_jar() {
  if [ ! -f "$ROOT/target/quarkus-app/quarkus-run.jar" ] || [ -n "${REBUILD:-}" ]; then
    (cd "$ROOT" && ./mvnw -B -q package -DskipTests)
  fi
}

fresh_db() {
  local name="sluice_bench_$(date +%s)_$$"
  psql -q -d postgres -c "CREATE DATABASE $name" >/dev/null
  echo "$name"
}

# start_app DB PORT [extra java args...]
start_app() {
  local db=$1 port=$2; shift 2
  SLUICE_DB_URL="postgresql://$PGHOST:$PGPORT/$db" SLUICE_AUTH_ENABLED=false SLUICE_SAMPLE_LOAD=never \
    java "$@" -Dquarkus.http.port="$port" -jar "$ROOT/target/quarkus-app/quarkus-run.jar" \
    > "$OUT/app-$port.log" 2>&1 &
  APP_PID=$!
  for _ in $(seq 1 120); do
    if curl -fs "http://127.0.0.1:$port/q/health/ready" >/dev/null 2>&1; then return 0; fi
    sleep 0.5
  done
  echo "app did not become ready; see $OUT/app-$port.log" >&2
  return 1
}

stop_app() { [ -n "$APP_PID" ] && kill "$APP_PID" 2>/dev/null && wait "$APP_PID" 2>/dev/null || true; APP_PID=""; }

synthea_ndjson() {
  local f="$OUT/synthea.ndjson"
  if [ ! -s "$f" ]; then
    [ -d "$SYNTHEA/ndjson" ] || { echo "no Synthea data at $SYNTHEA (set SYNTHEA=...)" >&2; return 1; }
    python3 "$ROOT/bench/multiply.py" --src "$SYNTHEA/ndjson" --resources 38473 --out "$f"
  fi
  echo "$f"
}

machine() {
  echo "$(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, $(lscpu | sed -n 's/^Model name: *//p' | head -1), PostgreSQL $(psql -At -d postgres -c 'show server_version'), $(java -version 2>&1 | head -1)"
}

# version_rows NDJSON TSV: the resources as resource_version rows for psql \copy FROM (tenant "bench",
# type, id, version 1, a fixed valid_from, no valid_to, not deleted, the raw line): the COPY FROM
# baseline of $ingest in bench/ingest.sh and bench/export.sh
version_rows() {
  python3 - "$1" "$2" <<'PY'
import json, sys
def esc(s):
    return s.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
with open(sys.argv[1], encoding="utf-8") as f, open(sys.argv[2], "w", encoding="utf-8") as o:
    for line in f:
        line = line.rstrip("\n")
        r = json.loads(line)
        o.write("\t".join(["bench", r["resourceType"], r["id"], "1", "2026-01-01T00:00:00Z", "\\N", "f", esc(line)]) + "\n")
PY
}
