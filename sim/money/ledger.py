"""Double-entry money book in integer fen.

Every movement of money (fare, fee, subsidy, refund, settlement) is one ``post`` from one
account to another. Accounts are (kind, rail, policy) triples. The book keeps each day's
net flow per account, money waiting for settlement by due day, and optionally every entry;
``check`` proves at the end of a run that nothing was created or lost.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator

from sim.errors import LedgerError

# Account kinds. A rider's or sponsor's balance goes negative as they pay out.
RIDER = "rider"  # riders paying fares (negative) and receiving subsidies and refunds
DRIVER = "driver"  # drivers' settled income
DRIVER_PENDING = "driver_pending"  # drivers' income waiting for the rail to settle (T+n)
FEE = "rail_fee"  # the rail's fee income
SUBSIDY = "subsidy"  # a policy's sponsor (its spend shows as a negative balance)

# Entry kinds, for the full ledger and the daily table.
KINDS = ("fare", "tip", "fee", "rider_subsidy", "driver_subsidy", "free_ride", "settlement")
ENTRY_KINDS = frozenset(KINDS)
_KIND = {k: i for i, k in enumerate(KINDS)}
_NK = len(KINDS)


class Ledger:
    """Accounts, daily flows, pending settlements and (optionally) the full journal.

    The current day's flows add up in a flat list indexed by account and entry kind (no
    key to build per entry); they fold into ``daily`` when a post names another day.
    """

    def __init__(self, keep_journal: bool = False) -> None:
        self.accounts: list[tuple[str, str, str]] = []
        self._ids: dict[tuple[str, str, str], int] = {}
        self.balance: list[int] = []
        self._daily: defaultdict[tuple[int, int, str], int] = defaultdict(int)
        self._day = 0  # the day ``_flow`` adds up
        self._flow: list[int] = []  # net fen of (account, kind) on ``_day``
        self.pending: defaultdict[int, defaultdict[tuple[int, int], int]] = defaultdict(
            lambda: defaultdict(int)
        )
        self.journal: list[tuple[float, int, str, int, int, int]] | None = (
            [] if keep_journal else None
        )
        self.entries = 0

    def account(self, kind: str, rail: str = "", policy: str = "") -> int:
        """The id of an account, opened on first use."""
        key = (kind, rail, policy)
        acc = self._ids.get(key)
        if acc is None:
            acc = self._ids[key] = len(self.accounts)
            self.accounts.append(key)
            self.balance.append(0)
            self._flow += [0] * _NK
        return acc

    def post(
        self, t: float, day: int, kind: str, src: int, dst: int, fen: int, ride: int = -1
    ) -> None:
        """Move ``fen`` (a non-negative integer) from account ``src`` to ``dst``."""
        k = _KIND.get(kind)
        if fen.__class__ is not int or fen < 0 or k is None:
            if k is None or not fen >= 0 or fen != int(fen):
                raise LedgerError(
                    f"{kind}: amount must be a non-negative integer fen of a"
                    f" known entry kind (got {fen})"
                )
            fen = int(fen)
        if fen == 0:
            return
        self.balance[src] -= fen
        self.balance[dst] += fen
        if day != self._day:
            self._fold()
            self._day = day
        flow = self._flow
        flow[src * _NK + k] -= fen
        flow[dst * _NK + k] += fen
        self.entries += 1
        if self.journal is not None:
            self.journal.append((t, ride, kind, src, dst, fen))

    def _fold(self) -> None:
        """Move the current day's flows into ``daily``."""
        flow, day, daily = self._flow, self._day, self._daily
        for i, fen in enumerate(flow):
            if fen:
                daily[day, i // _NK, KINDS[i % _NK]] += fen
                flow[i] = 0

    @property
    def daily(self) -> dict[tuple[int, int, str], int]:
        """Net fen per (day, account, entry kind)."""
        self._fold()
        return self._daily

    def defer(self, due_day: int, src: int, dst: int, fen: int) -> None:
        """Schedule a settlement of ``fen`` from ``src`` to ``dst`` at the start of a day."""
        if fen:
            self.pending[due_day][src, dst] += fen

    def settle(self, t: float, day: int) -> int:
        """Post every settlement due on ``day`` or before; return the fen settled."""
        total = 0
        for due in sorted(d for d in self.pending if d <= day):
            for (src, dst), fen in sorted(self.pending.pop(due).items()):
                self.post(t, day, "settlement", src, dst, fen)
                total += fen
        return total

    def unsettled(self) -> int:
        """Fen still waiting for settlement."""
        return sum(sum(p.values()) for p in self.pending.values())

    def unsettled_by_account(self) -> dict[int, int]:
        """Fen waiting for settlement, by the account it waits in."""
        out: defaultdict[int, int] = defaultdict(int)
        for due in self.pending.values():
            for (src, _dst), fen in due.items():
                out[src] += fen
        return dict(out)

    def total(self, kind: str, rail: str | None = None, policy: str | None = None) -> int:
        """Sum of balances over accounts of one kind (optionally one rail or policy)."""
        return sum(
            b
            for (k, r, p), b in zip(self.accounts, self.balance, strict=True)
            if k == kind and (rail is None or r == rail) and (policy is None or p == policy)
        )

    def check(self) -> None:
        """Raise ``LedgerError`` unless the book balances to the fen."""
        if sum(self.balance) != 0:
            raise LedgerError(f"balances sum to {sum(self.balance)} fen, not 0")
        rebuilt = [0] * len(self.accounts)
        per_day: defaultdict[int, int] = defaultdict(int)
        for (day, acc, _kind), fen in self.daily.items():
            rebuilt[acc] += fen
            per_day[day] += fen
        if rebuilt != self.balance:
            bad = [
                self.accounts[i]
                for i, (a, b) in enumerate(zip(rebuilt, self.balance, strict=True))
                if a != b
            ]
            raise LedgerError(f"daily flows disagree with balances for {bad[:3]}")
        unbalanced = {d: s for d, s in per_day.items() if s}
        if unbalanced:
            raise LedgerError(f"days whose entries do not net to zero: {unbalanced}")
        pend = [
            b
            for (k, _, _), b in zip(self.accounts, self.balance, strict=True)
            if k == DRIVER_PENDING
        ]
        if any(b < 0 for b in pend):
            raise LedgerError("a pending-settlement account is negative")
        if sum(pend) != self.unsettled():
            raise LedgerError(
                f"pending accounts hold {sum(pend)} fen but {self.unsettled()} fen are due"
            )

    def daily_flows(self) -> Iterator[tuple[int, tuple[str, str, str], str, int]]:
        """(day, account, entry kind, net fen), each nonzero flow, sorted for output."""
        for (day, acc, kind), fen in sorted(
            self.daily.items(), key=lambda kv: (kv[0][0], self.accounts[kv[0][1]], kv[0][2])
        ):
            if fen:
                yield day, self.accounts[acc], kind, fen
