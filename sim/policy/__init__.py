"""Policy search: the cheapest subsidy schedule that meets stated targets (``optimize``)
and two platforms answering each other's schedules in turn (``game``), both on the search
loop of ``sim.search``."""

from sim.policy.game import run_game
from sim.policy.optimize import run_optimize
from sim.policy.spec import read_game, read_optimize

__all__ = ["read_game", "read_optimize", "run_game", "run_optimize"]
