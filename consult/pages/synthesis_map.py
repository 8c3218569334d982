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
    labels = [
        Label(_place(c.x, WIDTH), _place(1 - c.y, HEIGHT), c.position + 1, colour_of(c.position))
        for c in report.clusters
    ]
    return ClusterMap(WIDTH, HEIGHT, dots, labels, len(dots), report.total)
