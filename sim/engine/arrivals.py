"""What comes to the engine from outside: the stream of requests, and where idle taxis
cruise to; both drawn a block at a time from the demand's distributions."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from itertools import count

import numpy as np

from sim.city.travel import City
from sim.core.ride import Ride
from sim.market.demand import OriginDestination, requests
from sim.market.hailing import Hailing
from sim.market.population import Population
from sim.money.tariff import fares_fen
from sim.records.daybook import DayBook
from sim.scenario.market import Demand
from sim.scenario.spec import Scenario


def request_stream(
    scn: Scenario,
    city: City,
    pop: Population,
    hailing: Hailing,
    days: DayBook,
    rng: np.random.Generator,
) -> Iterator[tuple[float, Ride]]:
    """(time, ride) of every request in time order, drawn an hour's chunk at a time;
    rides are numbered in that order. Potential trips are drawn and the rider model says
    which become requests, through which channel. Where the city has no matrices, trip
    metres and fares stay None until the ride is matched (``World.measure``)."""
    od = OriginDestination(scn.demand, city.xy, city.places)
    ids = count()
    scale = scn.population.sample * hailing.model.potential_per_request
    for chunk in requests(scn.demand, od, scn.start, scn.duration_s, rng, scale):
        riders = pop.draw_riders(rng, len(chunk.t))
        trips = city.trips(chunk.origin, chunk.destination)
        dist, secs = trips if trips is not None else (None, None)
        if chunk.ride_time is not None and secs is not None:
            secs = chunk.ride_time
        taken, platform = hailing.choose(
            chunk.t, riders, chunk.origin, chunk.destination, dist, secs, rng
        )
        # Drawn for every potential trip, so runs that differ in choices alone keep the
        # same stream (common random numbers across policies).
        prebook = (np.asarray(pop.favourite)[riders] >= 0) & (
            rng.random(len(riders)) < scn.dispatch.prebook.probability
        )
        days.potential(chunk.t)
        if not taken.all():
            chunk = chunk.subset(taken)
            riders, platform, prebook = riders[taken], platform[taken], prebook[taken]
            trips = None if trips is None else (trips[0][taken], trips[1][taken])
        days.requested(chunk.t, platform)
        if not len(riders):
            continue
        channel = (platform >= 0).astype(np.int64)
        n = len(chunk.t)
        dist_m: list[float] | list[None]
        ride_s: list[float] | list[None]
        fare: list[int] | list[None]
        if trips is None:
            dist_m, fare = [None] * n, [None] * n
            ride_s = chunk.ride_time.tolist() if chunk.ride_time is not None else [None] * n
        else:
            dist, secs = trips
            if chunk.ride_time is not None:  # the scenario's own trip times
                secs = chunk.ride_time
            dist_m, ride_s = dist.tolist(), secs.tolist()
            fare = fares_fen(dist, secs, scn.tariff, chunk.t, scn.start, channel, prebook)
        t = chunk.t.tolist()
        rides = map(
            Ride,
            ids,
            t,
            riders.tolist(),
            channel.tolist(),
            platform.tolist(),
            prebook.tolist(),
            chunk.origin.tolist(),
            chunk.destination.tolist(),
            chunk.patience.tolist(),
            dist_m,
            ride_s,
            fare,
        )
        # Every list has the chunk's length; strict would draw one id past the end.
        yield from zip(t, rides, strict=False)


def cruise_targets(demand: Demand, city: City, rng: np.random.Generator) -> Callable[[], int]:
    """Draws of cruising targets from the demand's origin distribution, a block at a time."""
    od = OriginDestination(demand, city.xy, city.places)
    buf: list[int] = []

    def next_target() -> int:
        if not buf:
            buf.extend(od.origins(rng, 4096).tolist()[::-1])
        return buf.pop()

    return next_target
