"""Countries to ISO 3166-1 alpha-2 from codes, English names, endonyms and everyday aliases."""

from __future__ import annotations

import re
from functools import cache, lru_cache

import pycountry

from kenning.domain.normalise.names import fold_lower
from kenning.domain.normalise.placeholders import is_placeholder_text
from kenning.domain.normalise.result import Cleaned, invalid, missing, ok, placeholder

_DOTS = re.compile(r"[.'’]")  # "U.S.A." → "usa", "Côte d'Ivoire" → "cote divoire"
_NON_ALNUM = re.compile(r"[\W_]+")
_PARENTHESIS = re.compile(r"\s*\(.*?\)")

# Keys are in _key() form. Names pycountry already knows ("germany", "deu") are not repeated.
_ALIASES = {
    "GB": "uk;great britain;britain;england;scotland;wales;cymru;northern ireland;"
    "united kingdom of great britain and northern ireland",
    "US": "usa;america;united states of america;us of a",
    "DE": "deutschland;brd;bundesrepublik deutschland",
    "NL": "holland;nederland;the netherlands",
    "AT": "osterreich",
    "CH": "schweiz;suisse;svizzera;switzerland",
    "BE": "belgie;belgique;belgien",
    "ES": "espana",
    "IT": "italia",
    "FR": "republique francaise",
    "DK": "danmark",
    "NO": "norge",
    "SE": "sverige",
    "FI": "suomi",
    "PL": "polska",
    "CZ": "czech republic;cesko;ceska republika",
    "HU": "magyarorszag",
    "GR": "el;hellas;ellada",  # EL is the EU's code for Greece
    "IE": "eire;republic of ireland;roi",
    "TR": "turkey",
    "RU": "russia",
    "KR": "korea;south korea;republic of korea",
    "KP": "north korea",
    "AE": "uae;emirates",
    "CI": "ivory coast",
    "CV": "cape verde",
    "SZ": "swaziland",
    "MK": "macedonia",
    "MM": "burma",
    "MO": "macau",
    "VA": "vatican;vatican city",
    "PS": "palestine",
    "BN": "brunei",
    "CD": "dr congo;drc;democratic republic of the congo",
    "CG": "republic of the congo",
    "XK": "kosovo;xk",  # not ISO, but the code every registry uses
}
# Codes that are much more often filler than the country: "NA" is Namibia and "not available".
_NOT_CODES = frozenset({"na"})


def _key(text: str) -> str:
    key = " ".join(
        _NON_ALNUM.sub(" ", _DOTS.sub("", fold_lower(text).replace("&", " and "))).split()
    )
    return key[4:] if key.startswith("the ") else key


@cache
def _table() -> dict[str, str]:
    table: dict[str, str] = {}
    for entry in pycountry.countries:
        code = str(entry.alpha_2)
        names = [entry.alpha_2, entry.alpha_3, entry.name]
        names += [getattr(entry, f, None) or "" for f in ("official_name", "common_name")]
        for name in names:
            for variant in (name, _PARENTHESIS.sub("", name)):
                table.setdefault(_key(variant), code)
    for code, aliases in _ALIASES.items():
        for alias in aliases.split(";"):
            table[_key(alias)] = code
    table.pop("", None)
    for key in _NOT_CODES:
        table.pop(key, None)
    return table


@lru_cache(maxsize=4096)
def normalise_country(raw: str | None) -> Cleaned[str]:
    """ISO 3166-1 alpha-2 ("United Kingdom", "U.K.", "GBR", "Scotland" → "GB")."""
    if raw is None or not raw.strip():
        return missing()
    code = _table().get(_key(raw))
    if code is not None:
        return ok(code)
    return placeholder() if is_placeholder_text(raw) else invalid()
