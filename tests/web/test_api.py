"""The read API answers as its OpenAPI description says, and never with a server error."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import hypothesis
import pytest
import schemathesis
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance
from sqlalchemy import func, select, update

from consult.accounts.models import Role
from consult.answers.models import AnswerState
from consult.contributions.models import Contribution, ContributionKind, Visibility
from consult.demo.seed import DEMO_SLUG
from consult.web.api_schema import openapi_document
from tests.support.databases import DatabaseTemplates
from tests.support.seeding import REASON, read_in_english
from tests.support.site import Clock, Site, make_settings, start_site
from tests.support.synthesis import start_and_finish

API = f"/api/v1/consultations/{DEMO_SLUG}"


def _with_examples(document: dict[str, Any]) -> dict[str, Any]:
    """The description with the demo's slug, version and first contribution as examples, so
    that the explicit examples reach real rows as well as random values reach the errors."""
    examples = {"slug": DEMO_SLUG, "number": 2, "contribution_id": 1, "article": "art-1"}
    for item in document["paths"].values():
        for parameter in item["get"]["parameters"]:
            if parameter["name"] in examples:
                parameter["example"] = examples[parameter["name"]]
    return document


schema = schemathesis.openapi.from_dict(_with_examples(openapi_document()))


@pytest.fixture(scope="module")
def api_site(
    database_templates: DatabaseTemplates, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Site]:
    """The demo with a synthesis, answers and a version 2, shared by the module's tests."""
    url = database_templates.sqlite_copy("demo", tmp_path_factory.mktemp("api") / "api.sqlite3")
    with start_site(make_settings(url), Clock()) as site:
        read_in_english(site)
        site.login(site.user(Role.OFFICIAL))
        start_and_finish(site)
        first = int(site.scalar(select(func.min(Contribution.id))))
        site.client.post(
            f"/consultations/{DEMO_SLUG}/answers/contribution/{first}",
            data={"state": "rejected", "reason": REASON, "action": "publish"},
        )
        site.client.post(
            f"/consultations/{DEMO_SLUG}/versions/next/publish",
            data={
                "number": "2",
                "reason": "Le texte doit partir au Conseil d’État avant la clôture.",
            },
        )
        site.client.post("/account/logout")
        yield site


@schema.parametrize()
@hypothesis.settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=list(hypothesis.HealthCheck),
)
def test_every_answer_matches_the_description(case: Any, api_site: Site) -> None:
    transport = case.as_transport_kwargs(base_url="http://testserver")
    response = api_site.client.request(
        transport["method"],
        transport["url"],
        params=transport.get("params"),
        headers={k: v for k, v in (transport.get("headers") or {}).items() if k != "Cookie"},
    )
    case.validate_response(response, checks=[not_a_server_error, response_schema_conformance])


def test_contributions_come_with_their_fate_and_pages(api_site: Site) -> None:
    client = api_site.client
    listing = client.get(f"{API}/contributions", params={"per_page": 5, "page": 2})
    assert listing.status_code == 200
    body = listing.json()
    assert body["page"] == 2 and len(body["items"]) == 5
    assert body["total"] == api_site.scalar(select(func.count()).select_from(Contribution))
    first = int(api_site.scalar(select(func.min(Contribution.id))))
    one = client.get(f"{API}/contributions/{first}").json()
    assert one["answer"]["state"] == "rejected" and one["author"].startswith("p-")
    assert client.get(f"{API}/contributions", params={"per_page": 500}).status_code == 400
    assert client.get(f"{API}/contributions", params={"kind": "poem"}).status_code == 400
    assert client.get(f"{API}/contributions/abc").json() == {"error": "not found"}
    assert client.get(f"{API}/contributions/99999999999").status_code == 404
    feedback = client.get(f"{API}/feedback").json()
    assert feedback["total"]["states"] == {"rejected": 1}
    version = client.get(f"{API}/versions/2").json()
    assert version["number"] == 2 and version["articles"][0]["key"] == "art-1"
    assert client.get(f"{API}/versions/3").status_code == 404
    assert client.get("/api/v1/consultations/nothing-here").status_code == 404
    described = client.get("/api/v1/openapi.json").json()
    assert described["openapi"] == "3.1.0" and described["servers"][0]["url"] == "http://testserver"


