"""Self-checks every run ends with: a failure means the numbers cannot be trusted."""

from __future__ import annotations

from sim.errors import LedgerError, PolicyError, SelfCheckError
from sim.money.ledger import Ledger
from sim.money.subsidies import PolicyBook
from sim.records.ridelog import Stats


def verify(ledger: Ledger, book: PolicyBook, stats: Stats, paid_by_rail: list[int]) -> None:
    """Ledger balanced, policies within bounds, every ride accounted for, times in order;
    ``paid_by_rail`` counts the payments the cashier took."""
    try:
        ledger.check()
        book.check()
    except (LedgerError, PolicyError) as exc:
        raise SelfCheckError(str(exc)) from None
    st = stats
    ended = st.completed + st.abandoned + st.open
    if st.requests != ended:
        raise SelfCheckError(
            f"rides not conserved: {st.requests} requested but {st.completed} completed"
            f" + {st.abandoned} abandoned + {st.open} open = {ended}"
        )
    for name, sample in (
        ("match wait", st.match_wait),
        ("pickup time", st.pickup),
        ("busy time", st.busy),
    ):
        low = sample.minimum()
        if low is not None and low < 0:
            raise SelfCheckError(f"negative {name}: {low} s (times out of order)")
    low = st.wait.minimum()
    if low is not None and low < 0:
        raise SelfCheckError("a ride was picked up before it was requested")
    paid = sum(paid_by_rail)
    if paid != st.completed:
        raise SelfCheckError(f"{st.completed} rides completed but {paid} were paid")
