"""Identity resolution of a few records at once, against everything already resolved.

The batch run resolves the whole store; this resolves a *neighbourhood* with the same
pipeline, model and rules, so that the same records give the same customers whether they
came by file or one by one over HTTP, in any order:

- the records' candidates are found through the stored record keys (the blocking keys of
  every record, as stable hashes), blocks too big for batch left out as batch leaves them;
- whether each e-mail, phone, loyalty id or address is shared is kept per value (see
  resolution/sharing.py): the values the records hold or held are decided again over all
  their holders, and every other value's decision is taken as kept;
- the records, and the holders of any value whose decision changed (what they link to may
  have changed with it), are scored against their candidates first: only the components
  these link to directly, their own and those of must-link partners can change, since a
  component is what is linked above the threshold and the evidence between other records
  is unchanged;
- those whole components are resolved again together (customers never cross one);
- term frequencies are the model's, not recounted.

Ids are carried over as in batch; merges and splits go to the change feed.

Resolving comes in two halves: index_for_resolving (keys and sharing decisions, under the
write lock) and plan_resolution (reads only), whose plan ``place`` writes under the lock,
after resolving again if anything the plan read has changed since it began (see
store/resolving.py); the follower runs the second half without the lock.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from kenning.domain.normalised import NORMALISED_FIELDS
from kenning.resolution.blocking import Oversized, lookup_key, record_keys
from kenning.resolution.comparisons import default_comparisons
from kenning.resolution.features import IDENTIFIERS, Features, build_features
from kenning.resolution.ids import IdentityChange, assign_ids
from kenning.resolution.model import Model
from kenning.resolution.pipeline import RecordTable, direct_links, resolve, shared_when_big
from kenning.resolution.prior import REGENERATE, usable_prior
from kenning.resolution.settings import ResolutionSettings
from kenning.resolution.sharing import KeptLookup, decision_keys, decisions, holding
from kenning.services.telemetry import count_resolution
from kenning.store import Store
from kenning.store.identity import Correction
from kenning.store.resolving import tags

log = logging.getLogger("kenning.matching")
RecordKey = tuple[str, str]


def change_rows(changes: Sequence[IdentityChange]) -> list[tuple[str, str, dict[str, Any]]]:
    """Merges and splits as the change feed stores them, with the records that moved."""
    return [
        (c.kind, c.customer_id, {"others": list(c.others), "records": [list(k) for k in c.records]})
        for c in changes
    ]


def correction_pairs(
    corrections: Sequence[Correction],
) -> tuple[list[tuple[RecordKey, RecordKey]], list[tuple[RecordKey, RecordKey]]]:
    """The must-links and the cannot-links, as pairs of records."""
    must = [(c.a, c.b) for c in corrections if c.kind == "must_link"]
    return must, [(c.a, c.b) for c in corrections if c.kind == "cannot_link"]


def component_label(key: RecordKey) -> str:
    """A component's stored name: its smallest record key."""
    return f"{key[0]}\x1f{key[1]}"


@dataclass
class MatchOutcome:
    records: int  # records resolved again (the neighbourhood)
    customers: list[str] = field(default_factory=list)  # customers of the given records
    merges: int = 0
    splits: int = 0
    replanned: bool = False  # what resolving read had changed meanwhile: resolved again

    def joined(self, other: MatchOutcome) -> MatchOutcome:
        """This and another placement of the same run's records, together."""
        return MatchOutcome(
            self.records + other.records,
            sorted({*self.customers, *other.customers}),
            self.merges + other.merges,
            self.splits + other.splits,
            self.replanned or other.replanned,
        )


# The settings of the last batch run, kept beside the model: the real-time matcher uses
# them, so that a run with custom settings and the server decide alike.
SETTINGS_NAME = "settings"
# Written whenever the decisions on every shared value are kept (see sharing.py): a store
# resolved before they were kept has them decided before the matcher runs.
SHARING_NAME = "sharing"


_UNREAD = object()  # a stamp no store has


