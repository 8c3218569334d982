"""The cluster map: numbered markers that never hide each other; its legend leads to each
group (the drawing is an image: links inside it would be controls nested in an image)."""

from __future__ import annotations

import itertools
import re

from consult.accounts.models import Role
from consult.pages.synthesis_map import HEIGHT, LABEL_SPACING, MARGIN, WIDTH, spread
from tests.support.site import Site


def test_markers_of_close_groups_are_moved_apart_within_the_drawing() -> None:
    crowded = [(100.0, 100.0), (100.0, 100.0), (105.0, 102.0), (MARGIN, MARGIN), (300.0, 200.0)]
    placed = spread(crowded)
    for (ax, ay), (bx, by) in itertools.combinations(placed, 2):
        assert ((ax - bx) ** 2 + (ay - by) ** 2) ** 0.5 >= LABEL_SPACING - 0.2
    assert all(MARGIN <= x <= WIDTH - MARGIN and MARGIN <= y <= HEIGHT - MARGIN for x, y in placed)
    assert placed[4] == (300.0, 200.0)  # a marker far from the others stays where it is
    assert spread(crowded) == placed


def test_each_legend_entry_leads_to_its_group(demo: Site) -> None:
    demo.login(demo.user(Role.OFFICIAL))
    base = "/consultations/participation-citoyenne/synthesis"
    assert demo.client.post(f"{base}/runs").status_code == 303
    demo.drain_jobs()
    assert demo.client.post(f"{base}/runs/1/publish").status_code == 303
    report = demo.client.get(base).text
    groups = set(re.findall(r'<li class="cluster[^"]*" id="group-(\d+)"', report))
    assert groups
    targets = re.findall(r'<a href="#group-(\d+)">', report)
    # One legend entry per group of the map, each leading to a group of the page.
    assert set(targets) <= groups and len(targets) == len(set(targets)) > 0
