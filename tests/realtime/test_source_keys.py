"""A source's write key can be rotated and revoked, effective at the very next request, and a
source may not take the name of a system whose records were imported from files."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from kenning.api.app import create_app
from kenning.cli import cli
from kenning.domain.refusals import Refusal
from kenning.services.sources import (
    WRITE_KEY_PREFIX,
    add_source,
    revoke_source,
    rotate_source,
    source_for,
)
from kenning.settings import Settings
from kenning.store import Store


def _kenning(store_url: str, *args: str) -> tuple[int, str, str]:
    """Run the command line against the store as an operator would: its own connection,
    as if from another process. (exit code, standard output, standard error)"""
    result = CliRunner().invoke(cli, ["--db", store_url, *args])
    return result.exit_code, result.stdout, result.stderr


def _new_key(store_url: str, *args: str) -> str:
    code, stdout, stderr = _kenning(store_url, "sources", *args)
    assert code == 0, stdout + stderr
    key = stdout.strip()
    assert key.startswith(WRITE_KEY_PREFIX) and "\n" not in key
    return key


def _track(client: TestClient, key: str, message_id: str) -> tuple[int, dict[str, str]]:
    answer = client.post(
        "/v1/track",
        json={"userId": "u1", "event": "Product Viewed", "messageId": message_id},
        auth=(key, ""),
    )
    return answer.status_code, answer.json()


def _logged(store: Store) -> list[str]:
    rows = store._query(
        "SELECT message_id FROM events WHERE kind = ? ORDER BY seq", ("segment.track",)
    )
    return [str(m) for (m,) in rows]


@pytest.fixture
def servers(store: Store, store_url: str) -> Iterator[tuple[TestClient, TestClient]]:
    """Two running API apps over the store, as two worker processes of one server are:
    neither shares anything with the other but the database."""
    settings = Settings(database_url=store_url, pool_size=2, follow_events=False)
    with TestClient(create_app(settings)) as one, TestClient(create_app(settings)) as two:
        yield one, two


def test_rotate_and_revoke_hold_at_the_next_request_in_every_running_server(
    store: Store, store_url: str, servers: tuple[TestClient, TestClient]
) -> None:
    old = _new_key(store_url, "add", "web")
    # Both servers have served the old key (whatever they might keep of it, they keep now).
    for n, server in enumerate(servers):
        assert _track(server, old, f"before-{n}") == (200, {"success": True})

    new = _new_key(store_url, "rotate", "web")
    assert new != old
    for n, server in enumerate(servers):
        status, body = _track(server, old, f"old-after-rotate-{n}")
        assert status == 401 and body["code"] == "unauthorized" and body["message"]
        assert _track(server, new, f"new-{n}") == (200, {"success": True})

    code, stdout, _ = _kenning(store_url, "sources", "revoke", "web")
    assert code == 0 and "revoked" in stdout
    for n, server in enumerate(servers):
        for key in (old, new):
            status, body = _track(server, key, f"after-revoke-{n}")
            assert status == 401 and set(body) == {"code", "message"}
    # What the source sent before stays in the log; nothing after the revoke got in.
    assert _logged(store) == ["before-0", "before-1", "new-0", "new-1"]
    code, stdout, _ = _kenning(store_url, "sources", "list")
    assert code == 0 and "yes" in stdout.split("web", 1)[1].splitlines()[0]

    # Revoking again is harmless; a rotation brings the source back with a fresh key only.
    code, stdout, _ = _kenning(store_url, "sources", "revoke", "web")
    assert code == 0 and "already" in stdout
    fresh = _new_key(store_url, "rotate", "web")
    for n, server in enumerate(servers):
        assert _track(server, fresh, f"fresh-{n}") == (200, {"success": True})
        assert _track(server, new, f"stale-{n}")[0] == 401
    assert _logged(store)[-2:] == ["fresh-0", "fresh-1"]


def test_rotate_and_revoke_an_unknown_source_say_so(store: Store, store_url: str) -> None:
    for command in ("rotate", "revoke"):
        code, _, stderr = _kenning(store_url, "sources", command, "nowhere")
        assert code == 1 and "no source named nowhere" in stderr
        code, _, stderr = _kenning(store_url, "sources", command, "Not a name")
        assert code == 1 and "invalid source name" in stderr
        assert "Traceback" not in stderr


def test_the_service_refuses_old_keys_at_once(store: Store) -> None:
    name, old = add_source(store, "Web")
    assert (name, source_for(store, old)) == ("web", "web")
    name, new = rotate_source(store, "web")
    assert name == "web" and source_for(store, new) == "web"
    with pytest.raises(Refusal) as refused:
        source_for(store, old)
    assert refused.value.code == "unauthorized"
    assert revoke_source(store, "web") is True
    assert revoke_source(store, "web") is False
    with pytest.raises(Refusal):
        source_for(store, new)
    with pytest.raises(Refusal) as refused:
        revoke_source(store, "pos")
    assert refused.value.code == "not_found"


def test_a_source_named_like_an_imported_system_needs_declaring_the_same(
    store: Store, store_url: str, tmp_path: Path
) -> None:
    accounts = tmp_path / "web-accounts.csv"
    accounts.write_text(
        "record_id,email,phone,postcode\nweb-1001,ann@example.org,020 7946 0123,N1 9GU\n",
        encoding="utf-8",
    )
    code, stdout, stderr = _kenning(store_url, "import", str(accounts), "--source", "web")
    assert code == 0, stdout + stderr

    # An identify with userId web-1001 would update that imported account.
    code, stdout, stderr = _kenning(store_url, "sources", "add", "web")
    assert code == 1 and stdout == ""
    assert "records were imported under the source name web" in stderr
    assert "--same-system" in stderr
    assert store.sources() == []
    # The same spelled otherwise is the same name.
    code, _, stderr = _kenning(store_url, "sources", "add", " WEB ", "--trusted")
    assert code == 1 and "imported" in stderr

    # Another name is fine; so is the same name declared the very same system.
    _new_key(store_url, "add", "web-analytics")
    key = _new_key(store_url, "add", "web", "--same-system")
    assert source_for(store, key) == "web"
    assert [row.name for row in store.sources()] == ["web", "web-analytics"]


def test_a_rotation_with_grace_takes_the_old_key_until_it_ends(store: Store) -> None:
    _, first = add_source(store, "pos-london", trusted=True)
    _, second = rotate_source(store, "pos-london", grace_seconds=60, now=1_000)
    for at in (1_000, 1_059):
        assert source_for(store, first, at) == source_for(store, second, at) == "pos-london"
    with pytest.raises(Refusal):
        source_for(store, first, 1_060)
    # A second rotation ends the first one's grace; its own old key may have one.
    _, third = rotate_source(store, "pos-london", grace_seconds=60, now=1_010)
    assert source_for(store, second, 1_011) == source_for(store, third, 1_011) == "pos-london"
    with pytest.raises(Refusal):
        source_for(store, first, 1_011)
    # A revoke refuses every key at once, and a rotation never brings a revoked key back.
    assert revoke_source(store, "pos-london")
    for key in (second, third):
        with pytest.raises(Refusal):
            source_for(store, key, 1_011)
    _, fourth = rotate_source(store, "pos-london", grace_seconds=60, now=1_012)
    assert source_for(store, fourth, 1_013) == "pos-london"
    for key in (first, second, third):
        with pytest.raises(Refusal):
            source_for(store, key, 1_013)
    with pytest.raises(Refusal) as refused:
        rotate_source(store, "pos-london", grace_seconds=-1)
    assert refused.value.code == "invalid"


def test_rotate_with_grace_through_the_command_line(
    store: Store, store_url: str, servers: tuple[TestClient, TestClient]
) -> None:
    old = _new_key(store_url, "add", "web")
    new = _new_key(store_url, "rotate", "web", "--grace", "3600")
    for n, server in enumerate(servers):
        assert _track(server, old, f"old-{n}")[0] == 200
        assert _track(server, new, f"new-{n}")[0] == 200
    newest = _new_key(store_url, "rotate", "web")  # no grace: both earlier keys end now
    for n, server in enumerate(servers):
        assert _track(server, old, f"old-again-{n}")[0] == 401
        assert _track(server, new, f"new-again-{n}")[0] == 401
        assert _track(server, newest, f"newest-{n}")[0] == 200
    code, _, stderr = _kenning(store_url, "sources", "rotate", "web", "--grace", "-5")
    assert code == 2 and "--grace" in stderr
