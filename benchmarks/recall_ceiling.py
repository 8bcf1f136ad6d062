"""How much of a data set's truth the records themselves can show: a recall ceiling.

    python benchmarks/recall_ceiling.py DIR [--customers FILE]

DIR holds records/*.csv and truth.csv (as `kenning datagen` writes them). An oracle that
knows who is who, and never links two people, links a person's records only where they
carry evidence of identity, at one of three strengths:

* identifier: the same e-mail, phone (last nine digits), loyalty id or serial number;
* corroborated name: a first or last name in common, and the same postcode, date of birth
  or first address line;
* name alone: the same first and last name, with nothing else in common.

Each strength's ceiling is the pairwise recall of linking, within every person, the records
joined (transitively) by evidence up to that strength. A resolver that links a pair on less
would have to take namesakes for one person: how often two records of one full name are one
person is printed too, and for pairs with nothing but the name in common, by how many
records hold the name and whether the two hold a different e-mail, phone, loyalty card,
birth date or postcode (a person with two e-mails does too). With --customers (`kenning
export customers`), the pairs Kenning missed are also counted by the strongest evidence
they hold.

Values are compared after light cleaning only (case, spaces, punctuation): typos and
nicknames are not evidence here, so a resolver that reads through them can pass a ceiling.
"""

from __future__ import annotations

import argparse
import csv
import re
from collections import Counter
from collections.abc import Iterator
from itertools import combinations
from pathlib import Path

STRENGTHS = ("identifier", "corroborated name", "name alone")
_NON_ALNUM = re.compile(r"[^a-z0-9]")
_NON_DIGIT = re.compile(r"\D")


class Record:
    __slots__ = ("first", "ids", "last", "places")

    def __init__(self, row: dict[str, str]) -> None:
        first, last = _clean(row["first_name"]), _clean(row["last_name"])
        parts = row["full_name"].lower().replace(",", " ").split()
        if not first and len(parts) >= 2:
            first = _clean(parts[0])
        if not last and parts:
            last = _clean(parts[-1])
        self.first, self.last = first, last
        email = row["email"].strip().lower()
        phone = _NON_DIGIT.sub("", row["phone"])
        ids = {
            "e:" + email if "@" in email else "",
            "p:" + phone[-9:] if len(phone) >= 9 else "",
            "l:" + _clean(row["loyalty_id"]) if row["loyalty_id"].strip() else "",
            "s:" + _clean(row["serial_number"]) if row["serial_number"].strip() else "",
        }
        self.ids = ids - {""}
        places = {
            "pc:" + _clean(row["postcode"]) if row["postcode"].strip() else "",
            "dob:" + _NON_DIGIT.sub("", row["date_of_birth"]) if row["date_of_birth"] else "",
            "a:" + _clean(row["address_line1"]) if row["address_line1"].strip() else "",
        }
        self.places = places - {""}


def _clean(text: str) -> str:
    return _NON_ALNUM.sub("", text.lower())


def strength(a: Record, b: Record) -> int:
    """0 identifier, 1 corroborated name, 2 name alone, 3 nothing."""
    if a.ids & b.ids:
        return 0
    a_name = {a.first, a.last} - {""}
    if a_name & {b.first, b.last} and a.places & b.places:
        return 1
    if a.first and a.last and (a.first, a.last) == (b.first, b.last):
        return 2
    return 3


# Kinds of value a person has one of at a time: two records of a name that each hold one,
# different, may be two people.
_ONE_EACH = ("e:", "p:", "l:", "dob:", "pc:")
_HOLDERS = (("2", 2, 2), ("3-5", 3, 5), ("6-40", 6, 40))  # records holding the name


def _kinds(record: Record) -> set[str]:
    return {kind for kind in _ONE_EACH for v in record.ids | record.places if v.startswith(kind)}


def namesakes(everyone: list[tuple[str, Record]]) -> Counter[tuple[str, bool, bool]]:
    """Pairs of records with one full name and nothing else in common (strength 2), by
    (holders of the name, whether both hold a value of one kind, whether one person)."""
    named: dict[tuple[str, str], list[tuple[str, Record]]] = {}
    for person, record in everyone:
        if record.first and record.last:
            named.setdefault((record.first, record.last), []).append((person, record))
    found: Counter[tuple[str, bool, bool]] = Counter()
    for holders in named.values():
        bucket = next((b for b, lo, hi in _HOLDERS if lo <= len(holders) <= hi), None)
        if bucket is None:
            continue
        for (p, a), (q, b) in combinations(holders, 2):
            if strength(a, b) == 2:
                found[bucket, bool(_kinds(a) & _kinds(b)), p == q] += 1
    return found


