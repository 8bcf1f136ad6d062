"""Baseline: Splink 5 (DuckDB backend) deduplicating a folder of canonical records.

    python benchmarks/splink_baseline.py DIR [--json OUT.json] [--clusters OUT.csv]

DIR holds records/*.csv (as `kenning datagen` writes them) or a single records.csv (as
benchmarks/public_data.py writes them), and truth.csv (source, record_id, person_id). Needs the
bench extra: `pip install -e '.[bench]'` (splink, recordlinkage).

What runs is the standard Splink workflow, configured as a competent data engineer would:

* inputs cleaned in pandas: names lower-cased, accents folded, split out of full_name where
  only that is given; e-mails lower-cased; phones reduced to their last ten digits; dates of
  birth parsed from the usual forms to ISO (day or month first by country); postcodes upper
  case without spaces; street-type abbreviations expanded; loyalty ids digits only; obvious
  placeholders (noemail@…, 0000000000, 1900-01-01) and identifier values shared by more
  than SHARED_LIMIT records blanked;
* comparisons from Splink's library: NameComparison (Jaro-Winkler levels, term-frequency
  adjusted) for first and last name, DateOfBirthComparison, EmailComparison, phone exact
  or Levenshtein ≤ 2, postcode exact or Levenshtein ≤ 1, Jaro-Winkler on both address
  lines, city exact (term-frequency adjusted), loyalty id exact; columns that are empty in
  a data set (Febrl has no e-mail) are left out;
* blocking (PREDICTION_BLOCKS) on e-mail, phone, loyalty id, first + last name, their first
  3 + 4 letters, swapped first and last name, date of birth alone and with either name or
  the postcode, either name + postcode, and street address + postcode;
* the prior from deterministic rules (estimate_probability_two_random_records_match),
  u by random sampling of 10 million pairs, m by expectation maximisation on three
  blocking rules (first + last name, date of birth, then e-mail or else postcode);
* predict, then connected components at a match threshold.

The threshold is Splink's best: every match weight from -7 to 40 in half steps is tried and
the one maximising pairwise F1 against the truth is reported (an oracle no production run
has). The timed part, `seconds`, is training + prediction + Splink's own clustering at that
threshold; cleaning the input and finding the threshold are not in it (cleaning is reported
apart). Peak RSS is the whole process's, DuckDB included.
"""

from __future__ import annotations

import argparse
import json
import logging
import re
import resource
import sys
import time
import unicodedata
from collections.abc import Hashable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import splink.comparison_library as cl
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from splink import DuckDBAPI, Linker, SettingsCreator, block_on

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
from kenning.resolution.evaluation import evaluate

# Thresholds tried, as match weights (log2 of the Bayes factor with the prior); Splink's
# match probability is 2**w / (1 + 2**w), so -7 ≈ 0.008 and 40 ≈ 1 - 1e-12.
WEIGHT_GRID = tuple(w / 2 for w in range(-14, 81))
SHARED_LIMIT = 20  # an identifier on more records than this is no one's own
U_MAX_PAIRS = 1e7
SEED = 42

# --- reading ------------------------------------------------------------------------------


def read_records(folder: Path) -> pd.DataFrame:
    files = sorted((folder / "records").glob("*.csv")) or [folder / "records.csv"]
    frames = [pd.read_csv(f, dtype=str, keep_default_na=False, na_filter=False) for f in files]
    return pd.concat(frames, ignore_index=True)


def read_truth(folder: Path) -> dict[tuple[str, str], str]:
    truth = pd.read_csv(folder / "truth.csv", dtype=str, keep_default_na=False)
    return dict(
        zip(zip(truth["source"], truth["record_id"], strict=True), truth["person_id"], strict=True)
    )


# --- cleaning -----------------------------------------------------------------------------

_TITLES = {"mr", "mrs", "ms", "miss", "dr", "prof", "sir", "mx", "jr", "sr", "ii", "iii"}
_STREET_WORDS = {
    "st": "street",
    "rd": "road",
    "ave": "avenue",
    "av": "avenue",
    "dr": "drive",
    "ln": "lane",
    "ct": "court",
    "pl": "place",
    "cres": "crescent",
    "cr": "crescent",
    "gdns": "gardens",
    "sq": "square",
    "ter": "terrace",
    "terr": "terrace",
    "blvd": "boulevard",
    "hwy": "highway",
    "pk": "park",
    "apt": "apartment",
    "fl": "flat",
    "n": "north",
    "s": "south",
    "e": "east",
    "w": "west",
}
_US = {"us", "usa", "united states", "united states of america", "america", "u.s.", "u.s.a."}
_PLACEHOLDER_LOCALS = {
    "noemail", "none", "no", "na", "n/a", "test", "customer", "email", "nomail", "null",
    "unknown", "noreply", "no-reply", "donotreply", "x", "xx", "xxx", "abc", "a",
}  # fmt: skip
_PLACEHOLDER_DATES = {"1900-01-01", "1901-01-01", "1970-01-01", "1800-01-01"}


