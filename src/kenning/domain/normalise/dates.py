"""Calendar dates written the many ways shops write them, birth dates and event timestamps."""

from __future__ import annotations

import re
import time
from datetime import UTC, date, datetime
from functools import lru_cache

from kenning.domain.normalise.names import fold_lower
from kenning.domain.normalise.placeholders import is_placeholder_text
from kenning.domain.normalise.result import Cleaned, invalid, missing, ok, placeholder

_MONTH_FIRST = frozenset({"US", "PH", "FM", "MH", "PW"})
_TIME = r"(?:[Tt ]\S.*)?"  # a trailing time of day is allowed and ignored
_YEAR_FIRST = re.compile(r"(\d{4})([-/.])(\d{1,2})\2(\d{1,2})" + _TIME)
_COMPACT = re.compile(r"(\d{4})(\d{2})(\d{2})")
_YEAR_LAST = re.compile(r"(\d{1,2})([-/.])(\d{1,2})\2(\d{4}|\d{2})" + _TIME)
_SEP = r"[\s./,-]*"
_ORDINAL = r"(?:st|nd|rd|th)?"
_DAY_MONTH = re.compile(rf"(\d{{1,2}}){_ORDINAL}{_SEP}([a-z]+){_SEP}(\d{{4}}|\d{{2}})" + _TIME)
_MONTH_DAY = re.compile(rf"([a-z]+){_SEP}(\d{{1,2}}){_ORDINAL}{_SEP}(\d{{4}}|\d{{2}})" + _TIME)
_WEEKDAY = re.compile(r"(?:mon|tue|wed|thu|fri|sat|sun)[a-z]*\.?,?\s+")
_EPOCH = re.compile(r"-?\d+(?:\.\d+)?")


def _month_table() -> dict[str, int]:
    # English with abbreviations, then the other languages European customers write in.
    table: dict[str, int] = {}
    names = [
        "january february march april may june july august september october november december",
        "januar februar marz april mai juni juli august september oktober november dezember",
        "janvier fevrier mars avril mai juin juillet aout septembre octobre novembre decembre",
        "enero febrero marzo abril mayo junio julio agosto septiembre octubre noviembre diciembre",
        "gennaio febbraio marzo aprile maggio giugno luglio agosto settembre ottobre novembre "
        "dicembre",
        "januari februari maart april mei juni juli augustus september oktober november december",
    ]
    for line in reversed(names):
        for number, name in enumerate(line.split(), start=1):
            table[name] = number
    for number, name in enumerate(names[0].split(), start=1):
        table[name[:3]] = number
    table.update(sept=9, jan=1, janner=1, mrz=3, okt=10, dez=12)
    return table


_MONTHS = _month_table()


@lru_cache(maxsize=1)
def _today_in_minute(minute: int) -> date:
    return date.today()


def _today() -> date:
    """date.today() costs ~1.5 µs (it reads the local time zone); asked once a minute."""
    return _today_in_minute(int(time.time() // 60))


def _year(text: str) -> int:
    if len(text) == 4:
        return int(text)
    short, pivot = int(text), _today().year % 100
    return 2000 + short if short <= pivot else 1900 + short


def _make(year: int, month: int, day: int) -> Cleaned[date]:
    try:
        return ok(date(year, month, day))
    except ValueError:
        return invalid()


def _day_and_month(first: int, second: int, country: str | None) -> tuple[int, int]:
    if first > 12 >= second:
        return first, second
    if second > 12 >= first or country in _MONTH_FIRST:
        return second, first
    return first, second


def _numeric(text: str, country: str | None) -> Cleaned[date] | None:
    if match := _YEAR_FIRST.fullmatch(text):
        return _make(int(match[1]), int(match[3]), int(match[4]))
    if match := _COMPACT.fullmatch(text):
        parsed = _make(int(match[1]), int(match[2]), int(match[3]))
        if parsed.ok:
            return parsed
        # Not YYYYMMDD, so DDMMYYYY (or MMDDYYYY in month-first countries).
        day, month = _day_and_month(int(text[:2]), int(text[2:4]), country)
        return _make(int(text[4:]), month, day)
    if match := _YEAR_LAST.fullmatch(text):
        day, month = _day_and_month(int(match[1]), int(match[3]), country)
        return _make(_year(match[4]), month, day)
    return None


def _with_month_name(text: str) -> Cleaned[date] | None:
    text = _WEEKDAY.sub("", fold_lower(text), count=1)
    if match := _DAY_MONTH.fullmatch(text):
        day, name, year = match.groups()
    elif match := _MONTH_DAY.fullmatch(text):
        name, day, year = match.groups()
    else:
        return None
    month = _MONTHS.get(name)
    return None if month is None else _make(_year(year), month, int(day))


@lru_cache(maxsize=32_768)
def parse_date(raw: str | None, country: str | None) -> Cleaned[date]:
    """A date from ISO, compact, numeric (day or month first by `country`) or month-name
    forms. Day first unless `country` writes month first (US); a part above 12 decides."""
    if raw is None:
        return missing()
    text = " ".join(raw.split())
    if not text:
        return missing()
    region = country.upper() if country else None
    parsed = _numeric(text, region) if text[0].isdigit() else None
    if parsed is None:
        parsed = _with_month_name(text)
    if parsed is None:
        return placeholder() if is_placeholder_text(text) else invalid()
    return parsed


_FILLER_BIRTH_DATES = frozenset(
    {date(1900, 1, 1), date(1901, 1, 1), date(1970, 1, 1), date(1, 1, 1), date(9999, 12, 31)}
)
_EARLIEST_BIRTH_YEAR = 1900


def normalise_birth_date(
    raw: str | None, country: str | None, today: date | None = None
) -> Cleaned[date]:
    """A plausible date of birth: not a system default (1900-01-01, 1970-01-01, today) and
    not in the future. A child's is kept: registers, and a retailer's family accounts and
    product registrations, hold children, and their birth dates tell them apart."""
    return _judge_birth_date(raw, country, today or _today())


@lru_cache(maxsize=32_768)
def _judge_birth_date(raw: str | None, country: str | None, today: date) -> Cleaned[date]:
    parsed = parse_date(raw, country)
    if parsed.value is None:
        return parsed
    born = parsed.value
    if born in _FILLER_BIRTH_DATES or born == today:
        return placeholder()
    if born > today or born.year < _EARLIEST_BIRTH_YEAR:
        return invalid()
    return parsed


def parse_timestamp(raw: str | None) -> datetime | None:
    """An aware datetime from ISO 8601 (date, date-time, with or without zone) or epoch
    seconds (milliseconds when the number is too large for seconds); naive means UTC."""
    if raw is None:
        return None
    text = raw.strip()
    if _EPOCH.fullmatch(text):
        if len(text) == 8 and (as_date := _COMPACT.fullmatch(text)):
            parsed = _make(int(as_date[1]), int(as_date[2]), int(as_date[3]))
            if parsed.value is not None:
                return datetime(parsed.value.year, parsed.value.month, parsed.value.day, tzinfo=UTC)
        seconds = float(text)
        if abs(seconds) >= 1e11:
            seconds /= 1000  # epoch milliseconds, as JavaScript and Java write them
        try:
            return datetime.fromtimestamp(seconds, UTC)
        except (OverflowError, OSError, ValueError):
            return None
    try:
        stamp = datetime.fromisoformat(text)
    except ValueError:
        return None
    return stamp if stamp.tzinfo is not None else stamp.replace(tzinfo=UTC)
