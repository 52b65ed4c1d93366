"""Merges the CSVs of a sharded sweep (run-gpu-laptop.sh, run-gpu-paper.sh): the header once, each configuration once
(the first row of its key, the first 21 columns: parameterization to tiedHead), only whole rows.

usage: python3 merge-shards.py OUT.csv SHARD.csv [SHARD.csv ...]
"""
import sys

out, parts = sys.argv[1], sys.argv[2:]
header, rows, seen = None, [], set()
for part in parts:
    with open(part, encoding="utf-8") as f:
        lines = f.read().split("\n")
    header = header or lines[0]
    columns = header.count(",") + 1
    for line in lines[1:]:
        key = ",".join(line.split(",")[:21])
        if line.count(",") + 1 == columns and key not in seen:
            seen.add(key)
            rows.append(line)
with open(out, "w", encoding="utf-8") as f:
    f.write("\n".join([header] + rows) + "\n")
print(f"{out}: {len(rows)} rows")
