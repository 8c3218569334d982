"""Security baseline: CSRF by Fetch metadata, headers, permissions on every route."""

from __future__ import annotations

import re

import httpx2
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import func, select
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount, Route

from consult.accounts.models import Role
from consult.audit.models import AuditEvent
from consult.db import Base
from consult.demo.seed import DEMO_PASSWORD, DEMO_SLUG
from consult.web.forms import safe_next
from consult.web.routing import GuardedRoute, PublicStatic
from tests.support.fuzzing import VOLATILE_TABLES, jobs_held, watching_writes
from tests.support.routes import sample_requests
from tests.support.seeding import make_consultation
from tests.support.site import PASSWORD, Site
from tests.support.synthesis import prepare_synthesis


def test_every_route_declares_a_permission(site: Site) -> None:
    undeclared = []
    for route in site.app.routes:
        if isinstance(route, GuardedRoute | PublicStatic):
            continue
        undeclared.append(getattr(route, "path", repr(route)))
    assert undeclared == [], f"routes without a declared permission: {undeclared}"
    # and the sample table used below covers every route
    covered = {(r.path, m) for r, m, _ in sample_requests(site.app)}
    for route in site.app.routes:
        if isinstance(route, Route):
            for method in route.methods or ():
                if method != "HEAD":
                    assert (route.path, method) in covered, (route.path, method)
        else:
            assert isinstance(route, Mount)


@pytest.mark.parametrize(
    ("headers", "allowed"),
    [
        ({"Sec-Fetch-Site": "same-origin"}, True),
        ({"Sec-Fetch-Site": "none"}, True),
        ({"Sec-Fetch-Site": "same-site"}, False),
        ({"Sec-Fetch-Site": "cross-site"}, False),
        ({"Sec-Fetch-Site": "cross-site", "Origin": "http://testserver"}, False),
        ({"Origin": "http://testserver"}, True),
        ({"Origin": "https://evil.example"}, False),
        ({"Origin": "null"}, False),
        ({"Origin": "http://testserver.evil.example"}, False),
        ({}, True),  # not a browser: no ambient cookies to abuse
    ],
)
def test_cross_origin_protection_matrix(site: Site, headers: dict[str, str], allowed: bool) -> None:
    user = site.user()
    response = site.client.post(
        "/account/login", data={"email": user.email, "password": PASSWORD}, headers=headers
    )
    if allowed:
        assert response.status_code == 303
    else:
        assert response.status_code == 403
        assert "another site" in response.text or "autre site" in response.text
        assert "set-cookie" not in response.headers


def test_cross_site_post_is_refused_on_every_unsafe_route(site: Site) -> None:
    official = site.user(Role.OFFICIAL)
    site.login(official)
    for _route, method, path in sample_requests(site.app):
        if method == "GET":
            continue
        response = site.client.request(
            method, path, headers={"Sec-Fetch-Site": "cross-site"}, data={}
        )
        assert response.status_code == 403, (method, path)


EXPECTED_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}


def check_security_headers(response: httpx2.Response) -> None:
    for name, value in EXPECTED_HEADERS.items():
        assert response.headers.get(name) == value, (response.request.url, name)
    csp = response.headers["Content-Security-Policy"]
    assert "'unsafe-eval'" not in csp and "'unsafe-inline'" not in csp
    assert "object-src 'none'" in csp and "frame-ancestors 'none'" in csp
    nonce = re.search(r"'nonce-([^']+)'", csp)
    assert nonce
    if (
        response.headers.get("content-type", "").startswith("text/html")
        and "<script" in response.text
    ):
        for tag in re.findall(r"<script[^>]*>", response.text):
            assert f'nonce="{nonce.group(1)}"' in tag, tag


def test_security_headers_on_every_route(site: Site) -> None:
    official = site.user(Role.OFFICIAL)
    site.login(official)
    for _route, method, path in sample_requests(site.app):
        response = site.client.request(method, path, data={} if method == "POST" else None)
        check_security_headers(response)
    for path in ("/does-not-exist", "/static/consult.css"):
        check_security_headers(site.client.get(path))


def test_nonce_changes_on_every_response(site: Site) -> None:
    first = site.client.get("/").headers["Content-Security-Policy"]
    second = site.client.get("/").headers["Content-Security-Policy"]
    assert first != second


def test_a_crash_shows_a_calm_page_with_the_same_headers(
    site: Site, caplog: pytest.LogCaptureFixture
) -> None:
    async def explode(request: Request) -> Response:
        raise RuntimeError("boom")

    from consult.web.permissions import PUBLIC
    from consult.web.routing import route

    site.app.router.routes.insert(0, route("/explode", explode, PUBLIC))
    response = site.client.get("/explode")
    assert response.status_code == 500
    assert "boom" not in response.text and "Traceback" not in response.text
    check_security_headers(response)
    assert any("unhandled error" in r.getMessage() for r in caplog.records)
    caplog.clear()  # the crash was expected here


