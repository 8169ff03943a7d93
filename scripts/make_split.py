"""Splits the example corpus's gold once into a development and a test part (run once; the
result, corpora/beispiel/gold/split.csv, is committed and never regenerated).

Interviews split by document (a coordinator's turns stay together): DVNW, KGSt and KERN are
development, NExT-WM and KI-Campus-Polizei are test. Survey answers split by respondent (all
three answers of a person on one side), by a hash of the respondent ID.
"""

import csv
import hashlib
from pathlib import Path

GOLD = Path(__file__).resolve().parent.parent / "corpora" / "beispiel" / "gold"
TEST_DOCS = {"NExT-WM_koordination", "KI-Campus-Polizei_koordination"}

rows = []
for name in ("interviews_gold.csv", "umfrage_gold.csv"):
    with open(GOLD / name, encoding="utf-8") as fh:
        for r in csv.DictReader(fh):
            sid = r["segment_id"]
            head = sid.split(":")[0]
            if name.startswith("interviews"):
                part = "test" if head in TEST_DOCS else "dev"
            else:
                part = "test" if int(hashlib.sha256(head.encode()).hexdigest(), 16) % 2 else "dev"
            rows.append((sid, part))
with open(GOLD / "split.csv", "w", encoding="utf-8", newline="") as fh:
    w = csv.writer(fh, lineterminator="\n")
    w.writerow(["segment_id", "part"])
    w.writerows(rows)
print({p: sum(1 for _, q in rows if q == p) for p in ("dev", "test")})
