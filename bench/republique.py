"""The République numérique consultation (2015), dev half, through the product and scored.

    .venv/bin/python -m bench.republique [--seeds 0 1 2] [--keep DIR] [--no-baselines]

``../shared/data/republique-numerique-dev/`` holds the contributions on chapters 3 to 7 of the
bill: the government's articles with their votes, citizens' proposals, arguments for or against
an article or a proposal, and sources (read its SOURCE.txt). This benchmark takes them in as a
ministry would, with the product's own commands in a fresh SQLite database:

- ``consult consultation create`` and ``consult bill import bill.txt``;
- ``consult contributions import``, from rows written here: a proposal is an amendment proposing
  a new article after the last article of its section (its title as the exposé, its text as
  the wording), an argument argues for or against its article or, through ``target``, its
  proposal, a source is a link on its article or under its proposal, and the votes counted on
  each article are imported as that article's votes;
- ``consult synthesize --seed S``, the synthesis every official starts.

Then ``score.py`` (the data set's own scorer: gold = the opinion each argument discusses, among
opinions with at least 15 arguments) scores each level of the run, beside k-means with k = the
number of gold opinions and BERTopic's recipe (UMAP 15 neighbours / 5-d / ``min_dist`` 0 /
cosine, HDBSCAN ``min_cluster_size`` 10, unseeded) on the same vectors: the ones the run
stored. It prints V-measure with outliers as a class, V-measure of the clustered texts, the
share of outliers and the number of groups. BERTopic is optional (``pip install -e '.[bench]'``).
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import importlib.util
import json
import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "republique-numerique-dev"
SLUG = "republique-numerique"
OFFICIAL = "bench@republique-numerique.gouv.fr"
ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Level:
    """One level of a run's groups: each contribution's group ("other" for the outliers)."""

    name: str
    group_of: dict[int, str]


def _jsonl(name: str) -> list[dict[str, Any]]:
    with open(DATA / name, encoding="utf-8") as file:
        return [json.loads(line) for line in file if line.strip()]


def _article_key(number: str) -> str:
    """The bill importer's key of "Article 11" or "Article 1er"."""
    number = number.strip().lower().replace("er", "")
    return "art-" + "-".join(number.split())


def sections_of(bill: str) -> dict[str, list[str]]:
    """Section name -> the keys of its articles, in order (sections restart in each chapter,
    so they are known by their name: "Neutralité de l’internet")."""
    sections: dict[str, list[str]] = {}
    current = ""
    for line in bill.splitlines():
        if match := re.match(r"^Section \d+\s*[–-]\s*(.+)$", line.strip()):
            current = match.group(1).strip()
            sections.setdefault(current, [])
        elif match := re.match(r"^Article (\d+(?:er)?)\s*$", line.strip()):
            sections.setdefault(current, []).append(_article_key(match.group(1)))
    return sections


def import_rows(bill: str) -> Iterator[dict[str, Any]]:
    """The data set as rows of the import format (docs/import-format.md)."""
    sections = sections_of(bill)
    opinions = {o["id"]: o for o in _jsonl("opinions.jsonl") if not o.get("is_trashed")}
    article_of: dict[int, str] = {}
    proposal_refs: dict[int, str] = {}
    for opinion in sorted(opinions.values(), key=lambda o: o["created_at"]):
        if opinion["kind"] == "article":
            match = re.match(r"Article (\d+)", opinion["title"])
            assert match, opinion["title"]
            key = article_of[opinion["id"]] = _article_key(match.group(1))
            yield {
                "kind": "article_votes",
                "article": key,
                "votes_for": opinion["votes_ok"],
                "votes_mixed": opinion["votes_mitige"],
                "votes_against": opinion["votes_nok"],
            }
            continue
        # A proposal: a new article after the last article of the section it was filed in.
        key = article_of[opinion["id"]] = sections[opinion["section_subtitle"].strip()][-1]
        ref = proposal_refs[opinion["id"]] = f"proposal-{opinion['id']}"
        yield {
            "ref": ref,
            "author": opinion["author"],
            "article": key,
            "kind": "amendment",
            "operation": "new_article",
            "body": opinion["title"],
            "new_text": opinion["body_text"],
            "created_at": opinion["created_at"],
            "votes_for": opinion["votes_ok"],
            "votes_mixed": opinion["votes_mitige"],
            "votes_against": opinion["votes_nok"],
        }
    for argument in sorted(_jsonl("arguments.jsonl"), key=lambda a: a["created_at"]):
        if argument.get("is_trashed") or argument["opinion_id"] not in article_of:
            continue
        row = {
            "ref": f"argument-{argument['id']}",
            "author": argument["author"],
            "article": article_of[argument["opinion_id"]],
            "kind": "argument",
            "stance": argument["stance"],
            "body": argument["body"],
            "created_at": argument["created_at"],
            "votes_for": argument.get("votes_count", 0),
        }
        if argument["opinion_id"] in proposal_refs:
            row["target"] = proposal_refs[argument["opinion_id"]]
        yield row
    for source in sorted(_jsonl("sources.jsonl"), key=lambda s: s["created_at"]):
        if source["opinion_id"] not in article_of or not source.get("link"):
            continue
        row = {
            "ref": f"source-{source['id']}",
            "author": source["author"],
            "article": article_of[source["opinion_id"]],
            "kind": "source",
            "url": source["link"],
            "body": "\n\n".join(part for part in (source["title"], source["body"]) if part),
            "created_at": source["created_at"],
        }
        if source["opinion_id"] in proposal_refs:
            row["parent"] = proposal_refs[source["opinion_id"]]
        yield row


