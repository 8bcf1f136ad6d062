"""Which customer ids are this customer now: the ids identity resolution merged into it.

Ledger accounts stay keyed by the customer id they were opened under, and postings are never
rewritten. Instead ``follow_identity_changes`` reads the merges of the identity change feed
from a cursor into ``customer_aliases`` (old id -> the customer holding it now, kept current
along chains of merges), moving the cursor in the same transaction, so each change is applied
once. A split gives nothing back: the ids merged in stay with the customer that kept the id,
and the change feed tells operators which customers split.
"""

from __future__ import annotations

from kenning.store import Store

CURSOR = "customer_aliases"


class _Moved(Exception):
    """Someone else moved the cursor meanwhile: what this run wrote rolls back."""


def follow_identity_changes(store: Store, limit: int = 1000) -> int:
    """Apply the merges the feed holds past the cursor; returns the changes passed (0: up
    to date, at the cost of one small query)."""
    passed = 0
    while True:
        start, last = store.changes_position(CURSOR)
        if last <= start:
            return passed
        try:
            with store.transaction():
                changes = store.identity_changes(start, limit)
                if not changes:
                    return passed
                for change in changes:
                    if change.kind == "merge":
                        others = [str(o) for o in change.payload.get("others", ())]
                        store.merge_aliases(change.customer_id, others)
                if not store.advance_cursor(CURSOR, start, changes[-1].seq):
                    raise _Moved
        except _Moved:
            continue  # another caller applied them: look again
        passed += len(changes)


def customer_ids(store: Store, customer_id: str) -> list[str]:
    """The customer's id, then every id merged into it, the feed followed first."""
    follow_identity_changes(store)
    return [customer_id, *store.customer_aliases(customer_id)]
