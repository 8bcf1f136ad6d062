"""A record is found in real time by the key the batch gave it: lookup_key (plain integers)
agrees with stable_keys (numpy arrays) for every one-column rule."""

from __future__ import annotations

from kenning.resolution.blocking import BlockingRule, lookup_key, stable_keys
from kenning.resolution.features import build_features


def test_lookup_key_is_the_stable_key_of_a_one_column_rule() -> None:
    columns = {
        "email": ["ann@example.com", "b@x.co", None, "zoë@exämple.de"],
        "phone": ["+447700900123", None, "+15551234567", "+491701234567"],
        "loyalty_id": ["LOY1", "LOY-99999", None, "7"],
        "serial_number": [None, "SN-12345678", "SN-1", "SN-X"],
    }
    features = build_features(columns)
    for column, values in columns.items():
        keys, valid = stable_keys(features, BlockingRule((column,)))
        for i, value in enumerate(values):
            if value is None:
                assert not valid[i]
                continue
            normalised = features.value(column, i)
            assert valid[i] and lookup_key(column, normalised) == int(keys[i]), (column, value)
