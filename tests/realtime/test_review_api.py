"""Identity review over the API: the pairs to review with their waterfalls, and answers,
for secret keys only."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from kenning.api.customer_schemas import ReviewPage
from kenning.ingest.importer import Importer
from kenning.services.identity import resolve_store
from kenning.services.keys import create_key
from kenning.services.sources import add_source
from kenning.store import Store


@pytest.fixture
def resolved(store: Store, batch_retailer: Path) -> Store:
    Importer(store).import_files(sorted((batch_retailer / "records").glob("*.csv")))
    resolve_store(store)
    return store


def _ref(pair: dict[str, dict[str, str]], side: str) -> dict[str, str]:
    return {"source": pair[side]["source"], "record_id": pair[side]["record_id"]}


def test_pairs_to_review_and_answers(app_client: TestClient, resolved: Store) -> None:
    listed = app_client.get("/v1/identity/review", params={"limit": 5})
    assert listed.status_code == 200, listed.text
    page = listed.json()
    assert ReviewPage.model_validate(page).model_dump() == page  # the declared shape
    first, second = page["pairs"][:2]
    steps = first["waterfall"]["steps"]
    assert first["weight"] == pytest.approx(
        first["waterfall"]["prior_weight"] + sum(s["weight"] + s["tf_adjustment"] for s in steps)
    )
    assert first["a"]["values"] and first["a"]["customer_id"]

    body = {"a": _ref(first, "b"), "b": _ref(first, "a"), "answer": "no-link", "note": "twins"}
    answered = app_client.post("/v1/identity/review/answers", json=body)
    assert answered.status_code == 200, answered.text
    kept = answered.json()
    assert (kept["a"], kept["b"], kept["answer"]) == (_ref(first, "a"), _ref(first, "b"), "no-link")
    again = app_client.post("/v1/identity/review/answers", json={**body, "answer": "link"})
    assert again.status_code == 200
    (answer,) = resolved.review_answers()
    assert answer.link and answer.note == "twins" and answer.answered_by == "key tests"
    after = app_client.get("/v1/identity/review", params={"limit": 5}).json()["pairs"]
    assert after[0]["a"] == second["a"] and after[0]["b"] == second["b"]


def test_only_secret_keys_review(app_client: TestClient, resolved: Store) -> None:
    pair = app_client.get("/v1/identity/review", params={"limit": 1}).json()["pairs"][0]
    body = {"a": _ref(pair, "a"), "b": _ref(pair, "b"), "answer": "link"}
    _, public = add_source(resolved, "shop")
    _, trusted = add_source(resolved, "backoffice", trusted=True)
    _, reader = create_key(resolved, "reader", ["customers:read"])
    for key in (public, trusted):
        for auth in ({"Authorization": f"Bearer {key}"}, None):
            kwargs = {"headers": auth} if auth else {"auth": (key, "")}
            got = app_client.get("/v1/identity/review", **kwargs)  # type: ignore[arg-type]
            posted = app_client.post("/v1/identity/review/answers", json=body, **kwargs)  # type: ignore[arg-type]
            assert (got.status_code, posted.status_code) == (401, 401)
    assert app_client.get(
        "/v1/identity/review", headers={"Authorization": f"Bearer {reader}"}
    ).status_code == 200  # fmt: skip
    refused = app_client.post(
        "/v1/identity/review/answers", json=body, headers={"Authorization": f"Bearer {reader}"}
    )
    assert (refused.status_code, refused.json()["code"]) == (403, "forbidden")
    assert resolved.review_answers() == []


def test_bad_answers_are_refused_with_their_reason(app_client: TestClient, resolved: Store) -> None:
    pair = app_client.get("/v1/identity/review", params={"limit": 1}).json()["pairs"][0]
    a, b = _ref(pair, "a"), _ref(pair, "b")
    cases = [
        ({"a": a, "b": {"source": "pos", "record_id": "nobody"}, "answer": "link"}, 404),
        ({"a": a, "b": a, "answer": "link"}, 422),
        ({"a": a, "b": b, "answer": "maybe"}, 422),
        ({"a": a, "b": {"source": "", "record_id": "1"}, "answer": "link"}, 422),
        ({"a": a, "b": b, "answer": "link", "note": "x" * 501}, 422),
        ({"a": a}, 422),
    ]
    for body, status in cases:
        answered = app_client.post("/v1/identity/review/answers", json=body)
        assert answered.status_code == status, (body, answered.text)
        assert set(answered.json()) == {"code", "message"}
    for params in ({"limit": 0}, {"limit": "x"}, {"offset": -1}):
        assert app_client.get("/v1/identity/review", params=params).status_code == 422
    assert resolved.review_answers() == []
    paths = app_client.get("/openapi.json").json()["paths"]
    assert {"401", "403", "404", "422"} <= set(
        paths["/v1/identity/review/answers"]["post"]["responses"]
    )
    assert {"401", "403", "422"} <= set(paths["/v1/identity/review"]["get"]["responses"])
