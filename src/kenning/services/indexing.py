"""Every record's keys for lookups and the real-time matcher, written in one pass over the
store, with which identifier values are shared (once a model is trained): after an import
of many records, or a rebuild that may have changed their values.

The follower indexes records run by run (2,000 at a time, each run recounting the blocks
its keys touch), which suits a trickle of events; a million imported records would keep
lookups blind to them for minutes. Here the keys are computed in parts over the records as
stored and the big blocks counted once over all of them: the same keys and counts the
follower would write (tests/realtime/test_indexing.py checks that they are)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence

import numpy as np

from kenning.domain.normalised import NORMALISED_FIELDS
from kenning.resolution.blocking import record_keys
from kenning.resolution.features import build_features
from kenning.resolution.settings import ResolutionSettings
from kenning.services.identity import decide_sharing
from kenning.store import Store

# Records whose features are built at once: keys depend on a record's own values only, so
# parts give the keys of the whole, with a tenth of the memory.
_PART = 100_000
# From this many imported records waiting in the log, indexing the whole store at once
# is cheaper than the follower's runs.
BULK_FROM = 20_000

Progress = Callable[[int], None]


def index_all(store: Store, settings: ResolutionSettings, progress: Progress | None = None) -> int:
    """Replace every record's keys and the big-block counts; returns the records indexed.
    ``progress`` hears how many records each part held."""
    keys, columns = store.normalised_columns()
    every_key: list[np.ndarray] = []
    every_rule: list[np.ndarray] = []
    rules = settings.rules()

    def parts() -> Iterator[Sequence[tuple[int, str, str]]]:
        for start in range(0, len(keys), _PART):
            part = keys[start : start + _PART]
            values = {
                name: column[start : start + _PART]
                for name, column in zip(NORMALISED_FIELDS, columns, strict=True)
            }
            features = build_features(values)
            records, stable, names = record_keys(features, rules)
            # In key order, each (key, record) once: a rule and a lookup column alike give
            # one key, which the store holds once and the count must too.
            order = np.lexsort((records, stable))
            records, stable = records[order], stable[order]
            once = np.ones(len(stable), bool)
            once[1:] = (stable[1:] != stable[:-1]) | (records[1:] != records[:-1])
            records, stable = records[once], stable[once]
            every_key.append(stable)
            every_rule.append(np.array(names, dtype=object)[order][once])
            yield [
                (key, *part[record])
                for key, record in zip(stable.tolist(), records.tolist(), strict=True)
            ]
            if progress:
                progress(len(part))

    with store.transaction():
        store.replace_all_record_keys(parts())
        store.add_big_blocks(_big_blocks(every_key, every_rule, settings.max_block))
        # Values changed outside resolution: which of them are shared is decided again.
        decide_sharing(store, settings, dict(zip(NORMALISED_FIELDS, columns, strict=True)))
    return len(keys)


def _big_blocks(
    stable: list[np.ndarray], rules: list[np.ndarray], limit: int
) -> list[tuple[int, str, int]]:
    """(key, rule, records) of every key more than ``limit`` records hold."""
    if not stable:
        return []
    every = np.concatenate(stable)
    names = np.concatenate(rules)
    distinct, first, counts = np.unique(every, return_index=True, return_counts=True)
    return [
        (int(distinct[i]), str(names[first[i]]), int(counts[i]))
        for i in np.flatnonzero(counts > limit).tolist()
    ]
