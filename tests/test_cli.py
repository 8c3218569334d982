"""The `consult` command line: database, demo, accounts, bill import."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import Executable, Row, func, select

from consult.accounts.models import Role, User
from consult.bills.models import BillVersion
from consult.cli import main
from consult.consultations.models import Consultation
from consult.db import create_engine, create_session_factory
from consult.demo.seed import DEMO_SLUG
from consult.synthesis.models import SynthesisRun


@pytest.fixture
def cli_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    monkeypatch.setenv("CONSULT_DATABASE_URL", url)
    return url.replace("sqlite://", "sqlite+aiosqlite://")


@pytest.fixture
def cli_demo(fresh_demo_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """The demo as `consult demo` seeds it (copied from the session's template, not seeded
    again), as the database of the commands a test runs."""
    monkeypatch.setenv("CONSULT_DATABASE_URL", fresh_demo_url)
    return fresh_demo_url


def query(url: str, statement: Executable) -> list[Row[Any]]:
    """The rows `statement` selects, read after the command has run (its own event loop)."""

    async def run() -> list[Row[Any]]:
        engine = create_engine(url)
        try:
            async with create_session_factory(engine)() as session:
                return list((await session.execute(statement)).all())
        finally:
            await engine.dispose()

    return asyncio.run(run())


def _bill_versions() -> Executable:
    """The versions of the demo's bill (the demo's questionnaire is published as one too)."""
    return (
        select(func.count())
        .select_from(BillVersion)
        .join(Consultation, Consultation.id == BillVersion.consultation_id)
        .where(Consultation.slug == DEMO_SLUG)
    )


def invoke(*args: str, input: str | None = None) -> Result:
    return CliRunner().invoke(main, ["--language", "en", *args], input=input)


def test_demo_then_import_a_new_version_and_create_an_official(
    cli_env: str, tmp_path: Path
) -> None:
    result = invoke("demo", "--no-serve")
    assert result.exit_code == 0, result.output
    assert f"/consultations/{DEMO_SLUG}" in result.output
    again = invoke("demo", "--no-serve")  # idempotent
    assert again.exit_code == 0, again.output
    assert query(cli_env, _bill_versions()) == [(1,)]

    bill = tmp_path / "v2.txt"
    bill.write_text("Article 1er\nTexte révisé.\n", encoding="utf-8")
    imported = invoke("bill", "import", str(bill), "--consultation", DEMO_SLUG)
    assert imported.exit_code == 0, imported.output
    assert "version 2" in imported.output
    assert query(cli_env, _bill_versions()) == [(2,)]

    created = invoke(
        "user",
        "create",
        "--email",
        "agent@example.gouv.fr",
        "--name",
        "Agent",
        "--role",
        "official",
        "--password-stdin",
        input="a long enough password\n",
    )
    assert created.exit_code == 0, created.output
    rows = query(cli_env, select(User.role).where(User.email == "agent@example.gouv.fr"))
    assert rows == [(Role.OFFICIAL,)]


def test_bad_bill_file_is_reported_with_its_line_and_nothing_is_saved(
    cli_env: str, tmp_path: Path
) -> None:
    assert invoke("demo", "--no-serve").exit_code == 0
    bill = tmp_path / "broken.md"
    bill.write_text("Article 1er\n\nTexte.\n\nArticle 1er\n\nEncore.\n", encoding="utf-8")
    result = invoke("bill", "import", str(bill), "--consultation", DEMO_SLUG)
    assert result.exit_code == 1
    assert "line 5" in result.output.lower() or "ligne 5" in result.output.lower()
    latin1 = tmp_path / "latin1.md"
    latin1.write_bytes("Article 1er\n\nÉté".encode("latin-1"))
    assert "UTF-8" in invoke("bill", "import", str(latin1), "--consultation", DEMO_SLUG).output
    unknown = invoke("bill", "import", str(bill), "--consultation", "nope")
    assert unknown.exit_code == 1
    assert query(cli_env, _bill_versions()) == [(1,)]


def test_user_create_refuses_bad_input(cli_env: str) -> None:
    assert invoke("db", "upgrade").exit_code == 0
    result = invoke(
        "user",
        "create",
        "--email",
        "not-an-email",
        "--name",
        "X",
        "--password-stdin",
        input="short\n",
    )
    assert result.exit_code == 1
    assert "email" in result.output and "password" in result.output


def test_worker_needs_redis(cli_env: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CONSULT_REDIS_URL", raising=False)
    result = invoke("worker")
    assert result.exit_code == 1
    assert "CONSULT_REDIS_URL" in result.output


def test_db_downgrade_and_upgrade(cli_env: str) -> None:
    assert invoke("db", "upgrade").exit_code == 0
    assert invoke("db", "downgrade", "base").exit_code == 0
    assert invoke("db", "upgrade").exit_code == 0


GOOD_AND_BAD = "\n".join(
    [
        '{"ref": "m1", "author": "Lire Partout", "article": "art-3", "kind": "argument", '
        '"stance": "pour", "body": "Enfin.", "votes_for": 12}',
        '{"ref": "m2", "author": "J. Martin", "article": "art-3", "kind": "reply", '
        '"parent": "m1", "body": "D’accord."}',
        "{not json",
        '{"ref": "m3", "author": "X", "article": "art-99", "kind": "argument", "body": "?"}',
        '{"ref": "m4", "author": "X", "article": "art-3", "kind": "annotation", "alinea": 1, '
        '"quote": "mots absents du texte", "body": "?"}',
        '{"ref": "m5", "author": "X", "article": "art-3", "kind": "reply", "parent": "nope", '
        '"body": "?"}',
        '{"ref": "m6", "author": "Y", "article": "art-3", "kind": "source", '
        '"url": "javascript:alert(1)", "body": "?"}',
        '{"ref": "m1", "author": "Z", "article": "art-3", "kind": "argument", "body": "twice"}',
    ]
)


def test_contributions_import_keeps_good_rows_reports_bad_ones_and_is_idempotent(
    cli_demo: str, tmp_path: Path
) -> None:
    from consult.contributions.models import Contribution

    before = query(cli_demo, select(func.count()).select_from(Contribution))[0][0]
    data = tmp_path / "mails.jsonl"
    data.write_text(GOOD_AND_BAD, encoding="utf-8")
    result = invoke("contributions", "import", str(data), "--consultation", DEMO_SLUG)
    assert result.exit_code == 1
    assert "2 imported, 0 already present, 6 rejected" in result.output
    for line in (3, 4, 5, 6, 7, 8):
        assert f"mails.jsonl:{line}:" in result.output
    rows = query(
        cli_demo,
        select(Contribution.external_ref, Contribution.depth, Contribution.votes_for)
        .where(Contribution.external_ref.in_(["m1", "m2"]))
        .order_by(Contribution.external_ref),
    )
    assert rows == [("m1", 0, 12), ("m2", 1, 0)]

    again = invoke("contributions", "import", str(data), "--consultation", DEMO_SLUG)
    # the repeated "m1" of line 8 now counts as already present too
    assert "0 imported, 3 already present, 5 rejected" in again.output
    after = query(cli_demo, select(func.count()).select_from(Contribution))[0][0]
    assert after == before + 2


def test_contributions_import_reads_csv(cli_demo: str, tmp_path: Path) -> None:
    data = tmp_path / "paper.csv"
    data.write_text(
        "ref,author,article,kind,stance,body\n"
        'p1,Courrier 1,art-5,argument,contre,"Trop court,\nvraiment."\n'
        "p2,Courrier 2,art-5,argument,pour,Bien.\n",
        encoding="utf-8",
    )
    result = invoke("contributions", "import", str(data), "--consultation", DEMO_SLUG)
    assert result.exit_code == 0, result.output
    assert "2 imported" in result.output


def test_synthesize_runs_a_report_from_the_terminal(
    cli_demo: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CONSULT_EMBEDDING_MODEL", "hashing")
    result = invoke("synthesize", "--consultation", DEMO_SLUG, "--seed", "4")
    assert result.exit_code == 0, result.output
    assert f"/consultations/{DEMO_SLUG}/synthesis?run=1" in result.output
    # Its output is no terminal, yet it says where the run is, stage by stage, then its figures.
    assert "Grouping similar contributions: 0/" in result.output
    assert "Grouping similar contributions: 18/18" in result.output  # 17 articles, the themes
    assert "219 contributions" in result.output and " themes" in result.output
    assert "groups on 17 articles" in result.output
    runs = query(cli_demo, select(SynthesisRun.seed, SynthesisRun.published_at))
    assert runs == [(4, None)]  # the seed asked for, and a draft to review
    unknown = invoke("synthesize", "--consultation", "nope")
    assert unknown.exit_code != 0 and "no consultation" in unknown.output


def test_organisations_from_the_command_line(cli_env: str) -> None:
    from consult.consultations.models import Consultation
    from consult.organisations.models import Organisation, OrganisationMember

    assert invoke("db", "upgrade").exit_code == 0
    for email, role in (("agent@culture.gouv.fr", "official"), ("lecteur@example.org", "citizen")):
        made = invoke(
            "user", "create", "--email", email, "--name", "X", "--role", role,
            "--password-stdin", input="a long enough password\n",
        )  # fmt: skip
        assert made.exit_code == 0, made.output
    consultation = (
        "consultation", "create", "--slug", "eau", "--title", "Eau", "--owner",
        "agent@culture.gouv.fr", "--phase", "open=2027-03-01T09:00",
    )  # fmt: skip
    alone = invoke(*consultation)
    assert alone.exit_code == 1 and "not a member of any organisation" in alone.output

    created = invoke("organisation", "create", "--name", "Ministère de la Culture")
    assert created.exit_code == 0, created.output
    assert "ministere-de-la-culture" in created.output
    assert invoke("organisation", "create", "--name", "Ministère de la Culture").exit_code == 1
    outsider = invoke(*consultation, "--organisation", "ministere-de-la-culture")
    assert outsider.exit_code == 1 and "not a member" in outsider.output
    citizen = invoke(
        "organisation", "add-member", "--organisation", "ministere-de-la-culture",
        "--email", "lecteur@example.org",
    )  # fmt: skip
    assert citizen.exit_code == 1 and "Only officials and moderators" in citizen.output
    added = invoke(
        "organisation", "add-member", "--organisation", "ministere-de-la-culture",
        "--email", "agent@culture.gouv.fr",
    )  # fmt: skip
    assert added.exit_code == 0, added.output
    assert query(cli_env, select(func.count()).select_from(OrganisationMember)) == [(1,)]
    unknown = invoke(*consultation, "--organisation", "nope")
    assert unknown.exit_code == 1 and "no organisation" in unknown.output

    done = invoke(*consultation)  # the owner's only organisation
    assert done.exit_code == 0, done.output
    held = query(
        cli_env,
        select(Organisation.slug, Consultation.ministry).join(
            Consultation, Consultation.organisation_id == Organisation.id
        ),
    )
    assert [tuple(row) for row in held] == [("ministere-de-la-culture", "Ministère de la Culture")]


def test_the_demo_holds_a_questionnaire_and_answers_are_imported_from_csv(
    cli_env: str, tmp_path: Path
) -> None:
    from consult.demo.questionnaire import DEMO_RESPONSES, QUESTIONNAIRE_SLUG
    from consult.questionnaires.models import QuestionnaireResponse

    result = invoke("demo", "--no-serve")
    assert result.exit_code == 0, result.output
    assert f"/consultations/{QUESTIONNAIRE_SLUG}/questionnaire" in result.output

    def responses() -> int:
        return int(
            query(
                cli_env,
                select(func.count())
                .select_from(QuestionnaireResponse)
                .join(Consultation, Consultation.id == QuestionnaireResponse.consultation_id)
                .where(Consultation.slug == QUESTIONNAIRE_SLUG),
            )[0][0]
        )

    # the imported answers, and the demo citizen's own
    assert responses() == DEMO_RESPONSES + 1
    assert invoke("demo", "--no-serve").exit_code == 0  # idempotent
    assert responses() == DEMO_RESPONSES + 1

    answers = tmp_path / "answers.csv"
    answers.write_text(
        "reference,q1,Quelle action proposez-vous ?\n"
        "papier-1,Agent public,Ouvrir les registres des lobbies.\n"
        "papier-2,Astronaute,Une idée.\n",
        encoding="utf-8",
    )
    imported = invoke(
        "questionnaire", "import-answers", str(answers), "--consultation", QUESTIONNAIRE_SLUG
    )
    assert imported.exit_code == 1
    assert "1 imported, 0 already present, 1 rejected" in imported.output
    assert "answers.csv:3: q1: “Astronaute” is not one of the options" in imported.output
    assert responses() == DEMO_RESPONSES + 2

    questions = tmp_path / "questions.md"
    questions.write_text("### Une autre question ? [texte]\n", encoding="utf-8")
    refused = invoke(
        "questionnaire", "import", str(questions), "--consultation", QUESTIONNAIRE_SLUG
    )
    assert refused.exit_code != 0 and "already answered" in refused.output
    bill = invoke("questionnaire", "import", str(questions), "--consultation", DEMO_SLUG)
    assert bill.exit_code != 0 and "no questionnaire consultation" in bill.output
