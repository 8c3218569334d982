"""Synthesis throughput: a whole run on 10,000 and 100,000 contributions, stage by stage.

    .venv/bin/python -m bench.synthesis [--sizes 10000 100000] [--database-url URL]
                                        [--sample 2000] [--seed 7] [--once]

For each size, in a fresh process (so that memory figures are that size's own): a fresh
database (a temporary SQLite file, or the empty database named by ``--database-url``, taken
down and migrated again), a consultation on the demo bill, and the synthetic contributions of
bench/corpus.py bulk-inserted. The consultation is a bare one rather than the seeded demo so
that the only campaigns in it are the injected ones, which the found campaigns are scored
against. Then a synthesis run is started and executed with the default embedder (USE
multilingual), as the ``synthesize`` job does, and the bench prints per stage the wall time
(between the listener's stage transitions) and the peak resident memory, then the outlier
rate ("other" share in the consultation scope), the clusters, and the campaigns found with
their item precision and recall against the injected ones.

The model's own speed is measured in the same process on a sample of the same texts, just
before and just after the run, beside the embedding stage's throughput (texts embedded per
second of the stage) and the time spent inside the model during the stage. A second run on
the same data follows: it should embed nothing. Targets are printed next to the figures.

Peak memory: before each stage the kernel's high-water mark of resident memory (VmHWM) is
reset by writing 5 to /proc/self/clear_refs, and read again when the stage ends, so each stage
gets its own peak, exact and with no sampling. ``ru_maxrss`` alone only ever grows, so a stage
whose peak stays under an earlier stage's would show nothing; it is the fallback where the
reset is refused (then each stage shows the process peak so far). Those peaks, one per process,
are added up though reached at different moments; beside them, "at once" is the most the
processes held together, their resident memory added up every quarter second.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import os
import random
import resource
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bench.campaigns import joined_by_kind, score
from bench.corpus import SyntheticContribution, make_consultation_corpus
from consult.accounts.models import Role
from consult.accounts.services import create_user
from consult.bills.parser import parse_bill
from consult.bills.services import publish_version
from consult.consultations.services import create_consultation
from consult.contributions.models import Contribution, ContributionKind, Stance
from consult.db import create_engine, create_session_factory, utcnow
from consult.demo.seed import (
    DEMO_MINISTRY,
    DEMO_PASSWORD,
    DEMO_SLUG,
    DEMO_SUMMARY,
    DEMO_TITLE,
    demo_bill_text,
    demo_schedule,
)
from consult.memory import give_back_freed_memory
from consult.migrate import downgrade, upgrade
from consult.nlp.campaigns import Campaign
from consult.nlp.embed import Embedder, Vectors, embedder_from_setting
from consult.organisations.models import Organisation
from consult.settings import default_synthesis_processes, normalise_database_url
from consult.synthesis.embeddings import text_of_parts
from consult.synthesis.models import (
    Embedding,
    RunStage,
    RunStatus,
    SynthesisCampaign,
    SynthesisCampaignMember,
    SynthesisCluster,
)
from consult.synthesis.parallel import ScopePool
from consult.synthesis.pipeline import (
    CONSULTATION_SCOPE,
    OTHER,
    SynthesisParams,
    SynthesisPipeline,
    default_stages,
)
from consult.synthesis.runs import execute_run, start_run

STAGES = [
    RunStage.LOADING,
    RunStage.EMBEDDING,
    RunStage.CAMPAIGNS,
    RunStage.CLUSTERING,
    RunStage.SAVING,
]
AFTER_EMBEDDING = STAGES[2:]
INSERT_BATCH = 5000
TARGET_RATIO = 0.90
TARGET_AFTER_EMBEDDING_S = 60.0
TARGET_AT = 100_000
MILLION = 1_000_000
TARGET_MILLION_S = 3600.0
TARGET_MILLION_MB = 8 * 1024


# --------------------------------------------------------------------------- memory


def _status_mb(field_name: str, pid: str = "self") -> float:
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as status:
            for line in status:
                if line.startswith(field_name + ":"):
                    return int(line.split()[1]) / 1024  # the kernel reports kB
    except OSError:  # a child that has just exited
        pass
    return 0.0


def _children() -> list[str]:
    """The pids of this process's children (the clustering processes of the scope pool)."""
    pids: list[str] = []
    for task in Path("/proc/self/task").glob("*/children"):
        with contextlib.suppress(OSError):
            pids.extend(task.read_text(encoding="ascii").split())
    return pids


