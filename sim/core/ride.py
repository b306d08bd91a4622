"""One request in flight, from the moment it is made until its row is written.

Plain slots, no methods: a ride is touched on every step of its path (engine, matcher,
cashier, ride log), and attribute access on a slotted object is the cheapest there is.
Fields set only once a driver is matched (``driver`` onward) are declared here for the
type checker and filled in by ``World.assign``.
"""

from __future__ import annotations

from typing import Protocol

from sim.core.state import RideStatus


class BusyTime(Protocol):
    """What a ride adds to its channel's figures when its driver is free again, and the
    channel's place among the run's channels."""

    busy_s: float
    ix: int


class Ride:
    """A request in flight; dropped as soon as its row is written."""

    __slots__ = (
        "channel",
        "deadhead_m",
        "dest",
        "dist_m",
        "driver",
        "failed",
        "fare",
        "finding",
        "id",
        "origin",
        "patience",
        "platform",
        "prebook",
        "radius",
        "rail",
        "ride_s",
        "rider",
        "round",
        "stats",
        "status",
        "t_dropoff",
        "t_match",
        "t_pickup",
        "t_request",
        "tip_fen",
    )

    id: int
    rider: int
    channel: int  # STREET, APP or PREBOOK (sim.core.state)
    platform: int  # index of the app platform, -1 for none
    prebook: bool  # she calls her favourite driver first
    origin: int
    dest: int
    t_request: float
    patience: float
    dist_m: float | None  # None until measured (no matrix when the request was drawn)
    ride_s: float | None
    fare: int | None  # fen
    status: RideStatus
    driver: int  # -1 until matched
    tip_fen: int
    finding: bool  # a street find is scheduled for her
    # Set when matched (World.assign):
    t_match: float
    t_pickup: float
    t_dropoff: float
    deadhead_m: float
    rail: int
    failed: bool
    stats: BusyTime  # its channel's figures (sim.records.ridelog.ChannelStats)
    # Set by a broadcast matcher:
    radius: float
    round: int

    def __init__(
        self,
        rid: int,
        t: float,
        rider: int,
        channel: int,
        platform: int,
        prebook: bool,
        origin: int,
        dest: int,
        patience: float,
        dist_m: float | None,
        ride_s: float | None,
        fare: int | None,
    ) -> None:
        self.id = rid
        self.rider = rider
        self.channel = channel
        self.platform = platform
        self.prebook = prebook
        self.origin = origin
        self.dest = dest
        self.t_request = t
        self.patience = patience
        self.dist_m = dist_m
        self.ride_s = ride_s
        self.fare = fare
        self.status = RideStatus.WAITING
        self.driver = -1
        self.tip_fen = 0
        self.finding = False