def _fold(text: pd.Series) -> pd.Series:
    def fold(value: str) -> str:
        decomposed = unicodedata.normalize("NFKD", value)
        return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()

    return text.map(fold)


def _words(text: pd.Series) -> pd.Series:
    """Lower case, accents folded, punctuation to spaces, single-spaced."""
    folded = _fold(text).str.replace(r"[^a-z0-9' -]+", " ", regex=True)
    return folded.str.replace("'", "", regex=False).str.split().str.join(" ")


def _names(df: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    first = _words(df["first_name"])
    last = _words(df["last_name"])
    full = df["full_name"].fillna("")
    # "York, Sharon" is surname first.
    swapped = full.str.contains(",", regex=False)
    full = full.where(~swapped, full.str.split(",", n=1).str[::-1].str.join(" "))
    tokens = _words(full).str.split()
    tokens = tokens.map(lambda ts: [t for t in ts if t not in _TITLES])
    first = first.where(first != "", tokens.map(lambda ts: ts[0] if len(ts) > 1 else ""))
    last = last.where(last != "", tokens.map(lambda ts: ts[-1] if len(ts) > 1 else ""))
    return first, last


def _email(raw: pd.Series) -> pd.Series:
    email = raw.str.strip().str.lower().str.replace(r"^mailto:", "", regex=True)
    local = email.str.split("@").str[0]
    valid = email.str.fullmatch(r"[^@\s]+@[^@\s]+\.[a-z]{2,}")
    return email.where(valid & ~local.isin(_PLACEHOLDER_LOCALS), "")


def _phone(raw: pd.Series) -> pd.Series:
    digits = raw.str.replace(r"\D", "", regex=True).str[-10:]
    junk = digits.map(lambda d: len(set(d)) <= 2) | digits.isin({"1234567890", "0123456789"})
    return digits.where((digits.str.len() >= 9) & ~junk, "")


def _us(df: pd.DataFrame) -> pd.Series:
    country = df["country"].str.strip().str.lower()
    zip_code = df["postcode"].str.fullmatch(r"\s*\d{5}(-?\d{4})?\s*")
    return country.isin(_US) | ((country == "") & zip_code)


def _date_of_birth(raw: pd.Series, us: pd.Series) -> pd.Series:
    text = raw.str.strip()
    iso = pd.to_datetime(text, format="%Y-%m-%d", errors="coerce")
    iso = iso.fillna(pd.to_datetime(text, format="%Y%m%d", errors="coerce"))
    parts = text.str.extract(r"^(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4}|\d{2})$").astype(float)
    first, second, year = parts[0], parts[1], parts[2]
    year = year.where(year >= 100, year + 1900 + 100 * (year < 30))  # "4/9/02" is 2002
    month_first = (us & (first <= 12)) | (second > 12)
    month = first.where(month_first, second)
    day = second.where(month_first, first)
    numeric = pd.to_datetime(
        pd.DataFrame({"year": year, "month": month, "day": day}), errors="coerce"
    )
    named = pd.to_datetime(text, format="mixed", dayfirst=True, errors="coerce")
    parsed = iso.fillna(numeric).fillna(named.where(text.str.contains(r"[A-Za-z]")))
    out = parsed.dt.strftime("%Y-%m-%d").fillna("")
    return out.where(~out.isin(_PLACEHOLDER_DATES), "")


def _street(raw: pd.Series) -> pd.Series:
    return _words(raw).map(lambda s: " ".join(_STREET_WORDS.get(w, w) for w in s.split()))


def _postcode(raw: pd.Series) -> pd.Series:
    code = raw.str.upper().str.replace(r"[^A-Z0-9]", "", regex=True)
    return code.where(~code.str.fullmatch(r"\d{9}"), code.str[:5])  # ZIP+4 → ZIP


def _blank_shared(column: pd.Series) -> pd.Series:
    counts = column.map(column.value_counts())
    return column.where((column == "") | (counts <= SHARED_LIMIT), "")


def clean(df: pd.DataFrame) -> pd.DataFrame:
    """The records as Splink sees them: unique_id plus the cleaned comparison columns."""
    df = df.fillna("")
    first, last = _names(df)
    us = _us(df)
    out = pd.DataFrame(
        {
            "unique_id": df["source"] + "|" + df["record_id"],
            "first_name": first,
            "last_name": last,
            "email": _blank_shared(_email(df["email"])),
            "phone": _blank_shared(_phone(df["phone"])),
            "date_of_birth": _date_of_birth(df["date_of_birth"], us),
            "address_line1": _street(df["address_line1"]),
            "address_line2": _street(df["address_line2"]),
            "city": _words(df["city"]),
            "postcode": _postcode(df["postcode"]),
            "loyalty_id": _blank_shared(df["loyalty_id"].str.replace(r"\D", "", regex=True)),
        }
    )
    # Splink treats NULL as missing; an empty string would match another empty string.
    return out.replace("", None)


# --- the model ----------------------------------------------------------------------------


def comparisons(present: set[str]) -> list[Any]:
    candidates = {
        "first_name": cl.NameComparison("first_name"),
        "last_name": cl.NameComparison("last_name"),
        "date_of_birth": cl.DateOfBirthComparison(
            "date_of_birth", input_is_string=True, datetime_format="%Y-%m-%d"
        ),
        "email": cl.EmailComparison("email"),
        "phone": cl.LevenshteinAtThresholds("phone", [2]).configure(
            term_frequency_adjustments=True
        ),
        "postcode": cl.LevenshteinAtThresholds("postcode", [1]),
        "address_line1": cl.JaroWinklerAtThresholds("address_line1", [0.95, 0.88]),
        "address_line2": cl.JaroWinklerAtThresholds("address_line2", [0.95, 0.88]),
        "city": cl.ExactMatch("city").configure(term_frequency_adjustments=True),
        "loyalty_id": cl.ExactMatch("loyalty_id").configure(term_frequency_adjustments=True),
    }
    return [comparison for column, comparison in candidates.items() if column in present]


Rule = tuple[tuple[str, ...], Any]  # the columns a rule needs, and the rule


def _on(*columns: str) -> Rule:
    names = tuple(re.sub(r"substr\((\w+),.*", r"\1", c) for c in columns)
    return names, block_on(*columns)


def _rules(present: set[str], rules: Sequence[Rule]) -> list[Any]:
    return [rule for needs, rule in rules if set(needs) <= present]


PREDICTION_BLOCKS: tuple[Rule, ...] = (
    _on("email"),
    _on("phone"),
    _on("loyalty_id"),
    _on("first_name", "last_name"),
    _on("substr(first_name, 1, 3)", "substr(last_name, 1, 4)"),
    (
        ("first_name", "last_name"),
        "l.first_name = r.last_name and l.last_name = r.first_name",
    ),
    _on("last_name", "date_of_birth"),
    _on("first_name", "date_of_birth"),
    _on("postcode", "date_of_birth"),
    _on("date_of_birth"),
    _on("first_name", "postcode"),
    _on("last_name", "postcode"),
    _on("address_line1", "postcode"),
)
# EM runs on the first three of these that a data set has columns for: postcode alone makes
# tens of millions of pairs on the retailer (a US ZIP code holds hundreds of people).
TRAINING_BLOCKS: tuple[Rule, ...] = (
    _on("first_name", "last_name"),
    _on("date_of_birth"),
    _on("email"),
    _on("postcode"),
)
PRIOR_RULES: tuple[Rule, ...] = (
    _on("email"),
    _on("first_name", "last_name", "date_of_birth"),
    _on("first_name", "last_name", "postcode"),
)


def settings(present: set[str]) -> SettingsCreator:
    return SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name="unique_id",
        comparisons=comparisons(present),
        blocking_rules_to_generate_predictions=_rules(present, PREDICTION_BLOCKS),
        retain_intermediate_calculation_columns=False,
        retain_matching_columns=False,
    )


