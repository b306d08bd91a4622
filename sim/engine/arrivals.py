"""What comes to the engine from outside: the stream of requests, and where idle taxis
cruise to; both drawn a block at a time from the demand's distributions."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from itertools import count

import numpy as np

from sim.city.travel import City
from sim.core.ride import Ride
from sim.market.demand import OriginDestination, channels, requests
from sim.market.population import Population
from sim.money.rails import fares_fen
from sim.scenario.market import Demand
from sim.scenario.spec import Scenario


def request_stream(
    scn: Scenario, city: City, pop: Population, rng: np.random.Generator
) -> Iterator[tuple[float, Ride]]:
    """(time, ride) of every request in time order, drawn an hour's chunk at a time;
    rides are numbered in that order. Where the city has no matrices, trip metres and
    fares stay None until the ride is matched (``World.measure``)."""
    od = OriginDestination(scn.demand, city.xy, city.places)
    ids = count()
    sample = scn.population.sample
    for chunk in requests(scn.demand, od, scn.start, scn.duration_s, rng, sample):
        riders = pop.draw_riders(rng, len(chunk.t))
        channel, platform, prebook = channels(pop, scn.dispatch, riders, rng)
        trips = city.trips(chunk.origin, chunk.destination)
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
            fare = fares_fen(dist, secs, scn.tariff)
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