def _reset_peak() -> bool:
    """Set the high-water mark of resident memory back to the current resident size, for this
    process and its children."""
    try:
        for pid in ["self", *_children()]:
            with open(f"/proc/{pid}/clear_refs", "w", encoding="ascii") as clear_refs:
                clear_refs.write("5")
    except OSError:
        return False
    return True


def _peak_mb() -> float:
    """The peak resident memory since the last reset (the whole process if none), plus the
    peaks of the children: the stage's memory is that of every process working on it."""
    peak = _status_mb("VmHWM")
    # Linux reports ru_maxrss in KiB.
    own = peak or resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return own + sum(_status_mb("VmHWM", pid) for pid in _children())


# --------------------------------------------------------------------------- measuring a run

# How often the processes' resident memory is added up during a run.
_SAMPLE_SECONDS = 0.25


@dataclass
class StageClock:
    """The listener given to ``execute_run``: wall time and peak memory of each stage."""

    seconds: dict[RunStage, float] = field(default_factory=dict)
    peak_mb: dict[RunStage, float] = field(default_factory=dict)
    together_mb: dict[RunStage, float] = field(default_factory=dict)
    """The most the processes held at one moment in the stage (sampled: see _sample)."""
    start_mb: dict[RunStage, float] = field(default_factory=dict)
    exact_peaks: bool = True
    current: RunStage | None = None
    entered: float = 0.0
    next_report: float = 0.0
    _sampling: threading.Event = field(default_factory=threading.Event)

    def begin(self) -> None:
        """The run starts: its first stage, loading, is not reported by the listener."""
        self._enter(RunStage.LOADING)
        threading.Thread(target=self._sample, daemon=True).start()

    def _sample(self) -> None:
        """Every quarter second, the resident memory of this process and its children added
        up: the peak figure adds each process's own peak, reached at different moments, so it
        can exceed what the machine ever had to hold at once; this one can miss a peak
        shorter than the interval. The truth lies between."""
        while not self._sampling.wait(_SAMPLE_SECONDS):
            stage = self.current
            if stage is None or stage == RunStage.DONE:
                continue
            now = _status_mb("VmRSS") + sum(_status_mb("VmRSS", pid) for pid in _children())
            self.together_mb[stage] = max(self.together_mb.get(stage, 0.0), now)

    def __call__(self, stage: RunStage, done: int, total: int) -> None:
        if stage != self.current:
            self._enter(stage)
        now = time.perf_counter()
        if stage == RunStage.EMBEDDING and total and now >= self.next_report:
            # Progress on stderr, so that a long run can be followed in its log.
            print(f"    embedding {done:,}/{total:,}", file=sys.stderr, flush=True)
            self.next_report = now + 30

    def _enter(self, stage: RunStage) -> None:
        now = time.perf_counter()
        if self.current is not None:
            self.seconds[self.current] = now - self.entered
            self.peak_mb[self.current] = _peak_mb()
        self.exact_peaks = _reset_peak() and self.exact_peaks
        self.current, self.entered = stage, now
        self.start_mb[stage] = _status_mb("VmRSS")
        if stage != RunStage.DONE:
            print(f"  {stage.value}…", file=sys.stderr, flush=True)
        else:
            self._sampling.set()


