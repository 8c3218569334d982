"""The open-data export: every table as CSV and JSON, authors pseudonymised, streamed."""

from __future__ import annotations

import csv
import io
import json
import re
import zipfile
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from consult.accounts.models import Role, User
from consult.contributions.models import Contribution, Visibility
from consult.demo.seed import DEMO_SLUG
from consult.opendata.public import PublicContribution
from consult.opendata.tables import TABLES, export_of
from consult.synthesis.models import SynthesisCampaignMember, SynthesisMembership
from consult.web.routes.opendata import zip_stream
from tests.support.opinions import plant_camps
from tests.support.seeding import REASON, make_consultation, read_in_english
from tests.support.site import Site
from tests.support.synthesis import start_and_finish

BASE = f"/consultations/{DEMO_SLUG}"
DOCS = Path(__file__).resolve().parents[2] / "docs" / "open-data.md"


@pytest.fixture
def site(demo: Site) -> Site:
    """Here, the site holds the demo consultation, read in English (the assertions quote the
    English texts)."""
    return read_in_english(demo)


def _prepare(site: Site) -> tuple[int, int]:
    """The demo with a synthesis, an answer and a hidden contribution; returns their ids."""
    site.login(site.user(Role.OFFICIAL))
    start_and_finish(site)
    answered = int(site.scalar(select(func.min(Contribution.id))))
    site.client.post(
        f"{BASE}/answers/contribution/{answered}",
        data={"state": "accepted", "reason": REASON, "action": "publish"},
    )
    hidden = answered + 1

    async def hide(session: AsyncSession) -> None:
        await session.execute(
            update(Contribution)
            .where(Contribution.id == hidden)
            .values(visibility=Visibility.HIDDEN)
        )

    site.db(hide)
    return answered, hidden


def _rows(archive: zipfile.ZipFile, name: str) -> list[dict[str, str]]:
    with archive.open(f"{name}.csv") as raw:
        return list(csv.DictReader(io.TextIOWrapper(raw, encoding="utf-8", newline="")))


@pytest.mark.each_database
def test_the_export_holds_every_table_in_both_formats_with_authors_pseudonymised(
    site: Site,
) -> None:
    answered, hidden = _prepare(site)
    with site.client.stream("GET", f"{BASE}/export.zip") as response:
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/zip"
        assert "content-length" not in response.headers  # streamed, not built first
        assert response.headers["content-disposition"].startswith(
            f'attachment; filename="{DEMO_SLUG}-'
        )
        data = b"".join(response.iter_raw())
    archive = zipfile.ZipFile(io.BytesIO(data))
    assert archive.testzip() is None
    names = set(archive.namelist())
    for table in TABLES:
        assert {f"{table.name}.csv", f"{table.name}.json"} <= names
        with archive.open(f"{table.name}.csv") as raw:
            header = next(csv.reader(io.TextIOWrapper(raw, encoding="utf-8", newline="")))
        assert header == table.columns
        records = json.loads(archive.read(f"{table.name}.json"))
        assert len(records) == len(_rows(archive, table.name))
        assert all(list(record) == table.columns for record in records)
    readme = archive.read("README.txt").decode()
    assert all(f"  {name}: " in readme for table in TABLES for name in table.columns)

    contributions = {int(r["id"]): r for r in _rows(archive, "contributions")}
    assert len(contributions) == site.scalar(select(func.count()).select_from(Contribution))
    assert contributions[answered]["answer_state"] == "accepted"
    assert contributions[hidden]["visibility"] == "hidden"
    withheld = ("quote", "old_text", "new_text", "body", "url")
    assert {contributions[hidden][name] for name in withheld} == {""}
    assert contributions[hidden]["author"].startswith("p-")
    # The read API applies the same rules: same pseudonyms, same texts withheld, same answer.
    api = f"/api/v1/consultations/{DEMO_SLUG}/contributions"
    from_api = site.client.get(f"{api}/{hidden}").json()
    assert from_api["author"] == contributions[hidden]["author"]
    assert from_api["body"] == "" and from_api["quote"] is None and from_api["url"] is None
    answer = site.client.get(f"{api}/{answered}").json()["answer"]
    assert str(answer["id"]) == contributions[answered]["answer_id"]
    assert answer["state"] == "accepted"
    # Pseudonyms: one per author, never a name or an address.
    by_author = site.rows(select(Contribution.id, Contribution.author_pseudonym))
    same_name = [i for i, name in by_author if name == by_author[0][1]]
    assert len({contributions[i]["author"] for i in same_name}) == 1
    assert all(re.fullmatch(r"p-[0-9a-f]{16}|", r["author"]) for r in contributions.values())
    for (email,) in site.rows(select(User.email)):
        assert email.encode() not in data
    members = _rows(archive, "cluster_members")
    assert len(members) == site.scalar(select(func.count()).select_from(SynthesisMembership))
    signatures = _rows(archive, "campaign_members")
    assert len(signatures) == site.scalar(select(func.count()).select_from(SynthesisCampaignMember))
    (answer,) = _rows(archive, "answers")
    assert answer["contribution_id"] == str(answered) and answer["state"] == "accepted"


