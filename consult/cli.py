"""The `consult` command line."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Awaitable, Callable, Coroutine
from pathlib import Path
from typing import Any, Literal, TypeVar

import click

from consult import i18n
from consult.accounts.passwords import use_profile as use_password_profile
from consult.settings import Settings

T = TypeVar("T")


def _run(work: Callable[[Settings], Coroutine[Any, Any, T]]) -> T:
    """Run `work` with a database session factory and dispose of the engine afterwards."""
    return asyncio.run(work(Settings.from_env()))


def _ensure_sqlite_dir(settings: Settings) -> None:
    """The default SQLite file lives under var/, which a fresh clone does not have."""
    prefix = "sqlite+aiosqlite:///"
    if settings.database_url.startswith(prefix):
        Path(settings.database_url[len(prefix) :]).parent.mkdir(parents=True, exist_ok=True)


async def _with_session(settings: Settings, work: Callable[[Any], Awaitable[T]]) -> T:
    from consult.db import create_engine, create_session_factory

    # A command's work may create accounts (the demo's, `user create`): hashed as set.
    use_password_profile(settings.password_hashing)
    engine = create_engine(settings.database_url)
    try:
        async with create_session_factory(engine)() as session:
            result = await work(session)
            await session.commit()
            return result
    finally:
        await engine.dispose()


@click.group()
@click.option("--language", type=click.Choice(i18n.SUPPORTED_LANGUAGES), default=None)
def main(language: str | None) -> None:
    """consult: public consultation on draft bills."""
    i18n.set_language(language or i18n.negotiate_language(_locale_from_env()))


def _locale_from_env() -> str | None:
    import os

    lang = os.environ.get("LC_ALL") or os.environ.get("LANG") or ""
    return lang.split(".")[0].replace("_", "-") or None


@main.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
@click.argument("revision", default="head")
def db_upgrade(revision: str) -> None:
    """Apply migrations up to REVISION (default: the latest)."""
    from consult.migrate import upgrade

    settings = Settings.from_env()
    _ensure_sqlite_dir(settings)
    upgrade(settings.database_url, revision)
    click.echo(f"database at {revision}")


@db.command("downgrade")
@click.argument("revision")
def db_downgrade(revision: str) -> None:
    """Revert migrations down to REVISION ("base" removes every table)."""
    from consult.migrate import downgrade

    downgrade(Settings.from_env().database_url, revision)
    click.echo(f"database at {revision}")


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", default=1, show_default=True, type=int)
@click.option(
    "--forwarded-allow-ips",
    default="127.0.0.1",
    show_default=True,
    help="Addresses of the reverse proxies whose X-Forwarded-For and X-Forwarded-Proto are "
    "believed (comma-separated, or * behind a proxy that sets them itself).",
)
def serve(host: str, port: int, workers: int, forwarded_allow_ips: str) -> None:
    """Run the web server."""
    import uvicorn

    from consult.observability import logging_config

    uvicorn.run(
        "consult.web.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        proxy_headers=True,
        forwarded_allow_ips=forwarded_allow_ips,
        # Each process writes its logs as CONSULT_LOG_FORMAT says, one access line a request
        # from the web layer (with its request id) instead of uvicorn's.
        log_config=logging_config(Settings.from_env()),
        access_log=False,
    )


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--no-serve", is_flag=True, help="Only prepare the database.")
def demo(host: str, port: int, no_serve: bool) -> None:
    """Create the database, seed the demo consultation and run the site."""
    from consult.demo.questionnaire import QUESTIONNAIRE_SLUG, seed_questionnaire_demo
    from consult.demo.seed import DEMO_ACCOUNTS, DEMO_PASSWORD, DEMO_SLUG, seed_demo
    from consult.migrate import upgrade

    # The demo's staff passwords are published: a second factor would protect nothing there,
    # and would stand between a visitor and the official's side of the product.
    os.environ.setdefault("CONSULT_TWO_FACTOR_FOR_STAFF", "false")
    settings = Settings.from_env()
    _ensure_sqlite_dir(settings)
    upgrade(settings.database_url)
    asyncio.run(_with_session(settings, seed_demo))
    asyncio.run(_with_session(settings, seed_questionnaire_demo))
    click.echo(f"Demo consultation: http://{host}:{port}/consultations/{DEMO_SLUG}")
    click.echo(
        f"Demo questionnaire: http://{host}:{port}/consultations/{QUESTIONNAIRE_SLUG}/questionnaire"
    )
    click.echo(f"Demo accounts (password: {DEMO_PASSWORD}):")
    for account in DEMO_ACCOUNTS:
        click.echo(f"  {account.role.value:<10} {account.email}")
    if not no_serve:
        click.get_current_context().invoke(serve, host=host, port=port, workers=1)


@main.command()
def precompile() -> None:
    """Compile the clustering's native code once, where consult is installed.

    Without it, the first synthesis of every process (web or worker) compiles it for about half
    a minute. Run it as the user who installed consult, after each install or upgrade.
    """
    from consult.nlp.cluster import compile_ahead

    if compile_ahead():
        click.echo("clustering: compiled code kept for every process")
    else:
        click.echo(
            "clustering: nothing could be kept (numba's cache directory is not writable; "
            "set NUMBA_CACHE_DIR): each process compiles at its first synthesis",
            err=True,
        )


@main.command()
def worker() -> None:
    """Run an arq worker (needs CONSULT_REDIS_URL)."""
    settings = Settings.from_env()
    if not settings.redis_url:
        raise click.ClickException(
            "CONSULT_REDIS_URL is not set: without Redis, jobs run inside the web process."
        )
    from arq import run_worker

    from consult.observability import configure_logging
    from worker.settings import WorkerSettings

    configure_logging(settings)
    run_worker(WorkerSettings)  # type: ignore[arg-type]


@main.group()
def consultation() -> None:
    """Consultations."""


@consultation.command("create")
@click.option("--slug", required=True, help="Its address: lowercase letters, digits, hyphens.")
@click.option("--title", required=True)
@click.option("--ministry", default="", help="The ministry that holds it.")
@click.option("--summary", default="")
@click.option(
    "--owner",
    "owner_email",
    required=True,
    help="Email of the official account that owns it (see `consult user create`).",
)
@click.option(
    "--organisation",
    "organisation_slug",
    default="",
    help="The address of the organisation that holds it (default: the owner's only one).",
)
@click.option(
    "--phase",
    "phases",
    multiple=True,
    metavar="PHASE=WHEN",
    help=(
        "When a phase starts, in Paris time unless a zone is given: open=2027-03-01T09:00 "
        "(required), closed=…, answered=…, published=…. Repeat for each phase."
    ),
)
def consultation_create(
    slug: str,
    title: str,
    ministry: str,
    summary: str,
    owner_email: str,
    organisation_slug: str,
    phases: tuple[str, ...],
) -> None:
    """Create a consultation with its schedule (then import its bill with `consult bill import`)."""
    from sqlalchemy import select

    from consult.accounts.models import Role, User
    from consult.accounts.services import normalise_email
    from consult.consultations.services import (
        SCHEDULED_PHASES,
        create_consultation,
        read_schedule,
    )
    from consult.errors import FormError

    async def acts_for_organisation(session: Any, owner: User, organisation: Any) -> bool:
        from consult.organisations.services import is_member

        return owner.role is Role.ADMIN or await is_member(session, organisation.id, owner.id)

    typed: dict[str, str] = {}
    for phase in phases:
        name, sep, when = phase.partition("=")
        if not sep:
            raise click.BadParameter(f"“{phase}” is not PHASE=WHEN", param_hint="--phase")
        typed[name.strip()] = when.strip()
    known = {phase.value for phase in SCHEDULED_PHASES}
    if unknown := sorted(set(typed) - known):
        raise click.BadParameter(
            f"unknown phase {', '.join(unknown)}; choose among {', '.join(sorted(known))}",
            param_hint="--phase",
        )
    starts, errors = read_schedule(typed)

    async def work(session: Any) -> int:
        owner = await session.scalar(select(User).where(User.email == normalise_email(owner_email)))
        if owner is None or not owner.has_role(Role.OFFICIAL):
            raise click.ClickException(f"no official account with the email “{owner_email}”")
        organisation = None
        if organisation_slug:
            organisation = await _organisation(session, organisation_slug)
            if not await acts_for_organisation(session, owner, organisation):
                raise click.ClickException(
                    f"“{owner_email}” is not a member of “{organisation_slug}”: "
                    "add it with `consult organisation add-member`"
                )
        created = await create_consultation(
            session,
            slug=slug,
            title=title,
            summary=summary,
            ministry=ministry,
            owner=owner,
            organisation=organisation,
            phase_starts=starts,
            input_errors=errors,
        )
        return int(created.id)

    try:
        _run(lambda settings: _with_session(settings, work))
    except FormError as exc:
        raise click.ClickException(
            "; ".join(f"{field}: {message}" for field, message in exc.fields.items())
        ) from exc
    click.echo(f"consultation “{slug}” created: import its bill with `consult bill import`")


async def _organisation(session: Any, slug: str) -> Any:
    from consult.errors import NotFound
    from consult.organisations.services import get_organisation

    try:
        return await get_organisation(session, slug)
    except NotFound:
        raise click.ClickException(f"no organisation at “{slug}”") from None


@main.group()
def organisation() -> None:
    """Organisations (ministries) and the officials who act for them."""


@organisation.command("create")
@click.option("--name", required=True, help="Its name, such as “Ministère de la Culture”.")
@click.option("--slug", default="", help="Its address (default: made from the name).")
def organisation_create(name: str, slug: str) -> None:
    """Create an organisation (recorded in the audit log)."""
    from consult.errors import FormError
    from consult.organisations.services import create_organisation

    async def work(session: Any) -> str:
        created = await create_organisation(session, name, slug, actor=None)
        return str(created.slug)

    try:
        made = _run(lambda settings: _with_session(settings, work))
    except FormError as exc:
        raise click.ClickException(
            "; ".join(f"{field}: {message}" for field, message in exc.fields.items())
        ) from exc
    click.echo(
        f"organisation “{made}” created: add its officials with `consult organisation add-member`"
    )


@organisation.command("add-member")
@click.option("--organisation", "slug", required=True, help="The organisation's address.")
@click.option("--email", required=True, help="The email of an official or moderator account.")
def organisation_add_member(slug: str, email: str) -> None:
    """Make an official or moderator act for an organisation (recorded in the audit log)."""
    from consult.errors import FormError
    from consult.organisations.services import add_member

    async def work(session: Any) -> None:
        await add_member(session, await _organisation(session, slug), email, actor=None)

    try:
        _run(lambda settings: _with_session(settings, work))
    except FormError as exc:
        raise click.ClickException(exc.first_message) from exc
    click.echo(f"“{email}” acts for “{slug}”")


@main.group()
def bill() -> None:
    """Bills."""


@bill.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--consultation", "slug", required=True, help="The consultation's address.")
@click.option(
    "--format",
    "source_format",
    type=click.Choice(["markdown", "text"]),
    default=None,
    help="Default: from the file extension (.txt is text, anything else Markdown).",
)
def bill_import(file: Path, slug: str, source_format: str | None) -> None:
    """Parse FILE and publish it as the consultation's next bill version."""
    from sqlalchemy import select

    from consult.bills.parser import BillParseError, parse_bill
    from consult.bills.services import publish_version
    from consult.consultations.models import Consultation

    fmt = source_format or ("text" if file.suffix.lower() == ".txt" else "markdown")
    try:
        source = file.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise click.ClickException(f"{file}: not valid UTF-8 (byte {exc.start + 1})") from exc
    try:
        parsed = parse_bill(source, format="text" if fmt == "text" else "markdown")
    except BillParseError as exc:
        raise click.ClickException(f"{file}: {exc}") from exc

    async def work(session: Any) -> int:
        consultation = await session.scalar(select(Consultation).where(Consultation.slug == slug))
        if consultation is None:
            raise click.ClickException(f"no consultation at “{slug}”")
        version = await publish_version(
            session, consultation, parsed, source_text=source, source_format=fmt, published_by=None
        )
        return version.number

    number = _run(lambda settings: _with_session(settings, work))
    click.echo(f"{slug}: version {number} published ({len(parsed.articles())} articles)")


