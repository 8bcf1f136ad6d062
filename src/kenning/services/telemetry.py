"""What the process counts for operators (see api/ops.py, GET /metrics): events accepted,
resolution decisions, mail sent and failed.

These counters belong to the process, not to an app: the follower and the mail it sends
run in processes of their own under `kenning serve`. They are registered in no registry;
each app's registry reads them (see api/ops.py), or, when `kenning serve` runs several
processes, prometheus-client's multiprocess mode adds up every process's files
(PROMETHEUS_MULTIPROC_DIR, which must be set before this module is imported).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import ParamSpec, TypeVar

from prometheus_client import Counter

P = ParamSpec("P")
T = TypeVar("T")

EVENTS_ACCEPTED = Counter(
    "kenning_events_accepted",
    "Collected messages written to the event log (retries of a logged message not counted).",
    registry=None,
)
RESOLUTION_DECISIONS = Counter(
    "kenning_resolution_decisions",
    "What the real-time matcher decided: records placed, new customers, merges, splits.",
    ["decision"],
    registry=None,
)
MAIL_SENT = Counter(
    "kenning_mail_sent",
    "Mail handed to the SMTP server, by kind (signup_code, outbox).",
    ["kind"],
    registry=None,
)
MAIL_FAILED = Counter(
    "kenning_mail_failed",
    "Mail that could not be sent, by kind (outbox mail is tried again later).",
    ["kind"],
    registry=None,
)
PROCESS_COUNTERS = (EVENTS_ACCEPTED, RESOLUTION_DECISIONS, MAIL_SENT, MAIL_FAILED)


def count_resolution(placed: int, new_customers: int, merges: int, splits: int) -> None:
    """One placement of the matcher: counted where it writes, so a placement whose
    transaction then rolls back is counted too (rare: the run is tried again)."""
    for decision, amount in (
        ("placed", placed),
        ("new_customer", new_customers),
        ("merge", merges),
        ("split", splits),
    ):
        if amount:
            RESOLUTION_DECISIONS.labels(decision).inc(amount)


@contextmanager
def counting_mail(kind: str) -> Iterator[None]:
    """Count the mail sent in the block as sent, or as failed if the block raises."""
    try:
        yield
    except Exception:
        MAIL_FAILED.labels(kind).inc()
        raise
    MAIL_SENT.labels(kind).inc()


def counted_sender(send: Callable[P, T], kind: str) -> Callable[P, T]:
    """``send``, counting each call as mail sent or failed."""

    def counted(*args: P.args, **kwargs: P.kwargs) -> T:
        with counting_mail(kind):
            return send(*args, **kwargs)

    return counted