@pytest.mark.each_database
def test_the_export_is_written_batch_by_batch(site: Site) -> None:
    _prepare(site)

    async def chunks() -> list[int]:
        from consult.consultations.models import Consultation

        async with site.session_factory() as db:
            consultation = await db.scalar(
                select(Consultation).where(Consultation.slug == DEMO_SLUG)
            )
        assert consultation is not None
        export = await export_of(site.session_factory, consultation, "key", batch=40)
        return [len(chunk) async for chunk in zip_stream(export)]

    sizes = site.call(chunks)
    # Hundreds of contributions in batches of 40: the bytes come out as they are written.
    assert len([size for size in sizes if size]) > 10


def test_the_documentation_lists_every_file_and_field() -> None:
    text = DOCS.read_text(encoding="utf-8")
    for table in TABLES:
        assert f"`{table.name}`" in text, table.name
        for name, _meaning in table.fields:
            assert f"`{name}`" in text, (table.name, name)


def test_a_draft_consultation_is_exported_to_no_one_but_officials(site: Site) -> None:
    make_consultation(site, "brouillon", opened=False)
    assert site.client.get("/consultations/brouillon/export.zip").status_code == 404
    site.login(site.user(Role.OFFICIAL))
    assert site.client.get("/consultations/brouillon/export.zip").status_code == 200


def test_the_contributions_file_has_the_fields_of_a_public_contribution() -> None:
    """The API and the export read contributions through the same rules and the same fields."""
    (table,) = [t for t in TABLES if t.name == "contributions"]
    assert table.columns == list(PublicContribution._fields)


def test_the_opinion_tables_hold_counts_per_group_and_no_participant(site: Site) -> None:
    planted = site.db(plant_camps)
    hidden = planted.divisive[0]

    async def hide(session: AsyncSession) -> None:
        await session.execute(
            update(Contribution)
            .where(Contribution.id == hidden)
            .values(visibility=Visibility.HIDDEN)
        )

    site.db(hide)
    # The export shows the groups the published synthesis stored.
    site.login(site.user(Role.OFFICIAL))
    start_and_finish(site)
    data = site.client.get(f"{BASE}/export.zip").content
    archive = zipfile.ZipFile(io.BytesIO(data))
    groups = _rows(archive, "opinion_groups")
    assert groups == [
        {"group": "1", "participants": "20"},
        {"group": "2", "participants": "20"},
    ]
    targets = _rows(archive, "opinion_targets")
    assert list(targets[0]) == [name for name, _m in _table("opinion_targets").fields]
    first = targets[0]
    assert (first["rank"], first["target_kind"], first["target"]) == (
        "1",
        "contribution",
        str(planted.bridge),
    )
    assert first["agreement_by_group"] == f"{21 / 22:.4f}; {21 / 22:.4f}"
    assert first["votes_by_group"] == "20; 20"
    assert (first["agrees_by_group"], first["disagrees_by_group"]) == ("20; 20", "0; 0")
    assert float(first["consensus"]) == pytest.approx((21 / 22) ** 2, abs=1e-6)
    listed = {t["target"] for t in targets}
    # Every divisive amendment but the hidden one; the one voted on once is under the minimum.
    assert listed == {str(planted.bridge), *(str(i) for i in planted.divisive[1:])}
    for row in targets:
        if row["target"] != str(planted.bridge):
            assert (row["votes"], row["agrees"], row["disagrees"]) == ("40", "20", "20")
            assert sorted(row["agreement_by_group"].split("; ")) == [
                f"{1 / 22:.4f}",
                f"{21 / 22:.4f}",
            ]
    # The same rows as JSON.
    assert json.loads(archive.read("opinion_targets.json"))[0]["target"] == str(planted.bridge)


def _table(name: str) -> Any:
    (table,) = [t for t in TABLES if t.name == name]
    return table