@pytest.mark.parametrize(
    ("role", "allowed"),
    [
        (None, False),
        (Role.CITIZEN, False),
        (Role.MODERATOR, False),
        (Role.OFFICIAL, True),
        (Role.ADMIN, True),
    ],
)
def test_official_routes_by_role(site: Site, role: Role | None, allowed: bool) -> None:
    make_consultation(site, "acces")
    if role is not None:
        site.login(site.user(role))
    for route, method, path in sample_requests(site.app, slug="acces"):
        if Role.OFFICIAL not in route.permission.roles:
            continue
        response = site.client.request(method, path, data={} if method == "POST" else None)
        # Moderators of the consultation's organisation reach the moderation routes.
        if allowed or (role is Role.MODERATOR and role in route.permission.roles):
            # 404: the sample names a contribution, cluster or run this consultation lacks.
            assert response.status_code in (200, 303, 404, 422), (
                method,
                path,
                response.status_code,
            )
        elif role is None:
            assert response.status_code == 303
            assert response.headers["location"].startswith("/account/login?next=")
        else:
            assert response.status_code == 403, (method, path)


def test_fragment_requests_cannot_bypass_permissions(site: Site) -> None:
    make_consultation(site, "acces")
    site.login(site.user(Role.CITIZEN))
    response = site.client.get(
        "/consultations/acces/bill/import",
        headers={"HX-Request": "true", "HX-Request-Type": "partial"},
    )
    assert response.status_code == 403
    assert "bill_import" not in response.text


@given(st.text(max_size=60))
def test_safe_next_only_ever_returns_a_local_path(target: str) -> None:
    result = safe_next(target)
    assert result.startswith("/")
    assert not result.startswith("//")
    assert "\\" not in result
    assert "://" not in result.split("?")[0]


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example",
        "//evil.example",
        "/\\evil.example",
        "javascript:alert(1)",
        "http:/x",
        "",
    ],
)
def test_safe_next_rejects_off_site_targets(target: str) -> None:
    assert safe_next(target) == "/"


def test_safe_next_keeps_local_paths() -> None:
    assert safe_next("/consultations/x?version=2") == "/consultations/x?version=2"


# --- officials act only on their organisation's consultations -------------------------------

# What an official of the consultation's organisation would send to each route: requests that
# do something when the person may (so a refusal is the permission's, not the data's).
ACTING_DATA: dict[str, dict[str, str]] = {
    "answer_save": {
        "state": "accepted",
        "reason": "Nous retenons cette idée.",
        "action": "publish",
    },
    "consultation_phase": {"phase": "closed"},
    "consultation_update": {"title": "Un titre repris", "open": "2026-01-01T09:00"},
    "bill_preview": {"source": "Article 1er\n\nUn texte remplacé.", "format": "markdown"},
    "bill_publish": {"source": "Article 1er\n\nUn texte remplacé.", "format": "markdown"},
    "questionnaire_preview": {"source": "### Une question ? [texte]", "format": "markdown"},
    "questionnaire_publish": {"source": "### Une question ? [texte]", "format": "markdown"},
    "version_draft_save": {"amendment": "1"},
    "version_text_save": {"source": "Article 1er\n\nUn texte remplacé."},
    "version_publish": {
        "number": "2",
        "reason": "Le texte doit partir au Conseil d’État avant la clôture.",
    },
    "synthesis_summary": {"summary": "Notre résumé."},
    "cluster_summary": {"summary": "Notre résumé du groupe."},
    "cluster_rename": {"title": "Un autre titre"},
    "cluster_merge": {"source": "2"},
    "cluster_split": {"member": "1", "title": "Un nouveau groupe"},
    "moderation_decide": {"action": "hide", "reason": "Propos injurieux."},
    "moderation_suspend": {"reason": "Insultes répétées."},
    "moderation_reinstate": {"reason": "Excuses acceptées."},
}


def _organisation_routes(site: Site) -> list[tuple[GuardedRoute, str, str]]:
    found = [
        (route, method, path)
        for route, method, path in sample_requests(site.app, slug=DEMO_SLUG)
        if route.permission.organisation
    ]
    assert len(found) >= 20, "every official route acting on a consultation is in the walk"
    return found


def _table_counts(site: Site) -> dict[str, int]:
    return {
        table.name: site.scalar(select(func.count()).select_from(table))
        for table in Base.metadata.sorted_tables
        if table.name not in VOLATILE_TABLES
    }


def _send(site: Site, route: GuardedRoute, method: str, path: str) -> int:
    data = ACTING_DATA.get(route.name, {}) if method == "POST" else None
    return site.client.request(method, path, data=data).status_code