class ModelCache:
    """The model in use (see model_in_use) and the stored settings, parsed once per
    process and again only when they change."""

    def __init__(self) -> None:
        self._stamp: Any = _UNREAD
        self._model: Model | None = None
        self._settings_stamp: Any = None
        self._settings = ResolutionSettings()
        self._sharing = False

    def get(self, store: Store, name: str) -> Model | None:
        """The model in use (see model_in_use)."""
        stamp = store.model_stamp(name)  # None while none is stored: the prior is in use
        if stamp != self._stamp:
            self._model, self._stamp = model_in_use(store, name), stamp
        return self._model

    def sharing_kept(self, store: Store) -> bool:
        """Whether the decisions on shared values are kept (see SHARING_NAME)."""
        self._sharing = self._sharing or store.model_stamp(SHARING_NAME) is not None
        return self._sharing

    def settings(self, store: Store) -> ResolutionSettings:
        """The settings `kenning resolve` last ran with (retail defaults before any run)."""
        stamp = store.model_stamp(SETTINGS_NAME)
        if stamp is not None and stamp != self._settings_stamp:
            self._settings = stored_settings(store)
            self._settings_stamp = stamp
        return self._settings


def model_in_use(store: Store, name: str) -> Model | None:
    """The model stored as ``name`` (trained by `kenning resolve`), or, while none is, the
    prior shipped with Kenning, so that a new store resolves from its first record. A
    stored model an earlier version trained for other comparisons gives way to the prior
    until `kenning resolve` trains again. None when neither fits the comparisons: records
    are then indexed and wait for `kenning resolve`."""
    data = store.load_model(name)
    model = Model.from_dict(data) if data else None
    if model is not None and not model.matches(default_comparisons()):
        log.warning("the stored model is for other comparisons: run `kenning resolve`")
        model = None
    if model is None:
        model = usable_prior()
        if model is None:
            log.warning("the shipped prior model is for other comparisons: `%s`", REGENERATE)
    return model


def describe_model(model: Model) -> str:
    """Where a model comes from, in a few words."""
    if model.source == "prior":
        return f"the shipped prior (trained on {model.trained_on_records:,} generated records)"
    if not model.trained_on_records:  # trained before models counted their records
        return "trained on this store's records"
    return f"trained on {model.trained_on_records:,} records of this store"


def stored_settings(store: Store) -> ResolutionSettings:
    """The settings `kenning resolve` last ran with (retail defaults before any run)."""
    return ResolutionSettings.model_validate(store.load_model(SETTINGS_NAME) or {})


Values = tuple[str | None, ...]  # a record's normalised values, in NORMALISED_FIELDS order
_AT = {name: i for i, name in enumerate(NORMALISED_FIELDS)}


