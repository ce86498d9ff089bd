"""Where the objects of a scene stand: vehicles in lanes, people on sidewalks, furniture, trees."""

from __future__ import annotations

__all__ = ["Item", "populate"]

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import numpy as np

from simulator.data.synthetic.categorical import Categorical
from simulator.data.synthetic.furniture import FURNITURE, draw_furniture
from simulator.data.synthetic.layout import StreetLayout
from simulator.data.synthetic.painter import Painter
from simulator.data.synthetic.people import draw_cycle, draw_person
from simulator.data.synthetic.vegetation import draw_bush, draw_tree
from simulator.data.synthetic.vehicles import VEHICLES, draw_vehicle

Draw = Callable[[Painter, np.random.Generator], None]
_TRAFFIC = Categorical(("car", "truck", "bus", "train"), (0.78, 0.1, 0.09, 0.03))
_FURNITURE = Categorical(FURNITURE, (0.2, 0.35, 0.2, 0.25))


@dataclass(frozen=True)
class Item:
    """An object to draw: its nearest depth ``z`` (metres; far items are drawn first) and how."""

    z: float
    draw: Draw


def _vehicle(kind: str, x: float, z: float) -> Item:
    return Item(z, lambda p, rng: draw_vehicle(p, rng, kind, x, z))


def _traffic(rng: np.random.Generator, layout: StreetLayout) -> list[Item]:
    """Moving vehicles in the lanes and parked cars along the curbs, without overlaps in a lane."""
    items: list[Item] = []
    lane_w = (layout.road_right - layout.road_left) / layout.lanes
    for lane in range(layout.lanes):
        x_lane = layout.road_left + (lane + 0.5) * lane_w
        own = abs(x_lane) < lane_w / 2
        z = float(rng.uniform(7.0, 16.0) if own else rng.uniform(4.0, 12.0))
        while z < 95.0:
            if rng.random() < 0.5:
                kind = _TRAFFIC.draw(rng)
                x = x_lane + float(rng.normal(0.0, 0.2))
                items.append(_vehicle(kind, x, z))
                z += VEHICLES[kind].length
            z += float(rng.uniform(4.0, 25.0))
    for side, edge in ((0, layout.road_left), (1, layout.road_right)):
        if rng.random() < 0.55:
            x = edge + (1.1 if side == 0 else -1.1)
            z = float(rng.uniform(4.0, 12.0))
            while z < 70.0:
                if rng.random() < 0.7:
                    items.append(_vehicle("car", x, z))
                z += VEHICLES["car"].length + float(rng.uniform(0.8, 6.0))
    return items


def _people(rng: np.random.Generator, layout: StreetLayout) -> list[Item]:
    """Pedestrians on the sidewalks and crossing, cyclists and motorcyclists, parked two-wheelers."""
    items: list[Item] = []
    for side in (0, 1):
        edge, curb = layout.sidewalk_edge(side), (layout.road_left, layout.road_right)[side]
        for _ in range(int(rng.poisson(2.5))):
            x, z = (
                float(rng.uniform(min(edge, curb), max(edge, curb))),
                float(rng.uniform(4.0, 60.0)),
            )
            items.append(Item(z, partial(_draw_person, x=x, z=z)))
        for _ in range(int(rng.poisson(0.5))):  # parked two-wheeler along the curb
            x, z = curb + (-0.6 if side == 0 else 0.6), float(rng.uniform(5.0, 40.0))
            items.append(
                Item(
                    z,
                    partial(
                        _draw_cycle, plane="side", at=x, u=z, motor=rng.random() < 0.35, rider=False
                    ),
                )
            )
    for _ in range(int(rng.poisson(0.5))):  # crossing the road
        x, z = (
            float(rng.uniform(layout.road_left, layout.road_right)),
            float(rng.uniform(6.0, 40.0)),
        )
        if rng.random() < 0.7:
            items.append(Item(z, partial(_draw_person, x=x, z=z)))
        else:
            items.append(
                Item(z, partial(_draw_cycle, plane="frontal", at=z, u=x, motor=False, rider=True))
            )
    for _ in range(int(rng.poisson(0.9))):  # riding along the road
        side = int(rng.integers(2))
        x = (layout.road_left + 0.8, layout.road_right - 0.8)[side]
        z = float(rng.uniform(5.0, 45.0))
        motor = rng.random() < 0.4
        items.append(
            Item(z, partial(_draw_cycle, plane="side", at=x, u=z, motor=motor, rider=True))
        )
    return items


def _draw_person(p: Painter, rng: np.random.Generator, x: float, z: float) -> None:
    draw_person(p, rng, x, z)


def _draw_cycle(
    p: Painter, rng: np.random.Generator, plane: str, at: float, u: float, motor: bool, rider: bool
) -> None:
    draw_cycle(p, rng, plane, at, u, motor, rider)


def _roadside(rng: np.random.Generator, layout: StreetLayout) -> list[Item]:
    """Poles, lights and signs near the curbs; trees and bushes on verges and sidewalks."""
    items: list[Item] = []
    for side in (0, 1):
        curb = (layout.road_left, layout.road_right)[side]
        toward = 1.0 if side == 0 else -1.0
        x = curb - toward * 0.5
        z = float(rng.uniform(3.0, 12.0))
        while z < 110.0:
            kind = _FURNITURE.draw(rng)
            items.append(Item(z, partial(draw_furniture, kind=kind, x=x, z=z, toward=toward)))
            z += float(rng.uniform(8.0, 28.0))
        verge = layout.verge[side]
        outer = layout.sidewalk_edge(side)
        tree_x = outer - toward * verge / 2 if verge > 0 else outer + toward * 0.8
        if verge > 0 or rng.random() < 0.5:
            z = float(rng.uniform(4.0, 15.0))
            while z < 120.0:
                jitter = float(rng.normal(0.0, 0.2))
                items.append(Item(z, partial(_draw_tree, x=tree_x + jitter, z=z)))
                z += float(rng.uniform(7.0, 18.0))
        if verge > 0:
            for _ in range(int(rng.poisson(2.0))):
                bz = float(rng.uniform(4.0, 60.0))
                bx = outer - toward * float(rng.uniform(0.3, verge))
                items.append(Item(bz, partial(_draw_bush, x=bx, z=bz)))
    return items


def _draw_tree(p: Painter, rng: np.random.Generator, x: float, z: float) -> None:
    draw_tree(p, rng, x, z)


def _draw_bush(p: Painter, rng: np.random.Generator, x: float, z: float) -> None:
    draw_bush(p, rng, x, z)


def populate(rng: np.random.Generator, layout: StreetLayout) -> list[Item]:
    """All objects of a scene, sorted far to near (the painter's algorithm draws them in this order)."""
    items = _traffic(rng, layout) + _people(rng, layout) + _roadside(rng, layout)
    items = [item for item in items if item.z < min(layout.street_end, 400.0) - 1.0]
    return sorted(items, key=lambda item: -item.z)
