"""The cluster map of a report: an SVG scatter of a 2-d projection, drawn on the server."""

from __future__ import annotations

from dataclasses import dataclass

from consult.synthesis.report import ScopeReport

WIDTH = 640
HEIGHT = 400
MARGIN = 12
# Ten colours distinguishable with the common colour-vision deficiencies (Tableau 10 order);
# clusters beyond ten reuse them, and the legend and the list give the exact membership.
PALETTE = (
    "#4e79a7",
    "#f28e2b",
    "#e15759",
    "#76b7b2",
    "#59a14f",
    "#edc948",
    "#b07aa1",
    "#ff9da7",
    "#9c755f",
    "#bab0ac",
)
OTHER_COLOUR = "#8a8a8a"
# Two numbered markers (radius 10) closer than this overlap and hide each other's number.
LABEL_SPACING = 22.0
_SPREAD_ROUNDS = 30


@dataclass(frozen=True)
class Dot:
    """One contribution on the map."""

    cx: float
    cy: float
    colour: str
    other: bool


@dataclass(frozen=True)
class Label:
    """A cluster's number at its centre."""

    x: float
    y: float
    number: int
    colour: str


@dataclass(frozen=True)
class ClusterMap:
    """What the SVG template draws."""

    width: int
    height: int
    dots: list[Dot]
    labels: list[Label]
    shown: int
    total: int


def colour_of(position: int) -> str:
    """The colour of a cluster (grey for "other")."""
    return OTHER_COLOUR if position < 0 else PALETTE[position % len(PALETTE)]


def _place(value: float, size: int) -> float:
    return round(MARGIN + value * (size - 2 * MARGIN), 1)


def cluster_map(report: ScopeReport) -> ClusterMap:
    """Scale the report's sampled points and cluster centres to the drawing."""
    dots = [
        Dot(_place(p.x, WIDTH), _place(1 - p.y, HEIGHT), colour_of(p.position), p.position < 0)
        for p in report.points
    ]
    # "Other" first so the clusters are drawn on top of it.
    dots.sort(key=lambda dot: not dot.other)
    centres = spread([(_place(c.x, WIDTH), _place(1 - c.y, HEIGHT)) for c in report.clusters])
    labels = [
        Label(x, y, c.position + 1, colour_of(c.position))
        for (x, y), c in zip(centres, report.clusters, strict=True)
    ]
    return ClusterMap(WIDTH, HEIGHT, dots, labels, len(dots), report.total)


def spread(points: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Move markers apart until none overlaps another (groups whose centres are close keep
    readable numbers): each overlapping pair is pushed apart along the line between them,
    within the drawing, a few rounds at most. Deterministic, so a report reads the same."""
    placed = [list(point) for point in points]
    for _ in range(_SPREAD_ROUNDS):
        moved = False
        for i, first in enumerate(placed):
            for j in range(i + 1, len(placed)):
                second = placed[j]
                dx, dy = second[0] - first[0], second[1] - first[1]
                distance = (dx * dx + dy * dy) ** 0.5
                if distance >= LABEL_SPACING:
                    continue
                if distance == 0:  # the same centre: part them sideways, by their order
                    dx, dy, distance = 1.0, 0.0, 1.0
                push = (LABEL_SPACING - distance) / 2 + 0.5
                first[0] -= dx / distance * push
                first[1] -= dy / distance * push
                second[0] += dx / distance * push
                second[1] += dy / distance * push
                moved = True
        for point in placed:
            point[0] = min(max(point[0], MARGIN), WIDTH - MARGIN)
            point[1] = min(max(point[1], MARGIN), HEIGHT - MARGIN)
        if not moved:
            break
    return [(round(x, 1), round(y, 1)) for x, y in placed]