def consult(
    database_url: str, *arguments: str, stdin: str | None = None, allowed: tuple[int, ...] = (0,)
) -> str:
    """Run a `consult` command on the benchmark's database; its output (it stops the benchmark
    when the command fails with a status not ``allowed``)."""
    environment = {**os.environ, "CONSULT_DATABASE_URL": database_url}
    done = subprocess.run(  # noqa: S603  (the product's own command, arguments written here)
        [
            sys.executable,
            "-c",
            "from consult.cli import main; main()",
            "--language",
            "fr",
            *arguments,
        ],
        input=stdin,
        capture_output=True,
        text=True,
        env=environment,
        cwd=ROOT,
        check=False,
    )
    if done.returncode not in allowed:
        sys.exit(f"consult {' '.join(arguments)} failed:\n{done.stdout}{done.stderr}")
    return done.stdout + done.stderr


def take_in(database_url: str, workdir: Path) -> str:
    """Create the consultation, import its bill and its contributions; the import's summary."""
    bill = (DATA / "bill.txt").read_text(encoding="utf-8")
    consult(database_url, "db", "upgrade")
    consult(
        database_url,
        "user",
        "create",
        "--email",
        OFFICIAL,
        "--name",
        "Ministère",
        "--role",
        "official",
        "--password-stdin",
        stdin="a password for the benchmark\n",
    )
    consult(
        database_url, "organisation", "create", "--name", "Secrétariat d’État chargé du numérique"
    )
    consult(
        database_url,
        "organisation",
        "add-member",
        "--organisation",
        "secretariat-d-etat-charge-du-numerique",
        "--email",
        OFFICIAL,
    )
    consult(
        database_url,
        "consultation",
        "create",
        "--slug",
        SLUG,
        "--title",
        "Projet de loi pour une République numérique",
        "--ministry",
        "Secrétariat d’État chargé du numérique",
        "--owner",
        OFFICIAL,
        "--phase",
        "open=2015-09-26T00:00",
        "--phase",
        "closed=2015-10-18T23:59",
    )
    consult(database_url, "bill", "import", str(DATA / "bill.txt"), "--consultation", SLUG)
    rows = workdir / "contributions.jsonl"
    with open(rows, "w", encoding="utf-8") as file:
        for row in import_rows(bill):
            file.write(json.dumps(row, ensure_ascii=False) + "\n")
    # Status 1: some rows were refused, which the summary says.
    summary = consult(
        database_url, "contributions", "import", str(rows), "--consultation", SLUG, allowed=(0, 1)
    )
    return next(line for line in summary.splitlines() if "imported" in line)


@dataclass(frozen=True)
class RunRead:
    """What a run grouped: its levels, the arguments' texts, every text and its stored vector."""

    levels: list[Level]
    arguments: dict[int, str]
    texts: dict[int, str]
    vectors: dict[int, NDArray[Any]]


async def _read_run(database_url: str) -> RunRead:
    """The latest run's levels, the text of each argument (by contribution id) and the stored
    vector of every contribution the run grouped."""
    from sqlalchemy import select

    from consult.contributions.models import Contribution
    from consult.db import create_engine, create_session_factory
    from consult.nlp.embed import content_hash
    from consult.synthesis.embeddings import text_of
    from consult.synthesis.models import (
        Embedding,
        SynthesisCluster,
        SynthesisMembership,
        SynthesisRun,
    )

    engine = create_engine(database_url)
    try:
        async with create_session_factory(engine)() as db:
            # The draft just computed: the benchmark reads it as an official would.
            run = await db.scalar(select(SynthesisRun).order_by(SynthesisRun.id.desc()).limit(1))
            assert run is not None
            rows = await db.execute(
                select(
                    SynthesisMembership.contribution_id,
                    SynthesisCluster.scope,
                    SynthesisCluster.position,
                    SynthesisCluster.id,
                )
                .join(SynthesisCluster, SynthesisCluster.id == SynthesisMembership.cluster_id)
                .where(SynthesisMembership.run_id == run.id)
            )
            levels: dict[str, dict[int, str]] = collections.defaultdict(dict)
            for contribution_id, scope, position, cluster_id in rows:
                level = "theme" if scope == "" else "article"
                levels[level][contribution_id] = "other" if position < 0 else str(cluster_id)
            contributions = (
                await db.scalars(select(Contribution).where(Contribution.id.in_(levels["article"])))
            ).all()
            arguments = {
                c.id: c.body
                for c in contributions
                if (c.external_ref or "").startswith("argument-")
            }
            texts = {c.id: text_of(c) for c in contributions}
            hashes = {cid: content_hash(text) for cid, text in texts.items()}
            stored = {
                e.content_hash: np.frombuffer(e.vector, dtype="<f4")
                for e in (
                    await db.scalars(select(Embedding).where(Embedding.model_id == run.model_id))
                ).all()
            }
            vectors = {cid: stored[h] for cid, h in hashes.items() if h in stored}
    finally:
        await engine.dispose()
    return RunRead(
        [Level(name, group_of) for name, group_of in levels.items()], arguments, texts, vectors
    )


