"""Synthesis runs of the demo consultation, started and read through the site."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from consult.demo.seed import DEMO_SLUG
from tests.support.site import Site


def start_and_finish(site: Site, *, publish: bool = True, slug: str = DEMO_SLUG) -> int:
    """As an official: start a run of a consultation's synthesis (the demo's by default), let
    the in-process queue execute it, and publish it unless told not to; returns its id."""
    response = site.client.post(f"/consultations/{slug}/synthesis/runs")
    assert response.status_code == 303, response.text
    run_id = int(response.headers["location"].rsplit("/", 1)[-1])
    site.drain_jobs()
    if publish:
        published = site.client.post(f"/consultations/{slug}/synthesis/runs/{run_id}/publish")
        assert published.status_code == 303, published.text
    return run_id


def run_rows(site: Site, model: Any, run_id: int) -> list[Any]:
    """The rows of `model` (clusters, memberships, campaigns...) that belong to the run."""
    return [row for (row,) in site.rows(select(model).where(model.run_id == run_id))]
