from datetime import UTC, date, datetime, timedelta, timezone

from hypothesis import given, settings
from hypothesis import strategies as st

from kenning.domain.normalise import Verdict, normalise_birth_date, parse_date, parse_timestamp

D = date(1980, 3, 12)
TODAY = date(2024, 6, 1)


def parsed(raw: str, country: str | None = None) -> date | None:
    return parse_date(raw, country).value


def test_year_first_forms() -> None:
    assert parsed("1980-03-12") == D
    assert parsed("1980-3-12") == D
    assert parsed("1980-03-12T10:30:00Z") == D
    assert parsed("1980-03-12 10:30:00") == D
    assert parsed("19800312") == D
    assert parsed("1980/03/12") == D
    assert parsed("1980.03.12") == D


def test_day_first_outside_the_us() -> None:
    for raw in ["12/03/1980", "12-03-1980", "12.03.1980", "12/3/1980", "12/03/80"]:
        assert parsed(raw, "GB") == D, raw
        assert parsed(raw, "DE") == D, raw
        assert parsed(raw, None) == D, raw


def test_month_first_in_the_us_and_friends() -> None:
    for country in ("US", "PH", "FM", "MH", "PW", "us"):
        assert parsed("03/12/1980", country) == D
    assert parsed("3/12/1980 12:00:00 AM", "US") == D


def test_a_part_above_twelve_decides() -> None:
    assert parsed("13/03/1980", "US") == date(1980, 3, 13)
    assert parsed("03/13/1980", "GB") == date(1980, 3, 13)


def test_two_digit_years_pivot_on_this_year() -> None:
    pivot = date.today().year % 100
    assert parsed(f"01/01/{pivot:02d}", "GB") == date(2000 + pivot, 1, 1)
    later = (pivot + 1) % 100
    expected_century = 1900 if later > pivot else 2000
    assert parsed(f"01/01/{later:02d}", "GB") == date(expected_century + later, 1, 1)


def test_month_names() -> None:
    for raw in [
        "12 March 1980", "March 12, 1980", "12-Mar-1980", "12 Mar 1980", "Mar 12 1980",
        "12th March 1980", "Wed, 12 March 1980", "12 MARCH 1980", "12. März 1980",
        "12 mars 1980", "12 Sept 1980",
    ]:  # fmt: skip
        expected = date(1980, 9, 12) if "Sept" in raw else D
        assert parsed(raw) == expected, raw


def test_impossible_and_unreadable() -> None:
    for raw in ["31/02/1980", "1980-13-01", "00/00/0000", "32.01.1980", "12 Smarch 1980", "soon"]:
        assert parse_date(raw, "GB").verdict is Verdict.INVALID, raw
    assert parse_date("n/a", "GB").verdict is Verdict.PLACEHOLDER
    assert parse_date(None, "GB").verdict is Verdict.MISSING
    assert parse_date(" ", "GB").verdict is Verdict.MISSING


def test_birth_date_placeholders() -> None:
    for raw in ["1900-01-01", "01/01/1901", "1970-01-01", "0001-01-01", "9999-12-31", "2024-06-01"]:
        assert normalise_birth_date(raw, "GB", TODAY).verdict is Verdict.PLACEHOLDER, raw


def test_birth_date_plausibility() -> None:
    assert normalise_birth_date("2024-06-02", "GB", TODAY).verdict is Verdict.INVALID  # future
    assert normalise_birth_date("1899-12-31", "GB", TODAY).verdict is Verdict.INVALID
    assert normalise_birth_date("2011-06-02", "GB", TODAY).verdict is Verdict.OK  # a child
    assert normalise_birth_date("2011-06-01", "GB", TODAY).value == date(2011, 6, 1)  # 13 today
    assert normalise_birth_date("12/03/1980", "GB", TODAY).value == D
    assert normalise_birth_date("garbage", "GB", TODAY).verdict is Verdict.INVALID
    assert normalise_birth_date("1980-03-12", None).value == D  # today defaults to the clock


def test_parse_timestamp() -> None:
    assert parse_timestamp("2024-01-15T10:00:00Z") == datetime(2024, 1, 15, 10, tzinfo=UTC)
    assert parse_timestamp("2024-01-15 10:00:00") == datetime(2024, 1, 15, 10, tzinfo=UTC)
    assert parse_timestamp("2024-01-15") == datetime(2024, 1, 15, tzinfo=UTC)
    plus_one = parse_timestamp("2024-01-15T11:00:00+01:00")
    assert plus_one == datetime(2024, 1, 15, 10, tzinfo=UTC)
    assert plus_one is not None and plus_one.utcoffset() == timedelta(hours=1)
    assert parse_timestamp("1700000000") == datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)
    assert parse_timestamp("1700000000.5") == datetime(2023, 11, 14, 22, 13, 20, 500000, UTC)
    assert parse_timestamp("1700000000000") == datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)
    assert parse_timestamp("20240115") == datetime(2024, 1, 15, tzinfo=UTC)
    for bad in [None, "", "soon", "2024-13-01", "9" * 30]:
        assert parse_timestamp(bad) is None


@settings(deadline=None)
@given(st.text(), st.sampled_from([None, "GB", "US", "DE", "ZZ"]))
def test_never_raises(raw: str, country: str | None) -> None:
    assert parse_date(raw, country).verdict in Verdict
    assert normalise_birth_date(raw, country, TODAY).verdict in Verdict
    stamp = parse_timestamp(raw)
    assert stamp is None or stamp.tzinfo is not None


MONTHS = "January February March April May June July August September October November December"


def written_forms(d: date, country: str | None) -> list[str]:
    month = MONTHS.split()[d.month - 1]
    first, second = (d.month, d.day) if country == "US" else (d.day, d.month)
    forms = [
        d.isoformat(), f"{d.isoformat()}T08:15:00Z", d.strftime("%Y%m%d"), d.strftime("%Y/%m/%d"),
        f"{first:02d}/{second:02d}/{d.year}", f"{first:02d}-{second:02d}-{d.year}",
        f"{first:02d}.{second:02d}.{d.year}", f"{first}/{second}/{d.year}",
        f"{d.day} {month} {d.year}", f"{month} {d.day}, {d.year}",
        f"{d.day:02d}-{month[:3]}-{d.year}",
    ]  # fmt: skip
    pivot = date.today().year % 100
    if (2000 + d.year % 100 if d.year % 100 <= pivot else 1900 + d.year % 100) == d.year:
        forms.append(f"{first:02d}/{second:02d}/{d.year % 100:02d}")
    return forms


@settings(deadline=None)
@given(
    st.dates(min_value=date(1900, 1, 1), max_value=date(2099, 12, 31)),
    st.sampled_from(["GB", "US", "DE", "FR", None]),
)
def test_every_supported_form_round_trips(d: date, country: str | None) -> None:
    for raw in written_forms(d, country):
        assert parsed(raw, country) == d, raw
        assert parsed(f" {raw.upper()} ", country) == d, raw


@settings(deadline=None)
@given(st.dates(min_value=date(1900, 1, 1), max_value=date(2010, 12, 31)))
def test_birth_date_idempotent(d: date) -> None:
    once = normalise_birth_date(d.strftime("%d/%m/%Y"), "GB", TODAY)
    if once.value is not None:
        assert normalise_birth_date(once.value.isoformat(), "US", TODAY) == once


def test_time_zone_suffixes_are_kept() -> None:
    stamp = parse_timestamp("2024-01-15T10:00:00-05:00")
    assert stamp is not None and stamp.tzinfo == timezone(timedelta(hours=-5))
