"""The legal pages: linked from every page, a truthful default text, written by admins."""

from __future__ import annotations

from sqlalchemy import select

from consult.accounts.models import Role
from consult.audit.models import AuditEvent
from tests.support.site import Site

KEYS = ("legal-notice", "privacy", "accessibility", "terms")


def test_every_page_links_to_the_legal_pages_and_states_its_accessibility(site: Site) -> None:
    home = site.client.get("/").text
    for key in KEYS:
        assert f'href="/legal/{key}"' in home
    assert "Accessibilité\u00a0: non conforme" in home


def test_the_default_texts_state_the_sites_own_settings(site: Site) -> None:
    for key in KEYS:
        page = site.client.get(f"/legal/{key}")
        assert page.status_code == 200, key
    privacy = site.client.get("/legal/privacy").text
    assert f"au plus tard {site.settings.session_absolute_days} jours" in privacy
    assert f"après {site.settings.inactive_account_days} jours sans connexion" in privacy
    assert site.client.get("/legal/cookies").status_code == 404


def test_an_administrator_writes_a_page_in_each_language(site: Site) -> None:
    admin = site.user(Role.ADMIN)
    site.login(admin)
    form = site.client.get("/admin/legal/legal-notice")
    assert form.status_code == 200 and 'name="body_fr"' in form.text
    saved = site.client.post(
        "/admin/legal/legal-notice",
        data={
            "body_fr": "Éditeur : **Ministère de l’Exemple**\n\n<script>alert(1)</script>",
            "body_en": "Publisher: **Ministry of Example**",
        },
    )
    assert saved.status_code == 303
    with site.anonymously() as visitor:
        french = visitor.get("/legal/legal-notice").text
        assert "<strong>Ministère de l’Exemple</strong>" in french
        assert "<script>alert(1)</script>" not in french
        english = visitor.get("/legal/legal-notice", headers={"Accept-Language": "en"}).text
        assert "<strong>Ministry of Example</strong>" in english
    event = site.scalar(select(AuditEvent).where(AuditEvent.action == "legal_page.written"))
    assert event is not None and event.actor_id == admin.id


def test_only_administrators_write_the_legal_pages(site: Site) -> None:
    official = site.user(Role.OFFICIAL)
    site.login(official)
    assert site.client.get("/admin/legal/privacy").status_code == 403
    refused = site.client.post("/admin/legal/privacy", data={"body_fr": "Rien."})
    assert refused.status_code == 403
    assert "Rien." not in site.client.get("/legal/privacy").text