class TimedEmbedder:
    """The embedder the run uses, counting the time spent inside the model (the time when at
    least one embed call is under way: the stage may run two at once)."""

    def __init__(self, embedder: Embedder) -> None:
        self.embedder = embedder
        self.seconds = 0.0
        self.texts = 0
        self.processes = int(getattr(embedder, "processes", 0))
        self._lock = threading.Lock()
        self._running = 0
        self._since = 0.0

    @property
    def model_id(self) -> str:
        """The wrapped model's id, so that stored vectors are shared with it."""
        return self.embedder.model_id

    @property
    def dimension(self) -> int:
        """The wrapped model's dimension."""
        return self.embedder.dimension

    def embed(self, texts: Sequence[str]) -> Vectors:
        """Embed with the wrapped model, timing it."""
        with self._lock:
            if self._running == 0:
                self._since = time.perf_counter()
            self._running += 1
        try:
            return self.embedder.embed(texts)
        finally:
            with self._lock:
                self._running -= 1
                self.texts += len(texts)
                if self._running == 0:
                    self.seconds += time.perf_counter() - self._since


@dataclass
class RunFigures:
    """What one synthesis run did and cost."""

    clock: StageClock
    embedded: int
    model_seconds: float
    total_seconds: float
    contributions: int = 0
    other: int = 0
    clusters: int = 0
    all_clusters: int = 0
    scopes: int = 0
    campaigns: list[Campaign] = field(default_factory=list)

    @property
    def after_embedding(self) -> float:
        """Seconds of the stages after embedding: campaigns, clustering, saving."""
        return sum(self.clock.seconds.get(stage, 0.0) for stage in AFTER_EMBEDDING)


async def _count_embeddings(factory: async_sessionmaker[AsyncSession]) -> int:
    async with factory() as db:
        return int(await db.scalar(select(func.count()).select_from(Embedding)) or 0)


async def _results(
    factory: async_sessionmaker[AsyncSession], run_id: int, figures: RunFigures
) -> None:
    async with factory() as db:
        clusters = (
            await db.execute(
                select(
                    SynthesisCluster.scope,
                    SynthesisCluster.position,
                    SynthesisCluster.contributions,
                ).where(SynthesisCluster.run_id == run_id)
            )
        ).all()
        consultation = [row for row in clusters if row.scope == CONSULTATION_SCOPE]
        figures.contributions = sum(row.contributions for row in consultation)
        figures.other = sum(row.contributions for row in consultation if row.position == OTHER)
        figures.clusters = sum(row.position != OTHER for row in consultation)
        figures.all_clusters = sum(row.position != OTHER for row in clusters)
        figures.scopes = len({row.scope for row in clusters})
        rows = (
            await db.scalars(select(SynthesisCampaign).where(SynthesisCampaign.run_id == run_id))
        ).all()
        members: dict[int, list[int]] = {row.id: [] for row in rows}
        for campaign_id, contribution_id in await db.execute(
            select(SynthesisCampaignMember.campaign_id, SynthesisCampaignMember.contribution_id)
            .join(SynthesisCampaign)
            .where(SynthesisCampaign.run_id == run_id)
        ):
            members[campaign_id].append(contribution_id)
        figures.campaigns = [
            Campaign(
                members=tuple(sorted(members[row.id])),
                representative=row.representative_id,
                copies=row.copies,
                exact_copies=row.exact_copies,
                distinct_authors=row.distinct_authors,
                first_at=row.first_at,
                last_at=row.last_at,
            )
            for row in rows
        ]


async def synthesise(
    factory: async_sessionmaker[AsyncSession],
    embedder: Embedder,
    consultation_id: int,
    requested_by_id: int,
    pool: ScopePool | None,
) -> RunFigures:
    """Start and execute one synthesis run, and gather its figures."""
    async with factory() as db:
        run, _ = await start_run(
            db,
            consultation_id,
            model_id=embedder.model_id,
            params=SynthesisParams(),
            requested_by_id=requested_by_id,
            now=utcnow(),
        )
        await db.commit()
        run_id = run.id
    stored_before = await _count_embeddings(factory)
    timed = TimedEmbedder(embedder)
    clock = StageClock()
    started = time.perf_counter()
    clock.begin()
    pipeline = SynthesisPipeline(timed, default_stages())
    status = await execute_run(factory, pipeline, run_id, listener=clock, pool=pool)
    total = time.perf_counter() - started
    if status != RunStatus.SUCCEEDED:
        raise RuntimeError(f"synthesis run {run_id} ended {status.value}")
    figures = RunFigures(
        clock=clock,
        embedded=await _count_embeddings(factory) - stored_before,
        model_seconds=timed.seconds,
        total_seconds=total,
    )
    await _results(factory, run_id, figures)
    return figures