class _Rows:
    """The normalised records a run reads, each read from the store once."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self.values: dict[RecordKey, Values] = {}

    def read(self, keys: Iterable[RecordKey]) -> set[RecordKey]:
        """Read those of ``keys`` not read yet; returns those of them that exist."""
        wanted = set(keys)
        missing = sorted(wanted - self.values.keys())
        if missing:
            self.values.update(self._store.normalised_rows(missing, NORMALISED_FIELDS))
        return {key for key in wanted if key in self.values}

    def table(self, keys: Iterable[RecordKey]) -> RecordTable:
        return RecordTable.from_values({key: self.values[key] for key in keys}, NORMALISED_FIELDS)


def identifier_keys(rows: Iterable[Mapping[str, Any]]) -> dict[int, str]:
    """The stable keys of the identifiers these normalised records hold (e-mail, phone,
    loyalty id, address), computed from the values as the features derive them, each with
    the name of its rule."""
    return _held_keys([tuple(row.get(name) for name in NORMALISED_FIELDS) for row in rows])


def _held_keys(rows: Sequence[Values]) -> dict[int, str]:
    """identifier_keys of records given as values in field order; each distinct value is
    hashed once (the holders of one e-mail are many records)."""
    keys: dict[int, str] = {}
    for column in ("email", "phone", "loyalty_id"):
        at = _AT[column]
        for value in {row[at] for row in rows} - {None, ""}:
            keys[lookup_key(column, str(value))] = column
    number, street, unit = _AT["house_number"], _AT["street"], _AT["unit"]
    for n, s, u in {(row[number], row[street], row[unit]) for row in rows}:
        if n and s:
            address = f"{n} {s.replace(' ', '')}" + (f" {u}" if u else "")
            keys[lookup_key("address_key", address)] = "address_key"
    return keys


def index_records(store: Store, keys: Sequence[RecordKey], settings: ResolutionSettings) -> None:
    """Store the record keys of these records (replacing theirs)."""
    rows = _Rows(store)
    table = rows.table(rows.read(keys))
    _store_keys(store, table, build_features(table.columns), settings, set(table.keys))


def _store_keys(
    store: Store,
    table: RecordTable,
    features: Features,
    settings: ResolutionSettings,
    mine: set[RecordKey],
) -> None:
    """Store the record keys of the records of the table in ``mine`` (replacing theirs),
    and count their blocks again."""
    records, stable, names = record_keys(features, settings.rules())
    at = [i for i, key in enumerate(table.keys) if key in mine]
    take = np.isin(records, np.array(at, np.int64))
    held = [table.keys[i] for i in records[take].tolist()]
    keys: list[int] = stable[take].tolist()
    rules = [name for name, t in zip(names, take.tolist(), strict=True) if t]
    store.replace_record_keys(
        [table.keys[i] for i in at],
        sorted({(k, s, r) for k, (s, r) in zip(keys, held, strict=True)}),
    )
    store.recount_blocks(list(zip(keys, rules, strict=True)), settings.max_block)


def _with_holders(
    store: Store, rows: _Rows, keys: Sequence[RecordKey], earlier: Iterable[int], big: set[int]
) -> tuple[RecordTable, set[int]]:
    """The records and every holder of a value they hold or held (``earlier``: lookup
    keys), but those of blocks too big to load; and the lookup keys of those values."""
    present = rows.read(keys)
    held = (set(_held_keys([rows.values[key] for key in present])) | set(earlier)) - big
    return rows.table(present | rows.read(store.records_with_keys(held))), held


def resolve_records(
    store: Store,
    keys: Sequence[RecordKey],
    model: Model,
    settings: ResolutionSettings | None = None,
    *,
    previous: Mapping[int, str] | None = None,
) -> MatchOutcome:
    """Resolve these (new or changed) records against the store, in the caller's
    transaction: index them (index_for_resolving), then resolve and place them. ``previous``
    are the identifier keys (key -> rule) changed records held before, whose other holders
    may now be alone."""
    settings = settings or ResolutionSettings()
    if not keys:
        return MatchOutcome(0)
    store.serialise_identity()
    focus = index_for_resolving(store, keys, model, settings, previous)
    return place(store, plan_resolution(store, focus, keys, model, settings), model, settings)


def index_for_resolving(
    store: Store,
    keys: Sequence[RecordKey],
    model: Model,
    settings: ResolutionSettings,
    previous: Mapping[int, str] | None = None,
) -> list[RecordKey]:
    """The first half of resolving, in the caller's write transaction: store these
    records' keys and decide again whether the values they hold or held are shared.
    Returns the records to resolve: these, and the holders of values whose decision
    changed (what they link to may have changed with it)."""
    if not keys:
        return []
    moved, values = _index_and_decide(store, _Rows(store), keys, model, settings, previous)
    store.note_identity_writes(tags("v", keys) + tags("s", values))
    return sorted(set(keys) | moved)


@dataclass
class Plan:
    """Where resolving puts the records of the components of ``focus``, from reads begun
    at ``generation``; ``read``: what it read, by kind of tag (see store/resolving.py)."""

    focus: list[RecordKey]
    asked: list[RecordKey]
    keys: list[RecordKey]
    labels: np.ndarray
    components: np.ndarray
    generation: int
    read: dict[str, Collection[Any]]


@dataclass
class _Linked:
    """What a run's records link to directly (above the threshold), and what finding it
    read, from ``generation`` on."""

    generation: int
    rows: _Rows
    oversized: Oversized
    kept: KeptLookup
    looked_up: set[int]
    links: list[tuple[RecordKey, RecordKey]]

    def read(self, **more: Collection[Any]) -> dict[str, Collection[Any]]:
        return {**more, "v": self.rows.values.keys(), "s": self.looked_up}


def _link_directly(
    store: Store, focus: Sequence[RecordKey], model: Model, settings: ResolutionSettings
) -> _Linked:
    """Score the records ``focus`` against their candidates (reads only)."""
    generation = store.identity_generation()
    rows = _Rows(store)
    oversized, big = _big_blocks(store)
    looked_up: set[int] = set()

    def kept(keys: Iterable[int]) -> dict[int, bool]:
        wanted = [int(key) for key in keys]
        looked_up.update(wanted)
        return store.shared_values(wanted)

    mine = set(focus)
    candidates = store.records_with_keys(store.keys_of_records(sorted(mine)) - big)
    near = rows.table(rows.read(mine | set(candidates)))
    flags = np.array([key in mine for key in near.keys], bool)
    links = direct_links(near, flags, model, settings, oversized, kept=kept)
    return _Linked(generation, rows, oversized, kept, looked_up, links)


def _alone(store: Store, linked: _Linked, asked: Sequence[RecordKey]) -> list[RecordKey]:
    """Those of the ``asked`` records that link to nothing, were never placed and no
    correction names: each is a customer of its own, as batch would make it (most
    sign-ups of new shoppers)."""
    linking = {key for pair in linked.links for key in pair}
    free = sorted(set(asked) - linking)
    if not free:
        return []
    placed = store.placements(free)
    named = {key for c in store.corrections_of(free) for key in (c.a, c.b)}
    return [key for key in free if key not in placed and key not in named]


def _alone_plan(linked: _Linked, alone: list[RecordKey]) -> Plan:
    each = np.arange(len(alone))
    return Plan(alone, alone, alone, each, each, linked.generation, linked.read(p=set(alone)))


def _components_plan(
    store: Store,
    linked: _Linked,
    focus: Sequence[RecordKey],
    asked: Sequence[RecordKey],
    model: Model,
    settings: ResolutionSettings,
) -> Plan:
    """Resolve again the whole components the records ``focus`` touch: their own, those
    of the records they link to directly and of their must-link partners."""
    seeds = set(focus) | {key for pair in linked.links for key in pair}
    core, read = _whole_components(store, _with_linked(store, seeds))
    table = linked.rows.table(linked.rows.read(core))
    must, cannot = correction_pairs(store.corrections_of(core))
    resolution = resolve(
        table,
        settings,
        model=model,
        must_link=must,
        cannot_link=cannot,
        oversized=linked.oversized,
        kept=linked.kept,
    )
    return Plan(
        list(focus),
        list(asked),
        table.keys,
        resolution.labels,
        resolution.components,
        linked.generation,
        linked.read(**read),
    )


def _split(
    store: Store,
    focus: Sequence[RecordKey],
    asked: Sequence[RecordKey],
    model: Model,
    settings: ResolutionSettings,
) -> tuple[_Linked, list[RecordKey], list[RecordKey], list[RecordKey]]:
    """The direct links of ``focus``; the records alone; the rest of focus and asked."""
    linked = _link_directly(store, focus, model, settings)
    alone = _alone(store, linked, asked)
    out = set(alone)
    rest = [key for key in focus if key not in out]
    return linked, alone, rest, [key for key in asked if key not in out]


def plan_resolution(
    store: Store,
    focus: Sequence[RecordKey],
    asked: Sequence[RecordKey],
    model: Model,
    settings: ResolutionSettings,
) -> Plan:
    """The second half of resolving, reads only (outside a transaction or in one):
    resolve the indexed records ``focus`` (``asked``: those the caller wrote) against the
    store.

    Only components these records touch can change: their own, those of the records they
    link to directly (scored first, against their candidates), and of their must-link
    partners. Those whole components are resolved again together; new records that link
    to nothing are each a customer of their own."""
    linked, alone, rest, _ = _split(store, focus, asked, model, settings)
    if not rest:
        return _alone_plan(linked, alone)
    # One plan, the lone records in it as the customers of their own they are.
    return _components_plan(store, linked, focus, asked, model, settings)


def place(store: Store, plan: Plan, model: Model, settings: ResolutionSettings) -> MatchOutcome:
    """Place a plan's records, in the caller's write transaction; if what the plan read
    has changed since it began, resolve them again first (now holding the lock)."""
    store.serialise_identity()
    replanned = store.changed_since(plan.generation, plan.read)
    if replanned:
        plan = plan_resolution(store, plan.focus, plan.asked, model, settings)
    store.remove_pending(plan.focus)
    outcome = _save(store, plan.keys, plan.labels, plan.components, plan.asked)
    outcome.replanned = replanned
    return outcome


def resolve_indexed(
    store: Store,
    focus: Sequence[RecordKey],
    asked: Sequence[RecordKey],
    model: Model,
    settings: ResolutionSettings,
) -> MatchOutcome:
    """Resolve records whose indexing has committed (pending, see index_for_resolving)
    holding no lock, so that another follower can index or resolve meanwhile; then place
    them under the write lock. New records that link to nothing are placed first, before
    the components of the others are resolved again: a new shopper's sign-up is visible
    without waiting for them."""
    linked, alone, rest, rest_asked = _split(store, focus, asked, model, settings)
    outcome = MatchOutcome(0)
    if alone:
        with store.transaction():
            outcome = place(store, _alone_plan(linked, alone), model, settings)
    if rest:
        plan = _components_plan(store, linked, rest, rest_asked, model, settings)
        with store.transaction():
            outcome = outcome.joined(place(store, plan, model, settings))
    return outcome


def resolve_left_over(
    store: Store, model: Model, settings: ResolutionSettings, run: int = 200
) -> int:
    """Resolve the records a follower indexed and did not place (it crashed, or failed
    half-way), a run at a time under the write lock; returns how many were resolved."""
    done = 0
    while True:
        with store.transaction():
            focus = store.pending(run)
            if not focus:
                return done
            done += place(
                store, plan_resolution(store, focus, focus, model, settings), model, settings
            ).records


def _big_blocks(store: Store) -> tuple[Oversized, set[int]]:
    """The keys of blocks too big to compare, by rule and all together."""
    oversized = {rule: np.array(k, np.int64) for rule, k in store.big_blocks().items()}
    return oversized, {int(k) for keys in oversized.values() for k in keys}


def index_imported(
    store: Store, keys: Sequence[RecordKey], settings: ResolutionSettings, model: Model | None
) -> None:
    """Index records that came by file, for lookups and the matcher to find (`kenning
    resolve` places them), and decide again whether the values they hold are shared."""
    if model is None:
        index_records(store, keys, settings)
        return
    index_for_resolving(store, keys, model, settings)


def _index_and_decide(
    store: Store,
    rows: _Rows,
    keys: Sequence[RecordKey],
    model: Model,
    settings: ResolutionSettings,
    previous: Mapping[int, str] | None = None,
) -> tuple[set[RecordKey], set[int]]:
    """Store these records' keys, and decide again whether the values they hold or held
    (``previous``: key -> rule) are shared. Returns the holders of the values whose
    decision changed, and those values' keys."""
    earlier = dict(previous or {})
    _, big = _big_blocks(store)
    table, held = _with_holders(store, rows, keys, earlier, big)
    features = build_features(
        table.columns, settings.shared_threshold, name_counts=model.name_counts()
    )
    _store_keys(store, table, features, settings, set(keys))
    if earlier:
        store.recount_blocks(list(earlier.items()), settings.max_block)
    oversized, big = _big_blocks(store)
    return redecide_sharing(store, table, features, held - big, settings, oversized)