def test_lists_of_contributions_are_narrowed_by_kind_and_article(api_site: Site) -> None:
    client = api_site.client
    amendments = client.get(f"{API}/contributions", params={"kind": "amendment", "per_page": 200})
    assert amendments.status_code == 200
    assert {item["kind"] for item in amendments.json()["items"]} == {"amendment"}
    assert amendments.json()["total"] == api_site.scalar(
        select(func.count())
        .select_from(Contribution)
        .where(Contribution.kind == ContributionKind.AMENDMENT),
    )
    on_one = client.get(f"{API}/contributions", params={"article": "art-1"}).json()
    assert on_one["items"] and {item["article_key"] for item in on_one["items"]} == {"art-1"}
    assert client.get(f"{API}/contributions", params={"article": "art-\x001"}).status_code == 400
    assert client.get(f"{API}/contributions", params={"page": "²"}).status_code == 400
    assert client.get(f"{API}/versions/²").json() == {"error": "not found"}
    answers = client.get(f"{API}/answers").json()
    assert answers["total"] == 1 and answers["items"][0]["state"] == "rejected"


def test_a_hidden_contribution_keeps_its_place_but_not_its_texts(api_site: Site) -> None:
    """What moderation hid leaves by no door: the API withholds it as the export does."""
    last = int(api_site.scalar(select(func.max(Contribution.id))))
    shown, hidden = last - 1, last
    link = "https://example.org/etude"

    async def moderate(session):  # type: ignore[no-untyped-def]
        await session.execute(
            update(Contribution).where(Contribution.id.in_([shown, hidden])).values(url=link)
        )
        await session.execute(
            update(Contribution)
            .where(Contribution.id == hidden)
            .values(visibility=Visibility.HIDDEN)
        )

    api_site.db(moderate)
    client = api_site.client
    visible = client.get(f"{API}/contributions/{shown}").json()
    body = api_site.scalar(select(Contribution.body).where(Contribution.id == shown))
    assert visible["url"] == link and visible["body"] == body
    withheld = client.get(f"{API}/contributions/{hidden}").json()
    assert withheld["visibility"] == "hidden" and withheld["author"].startswith("p-")
    texts = {name: withheld[name] for name in ("quote", "old_text", "new_text", "body", "url")}
    assert texts == {"quote": None, "old_text": "", "new_text": "", "body": "", "url": None}
    # Lists apply the same rule: the last contribution is the last of the list.
    total = client.get(f"{API}/contributions", params={"per_page": 1}).json()["total"]
    listed = client.get(f"{API}/contributions", params={"per_page": 1, "page": total}).json()
    assert listed["items"] == [withheld]


def test_the_description_reads_its_enumerations_from_the_domain() -> None:
    schemas = openapi_document()["components"]["schemas"]
    assert schemas["Answer"]["properties"]["state"]["enum"] == [s.value for s in AnswerState]
    kinds = schemas["Contribution"]["properties"]["kind"]["enum"]
    assert kinds == [k.value for k in ContributionKind]
    assert schemas["Contribution"]["properties"]["url"]["type"] == ["string", "null"]


@pytest.mark.each_database
def test_a_nul_in_a_parameter_is_a_json_error_on_every_database(demo: Site) -> None:
    """PostgreSQL refuses a NUL in a query: the API answers before asking it."""
    client = demo.client
    assert client.get("/api/v1/consultations/a%00b").json() == {"error": "not found"}
    listing = client.get(f"{API}/contributions", params={"article": "art-\x001"})
    assert listing.status_code == 400 and "article" in listing.json()["error"]