@main.group()
def contributions() -> None:
    """Contributions."""


@contributions.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--consultation", "slug", required=True, help="The consultation's address.")
@click.option(
    "--format",
    "source_format",
    type=click.Choice(["jsonl", "csv"]),
    default=None,
    help="Default: from the file extension (.csv is CSV, anything else JSON Lines).",
)
def contributions_import(file: Path, slug: str, source_format: str | None) -> None:
    """Import contributions from FILE onto the latest bill version (safe to run twice)."""
    from sqlalchemy import select

    from consult.bills.services import latest_version
    from consult.consultations.models import Consultation
    from consult.contributions.importer import import_contributions, read_rows
    from consult.db import utcnow

    fmt = source_format or ("csv" if file.suffix.lower() == ".csv" else "jsonl")
    try:
        text = file.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise click.ClickException(f"{file}: not valid UTF-8 (byte {exc.start + 1})") from exc
    rows = list(read_rows(text, fmt))

    async def work(session: Any) -> Any:
        consultation = await session.scalar(select(Consultation).where(Consultation.slug == slug))
        if consultation is None:
            raise click.ClickException(f"no consultation at “{slug}”")
        version = await latest_version(session, consultation)
        if version is None:
            raise click.ClickException(f"“{slug}” has no bill yet: import the bill first")
        with click.progressbar(length=len(rows), label="Importing", file=sys.stderr) as bar:
            return await import_contributions(
                session, consultation, version, rows, now=utcnow(), progress=bar.update
            )

    report = _run(lambda settings: _with_session(settings, work))
    for error in report.errors:
        click.echo(f"{file}:{error.line}: {error.reason}", err=True)
    votes = f"votes set on {report.article_votes} articles, " if report.article_votes else ""
    click.echo(
        f"{report.created} imported, {report.already_present} already present, "
        f"{votes}{len(report.errors)} rejected"
    )
    if report.errors:
        sys.exit(1)


