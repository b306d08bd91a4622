"""Lifecycle enums with their legal transitions, written once.

Fleet state itself lives in arrays (see ``sim.market.fleet``); this module only says which
states exist and which moves between them are legal.
"""

from __future__ import annotations

from enum import IntEnum

from sim.errors import IllegalTransition


class DriverState(IntEnum):
    OFF = 0
    IDLE = 1
    EN_ROUTE = 2
    ON_TRIP = 3
    PAYING = 4


LEGAL_DRIVER_MOVES: frozenset[tuple[DriverState, DriverState]] = frozenset(
    {
        (DriverState.OFF, DriverState.IDLE),  # shift starts
        (DriverState.IDLE, DriverState.OFF),  # shift ends while idle
        (DriverState.IDLE, DriverState.EN_ROUTE),  # matched
        (DriverState.EN_ROUTE, DriverState.IDLE),  # rider cancelled during pickup
        (DriverState.EN_ROUTE, DriverState.ON_TRIP),  # rider boarded
        (DriverState.ON_TRIP, DriverState.PAYING),  # arrived
        (DriverState.PAYING, DriverState.IDLE),  # paid, free again
        (DriverState.PAYING, DriverState.OFF),  # paid after the shift ended
    }
)


def check_move(old: int, new: int, driver: int) -> None:
    """Raise ``IllegalTransition`` unless ``old -> new`` is a legal driver move."""
    if (old, new) not in LEGAL_DRIVER_MOVES:
        raise IllegalTransition(
            f"driver {driver}: {DriverState(old).name} -> {DriverState(new).name} is not legal"
        )


class RideStatus(IntEnum):
    WAITING = 0
    MATCHED = 1
    COMPLETED = 2
    ABANDONED = 3
    OPEN = 4  # still waiting or riding when the run ended


# How a ride was hailed: on the street, through an app, or by calling a favourite driver.
STREET, APP, PREBOOK = 0, 1, 2
CHANNEL_NAMES = ("street", "app", "prebook")