def redecide_sharing(
    store: Store,
    table: RecordTable,
    features: Features,
    changed: Collection[int],
    settings: ResolutionSettings,
    oversized: Oversized,
) -> tuple[set[RecordKey], set[int]]:
    """Decide again whether the identifier values of these lookup keys (whose holders
    changed) are shared, over the ``features`` of the ``table`` holding all their
    holders, and keep the decisions (see resolution/sharing.py). Returns the holders of
    the values whose decision changed (what they link to may have changed with it), and
    those values' decision keys."""
    if not changed:
        return set(), set()
    shared_when_big(features, oversized, settings.max_block)
    holders = holding(features, changed)
    decided, shared = decisions(features, holders)
    before = store.shared_values(decided)
    moved = {key for key in decided if before.get(key) != shared.get(key)}
    store.replace_shared_values(decided, shared)
    if not moved:
        return set(), set()
    wanted = np.fromiter(moved, np.int64, len(moved))
    affected = np.zeros(len(table), bool)
    for column in IDENTIFIERS:
        held, valid = decision_keys(features, column, holders[column])
        affected |= valid & np.isin(held, wanted)
    return {table.keys[i] for i in np.flatnonzero(affected).tolist()}, moved


def _with_linked(store: Store, seeds: set[RecordKey]) -> set[RecordKey]:
    """The seeds and every record must-linked to them, through chains of must-links."""
    found, new = set(seeds), set(seeds)
    while new:
        partners = {
            key
            for c in store.corrections_of(sorted(new))
            if c.kind == "must_link"
            for key in (c.a, c.b)
        }
        new = partners - found
        found |= new
    return found