def train(linker: Linker, present: set[str]) -> None:
    training = linker.training
    training.estimate_probability_two_random_records_match(_rules(present, PRIOR_RULES), recall=0.7)
    training.estimate_u_using_random_sampling(max_pairs=U_MAX_PAIRS, seed=SEED)
    for rule in _rules(present, TRAINING_BLOCKS)[:3]:
        training.estimate_parameters_using_expectation_maximisation(
            rule, estimate_without_term_frequencies=True
        )


# --- clustering at many thresholds --------------------------------------------------------


def probability(weight: float) -> float:
    return float(2**weight / (1 + 2**weight))


def clusters_at(edges: pd.DataFrame, records: int, threshold: float) -> np.ndarray:
    """Connected components of the pairs with match probability at or above `threshold`
    (as Splink's clustering filters them): a component label per record."""
    chosen = edges[edges["match_probability"] >= threshold]
    graph = coo_matrix(
        (np.ones(len(chosen), dtype=np.int8), (chosen["l"].to_numpy(), chosen["r"].to_numpy())),
        shape=(records, records),
    )
    return connected_components(graph, directed=False)[1]


def run(
    folder: Path,
    weights: Sequence[float] = WEIGHT_GRID,
    log_level: int = logging.WARNING,
    clusters_out: Path | None = None,
) -> dict[str, Any]:
    """Deduplicate `folder` with Splink and score it at its best threshold (see the module
    docstring); with `clusters_out`, also write that clustering there as CSV (source,
    record_id, cluster_id)."""
    raw = read_records(folder)
    truth = read_truth(folder)
    started = time.perf_counter()
    records = clean(raw)
    present = {c for c in records.columns if c != "unique_id" and records[c].notna().any()}
    keys: list[Hashable] = list(zip(raw["source"], raw["record_id"], strict=True))
    cleaning_seconds = time.perf_counter() - started

    started = time.perf_counter()
    db_api = DuckDBAPI()
    linker = Linker(db_api.register(records), settings(present), log_level=log_level)
    train(linker, present)
    training_seconds = time.perf_counter() - started
    started = time.perf_counter()
    predictions = linker.inference.predict(threshold_match_weight=min(weights))
    pairs = predictions.as_pandas_dataframe()
    prediction_seconds = time.perf_counter() - started

    # Pick the threshold with the truth (untimed), by connected components on the pairs.
    position = pd.Series(np.arange(len(records)), index=records["unique_id"])
    edges = pd.DataFrame(
        {
            "l": position[pairs["unique_id_l"]].to_numpy(),
            "r": position[pairs["unique_id_r"]].to_numpy(),
            "match_probability": pairs["match_probability"].to_numpy(),
        }
    )
    by_weight = {}
    for weight in weights:
        labels = clusters_at(edges, len(records), probability(weight))
        by_weight[weight] = evaluate(dict(zip(keys, labels.tolist(), strict=True)), truth)
    best = max(weights, key=lambda w: (by_weight[w].pairwise_f1, w))  # ties: the stricter

    # Splink's own clustering at the best threshold: timed, and checked against ours.
    started = time.perf_counter()
    clustered = linker.clustering.cluster_pairwise_predictions_at_threshold(
        predictions, threshold_match_probability=probability(best)
    ).as_pandas_dataframe()
    clustering_seconds = time.perf_counter() - started
    cluster_of = dict(zip(clustered["unique_id"], clustered["cluster_id"], strict=True))
    if clusters_out is not None:
        pd.DataFrame(
            {
                "source": raw["source"],
                "record_id": raw["record_id"],
                "cluster_id": records["unique_id"].map(cluster_of),
            }
        ).to_csv(clusters_out, index=False)
    evaluation = evaluate(
        {key: cluster_of[uid] for key, uid in zip(keys, records["unique_id"], strict=True)}, truth
    )
    if evaluation != by_weight[best]:
        raise AssertionError("Splink's clustering differs from connected components")

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "data": str(folder),
        "records": len(records),
        "candidate_pairs": len(pairs),
        "seconds": round(training_seconds + prediction_seconds + clustering_seconds, 2),
        "training_seconds": round(training_seconds, 2),
        "prediction_seconds": round(prediction_seconds, 2),
        "clustering_seconds": round(clustering_seconds, 2),
        "cleaning_seconds": round(cleaning_seconds, 2),
        "peak_rss_mib": round(peak, 1),
        "best_threshold": {"match_weight": best, "match_probability": probability(best)},
        "evaluation": evaluation.as_dict(),
        "by_threshold": {
            w: {
                "match_probability": probability(w),
                "pairwise_precision": round(e.pairwise_precision, 4),
                "pairwise_recall": round(e.pairwise_recall, 4),
                "pairwise_f1": round(e.pairwise_f1, 4),
                "bcubed_f1": round(e.bcubed_f1, 4),
            }
            for w, e in by_weight.items()
        },
        "splink": _splink_version(),
        "columns": sorted(present),
    }


def _splink_version() -> str:
    import splink

    return str(splink.__version__)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folder", type=Path, help="canonical records + truth.csv")
    parser.add_argument("--json", type=Path, help="also write the result here")
    parser.add_argument("--clusters", type=Path, help="write the best clustering here (CSV)")
    parser.add_argument("--verbose", action="store_true", help="Splink's own log")
    args = parser.parse_args(argv)
    level = logging.INFO if args.verbose else logging.WARNING
    result = run(args.folder, log_level=level, clusters_out=args.clusters)
    text = json.dumps(result, indent=2)
    print(text)
    if args.json:
        args.json.write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
