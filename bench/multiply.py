#!/usr/bin/env python3
"""Multiply the Synthea NDJSON sample into N resources with fresh, consistent ids.

Every UUID in a line (resource ids, references, identifiers) is remapped per copy with uuid5, so
copy k is a self-consistent population: references still resolve inside the copy and no id repeats
across copies. Copy 0 keeps the original ids. Output is one NDJSON stream (stdout or --out),
ordered by resource type so references to Organization/Practitioner/Patient come first.

  bench/multiply.py --src ../shared/data/synthea-r4-100/ndjson --resources 1000000 --out /tmp/big.ndjson
"""
import argparse
import gzip
import os
import re
import sys
import uuid

UUID_RE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
ORDER = ["Organization", "Practitioner", "Patient", "Group"]


def load(src):
    files = sorted(f for f in os.listdir(src) if f.endswith(".ndjson.gz") or f.endswith(".ndjson"))
    def rank(f):
        t = f.split(".")[0]
        return (ORDER.index(t) if t in ORDER else len(ORDER), t)
    out = []
    for f in sorted(files, key=rank):
        opener = gzip.open if f.endswith(".gz") else open
        with opener(os.path.join(src, f), "rt", encoding="utf-8") as fh:
            out.extend(line.rstrip("\n") for line in fh if line.strip())
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--src", default=os.path.join(os.path.dirname(__file__), "..", "..", "shared", "data", "synthea-r4-100", "ndjson"))
    ap.add_argument("--resources", type=int, default=1_000_000)
    ap.add_argument("--out", default="-")
    args = ap.parse_args()
    lines = load(args.src)
    out = sys.stdout if args.out == "-" else open(args.out, "w", encoding="utf-8")
    written, copy = 0, 0
    while written < args.resources:
        ns = uuid.uuid5(uuid.NAMESPACE_URL, f"sluice-copy-{copy}")
        cache = {}
        def remap(m):
            old = m.group(0)
            new = cache.get(old)
            if new is None:
                new = cache[old] = str(uuid.uuid5(ns, old))
            return new
        for line in lines:
            if written >= args.resources:
                break
            out.write(line if copy == 0 else UUID_RE.sub(remap, line))
            out.write("\n")
            written += 1
        copy += 1
    if out is not sys.stdout:
        out.close()
    print(f"wrote {written} resources in {copy} copies", file=sys.stderr)


if __name__ == "__main__":
    main()