@main.group()
def questionnaire() -> None:
    """Questionnaires: their questions and the answers collected elsewhere."""


def _read_utf8(file: Path) -> str:
    try:
        return file.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise click.ClickException(f"{file}: not valid UTF-8 (byte {exc.start + 1})") from exc


async def _questionnaire_consultation(session: Any, slug: str) -> Any:
    from sqlalchemy import select

    from consult.consultations.models import Consultation

    consultation = await session.scalar(select(Consultation).where(Consultation.slug == slug))
    if consultation is None or not consultation.is_questionnaire:
        raise click.ClickException(f"no questionnaire consultation at “{slug}”")
    return consultation


@questionnaire.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--consultation", "slug", required=True, help="The consultation's address.")
def questionnaire_import(file: Path, slug: str) -> None:
    """Publish the questions of FILE (Markdown, or JSON for a .json file)."""
    from consult.errors import FormError
    from consult.questionnaires.format import QuestionnaireParseError, parse_questionnaire
    from consult.questionnaires.services import publish_questionnaire

    text = _read_utf8(file)
    fmt: Literal["markdown", "json"] = "json" if file.suffix.lower() == ".json" else "markdown"
    try:
        parsed = parse_questionnaire(text, fmt)
    except QuestionnaireParseError as error:
        raise click.ClickException(f"{file}: {error}") from error

    async def work(session: Any) -> Any:
        consultation = await _questionnaire_consultation(session, slug)
        try:
            return await publish_questionnaire(
                session,
                consultation,
                parsed,
                source_text=text,
                source_format=fmt,
                published_by=None,
            )
        except FormError as error:
            raise click.ClickException(error.first_message) from error

    _run(lambda settings: _with_session(settings, work))
    click.echo(f"{len(parsed.questions)} questions published")