def _components(n: int, levels: dict[tuple[int, int], int], weakest: int) -> list[int]:
    """Each record's component, joined by evidence of strength ``weakest`` or stronger."""
    parent = list(range(n))

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for (i, j), level in levels.items():
        if level <= weakest:
            parent[find(i)] = find(j)
    return [find(i) for i in range(n)]


def _pairs(sizes: Counter[int]) -> int:
    return sum(k * (k - 1) // 2 for k in sizes.values())


def _people(folder: Path) -> Iterator[list[tuple[str, Record]]]:
    person: dict[tuple[str, str], str] = {}
    with (folder / "truth.csv").open(newline="") as f:
        for row in csv.DictReader(f):
            person[row["source"], row["record_id"]] = row["person_id"]
    groups: dict[str, list[tuple[str, Record]]] = {}
    for path in sorted((folder / "records").glob("*.csv")):
        with path.open(newline="", encoding="utf-8") as f:
            for row in csv.DictReader(f):
                key = (row["source"], row["record_id"])
                groups.setdefault(person[key], []).append((f"{key[0]}:{key[1]}", Record(row)))
    yield from groups.values()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--customers", type=Path, help="kenning export customers CSV")
    args = parser.parse_args()
    customer: dict[str, str] = {}
    if args.customers:
        with args.customers.open(newline="") as f:
            rows = csv.DictReader(f)
            customer = {f"{r['source']}:{r['record_id']}": r["customer_id"] for r in rows}

    true_pairs = 0
    linkable = [0] * len(STRENGTHS)
    missed: Counter[str] = Counter()
    named: Counter[tuple[str, str]] = Counter()  # records per full name
    named_once: Counter[tuple[str, str]] = Counter()  # per full name, pairs of one person
    everyone: list[tuple[str, Record]] = []
    for person, records in enumerate(_people(args.folder)):
        everyone.extend((str(person), record) for _, record in records)
        n = len(records)
        mine = Counter((r.first, r.last) for _, r in records if r.first and r.last)
        named.update(mine)
        for name, k in mine.items():
            named_once[name] += k * (k - 1) // 2
        true_pairs += n * (n - 1) // 2
        levels = {
            (i, j): strength(records[i][1], records[j][1]) for i, j in combinations(range(n), 2)
        }
        for s in range(len(STRENGTHS)):
            linkable[s] += _pairs(Counter(_components(n, levels, s)))
        if customer:
            for (i, j), level in levels.items():
                if customer[records[i][0]] != customer[records[j][0]]:
                    missed[STRENGTHS[level] if level < 3 else "nothing"] += 1

    print(f"{true_pairs:,} true pairs in {args.folder}")
    print("| evidence up to | pairs an oracle can link | recall ceiling |")
    print("|---|---|---|")
    for name, pairs in zip(STRENGTHS, linkable, strict=True):
        print(f"| {name} | {pairs:,} | {pairs / true_pairs:.4f} |")
    same_name = sum(k * (k - 1) // 2 for k in named.values())
    one_person = sum(named_once.values())
    print(
        f"\nOf {same_name:,} pairs of records with one first and last name, "
        f"{one_person / max(same_name, 1):.1%} are one person."
    )
    found = namesakes(everyone)
    print("\nPairs with nothing but a full name in common: how often one person")
    conflict_column = "each holds another e-mail, phone, card, birth date or postcode"
    print(f"| records holding the name | {conflict_column} | pairs | one person |")
    print("|---|---|---:|---:|")
    for bucket, _, _ in _HOLDERS:
        for conflict in (False, True):
            same, other = found[bucket, conflict, True], found[bucket, conflict, False]
            share = same / max(same + other, 1)
            print(f"| {bucket} | {'yes' if conflict else 'no'} | {same + other:,} | {share:.1%} |")
    if customer:
        total = sum(missed.values())
        print(f"\n{total:,} true pairs in different customers, by their strongest evidence:")
        for name in (*STRENGTHS, "nothing"):
            print(f"- {name}: {missed[name]:,} ({missed[name] / max(total, 1):.1%})")


if __name__ == "__main__":
    main()