def test_every_official_route_is_declared_for_the_consultations_organisation(site: Site) -> None:
    """No route acting on a consultation lets a role in without its organisation."""
    for route in site.app.routes:
        if isinstance(route, GuardedRoute) and route.path.startswith("/consultations/{slug}"):
            assert not route.permission.roles or route.permission.organisation, route.path
    with pytest.raises(ValueError, match="organisation"):
        from consult.web.permissions import OFFICIAL
        from consult.web.routing import route as declare

        declare("/consultations/{slug}/anything", _send, OFFICIAL)  # type: ignore[arg-type]


@pytest.mark.parametrize("role", [Role.OFFICIAL, Role.MODERATOR])
def test_an_official_of_another_ministry_is_refused_on_every_official_route(
    demo: Site, role: Role
) -> None:
    """Every official route of the demo consultation, with what would act on it, refused to
    the member of another organisation; nothing saved; its own official is let in."""
    prepare_synthesis(demo)
    outsider = demo.official_of_another_ministry(role)
    demo.login(outsider)
    before = _table_counts(demo)
    with watching_writes(demo.services.started.engine) as watch, jobs_held(demo.services):
        watch.take()
        for route, method, path in _organisation_routes(demo):
            assert _send(demo, route, method, path) == 403, (method, path)
            assert watch.take() == set(), (method, path)
    assert _table_counts(demo) == before
    events = demo.rows(select(AuditEvent.action).where(AuditEvent.actor_id == outsider.id))
    assert events == []

    # The same requests by the demo's own official and by an administrator are not refused.
    for email in ("ministere@demo.consult.test", "admin@demo.consult.test"):
        demo.client.cookies.clear()
        demo.client.post("/account/login", data={"email": email, "password": DEMO_PASSWORD})
        with jobs_held(demo.services):
            for route, method, path in _organisation_routes(demo):
                if method == "GET":
                    assert _send(demo, route, method, path) != 403, (email, path)


def test_a_moderator_reaches_the_moderation_routes_of_their_ministry_only(demo: Site) -> None:
    """The demo's moderator moderates the demo consultation; the officials' routes stay the
    officials'; a moderator of another ministry is refused (above, with every such route)."""
    moderation = [
        (route, method, path)
        for route, method, path in _organisation_routes(demo)
        if Role.MODERATOR in route.permission.roles
    ]
    assert {route.name for route, _, _ in moderation} == {
        "moderation_queue",
        "moderation_decide",
        "moderation_suspend",
        "moderation_reinstate",
    }
    demo.client.post(
        "/account/login",
        data={"email": "moderation@demo.consult.test", "password": DEMO_PASSWORD},
    )
    with jobs_held(demo.services):
        for route, method, path in _organisation_routes(demo):
            status = _send(demo, route, method, path)
            if Role.MODERATOR in route.permission.roles:
                assert status != 403, (method, path, status)
            else:
                assert status == 403, (method, path, status)


def test_another_ministrys_drafts_and_links_are_not_shown(site: Site) -> None:
    make_consultation(site, "brouillon", opened=False)
    make_consultation(site, "ouverte")
    member = site.user(Role.OFFICIAL)
    site.login(member)
    assert site.client.get("/consultations/brouillon").status_code == 200
    assert "brouillon" in site.client.get("/").text
    page = site.client.get("/consultations/ouverte").text
    assert "/consultations/ouverte/inbox" in page

    site.client.cookies.clear()
    site.login(site.official_of_another_ministry())
    for path in ("/consultations/brouillon", "/consultations/brouillon/bill/import"):
        assert site.client.get(path).status_code == 404, path
    assert "brouillon" not in site.client.get("/").text
    page = site.client.get("/consultations/ouverte").text
    assert "/consultations/ouverte/inbox" not in page
    assert "/bill/import" not in page
    assert site.client.get("/consultations/ouverte/inbox").status_code == 403


def test_a_draft_synthesis_is_shown_only_to_the_consultations_officials(demo: Site) -> None:
    prepare_synthesis(demo)
    demo.login(demo.user(Role.OFFICIAL))
    assert demo.client.post(f"/consultations/{DEMO_SLUG}/synthesis/runs").status_code == 303
    demo.drain_jobs()
    draft = f"/consultations/{DEMO_SLUG}/synthesis?run=2"
    assert demo.client.get(draft).status_code == 200
    assert (
        demo.client.get(f"/consultations/{DEMO_SLUG}/synthesis/report.json?run=2").status_code
        == 200
    )
    demo.client.cookies.clear()
    demo.login(demo.official_of_another_ministry())
    assert demo.client.get(draft).status_code == 404
    assert (
        demo.client.get(f"/consultations/{DEMO_SLUG}/synthesis/report.json?run=2").status_code
        == 404
    )
    assert demo.client.get(f"/consultations/{DEMO_SLUG}/synthesis/runs/2").status_code == 403