# --------------------------------------------------------------------------- the data


def contribution_row(
    contribution: SyntheticContribution, consultation_id: int, version_id: int
) -> dict[str, object]:
    """The contributions table row of a synthetic contribution (every row has every key, so
    that one INSERT serves a whole batch)."""
    quote = contribution.quote
    start = contribution.quote_start
    return {
        "id": contribution.id,
        "consultation_id": consultation_id,
        "version_id": version_id,
        "article_key": contribution.article_key,
        "kind": ContributionKind(contribution.kind),
        "stance": Stance(contribution.stance) if contribution.stance else None,
        "body": contribution.body,
        "alinea": contribution.alinea,
        "quote_exact": quote,
        "quote_start": start,
        "quote_end": start + len(quote) if quote is not None and start is not None else None,
        "operation": contribution.operation,
        "old_text": contribution.old_text,
        "new_text": contribution.new_text,
        "votes_for": contribution.votes_for,
        "votes_mixed": contribution.votes_mixed,
        "votes_against": contribution.votes_against,
        "external_ref": f"bench-{contribution.id}",
        "author_pseudonym": contribution.author,
        "created_at": contribution.created_at,
    }


async def prepare(
    factory: async_sessionmaker[AsyncSession], corpus: list[SyntheticContribution]
) -> tuple[int, int, float]:
    """A consultation on the demo bill holding the corpus; its id, its owner's id, and the
    rows inserted per second."""
    async with factory() as session:
        owner = await create_user(
            session, "ministere@bench.consult.test", "Ministère", DEMO_PASSWORD, role=Role.OFFICIAL
        )
        organisation = Organisation(name=DEMO_MINISTRY, slug="ministere")
        session.add(organisation)
        await session.flush()
        consultation = await create_consultation(
            session,
            slug=DEMO_SLUG,
            title=DEMO_TITLE,
            summary=DEMO_SUMMARY,
            ministry=DEMO_MINISTRY,
            owner=owner,
            organisation=organisation,
            phase_starts=demo_schedule(utcnow()),
            languages=["fr", "en"],
        )
        source = demo_bill_text()
        version = await publish_version(
            session,
            consultation,
            parse_bill(source, format="markdown"),
            source_text=source,
            source_format="markdown",
            published_by=owner,
        )
        await session.commit()
        started = time.perf_counter()
        for start in range(0, len(corpus), INSERT_BATCH):
            rows = [
                contribution_row(c, consultation.id, version.id)
                for c in corpus[start : start + INSERT_BATCH]
            ]
            await session.execute(insert(Contribution), rows)
        await session.commit()
        return consultation.id, owner.id, len(corpus) / (time.perf_counter() - started)


def model_speed(embedder: Embedder, texts: list[str]) -> float:
    """Sentences per second of one ``embed`` call on these texts."""
    started = time.perf_counter()
    embedder.embed(texts)
    return len(texts) / (time.perf_counter() - started)


# --------------------------------------------------------------------------- printing


def _load() -> str:
    return "load average " + " / ".join(f"{value:.1f}" for value in os.getloadavg())


def _target(met: bool) -> str:
    return "met" if met else "NOT met"


def print_run(name: str, figures: RunFigures) -> None:
    clock = figures.clock
    peak = "peak RSS MB" if clock.exact_peaks else "max RSS so far MB"
    print(f"  {name}: {figures.total_seconds:.1f} s in all, {figures.embedded:,} texts embedded")
    print(f"    {'stage':<12}{'wall s':>9}{'RSS at start MB':>17}{peak:>19}{'at once MB':>12}")
    for stage in STAGES:
        print(
            f"    {stage.value:<12}{clock.seconds.get(stage, 0.0):>9.1f}"
            f"{clock.start_mb.get(stage, 0.0):>17.0f}{clock.peak_mb.get(stage, 0.0):>19.0f}"
            f"{clock.together_mb.get(stage, 0.0):>12.0f}"
        )
    print(
        "    (peak: each process's own peak in the stage, added up; at once: the most they held"
        f" together, sampled every {_SAMPLE_SECONDS} s)"
    )


