"""Where a resolved store's misses are: records left outside their person's main customer.

    python benchmarks/miss_analysis.py DIR STORE

DIR holds records/*.csv and truth.csv (as `kenning datagen` and benchmarks/other_retailer.py
write them); STORE is the resolved store (a database URL, or the path of a SQLite file). A
person's main customer is the one holding most of their records; every other record of
theirs is a miss, counted under the first of:

* identifier: it shares an e-mail, phone (last nine digits), loyalty id or serial number
  with a record in the main customer (split by whether another person holds it too: a
  family mailbox, a landline, a shop default; and by whether the full name agrees);
* full name: it has the first and last name of a record in the main customer;
* e-mail only: it holds an e-mail and at most a first name (how many of those spell a
  surname of the main customer in the e-mail's local part is printed too);
* other.

benchmarks/recall_ceiling.py --customers counts the missed *pairs* by their evidence; this
counts records, as a person sees a split customer. Values are compared after the same
light cleaning as there.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from recall_ceiling import Record, _people

CATEGORIES = ("identifier", "full name", "e-mail only", "other")


def _assignments(store: str) -> dict[str, str]:
    from kenning.store import open_store

    url = store if "://" in store else f"sqlite:///{Path(store).resolve()}"
    with open_store(url) as opened:
        return {f"{s}:{r}": c for (s, r), c in opened.customer_assignments().items()}


def _email_only(record: Record) -> bool:
    return (
        bool(record.ids)
        and all(v.startswith("e:") for v in record.ids)
        and not (record.last or record.places)
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("store", help="database URL or SQLite file of the resolved store")
    args = parser.parse_args()
    customer = _assignments(args.store)
    people = list(_people(args.folder))
    holders: dict[str, set[int]] = {}  # identifier -> people holding it
    for person, records in enumerate(people):
        for _, record in records:
            for value in record.ids:
                holders.setdefault(value, set()).add(person)

    found: Counter[str] = Counter()
    records_total = split_people = 0
    for records in people:
        records_total += len(records)
        sizes = Counter(customer[key] for key, _ in records)
        if len(sizes) == 1:
            continue
        split_people += 1
        main_customer = min(sizes, key=lambda c: (-sizes[c], c))
        inside = [r for key, r in records if customer[key] == main_customer]
        ids = set().union(*(r.ids for r in inside))
        names = {(r.first, r.last) for r in inside if r.first and r.last}
        surnames = {r.last for r in inside if r.last}
        for key, record in records:
            if customer[key] == main_customer:
                continue
            shared = record.ids & ids
            if shared:
                others = any(len(holders[v]) > 1 for v in shared)
                agrees = (record.first, record.last) in names
                found["identifier"] += 1
                found["identifier held by another person" if others else "identifier, own"] += 1
                found[
                    "identifier, and the full name agrees"
                    if agrees
                    else "identifier, and the name differs or is missing"
                ] += 1
            elif record.first and record.last and (record.first, record.last) in names:
                found["full name"] += 1
            elif _email_only(record):
                found["e-mail only"] += 1
                local = next(v for v in record.ids if v.startswith("e:"))[2:].split("@")[0]
                if any(s in local for s in surnames if len(s) >= 3):
                    found["e-mail only, local part spells a surname"] += 1
            else:
                found["other"] += 1

    missed = sum(found[c] for c in CATEGORIES)
    print(
        f"{missed:,} of {records_total:,} records ({missed / records_total:.1%}) lie outside "
        f"their person's main customer; {split_people:,} of {len(people):,} people are split."
    )
    print("| category | records | share |")
    print("|---|---:|---:|")
    for category in CATEGORIES:
        print(f"| {category} | {found[category]:,} | {found[category] / max(missed, 1):.1%} |")
        for detail in sorted(k for k in found if k.startswith(category) and k != category):
            print(f"| … {detail} | {found[detail]:,} | {found[detail] / max(missed, 1):.1%} |")


if __name__ == "__main__":
    main()
