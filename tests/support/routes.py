"""Concrete requests for every route, so tests can walk the whole route table."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from consult.web.routing import GuardedRoute

SAMPLE_PARAMS = {
    "slug": "participation-citoyenne",
    "key": "art-1",
    "contribution_id": "1",
    "run_id": "1",
    "scope": "contribution",
    "target_id": "1",
    "number": "2",
    "user_id": "1",
    "token": "0",
    "cluster_id": "1",
    "link_id": "1",
    "secret": "0",
    "page_key": "privacy",
    "organisation": "participation-citoyenne",
}


def sample_requests(app: Any, slug: str | None = None) -> Iterator[tuple[GuardedRoute, str, str]]:
    """(route, method, path) for each method of each guarded route."""
    params = {**SAMPLE_PARAMS, **({"slug": slug} if slug else {})}
    for route in app.routes:
        if not isinstance(route, GuardedRoute):
            continue
        path = re.sub(r"{(\w+)(:\w+)?}", lambda m: params[m.group(1)], route.path)
        for method in sorted(route.methods or ()):
            if method != "HEAD":
                yield route, method, path