@dataclass(frozen=True)
class Truth:
    """What the corpus says of its campaigns: each contribution's letter, and how each copy
    of a letter was made."""

    campaign: dict[int, int | None]
    made: dict[int, str]

    @classmethod
    def of(cls, corpus: Sequence[SyntheticContribution]) -> Truth:
        return cls(
            campaign={c.id: c.campaign for c in corpus},
            made={c.id: c.made for c in corpus if c.campaign is not None},
        )


def _give_back_freed_memory() -> None:
    """Collect, then return freed pages to the system, so that the figures that follow start
    from what is still held."""
    gc.collect()
    give_back_freed_memory()


def print_quality(figures: RunFigures, known: Truth) -> None:
    truth, kinds = known.campaign, known.made
    found = score(figures.campaigns, truth)
    injected = len({c for c in truth.values() if c is not None})
    share = figures.other / figures.contributions if figures.contributions else 0.0
    print(
        f'  outliers: {share:.1%} "other" in the consultation scope '
        f"({figures.other:,} of {figures.contributions:,}); clusters: {figures.clusters} in the "
        f"consultation scope, {figures.all_clusters} over {figures.scopes} scopes"
    )
    print(
        f"  campaigns: {len(figures.campaigns)} found, {injected} injected; item precision "
        f"{found['item_precision']:.3f}, recall {found['item_recall']:.3f}; pair precision "
        f"{found['pair_precision']:.3f}, recall {found['pair_recall']:.3f}"
    )
    joined = joined_by_kind(figures.campaigns, truth, kinds)
    print(
        "    copies in their letter's main campaign: "
        + ", ".join(f"{kind} {value:.3f}" for kind, value in joined.items())
    )


def summary(size: int, figures: RunFigures, model: float) -> dict[str, Any]:
    """What a size's first run says of the scaling: seconds per stage, peak, model speed."""
    clock = figures.clock
    return {
        "size": size,
        "seconds": {stage.value: clock.seconds.get(stage, 0.0) for stage in STAGES},
        "peak_mb": max(clock.peak_mb.values(), default=0.0),
        "embedded": figures.embedded,
        "model": model,
    }


def _at(sizes: Sequence[int], values: Sequence[float], size: int) -> float:
    """``values`` carried to ``size``: along the line through the two largest sizes, or in
    proportion to the one size measured."""
    if len(sizes) < 2:
        return values[-1] * size / sizes[-1]
    (n1, v1), (n2, v2) = sorted(zip(sizes, values, strict=True))[-2:]
    slope = max(0.0, (v2 - v1) / (n2 - n1))
    return v2 + slope * (size - n2)