def _whole_components(
    store: Store, seeds: set[RecordKey]
) -> tuple[list[RecordKey], dict[str, Collection[Any]]]:
    """The seeds and every record of their components, and what that read (by kind of
    tag, see store/resolving.py). A
    record placed before components were kept (an older store) brings its whole customer
    instead."""
    placed = store.placements(sorted(seeds))
    components = sorted({c for _, c in placed.values() if c is not None})
    unlabelled = sorted({customer for customer, c in placed.values() if c is None})
    members = set(store.component_members(components))
    for customer in unlabelled:
        members.update(store.customer_records(customer))
    core = sorted(seeds | members)
    return core, {"p": set(core), "c": set(components), "u": set(unlabelled)}


def _save(
    store: Store,
    keys: Sequence[RecordKey],
    labels: np.ndarray,
    components: np.ndarray,
    asked: Sequence[RecordKey],
) -> MatchOutcome:
    """Place the resolved records (``labels``, ``components``: per record, the index of
    the smallest record of its customer and of its component)."""
    previous_places = store.placements(keys)
    previous = {key: customer for key, (customer, _) in previous_places.items()}
    ids, changes = assign_ids(
        keys, labels, previous, in_use=lambda cid: bool(store.customer_records(cid))
    )
    assignments = {key: ids[label] for key, label in zip(keys, labels.tolist(), strict=True)}
    store.update_assignments(
        [
            (source, record_id, assignments[(source, record_id)], component_label(keys[c]))
            for (source, record_id), c in zip(keys, components.tolist(), strict=True)
        ],
        previous,
        previous_components={key: comp for key, (_, comp) in previous_places.items()},
    )
    store.append_identity_changes(change_rows(changes))
    outcome = MatchOutcome(
        records=len(keys),
        customers=sorted({assignments[key] for key in asked if key in assignments}),
        merges=sum(1 for c in changes if c.kind == "merge"),
        splits=sum(1 for c in changes if c.kind == "split"),
    )
    new = len(set(assignments.values()) - set(previous.values()))
    count_resolution(len(keys), new, outcome.merges, outcome.splits)
    return outcome
