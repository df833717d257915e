#!/usr/bin/env python3
"""Check one finished system-level export job against the snapshot it claims.

Compares the multiset of (resourceType, id, meta.versionId) over all recorded output parts of the job
with the rows of resource_version valid at the job's transaction_time, and lists orphan files (files in
the job's directory that export_part does not record). Prints one JSON line:
  {"job":..,"status":..,"expected":N,"exported":M,"lost":L,"duplicated":D,"extra":E,"orphans":O}
Connection through the usual PG* environment variables; database as the first argument.

  bench/verify_export.py DB JOB_ID OUTPUT_DIR
"""
import collections
import json
import os
import subprocess
import sys


def psql(db, sql):
    out = subprocess.run(["psql", "-At", "-F", "\t", "-d", db, "-c", sql], check=True, capture_output=True, text=True).stdout
    return [line.split("\t") for line in out.splitlines() if line]


def main():
    db, job, outdir = sys.argv[1], sys.argv[2], sys.argv[3]
    (tenant, status, tt, types), = psql(db, f"SELECT tenant, status, transaction_time, coalesce(request->>'types','') FROM export_job WHERE id = '{job}'")
    snap = collections.Counter()
    for t, i, v in psql(db, f"""SELECT resource_type, id, version_id FROM resource_version
            WHERE tenant = '{tenant}' AND valid_from <= '{tt}' AND (valid_to IS NULL OR valid_to > '{tt}') AND NOT deleted"""):
        snap[(t, i, v)] += 1
    got = collections.Counter()
    locations = set()
    for (loc,) in psql(db, f"SELECT location FROM export_part WHERE job_id = '{job}' AND kind = 'output'"):
        locations.add(os.path.normpath(loc))
        with open(os.path.join(outdir, loc), encoding="utf-8") as f:
            for line in f:
                if line.strip():
                    r = json.loads(line)
                    got[(r["resourceType"], r["id"], str(r.get("meta", {}).get("versionId")))] += 1
    for (loc,) in psql(db, f"SELECT location FROM export_part WHERE job_id = '{job}' AND kind <> 'output'"):
        locations.add(os.path.normpath(loc))
    orphans = []
    jobdir = os.path.join(outdir, tenant, job)
    if os.path.isdir(jobdir):
        for name in os.listdir(jobdir):
            rel = os.path.normpath(os.path.join(tenant, job, name))
            if rel not in locations:
                orphans.append(name)
    lost = sum((snap - got).values())
    dup = sum(c - 1 for k, c in got.items() if c > 1)
    extra = sum(c for k, c in got.items() if k not in snap)
    print(json.dumps({"job": job, "status": status, "expected": sum(snap.values()), "exported": sum(got.values()),
                      "lost": lost, "duplicated": dup, "extra": extra, "orphans": len(orphans)}))


if __name__ == "__main__":
    main()