def print_million(measured: Sequence[dict[str, Any]]) -> None:
    """What the sizes measured say of a million contributions, beside the targets.

    The embedding stage at a million is the texts to embed there divided by the stage's rate
    at the largest size (the rate does not depend on the size; the load of the machine moves
    it). Every other stage two ways: along the line through the two largest sizes (its fixed
    part, such as laying out the sample of each article, is not multiplied) and in proportion
    to the largest size (an upper bound when the stage has a fixed part). The peak along the
    same line. Estimates all, to be checked by running the size itself.
    """
    measured = sorted(measured, key=lambda figures: figures["size"])
    if not measured or measured[-1]["size"] >= MILLION:
        return
    sizes = [figures["size"] for figures in measured]
    largest = measured[-1]
    print(
        f"1,000,000 contributions, estimated from {', '.join(f'{n:,}' for n in sizes)}; {_load()}"
    )
    print(f"  {'stage':<12}{'along the line, min':>22}{'in proportion, min':>20}")
    embedded = _at(sizes, [figures["embedded"] for figures in measured], MILLION)
    stage_seconds = largest["seconds"][RunStage.EMBEDDING.value]
    rate = largest["embedded"] / stage_seconds if stage_seconds else 0.0
    totals = [0.0, 0.0]
    for stage in STAGES:
        values = [figures["seconds"][stage.value] for figures in measured]
        if stage == RunStage.EMBEDDING:
            line = proportion = embedded / rate if rate else 0.0
        else:
            line = (
                _at(sizes, values, MILLION) if len(sizes) > 1 else values[-1] * MILLION / sizes[-1]
            )
            proportion = values[-1] * MILLION / sizes[-1]
        totals[0] += line
        totals[1] += proportion
        print(f"  {stage.value:<12}{line / 60:>22.1f}{proportion / 60:>20.1f}")
    verdict = (
        "met"
        if totals[1] <= TARGET_MILLION_S
        else "met along the line only"
        if totals[0] <= TARGET_MILLION_S
        else "NOT met"
    )
    print(
        f"  in all {totals[0] / 60:.0f} to {totals[1] / 60:.0f} min (target <= "
        f"{TARGET_MILLION_S / 60:.0f} min: {verdict}); "
        f"{embedded:,.0f} texts to embed at the stage's {rate:.0f} texts/s of {largest['size']:,}"
        f" (the model alone: {largest['model']:.0f} sentences/s)"
    )
    if len(sizes) > 1:
        peak = _at(sizes, [figures["peak_mb"] for figures in measured], MILLION)
        print(
            f"  peak resident memory about {peak / 1024:.1f} GiB, all processes "
            f"(target <= {TARGET_MILLION_MB / 1024:.0f} GiB: {_target(peak <= TARGET_MILLION_MB)})"
        )
    else:
        print("  peak memory: measure two sizes to carry it")


# --------------------------------------------------------------------------- one size