@questionnaire.command("import-answers")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--consultation", "slug", required=True, help="The consultation's address.")
def questionnaire_import_answers(file: Path, slug: str) -> None:
    """Import answers from a CSV FILE: one row per participant (safe to run twice)."""
    from consult.db import utcnow
    from consult.errors import FormError
    from consult.questionnaires.answers_import import import_answers
    from consult.questionnaires.services import load_questionnaire

    text = _read_utf8(file)

    async def work(session: Any) -> Any:
        consultation = await _questionnaire_consultation(session, slug)
        questionnaire = await load_questionnaire(session, consultation)
        if questionnaire is None:
            raise click.ClickException(f"“{slug}” has no questions yet: import them first")
        try:
            return await import_answers(session, questionnaire, text, now=utcnow(), actor_id=None)
        except FormError as error:
            raise click.ClickException(error.first_message) from error

    report = _run(lambda settings: _with_session(settings, work))
    for error in report.errors:
        click.echo(f"{file}:{error.line}: {error.reason}", err=True)
    if report.ignored_columns:
        click.echo(f"columns ignored: {', '.join(report.ignored_columns)}", err=True)
    click.echo(
        f"{report.created} imported, {report.already_present} already present, "
        f"{len(report.errors)} rejected"
    )
    if report.errors:
        sys.exit(1)


