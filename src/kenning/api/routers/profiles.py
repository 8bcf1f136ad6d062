"""The customer, whole (customers:read), and recognition on sign-up (customers:write)."""

from __future__ import annotations

from pathlib import Path

import orjson
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from kenning.api.deps import CustomerReader, CustomerWriter, Now
from kenning.api.profile_schemas import (
    AccountCreate,
    AccountPublic,
    ProfilePublic,
    VerificationCreate,
    VerificationPublic,
)
from kenning.services import accounts
from kenning.services.profile import customer_profile

router = APIRouter(prefix="/v1", tags=["profiles"])
demo_router = APIRouter(tags=["demo"])
_DEMO_PAGE = Path(__file__).resolve().parents[1] / "static" / "demo-shop.html"


@router.get("/customers/{customer_id}/profile", response_model=ProfilePublic)
async def profile(
    request: Request, session: CustomerReader, customer_id: str, now: Now
) -> Response:
    """Golden record with lineage, traits, owned products, repairs, recent orders across
    channels, recent browsing and ledger balances, in one call."""
    settings = request.app.state.account_settings.profile
    view = await session.run(lambda store: customer_profile(store, customer_id, settings, now))
    # Built by the service in the documented shape; serialised as is (a profile is large,
    # and validating it again would cost more than computing it).
    return Response(orjson.dumps(view), media_type="application/json")


@router.post("/accounts", response_model=VerificationPublic)
async def start_account(
    request: Request, session: CustomerWriter, body: AccountCreate, now: Now
) -> VerificationPublic:
    """Someone signs up or in with an e-mail: a code goes to it. The answer is the same
    whether or not the e-mail is known."""
    settings = request.app.state.account_settings
    send = request.app.state.mail_sender
    # The caller is the shop's server (a secret key): the client is the shopper it names.
    client = str(body.client_ip) if body.client_ip is not None else None
    answer = await session.run(
        lambda store: accounts.start(store, body.email, settings, now, send, client=client)
    )
    return VerificationPublic(**answer)


@router.post("/accounts/verify", response_model=AccountPublic)
async def verify_account(
    request: Request, session: CustomerWriter, body: VerificationCreate, now: Now
) -> AccountPublic:
    """The code she received: when right, her history (if she is a known customer)."""
    settings = request.app.state.account_settings
    visitor = (body.source, body.user_id) if body.source and body.user_id else None
    answer = await session.run(
        lambda store: accounts.verify(
            store, body.verification_id, body.code, settings, now, visitor
        )
    )
    return AccountPublic(**answer)


@demo_router.get("/demo", response_class=HTMLResponse, include_in_schema=False)
async def demo_shop(request: Request) -> HTMLResponse:
    """A small web-shop page that signs up through /v1/accounts (served by `kenning demo`)."""
    key = request.app.state.demo_key
    if not key:
        return HTMLResponse("<p>The demo shop is served by <code>kenning demo</code>.</p>", 404)
    page = _DEMO_PAGE.read_text(encoding="utf-8").replace("{{KEY}}", key)
    return HTMLResponse(page)