async def measure(
    url: str, size: int, seed: int, sample_size: int, processes: int, again: bool = True
) -> dict[str, Any]:
    started = time.perf_counter()
    corpus = make_consultation_corpus(size, seed)
    made_in = time.perf_counter() - started
    engine = create_engine(url)
    factory = create_session_factory(engine)
    try:
        consultation_id, owner_id, rows_per_s = await prepare(factory, corpus)
        print(
            f"{size:,} contributions (corpus made in {made_in:.1f} s, inserted at "
            f"{rows_per_s:,.0f} rows/s); {_load()}"
        )
        embedder = embedder_from_setting(None)
        started = time.perf_counter()
        load = getattr(embedder, "load", None)
        if load is not None:
            load()
        # As a worker does when it starts: the embedding processes load their model once.
        start_processes = getattr(embedder, "start_processes", None)
        if start_processes is not None:
            start_processes()
        loaded_in = time.perf_counter() - started
        embedding_processes = int(getattr(embedder, "processes", 0))
        distinct = sorted({text for c in corpus if (text := _text(c))})
        sample = random.Random(seed).sample(distinct, min(sample_size, len(distinct)))
        # The runs read their contributions from the database, as a worker does: only what
        # scoring the campaigns needs is kept of the corpus, so that the memory measured is
        # the run's, not the benchmark's copy of the texts (1.5 GB at a million).
        truth = Truth.of(corpus)
        del corpus, distinct
        _give_back_freed_memory()
        speed_before = model_speed(embedder, sample)

        # As a worker does when it starts: the clustering processes compile their code once.
        started = time.perf_counter()
        pool = ScopePool(processes) if processes > 0 else None
        if pool is not None:
            await pool.warm_up()
        print(
            f"  clustering processes: {processes} (started and warmed in "
            f"{time.perf_counter() - started:.1f} s, before the runs, as at worker start)"
        )
        first = await synthesise(factory, embedder, consultation_id, owner_id, pool)
        speed_after = model_speed(embedder, sample)
        second = (
            await synthesise(factory, embedder, consultation_id, owner_id, pool) if again else None
        )
        if pool is not None:
            pool.close()

        print_run("first run", first)
        print_quality(first, truth)
        model = (speed_before + speed_after) / 2
        stage_seconds = first.clock.seconds.get(RunStage.EMBEDDING, 0.0)
        stage = first.embedded / stage_seconds if stage_seconds else 0.0
        inside = first.embedded / first.model_seconds if first.model_seconds else 0.0
        ratio = stage / model if model else 0.0
        where = (
            f"{embedding_processes} embedding processes, one BLAS thread each"
            if embedding_processes
            else "in the run's process"
        )
        print(
            f"  model alone ({embedder.model_id}, {where}, loaded in {loaded_in:.1f} s): "
            f"{speed_before:.0f} sentences/s before the run, {speed_after:.0f} after "
            f"({len(sample):,} of the same texts, one embed call)"
        )
        print(
            f"  embedding stage: {first.embedded:,} distinct texts of {size:,} contributions in "
            f"{stage_seconds:.1f} s = {stage:.0f} texts/s; the model was at work "
            f"{first.model_seconds:.1f} s of it ({inside:.0f} texts/s), so "
            f"{1 - first.model_seconds / stage_seconds:.1%} of the stage is outside the model "
            "(lookups, storing, reading vectors back)"
        )
        print(
            f"  ratio stage / model: {ratio:.2f} (target >= {TARGET_RATIO:.2f}: "
            f"{_target(ratio >= TARGET_RATIO)})"
        )
        after = first.after_embedding
        target = (
            f"target <= {TARGET_AFTER_EMBEDDING_S:.0f} s at {TARGET_AT:,}: "
            f"{_target(after <= TARGET_AFTER_EMBEDDING_S)}"
            if size == TARGET_AT
            else f"the target of {TARGET_AFTER_EMBEDDING_S:.0f} s is for {TARGET_AT:,}"
        )
        print(f"  stages after embedding: {after:.1f} s ({target})")
        if second is None:
            return summary(size, first, model)
        print_run("second run, same data", second)
        print(
            f"  second run embedded {second.embedded:,} texts (target 0: "
            f"{_target(second.embedded == 0)}), {second.total_seconds:.1f} s in all, "
            f"{second.after_embedding:.1f} s after embedding; {_load()}",
            flush=True,
        )
        return summary(size, first, model)
    finally:
        await engine.dispose()


def _text(contribution: SyntheticContribution) -> str:
    return text_of_parts(contribution.body, contribution.new_text)


def run_size(
    size: int,
    seed: int,
    sample_size: int,
    database_url: str | None,
    processes: int,
    again: bool = True,
) -> dict[str, Any]:
    """Measure one size on a fresh database (prints its figures, returns its summary)."""
    if database_url:
        url = normalise_database_url(database_url)
        downgrade(url, "base")
        upgrade(url)
        return asyncio.run(measure(url, size, seed, sample_size, processes, again))
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite+aiosqlite:///{Path(tmp) / 'synthesis.sqlite3'}"
        upgrade(url)
        return asyncio.run(measure(url, size, seed, sample_size, processes, again))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument(
        "--database-url",
        help="an empty database to use instead of a temporary SQLite file (it is emptied)",
    )
    parser.add_argument("--sample", type=int, default=2000, help="texts for the model's speed")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--processes",
        type=int,
        default=default_synthesis_processes(),
        help="clustering processes (CONSULT_SYNTHESIS_PROCESSES; default: one per core, max 4)",
    )
    parser.add_argument(
        "--once",
        action="store_true",
        help="one run per size, without the second run that checks nothing is embedded again",
    )
    args = parser.parse_args()
    measured = []
    for size in args.sizes:
        # A fresh process per size, so that the memory figures are that size's own.
        with ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn")) as pool:
            measured.append(
                pool.submit(
                    run_size,
                    size,
                    args.seed,
                    args.sample,
                    args.database_url,
                    args.processes,
                    not args.once,
                ).result()
            )
    print_million(measured)


if __name__ == "__main__":
    main()
