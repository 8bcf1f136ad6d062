"""Identity records: what one system holds about one person, in the canonical columns.

``RecordMaker.row`` renders a person as a given system captured them on a given day: the
details true on that day (address before or after a move, surname before or after a
marriage), passed through that system's habits (profiles.py) and slips (noise.py).
"""

from __future__ import annotations

from random import Random

from kenning.datagen.catalogue import Store
from kenning.datagen.names import NameBank
from kenning.datagen.noise import (
    DOB_PLACEHOLDERS,
    PHONE_PLACEHOLDERS,
    address_lines,
    cased,
    digit_typo,
    dob_text,
    email_case,
    email_typo,
    email_variant,
    full_name,
    mangle_encoding,
    phone_text,
    plus_tag,
    postcode_text,
    punctuation,
    strip_accents,
    typo,
)
from kenning.datagen.people import Person
from kenning.datagen.profiles import EMAIL_PLACEHOLDERS, NAME_PLACEHOLDERS, Profile

SOURCES = ("pos", "web", "registrations", "email", "loyalty")


class RecordMaker:
    def __init__(self, rng: Random, names: NameBank) -> None:
        self.rng = rng
        self.nicknames = names.nicknames
        self.alikes = names.sound_alikes

    def row(
        self,
        p: Person,
        source: str,
        prof: Profile,
        record_id: str,
        day: int,
        updated_at: str,
        store: Store | None,
        extras: list[str],
        loyalty_id: str = "",
        serial: str = "",
        email: str | None = None,
    ) -> list[str]:
        """The record as it stood on ``day`` (its last update).

        ``email``, when given, is the address this record was opened with (a second web
        account, a second subscription) instead of the one the person used that day.
        """
        rng = self.rng
        home = p.address_on(day)
        # Tills follow their store's conventions; the other systems the customer's country.
        cc = store.country if store is not None and source == "pos" else home.city.country
        style = prof.case[cc].pick(rng)
        first, last, full = self._names(p, prof, day, cc, style)
        email = self._email(p, prof, day, email)
        phone = self._phone(p, prof, day, store)
        dob = ""
        if rng.random() < prof.dob:
            form = prof.dob_forms[cc].pick(rng)
            if rng.random() < prof.dob_placeholder:
                dob = DOB_PLACEHOLDERS[form]
            else:
                dob = dob_text(rng, p.dob, form, prof.dob_swap, prof.dob_slip)
        line1 = line2 = city = region = postcode = ""
        acc = home.city.country
        r = rng.random()
        if source == "pos" and store is not None and r < 0.01:
            # Ship-to-store: the associate typed the shop's own address.
            line1, city, postcode = store.address, store.city, store.postcode
        elif r < prof.address:
            line1, line2 = address_lines(
                rng, home, prof.abbreviate[acc], prof.drop_unit, prof.street_typo
            )
            city = home.city.localities[home.street.area.code].pick(rng)
            if rng.random() < prof.locality_typo:
                city = typo(rng, city)
            if rng.random() < prof.region[acc]:
                region = home.city.regions.pick(rng)
            postcode = postcode_text(rng, home, prof.plus4, prof.zip_zero_drop)
            if style == "u":
                line1, line2, city, postcode = (
                    line1.upper(),
                    line2.upper(),
                    city.upper(),
                    postcode.upper(),
                )
        elif r < prof.address + prof.postcode_only:
            postcode = postcode_text(rng, home, 0.0, prof.zip_zero_drop)
        # With no address typed, a till's country box keeps the shop's default.
        country = prof.countries[acc if line1 or postcode else cc].pick(rng)
        return [
            source,
            record_id,
            first,
            last,
            full,
            email,
            phone,
            dob,
            line1,
            line2,
            city,
            region,
            postcode,
            country,
            loyalty_id,
            serial,
            updated_at,
            *extras,
        ]

    def _names(
        self, p: Person, prof: Profile, day: int, cc: str, style: str
    ) -> tuple[str, str, str]:
        rng = self.rng
        rnd = rng.random
        mode = prof.name_modes.pick(rng)
        if mode == "none":
            return "", "", ""
        if prof.name_placeholder and rnd() < prof.name_placeholder:
            f, s = NAME_PLACEHOLDERS.pick(rng)
            return f, s, ""
        first = p.first
        last = p.surname_on(day)
        middle = p.middle
        if p.nickname and rnd() < prof.pref_nick:
            first = p.nickname
        elif prof.nick and rnd() < prof.nick:
            nicks = self.nicknames.get(first.lower())
            if nicks:
                first = nicks[rng.randrange(len(nicks))]
        if prof.sound_alike and rnd() < prof.sound_alike:
            if rnd() < 0.6:
                alt = self.alikes.get(first)
                if alt:
                    first = alt[rng.randrange(len(alt))]
            else:
                alt = self.alikes.get(last)
                if alt:
                    last = alt[rng.randrange(len(alt))]
        if rnd() < prof.ascii:
            first, last, middle = strip_accents(first), strip_accents(last), strip_accents(middle)
        elif prof.mangle and rnd() < prof.mangle:
            first, last = mangle_encoding(rng, first), mangle_encoding(rng, last)
        if prof.punct and rnd() < prof.punct:
            last = punctuation(rng, last)
            first = punctuation(rng, first)
        if prof.name_typo:
            if rnd() < prof.name_typo:
                first = typo(rng, first)
            if rnd() < prof.name_typo:
                last = typo(rng, last)
        suffix = p.suffix if p.suffix and rnd() < prof.suffix else ""
        if mode == "first":
            return cased(style, first), "", ""
        if mode == "full":
            whole = full_name(rng, cc, p.title, first, middle, last, suffix)
            return "", "", cased(style, whole)
        full = ""
        if prof.full_exact:
            full = f"{first} {last}"
        elif prof.full_also and rnd() < prof.full_also:
            full = full_name(rng, cc, p.title, first, middle, last, suffix)
        if prof.initial and rnd() < prof.initial:
            first = first[:1] + ("." if rnd() < 0.3 else "")
        elif prof.middle_initial and middle and rnd() < prof.middle_initial:
            first = f"{first} {middle[:1]}"
        if suffix:
            last = f"{last} {suffix}" if rnd() < 0.6 else f"{last}, {suffix}"
        if prof.title_as_first and rnd() < prof.title_as_first:
            first = p.title  # "Mrs" in the first-name box
        if prof.swap and rnd() < prof.swap:
            first, last = last, first
        return cased(style, first), cased(style, last), cased(style, full)

    def _email(self, p: Person, prof: Profile, day: int, given: str | None) -> str:
        rng = self.rng
        rnd = rng.random
        if rnd() >= prof.email:
            return ""
        if given is None and prof.email_placeholder and rnd() < prof.email_placeholder:
            return EMAIL_PLACEHOLDERS.pick(rng)
        email = ""
        if given is not None:
            email = given
        elif p.family_email and rnd() < (prof.email_family if p.uses_family_email else 0.05):
            email = p.family_email
        elif prof.email_borrow and p.housemates and rnd() < prof.email_borrow:
            mate = p.housemates[rng.randrange(len(p.housemates))]
            email = mate.email_on(day, rng)
        else:
            email = p.email_on(day, rng) or p.family_email
        if not email:
            # No address of their own: a till insists on something, a form is left blank.
            return EMAIL_PLACEHOLDERS.pick(rng) if prof.insists_on_email else ""
        if prof.email_variant and rnd() < prof.email_variant:
            email = email_variant(rng, email)
        if prof.plus and rnd() < prof.plus:
            email = plus_tag(rng, email)
        if prof.email_typo and rnd() < prof.email_typo:
            email = email_typo(rng, email)
        if prof.email_case and rnd() < prof.email_case:
            email = email_case(rng, email)
        if prof.email_space and rnd() < prof.email_space:
            email = f" {email}" if rnd() < 0.3 else f"{email} "
        return email

    def _phone(self, p: Person, prof: Profile, day: int, store: Store | None) -> str:
        rng = self.rng
        rnd = rng.random
        if rnd() >= prof.phone:
            return ""
        if prof.phone_placeholder and rnd() < prof.phone_placeholder:
            if store is not None and rnd() < 0.25:
                return phone_text(rng, store.phone, store.country, prof.phone_style)  # the shop's
            return PHONE_PLACEHOLDERS.pick(rng)
        owner = p
        if prof.phone_borrow and p.housemates and rnd() < prof.phone_borrow:
            owner = p.housemates[rng.randrange(len(p.housemates))]
        land = owner.landline_on(day)
        mob = owner.mobile_on(day)
        if land and (not mob or rnd() < prof.landline_share):
            nsn, country = land, owner.address_on(day).city.country
        elif mob:
            nsn, country = mob, owner.country
        else:
            return ""
        text = phone_text(rng, nsn, country, prof.phone_style)
        if prof.zero_drop and text[0] == "0" and rnd() < prof.zero_drop:
            text = text[1:]
        if prof.phone_typo and rnd() < prof.phone_typo:
            text = digit_typo(rng, text)
        return text
