"""Ledger, subsidy policies and the free-ride lottery: exact to the fen and the second."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy import stats

import sim
from sim.errors import LedgerError, PolicyError
from sim.money.ledger import DRIVER, RIDER, SUBSIDY, Ledger
from sim.money.rails import logit_choice
from sim.money.subsidies import PolicyBook, yuan_to_fen
from sim.scenario.money import SubsidyPolicy
from tests.conftest import small

START = datetime(2013, 12, 30)
RAILS = ["cash", "alipay", "wechat_pay"]


def book(**kw) -> PolicyBook:
    spec = {
        "id": "p",
        "rail": "alipay",
        "side": "rider",
        "amount_yuan": 5,
        "start": datetime(2013, 12, 1),
        "end": datetime(2014, 1, 1),
        **kw,
    }
    return PolicyBook([SubsidyPolicy(**spec)], START, RAILS, np.random.default_rng(0))


def paid(
    b: PolicyBook, rail: int, side: str, platform: str, user: int, t: float, day: int
) -> list[int]:
    """What the cashier grants one ride on one side: fen per policy that pays."""
    riders, drivers, _ = b.plan(rail, platform, t)
    return [
        fen
        for p in (riders if side == "rider" else drivers)
        if (fen := b.grant(p, user, t, day, 3000))
    ]


def test_window_is_half_open_at_midnight():
    b = book()
    end = 2 * 86400  # 2014-01-01 00:00 in run seconds from 2013-12-30
    assert paid(b, 1, "rider", "kuaidi", 7, end - 1, 1) == [500]
    assert paid(b, 1, "rider", "kuaidi", 8, end, 2) == []
    b2 = book(extended_to=datetime(2014, 1, 20))
    assert paid(b2, 1, "rider", "kuaidi", 8, end, 2) == [500]


def test_best_driver_offer_holds_until_the_next_window_edge():
    b = book(side="driver", amount_yuan=4, platform="kuaidi")
    end = 2 * 86400  # the window's end, 2014-01-01 00:00, in run seconds
    assert b.best_offer("kuaidi", end - 1, [0, 1, 2]) == (4.0, end)
    assert b.best_offer("kuaidi", end - 1, [0, 2]) == (0.0, end)  # not on his rails
    assert b.best_offer("didi", end - 1, [1]) == (0.0, end)  # not his app
    assert b.best_offer("kuaidi", end, [1]) == (0.0, float("inf"))


def test_other_rail_side_or_platform_gets_nothing():
    b = book(platform="kuaidi")
    assert paid(b, 2, "rider", "kuaidi", 1, 10, 0) == []
    assert paid(b, 1, "driver", "kuaidi", 1, 10, 0) == []
    assert paid(b, 1, "rider", "didi", 1, 10, 0) == []
    assert paid(b, 1, "rider", "kuaidi", 1, 10, 0)


def test_daily_cap_is_exact_and_resets_next_day():
    b = book(per_user_daily_cap=3)
    counts = [len(paid(b, 1, "rider", "x", 42, 100 + i, 0)) for i in range(5)]
    assert counts == [1, 1, 1, 0, 0]
    assert len(paid(b, 1, "rider", "x", 43, 200, 0)) == 1  # another rider
    assert len(paid(b, 1, "rider", "x", 42, 86400 + 5, 1)) == 1  # next day
    b.check()
    p = b.policies[0]
    assert p.uses == {42: 1} and p.most_uses == 3  # only today's counts are kept
    p.most_uses = 4  # as if a rider had been paid past the cap
    with pytest.raises(PolicyError, match="more than 3 times a day"):
        b.check()


def test_budgets_never_overspent():
    b = book(budget={"total_yuan": 12, "daily_yuan": 10})
    got = [sum(paid(b, 1, "rider", "x", i, 10 + i, 0)) for i in range(4)]
    assert got == [500, 500, 0, 0]  # daily 10 yuan
    got = [sum(paid(b, 1, "rider", "x", i, 86400 + i, 1)) for i in range(4)]
    assert got == [0, 0, 0, 0]  # only 2 yuan of the total remain: a 5-yuan payout is refused
    assert b.policies[0].spent_fen <= 1200
    b.check()


def test_random_amounts_within_range_in_fen():
    b = book(amount_yuan={"min": 12, "max": 20})
    amounts = [paid(b, 1, "rider", "x", i, 10, 0)[0] for i in range(500)]
    assert min(amounts) >= 1200 and max(amounts) <= 2000 and len(set(amounts)) > 100


def test_yuan_to_fen_exact():
    assert [yuan_to_fen(x) for x in (0.1, 0.29, 2.3, 5, 11.005, 0.0)] == [10, 29, 230, 500, 1101, 0]


def test_lottery_draws_exactly_n_and_all_when_fewer():
    b = book(daily_free_rides=3)
    p = b.lotteries[0]
    eligible = [(i, 1300, 10.0) for i in range(10)]
    won = b.draw_free_rides(p, 0, eligible, np.random.default_rng(1))
    assert len(won) == 3 and len({r for r, _ in won}) == 3
    assert len(b.draw_free_rides(p, 1, eligible[:2], np.random.default_rng(1))) == 2


def test_lottery_is_uniform_chi_square():
    b = book(daily_free_rides=5)
    p = b.lotteries[0]
    rng = np.random.default_rng(7)
    eligible = [(i, 100, 10.0) for i in range(20)]
    counts = np.zeros(20)
    for day in range(4000):
        for ride, _ in b.draw_free_rides(p, day, eligible, rng):
            counts[ride] += 1
    assert counts.sum() == 5 * 4000
    assert stats.chisquare(counts).pvalue > 0.001


def test_ledger_balances_and_detects_tampering():
    led = Ledger()
    r, d, s = (
        led.account(RIDER, "alipay"),
        led.account(DRIVER, "alipay"),
        led.account(SUBSIDY, "alipay", "p"),
    )
    led.post(1.0, 0, "fare", r, d, 1300)
    led.post(1.0, 0, "rider_subsidy", s, r, 500)
    led.check()
    assert led.balance[r] == -800
    with pytest.raises(LedgerError):
        led.post(2.0, 0, "fare", r, d, -5)
    led.balance[d] += 1  # a fen created from nothing
    with pytest.raises(LedgerError):
        led.check()


def test_settlement_waits_its_days():
    led = Ledger()
    r, pend, d = (led.account(k, "wechat_pay") for k in (RIDER, "driver_pending", DRIVER))
    led.post(0, 0, "fare", r, pend, 1000)
    led.defer(3, pend, d, 1000)
    assert led.settle(86400, 1) == 0 and led.settle(2 * 86400, 2) == 0
    assert led.unsettled() == 1000
    assert led.settle(3 * 86400, 3) == 1000 and led.unsettled() == 0
    led.check()


def test_logit_choice_matches_closed_form():
    from sim.analysis.theory import logit_shares

    v = [0.0, 0.7, -0.4]
    rng = np.random.default_rng(3)
    n = 60_000
    counts = np.bincount([logit_choice(v, u) for u in rng.random(n)], minlength=3)
    expected = logit_shares(np.array(v)) * n
    assert stats.chisquare(counts, expected).pvalue > 0.001


@settings(
    max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    amount=st.floats(0, 30),
    cap=st.one_of(st.none(), st.integers(0, 4)),
    budget=st.one_of(st.none(), st.floats(0, 3000)),
    free=st.integers(0, 50),
    delay=st.integers(0, 3),
    side=st.sampled_from(["rider", "driver"]),
    seed=st.integers(0, 1000),
)
def test_ledger_balances_under_random_policies(
    tmp_path_factory, amount, cap, budget, free, delay, side, seed
):
    policy = {
        "id": "p",
        "rail": "wechat_pay",
        "side": side,
        "amount_yuan": round(amount, 2),
        "per_user_daily_cap": cap,
        "daily_free_rides": free if side == "rider" else 0,
        "budget": {"daily_yuan": budget},
        "payout_delay_days": delay if side == "driver" else 0,
        "start": "2013-12-02T08:00:00",
        "end": "2013-12-03T09:00:00",
    }
    scn = small(
        seed=seed,
        duration="2d",
        start="2013-12-02T00:00:00",
        payment={"riders_bound": {"wechat_pay": 0.7}, "drivers_accepting": {"wechat_pay": 0.8}},
        demand={"daily_requests": 3000},
        policies=[policy],
    )
    res = sim.run(scn, tmp_path_factory.mktemp("m") / "r")  # the run checks its own ledger
    ledger = res.table("ledger_daily")
    for day in set(ledger["day"].tolist()):
        assert ledger["amount_fen"][ledger["day"] == day].sum() == 0
    rides = res.table("rides")
    done = rides["status"] == "completed"
    fares = ledger["amount_fen"][(ledger["entry"] == "fare") & (ledger["account"] == "rider")]
    fees = ledger["amount_fen"][(ledger["entry"] == "fee") & (ledger["account"] == "rider")]
    assert -(fares.sum() + fees.sum()) == rides["fare_fen"][done].sum()
    money = res.summary["money"]["subsidy_by_policy"]["p"]
    subsidies = rides["rider_subsidy_fen" if side == "rider" else "driver_subsidy_fen"]
    free = rides["free_ride"] == 1
    free_fen = (rides["fare_fen"][free] - rides["rider_subsidy_fen"][free]).sum()
    assert round(money["spent_yuan"] * 100) == subsidies[done].sum() + free_fen
    if budget is not None:
        assert money["spent_yuan"] <= 2 * budget + 1e-9


def test_full_ledger_matches_the_daily_table(tmp_path):
    scn = small(
        duration="1d",
        start="2013-12-02T00:00:00",
        outputs={"ledger": "full"},
        payment={
            "riders_bound": {"alipay": 0.6, "wechat_pay": 0.5},
            "drivers_accepting": {"alipay": 0.7, "wechat_pay": 0.6},
        },
        policies=[
            {
                "id": "p",
                "rail": "wechat_pay",
                "side": "driver",
                "amount_yuan": 10,
                "start": "2013-12-01",
                "end": "2014-01-01",
                "payout_delay_days": 1,
            }
        ],
    )
    res = sim.run(scn, tmp_path / "r")
    full = res.table("ledger")
    daily = res.table("ledger_daily")
    assert len(full["amount_fen"]) > 100 and (full["amount_fen"] > 0).all()
    for entry in ("fare", "fee", "driver_subsidy"):
        got = full["amount_fen"][full["entry"] == entry].sum()
        moved = daily["amount_fen"][(daily["entry"] == entry) & (daily["amount_fen"] > 0)].sum()
        assert got == moved, entry


def test_a_free_ride_costs_the_winner_nothing_and_earns_her_nothing(tmp_path):
    """The lottery waives what she paid for the fare after her subsidy on that ride."""
    scn = small(
        duration="1d",
        start="2013-12-02T00:00:00",
        outputs={"ledger": "full"},
        payment={"riders_bound": {"alipay": 0.8}, "drivers_accepting": {"alipay": 0.9}},
        policies=[
            {
                "id": "p",
                "rail": "alipay",
                "side": "rider",
                "amount_yuan": 5,
                "daily_free_rides": 40,
                "start": "2013-12-01",
                "end": "2014-01-01",
            }
        ],
    )
    res = sim.run(scn, tmp_path / "r")
    rides = res.table("rides")
    winners = rides["ride_id"][rides["free_ride"] == 1].astype(int)
    assert len(winners) == 40
    full = res.table("ledger")
    for ride in winners.tolist():
        mine = full["ride_id"] == ride
        net = (
            full["amount_fen"][mine & (full["to_account"] == RIDER)].sum()
            - full["amount_fen"][mine & (full["from_account"] == RIDER)].sum()
        )
        tip = rides["tip_fen"][rides["ride_id"] == ride][0]
        assert net == -tip, ride
    policy = res.summary["money"]["subsidy_by_policy"]["p"]
    paid = rides["status"] == "completed"
    assert policy["free_rides"] == 40
    assert policy["rides_paid"] == int((rides["rider_subsidy_fen"][paid] > 0).sum())
    daily = res.table("daily")
    alipay = daily["rail"] == "alipay"
    refunds = (rides["fare_fen"] - rides["rider_subsidy_fen"])[rides["free_ride"] == 1].sum()
    assert round(daily["free_ride_yuan"][alipay].sum() * 100) == refunds


def test_two_lotteries_never_make_one_ride_free_twice(tmp_path):
    """Every alipay ride wins: the first lottery draws 40 of them, the second all the rest;
    each winner's ride then costs her exactly nothing, once."""
    scn = small(
        duration="1d",
        start="2013-12-02T00:00:00",
        outputs={"ledger": "full"},
        payment={"riders_bound": {"alipay": 0.8}, "drivers_accepting": {"alipay": 0.9}},
        policies=[
            {
                "id": "p",
                "rail": "alipay",
                "side": "rider",
                "amount_yuan": 5,
                "daily_free_rides": 40,
                "start": "2013-12-01",
                "end": "2014-01-01",
            },
            {
                "id": "q",
                "rail": "alipay",
                "side": "rider",
                "amount_yuan": 0,
                "daily_free_rides": 100_000,
                "start": "2013-12-01",
                "end": "2014-01-01",
            },
        ],
    )
    res = sim.run(scn, tmp_path / "r")
    rides = res.table("rides")
    alipay = (rides["status"] == "completed") & (rides["rail"] == "alipay")
    assert (rides["free_ride"][alipay] == 1).all() and alipay.sum() > 40
    full = res.table("ledger")
    free = full["entry"] == "free_ride"
    assert len(set(full["ride_id"][free].tolist())) == free.sum() == alipay.sum()
    money = res.summary["money"]["subsidy_by_policy"]
    assert money["p"]["free_rides"] == 40
    assert money["q"]["free_rides"] == alipay.sum() - 40
    assert money["q"]["rides_paid"] == 0  # it pays no per-ride amount, only free rides
