"""Customers by id or any identifier, their events, the identity change feed, manual links
and unlinks, and identity review (secret keys with customers:read / customers:write)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from kenning.api.answers import json_answer
from kenning.api.bounds import MAX_SEQ, SeqQuery
from kenning.api.customer_schemas import (
    LOOKUP_OPENAPI,
    LOOKUP_QUERY,
    ChangePage,
    ChangePublic,
    CorrectionCreate,
    CorrectionPublic,
    CustomerPublic,
    EventPage,
    EventPublic,
    RecordRef,
    ReviewAnswerCreate,
    ReviewAnswerPublic,
    ReviewPage,
    ReviewPairPublic,
)
from kenning.api.deps import CustomerReader, CustomerWriter, Now, SettingsDep
from kenning.services import customers, review

router = APIRouter(prefix="/v1", tags=["customers"])


@router.get("/customers/lookup", response_model=CustomerPublic, openapi_extra=LOOKUP_OPENAPI)
async def lookup(request: Request, session: CustomerReader, settings: SettingsDep) -> Response:
    """The customer one identifier belongs to (409 `ambiguous` when several hold it)."""
    asked = {name: request.query_params.get(name) for name in LOOKUP_QUERY}
    markets = settings.market_codes
    view = await session.read(lambda store: customers.lookup(store, markets=markets, **asked))
    return json_answer(view)


@router.get("/customers/{customer_id}", response_model=CustomerPublic)
async def get_customer(session: CustomerReader, customer_id: str) -> Response:
    view = await session.read(lambda store: customers.customer(store, customer_id))
    return json_answer(view)


@router.get("/customers/{customer_id}/events", response_model=EventPage)
async def customer_events(
    session: CustomerReader,
    customer_id: str,
    before: Annotated[int | None, Query(ge=0, le=MAX_SEQ)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> EventPage:
    """Her events, newest first, from every record and anonymous visit that is hers."""
    page, following = await session.read(
        lambda store: customers.events(store, customer_id, before, limit)
    )
    return EventPage(events=[EventPublic(**asdict(e)) for e in page], next_before=following)


@router.get("/identity/changes", response_model=ChangePage)
async def identity_changes(
    session: CustomerReader,
    since: SeqQuery = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> ChangePage:
    """Merges and splits in order: follow with `since` = the last `next_since`."""
    rows = await session.read(lambda store: customers.changes(store, since, limit))
    return ChangePage(
        changes=[ChangePublic(**asdict(r)) for r in rows],
        next_since=rows[-1].seq if rows else since,
    )


async def _correct(
    request: Request, session: CustomerWriter, kind: str, body: CorrectionCreate
) -> CorrectionPublic:
    a, b = (body.a.source, body.a.record_id), (body.b.source, body.b.record_id)
    models = request.app.state.models
    placed = await session.run(
        lambda store: customers.correct(store, kind, a, b, body.reason, models)
    )
    return CorrectionPublic(
        kind=kind,  # type: ignore[arg-type]
        customers=[
            {"source": k[0], "record_id": k[1], "customer_id": c} for k, c in placed.items()
        ],
    )


@router.post("/identity/links", response_model=CorrectionPublic)
async def link(
    request: Request, session: CustomerWriter, body: CorrectionCreate
) -> CorrectionPublic:
    """Two records are one person, whatever the model says, from now on."""
    return await _correct(request, session, "must_link", body)


@router.post("/identity/unlinks", response_model=CorrectionPublic)
async def unlink(
    request: Request, session: CustomerWriter, body: CorrectionCreate
) -> CorrectionPublic:
    """Two records are never one person, from now on."""
    return await _correct(request, session, "cannot_link", body)


@router.get("/identity/review", response_model=ReviewPage)
async def review_pairs(
    session: CustomerReader,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=10_000)] = 0,
) -> ReviewPage:
    """The pairs the last batch run was least sure of, most uncertain first, that nobody
    has answered: each record's values and customer, and why the pair scored what it did."""
    items = await session.read(lambda store: review.pairs_to_review(store, limit, offset))
    return ReviewPage(pairs=[ReviewPairPublic(**review.item_json(item)) for item in items])


@router.post("/identity/review/answers", response_model=ReviewAnswerPublic)
async def answer_review(
    session: CustomerWriter, body: ReviewAnswerCreate, now: Now
) -> ReviewAnswerPublic:
    """One person (`link`) or two (`no-link`): the next batch run trains the model on it.
    A new answer on a pair replaces the old. It binds nothing: /v1/identity/links and
    /unlinks do. `answered_by`: the person (the key's name when not given)."""
    a, b = (body.a.source, body.a.record_id), (body.b.source, body.b.record_id)
    kept = await session.run_as(
        lambda store, key: review.answer(
            store,
            a,
            b,
            body.answer == "link",
            answered_by=body.answered_by or f"key {key.name}",
            note=body.note,
            now=now,
        )
    )
    return ReviewAnswerPublic(
        a=RecordRef(source=kept.a[0], record_id=kept.a[1]),
        b=RecordRef(source=kept.b[0], record_id=kept.b[1]),
        answer="link" if kept.link else "no-link",
        note=kept.note,
        answered_by=kept.answered_by,
        answered_at=kept.answered_at,
    )
