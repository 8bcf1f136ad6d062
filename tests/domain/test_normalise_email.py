import random

from hypothesis import given, settings
from hypothesis import strategies as st

from kenning.domain.normalise import Verdict, email_domain, normalise_email


def value(raw: str) -> str | None:
    return normalise_email(raw).value


def verdict(raw: str | None) -> Verdict:
    return normalise_email(raw).verdict


def test_trims_unwraps_and_lowercases() -> None:
    assert value("  Jane.Doe@Acme.CO.UK ") == "jane.doe@acme.co.uk"
    assert value("<jane@acme.com>") == "jane@acme.com"
    assert value('"jane@acme.com"') == "jane@acme.com"
    assert value("mailto:Jane@Acme.com") == "jane@acme.com"
    assert value("Jane Doe <jane@acme.com>") == "jane@acme.com"


def test_missing() -> None:
    assert verdict(None) is Verdict.MISSING
    assert verdict("   ") is Verdict.MISSING
    assert verdict("<>") is Verdict.MISSING


def test_syntax() -> None:
    for bad in [
        "jane", "jane@", "@acme.com", "jane@acme", "jane@acme.c", "ja ne@acme.com",
        "jane..doe@acme.com", ".jane@acme.com", "jane.@acme.com", "jane@acme..com",
        "jane@@acme.com", "jane@-acme.com", "jane@acme.123",
    ]:  # fmt: skip
        assert verdict(bad) is Verdict.INVALID, bad
    assert value("o'brien@acme.ie") == "o'brien@acme.ie"


def test_gmail_dots_and_tags() -> None:
    assert value("J.Smith+shop@GoogleMail.com") == "jsmith@gmail.com"
    assert value("j.s.m.i.t.h@gmail.com") == "jsmith@gmail.com"


def test_subaddress_providers() -> None:
    assert value("jane+news@outlook.com") == "jane@outlook.com"
    assert value("jane+news@hotmail.co.uk") == "jane@hotmail.co.uk"
    assert value("jane+news@live.fr") == "jane@live.fr"
    assert value("jane+news@icloud.com") == "jane@icloud.com"
    assert value("jane+news@proton.me") == "jane@proton.me"
    assert value("jane+news@fastmail.fm") == "jane@fastmail.fm"
    # Dots matter outside Gmail, and a plus is part of the mailbox at an arbitrary domain.
    assert value("j.ane+news@acme.com") == "j.ane+news@acme.com"
    assert value("j.ane@outlook.com") == "j.ane@outlook.com"


def test_placeholder_domains() -> None:
    for raw in [
        "test@test.com", "jane@example.com", "jane@example.org", "jane@example.net",
        "jane@email.com", "jane@domain.com", "jane@none.com", "jane@noemail.com",
        "jane@nomail.com", "jane@shop.invalid", "jane@example.co.uk", "jane@test",
    ]:  # fmt: skip
        assert verdict(raw) is Verdict.PLACEHOLDER, raw


def test_placeholder_mailboxes() -> None:
    for raw in [
        "noemail@store.com", "no-email@store.com", "no_email@store.com", "nomail@gmail.com",
        "none@store.com", "na@store.com", "n/a@store.com", "noreply@store.com",
        "no-reply@store.com", "donotreply@store.com", "do-not-reply@store.com",
        "unknown@store.com", "test@store.com", "xxx@store.com", "declined@store.com",
        "refused@store.com", "customer@store.com", "email@store.com", "a@a.com",
        "xxxx@gmail.com", "aaaa@aaaa.com", "noemail", "N/A", "declined",
    ]:  # fmt: skip
        assert verdict(raw) is Verdict.PLACEHOLDER, raw


def test_short_real_mailboxes_are_kept() -> None:
    assert value("j@smith.com") == "j@smith.com"
    assert value("ee@acme.com") == "ee@acme.com"


def test_email_domain() -> None:
    assert email_domain("jsmith@gmail.com") == "gmail.com"
    assert email_domain("nodomain") == ""


@settings(deadline=None)
@given(st.text())
def test_never_raises(raw: str) -> None:
    assert normalise_email(raw).verdict in Verdict


local_parts = st.from_regex(r"[a-z0-9]{1,8}(?:[._-][a-z0-9]{1,8}){0,2}", fullmatch=True)
domains = st.sampled_from(
    ["gmail.com", "acme.co.uk", "shop.de", "outlook.com", "icloud.com", "web.de", "yahoo.fr"]
)


@settings(deadline=None)
@given(local_parts, domains)
def test_idempotent(local: str, domain: str) -> None:
    once = normalise_email(f"{local}@{domain}")
    if once.value is not None:
        assert normalise_email(once.value) == once


@settings(deadline=None)
@given(local_parts, domains, st.randoms(use_true_random=False))
def test_case_and_whitespace_insensitive(local: str, domain: str, rnd: random.Random) -> None:
    raw = f"{local}@{domain}"
    shuffled = "".join(c.upper() if rnd.random() < 0.5 else c for c in raw)
    assert normalise_email(f"  {shuffled}\t") == normalise_email(raw)


@settings(deadline=None)
@given(
    st.from_regex(r"[a-z0-9]{6,12}", fullmatch=True),
    st.lists(st.integers(min_value=1, max_value=11), max_size=3, unique=True),
    st.one_of(st.none(), st.from_regex(r"[a-z0-9]{1,8}", fullmatch=True)),
    st.sampled_from(["gmail.com", "googlemail.com", "GMail.com"]),
)
def test_gmail_dot_and_plus_equivalence(
    local: str, dots: list[int], tag: str | None, domain: str
) -> None:
    dotted = local
    for position in sorted((d for d in dots if d < len(local)), reverse=True):
        dotted = dotted[:position] + "." + dotted[position:]
    variant = dotted + (f"+{tag}" if tag else "") + "@" + domain
    expected = normalise_email(f"{local}@gmail.com")
    assert normalise_email(variant) == expected
