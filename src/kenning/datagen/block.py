"""A block: one slice of the population and every row it produces.

Blocks are the unit of determinism and of parallel work. A block's rows depend only on the
seed, the block number and its lane's registry of e-mails and phones, so blocks can be made in any
process and written out in block order. Ids are drawn from a range reserved for the block
and scrambled, so they are unique without coordination and say nothing about who is who.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from kenning.datagen.catalogue import Catalogue, catalogue
from kenning.datagen.contacts import Registry
from kenning.datagen.names import NameBank, name_bank
from kenning.datagen.people import Person
from kenning.datagen.places import Places, places
from kenning.datagen.profiles import PROFILES
from kenning.datagen.sampling import Rng, Scrambler, stamp
from kenning.datagen.sources import SOURCES, RecordMaker
from kenning.datagen.writer import ACTIVITY_FILES, ID_BUCKETS, REFERENCE_FILES

# Where each source keeps its created-at timestamp among its own columns.
CREATED_AT = {"pos": 1, "web": 1, "email": 1, "loyalty": 1}
SPAN = 1_000_000  # ids reserved per block and kind; a block of 2,000 people uses far fewer
MAX_BLOCKS = 10_000  # 10-digit ids


class Ids:
    """Sequential counters in the block's range, scrambled into 10-digit numbers."""

    __slots__ = ("limit", "n", "scramble")

    def __init__(self, block: int, a: int, b: int) -> None:
        if block >= MAX_BLOCKS:
            raise ValueError("too many people for the id space")
        self.n = block * SPAN
        self.limit = self.n + SPAN
        self.scramble = Scrambler(a, b, 10)

    def __call__(self) -> int:
        n = self.n
        if n >= self.limit:
            raise RuntimeError("block id range exhausted")
        self.n = n + 1
        return self.scramble(n)


@dataclass(frozen=True, slots=True)
class World:
    """Fixed reference data, built once per process."""

    names: NameBank
    places: Places
    catalogue: Catalogue


def world() -> World:
    return World(name_bank(), places(), catalogue())


@dataclass(frozen=True, slots=True)
class BlockOutput:
    index: int
    people: int
    texts: dict[str, str]  # output path relative to ``out`` -> CSV rows, no header
    counts: dict[str, int]  # output path -> number of rows


class Block:
    def __init__(self, seed: int, index: int, alloc: Registry, w: World) -> None:
        self.index = index
        self.rng = Rng(seed * 1_000_003 + index)
        self.world = w
        self.alloc = alloc
        self.maker = RecordMaker(self.rng, w.names)
        self.rows: dict[str, list[list[str]]] = {s: [] for s in SOURCES}
        self.truth: list[str] = []
        # Activity rows are CSV lines already (see activity.py); orders keep their lines.
        self.orders: list[tuple[str, list[str]]] = []
        self.activity: dict[str, list[str]] = {
            name: []
            for name in ACTIVITY_FILES
            if name not in ("orders", "order_lines", *REFERENCE_FILES)
        }
        self.people = 0
        # Distinct odd multipliers (coprime with 10): each kind of id gets its own order.
        self.record_ids = {
            s: Ids(index, a, b)
            for s, a, b in zip(
                SOURCES,
                (7_394_012_861, 4_105_937_263, 2_859_310_447, 9_031_264_571, 6_620_481_937),
                (1_234_567, 7_654_321, 3_141_592, 2_718_281, 1_618_033),
                strict=True,
            )
        }
        self.loyalty_cards = Ids(index, 5_283_619_047, 4_400_111)
        self.order_ids = Ids(index, 3_907_214_659, 8_080_808)
        self.repair_ids = Ids(index, 8_146_302_977, 5_550_123)
        self.serials = Ids(index, 1_597_534_863, 9_999_001)

    # -- identity records ---------------------------------------------------------------

    def new_record_id(self, source: str, store_id: str = "") -> str:
        n = self.record_ids[source]()
        if source == "pos":
            return f"{store_id[1:]}-{n:010d}"  # till customer numbers carry the store number
        prefix = {"web": "A", "registrations": "RG", "email": "SUB", "loyalty": "LM"}[source]
        return f"{prefix}{n:010d}"

    def record(
        self,
        p: Person,
        source: str,
        record_id: str,
        created: int,
        updated: int,
        extras: list[str],
        store_id: str = "",
        loyalty_id: str = "",
        serial: str = "",
        email: str | None = None,
        created_secs: int | None = None,
    ) -> int:
        """Append one identity record (and its truth row); ``updated`` picks the details.

        ``extras`` are the source's own columns; its created-at column is filled in here.
        Returns the time of day (seconds) the record was created at.
        """
        store = self.world.catalogue.by_id[store_id] if source == "pos" else None
        rng = self.rng
        if created_secs is None:
            created_secs = rng.randrange(28_800, 75_600)
        created_at = stamp(created, created_secs)
        updated_at = (
            created_at if updated == created else stamp(updated, rng.randrange(28_800, 75_600))
        )
        at = CREATED_AT.get(source)
        if at is not None:
            extras[at] = created_at
        row = self.maker.row(
            p,
            source,
            PROFILES[source],
            record_id,
            updated,
            updated_at,
            store,
            extras,
            loyalty_id,
            serial,
            email,
        )
        self.rows[source].append(row)
        self.truth.append(f"{source},{record_id},{p.pid}")
        return created_secs

    def raw(self, pid: str, row: list[str]) -> None:
        """A record written out by hand (the story customer's)."""
        self.rows[row[0]].append(row)
        self.truth.append(f"{row[0]},{row[1]},{pid}")

    # -- output -------------------------------------------------------------------------

    def output(self) -> BlockOutput:
        rng = self.rng
        texts: dict[str, str] = {}
        counts: dict[str, int] = {}

        def put(path: str, lines: list[str]) -> None:
            texts[path] = "".join(f"{line}\n" for line in lines)
            counts[path] = len(lines)

        # Identity records go out sorted by id, as a database export would be; ids are
        # scrambled, so nothing in the order tells who is who. The writer merges the
        # blocks bucket by bucket (first digit of the id number).
        for source in SOURCES:
            buckets: list[list[str]] = [[] for _ in range(ID_BUCKETS)]
            for row in self.rows[source]:
                buckets[int(row[1][-10])].append(csv_line(row))
            for k, lines in enumerate(buckets):
                put(f"records/{source}.csv#{k}", lines)
        # The rest is shuffled within the block for the same reason.
        rng.shuffle(self.truth)
        put("truth.csv", self.truth)
        rng.shuffle(self.orders)
        put("activity/orders.csv", [o for o, _ in self.orders])
        put("activity/order_lines.csv", [x for _, order in self.orders for x in order])
        for name, lines in self.activity.items():
            put(f"activity/{name}.csv", lines)
        return BlockOutput(self.index, self.people, texts, counts)


_quoting = io.StringIO()
_quoter = csv.writer(_quoting, lineterminator="")


def csv_line(row: list[str]) -> str:
    """One CSV line, quoted only where needed: the same text ``csv.writer`` writes."""
    line = ",".join(row)
    if (
        line.count(",") == len(row) - 1
        and '"' not in line
        and "\n" not in line
        and ("\r" not in line)
    ):
        return line
    _quoting.seek(0)
    _quoting.truncate()
    _quoter.writerow(row)
    return _quoting.getvalue()