def score(
    texts: dict[int, str], group_of: dict[int, str], vectors: NDArray[Any] | None = None
) -> dict[str, Any]:
    """score.py's figures for the arguments' groups (and k-means on their vectors if given)."""
    with tempfile.TemporaryDirectory() as folder:
        clusters = Path(folder) / "clusters.jsonl"
        ids = sorted(texts)
        with open(clusters, "w", encoding="utf-8") as file:
            for cid in ids:
                file.write(
                    json.dumps({"text": texts[cid], "cluster": group_of.get(cid, "other")}) + "\n"
                )
        command = [sys.executable, str(DATA / "score.py"), str(clusters)]
        if vectors is not None:
            np.save(Path(folder) / "vectors.npy", vectors)
            command += ["--vectors", str(Path(folder) / "vectors.npy")]
        # The data set's own scorer, run as its README says.
        done = subprocess.run(command, capture_output=True, text=True, check=True)  # noqa: S603
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def bertopic_groups(
    ids: Sequence[int], vectors: NDArray[Any], texts: Sequence[str]
) -> dict[int, str]:
    """BERTopic's recipe on the same vectors (its defaults: UMAP 5-d, HDBSCAN 10, unseeded)."""
    from bertopic import BERTopic  # type: ignore[import-untyped]

    topics, _ = BERTopic(embedding_model=None).fit_transform(list(texts), embeddings=vectors)
    return {
        cid: ("other" if topic < 0 else str(topic)) for cid, topic in zip(ids, topics, strict=True)
    }


def _line(name: str, figures: dict[str, Any]) -> str:
    return (
        f"{name:<34} {figures['v_measure_all']:>6} {figures['v_measure_clustered']:>11} "
        f"{figures['outlier_share']:>9.1%} {figures['clusters']:>7}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0], help="synthesis seeds")
    parser.add_argument("--keep", type=Path, help="keep the database in this folder")
    parser.add_argument("--no-baselines", action="store_true", help="skip k-means and BERTopic")
    options = parser.parse_args()
    run(options.seeds, options.keep, baselines=not options.no_baselines)


def run(seeds: Sequence[int], keep: Path | None = None, *, baselines: bool = True) -> None:
    """Take the data set in, synthesise it with each seed, print the figures."""
    if not DATA.is_dir():
        print(f"skip République numérique: no {DATA}")
        return
    workdir = keep or Path(tempfile.mkdtemp(prefix="republique-"))
    workdir.mkdir(parents=True, exist_ok=True)
    database_url = f"sqlite:///{workdir / 'republique.sqlite3'}"
    print(f"database: {workdir / 'republique.sqlite3'}")
    print("import:", take_in(database_url, workdir))
    print(f"{'':<34} {'V all':>6} {'V clustered':>11} {'outliers':>9} {'groups':>7}")
    baselines_done = False
    for seed in seeds:
        consult(database_url, "synthesize", "--consultation", SLUG, "--seed", str(seed))
        run = asyncio.run(_read_run(database_url.replace("sqlite://", "sqlite+aiosqlite://")))
        arguments, vectors = run.arguments, run.vectors
        for level in sorted(run.levels, key=lambda lv: lv.name, reverse=True):
            print(
                _line(f"consult seed {seed}, {level.name} level", score(arguments, level.group_of))
            )
        if not baselines or baselines_done:
            continue
        baselines_done = True
        ids = sorted(arguments)
        kmeans = score(arguments, {}, np.stack([vectors[cid] for cid in ids]))
        print(
            f"{'k-means, k = ' + str(kmeans['kmeans_k']):<34} {kmeans['kmeans_v_measure']:>6} "
            f"{kmeans['kmeans_v_measure']:>11} {0:>9.1%} {kmeans['kmeans_k']:>7}"
        )
        if importlib.util.find_spec("bertopic") is None:
            print("BERTopic is not installed: pip install -e '.[bench]' to compare with it")
            continue
        everyone = sorted(vectors)
        groups = bertopic_groups(
            everyone, np.stack([vectors[cid] for cid in everyone]), [run.texts[c] for c in everyone]
        )
        print(_line("BERTopic recipe (unseeded)", score(arguments, groups)))


if __name__ == "__main__":
    main()