@main.command()
@click.option("--consultation", "slug", required=True, help="The consultation's address.")
@click.option("--seed", default=0, show_default=True, type=int, help="Seed of every random step.")
def synthesize(slug: str, seed: int) -> None:
    """Compute a consultation's synthesis here, with a progress bar.

    Runs the same job the workers run; the report is published when it completes.
    """
    from consult.consultations.models import Consultation
    from consult.db import create_engine, create_session_factory, utcnow
    from consult.nlp.embed import embedder_from_setting
    from consult.synthesis.models import RunStatus
    from consult.synthesis.pipeline import SynthesisParams, SynthesisPipeline, default_stages
    from consult.synthesis.runs import execute_run, start_run
    from consult.synthesis.summary import RunFigures

    settings = Settings.from_env()

    async def work() -> tuple[int, RunStatus, str, RunFigures]:
        from sqlalchemy import select

        engine = create_engine(settings.database_url)
        factory = create_session_factory(engine)
        try:
            async with factory() as session:
                consultation = await session.scalar(
                    select(Consultation).where(Consultation.slug == slug)
                )
                if consultation is None:
                    raise click.ClickException(f"no consultation at “{slug}”")
                embedder = embedder_from_setting(settings.embedding_model)
                run, created = await start_run(
                    session,
                    consultation.id,
                    model_id=embedder.model_id,
                    params=SynthesisParams(seed=seed),
                    requested_by_id=None,
                    now=utcnow(),
                )
                await session.commit()
                if not created:
                    raise click.ClickException(
                        f"run {run.id} is already {run.status.value} for “{slug}”"
                    )
            show = _progress_printer(sys.stderr)
            pipeline = SynthesisPipeline(embedder, default_stages())
            status = await execute_run(factory, pipeline, run.id, listener=show)
            show.finish()
            async with factory() as session:
                from consult.synthesis.models import SynthesisRun
                from consult.synthesis.summary import summarise_figures

                finished = await session.get(SynthesisRun, run.id)
                figures = await summarise_figures(session, run.id)
                return run.id, status, finished.error if finished else "", figures
        finally:
            await engine.dispose()

    run_id, status, error, figures = asyncio.run(work())
    if status is not RunStatus.SUCCEEDED:
        raise click.ClickException(f"synthesis run {run_id} failed: {error}")
    click.echo(f"Synthesis run {run_id} complete (a draft: only officials see it).")
    for line in figures.lines():
        click.echo(f"  {line}")
    click.echo(
        f"Review and publish it: {settings.base_url}/consultations/{slug}/synthesis?run={run_id}"
    )


class _ProgressPrinter:
    """A run's progress: bars in a terminal; otherwise a line at each stage and each tenth of
    it, so that a log or a pipe shows where a long run is."""

    def __init__(self, stream: Any) -> None:
        self.stream = stream
        self.interactive = bool(getattr(stream, "isatty", lambda: False)())
        self.bars: dict[Any, Any] = {}
        self.stage: Any = None
        self.tenth = -1

    def __call__(self, stage: Any, done: int, total: int) -> None:
        from consult.web.labels import run_stage_name

        if self.interactive:
            if stage not in self.bars:
                self.finish()
                self.bars[stage] = click.progressbar(
                    length=max(total, 1), label=run_stage_name(stage), file=self.stream
                )
            bar = self.bars[stage]
            bar.pos = min(done, bar.length)
            bar.render_progress()
            return
        tenth = 10 * done // max(total, 1)
        if stage != self.stage or tenth > self.tenth:
            self.stage, self.tenth = stage, tenth
            click.echo(f"{run_stage_name(stage)}: {done}/{total}", file=self.stream)

    def finish(self) -> None:
        """Close the bars drawn so far."""
        for bar in self.bars.values():
            bar.render_finish()
        self.bars.clear()


def _progress_printer(stream: Any) -> _ProgressPrinter:
    return _ProgressPrinter(stream)


@main.group()
def user() -> None:
    """Accounts."""


@user.command("create")
@click.option("--email", required=True)
@click.option("--name", "display_name", required=True)
@click.option(
    "--role",
    type=click.Choice(["citizen", "moderator", "official", "admin"]),
    default="citizen",
    show_default=True,
)
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def user_create(email: str, display_name: str, role: str, password_stdin: bool) -> None:
    """Create an account (the password is asked for, never given on the command line)."""
    from consult.accounts.models import Role
    from consult.accounts.services import create_user
    from consult.errors import FormError

    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)

    async def work(session: Any) -> int:
        created = await create_user(session, email, display_name, password, role=Role(role))
        return created.id

    try:
        user_id = _run(lambda settings: _with_session(settings, work))
    except FormError as exc:
        raise click.ClickException(
            "; ".join(f"{field}: {message}" for field, message in exc.fields.items())
        ) from exc
    click.echo(f"user {user_id} created with role {role}")
