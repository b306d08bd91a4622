"""Scenario models of the city: a grid, a ring-and-radial city or a GraphML road network,
and its named places."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, SerializeAsAny, model_validator

from sim.registry import CITY_KINDS
from sim.scenario.base import MAX_ROAD_M, Frozen, Road, Speed, by_kind


class Place(Frozen):
    """A named place: an existing node (``node``) or a new node on a spur road."""

    node: int | str | None = None
    spur_km: float | None = Field(default=None, gt=0, le=MAX_ROAD_M / 1000)
    spur_speed_kph: Speed = 60.0
    bearing_deg: float = Field(default=45.0, ge=0, lt=360)

    @model_validator(mode="after")
    def _one_way(self) -> Place:
        if (self.node is None) == (self.spur_km is None):
            raise ValueError("give exactly one of node or spur_km")
        return self


class CityBase(Frozen):
    """What every kind of city has: a kind (its name in ``sim.registry.CITY_KINDS``),
    named places and the sizes of its travel-time matrices and spatial cells."""

    kind: str
    places: dict[str, Place] = Field(default_factory=dict)
    max_matrix_nodes: int = Field(default=12_000, ge=1, le=40_000)
    cell_m: Road = 1000.0  # side of the spatial index's cells


class GridCity(CityBase):
    kind: Literal["grid"] = "grid"
    rows: int = Field(default=20, ge=1, le=400)
    cols: int = Field(default=20, ge=1, le=400)
    block_m: Road = 400.0
    speed_kph: Speed = 25.0


class RingRadialCity(CityBase):
    """Rings and spokes around a centre, ring roads faster: a Beijing-like city."""

    kind: Literal["ring_radial"] = "ring_radial"
    rings: int = Field(default=6, ge=1, le=200)
    spokes: int = Field(default=16, ge=3, le=720)
    ring_spacing_m: Road = 2000.0
    ring_speed_kph: Speed = 45.0
    spoke_speed_kph: Speed = 25.0


class GraphmlCity(CityBase):
    """A road network saved by osmnx (directed, edge ``length`` in metres)."""

    kind: Literal["graphml"] = "graphml"
    path: str
    default_speed_kph: Speed = 30.0
    largest_component: bool = False


# A city of any registered kind; dumped with its own kind's fields.
CitySpec = Annotated[SerializeAsAny[CityBase], by_kind(CITY_KINDS, CityBase, "grid")]
