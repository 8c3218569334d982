"""Cluster titles on real consultation data: before and after, and speed at 100,000 texts.

    .venv/bin/python -m bench.titles [--data DIR] [--database FILE] [--show 40] [--size 100000]

Reads the République numérique 2015 dev data (``--data``, default
``/work/shared/data/republique-numerique-dev``; its SOURCE.txt says what it is) and, when it
exists, the SQLite database of that consultation imported into the product with a synthesis
run done (``--database``, default ``/tmp/rn-dev.sqlite3``, opened read-only). Nothing of either
is copied into the repository.

Groups titled:

- *gold*: the arguments of each opinion that has at least 15 of them (35 groups), labelled in
  one call with every other argument as "other"; the central item is the argument closest to
  its group's TF-IDF centroid;
- *sections*: the citizens' proposals of each section of the bill, their titles passed as
  headlines;
- *stored*: the clusters of the stored synthesis run, scope by scope, with their stored
  central item (the first quote) and the proposals' titles as headlines.

"Before" is the title rule this module replaced (the central text's sentence with the most
keywords, cut to 70 characters with "…", or three keywords joined by " · "); for stored
clusters it is the title stored by the run. For each set the bench prints the share of titles
cut with "…", the share that contain one of the group's top-3 keywords (among topic groups:
groups of brief reactions are counted apart), the share that are keyword lists, the mean
length, then ``--show`` groups with both titles, and the time to label ``--size`` synthetic
texts (real texts repeated, in 300 clusters), with the part spent choosing titles.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer

import consult.nlp.label as label_module
from consult.nlp.embed import prepare_text
from consult.nlp.label import TITLE_MAX_CHARS, ClusterLabel, label_clusters, terms_of
from consult.nlp.titles import sentences_of

DEFAULT_DATA = Path("/work/shared/data/republique-numerique-dev")
# Where importing this data set into the product leaves its database; only ever read here.
DEFAULT_DATABASE = Path("/tmp/rn-dev.sqlite3")  # noqa: S108
GOLD_MIN_ARGUMENTS = 15


@dataclass
class Group:
    """One titled group: where it comes from, and its titles before and after."""

    set_name: str
    name: str
    size: int
    keywords: tuple[str, ...]
    before: str
    after: ClusterLabel


# --------------------------------------------------------------------------- the old rule


def legacy_title(central_text: str, keywords: Sequence[str]) -> str:
    """The title rule before this change, for the "before" column of groups with no stored one."""

    def shorten(text: str) -> str:
        text = text.strip()
        if len(text) <= TITLE_MAX_CHARS:
            text = text.rstrip(" .,;:-–—") if text.endswith(".") else text
        else:
            head = text[: TITLE_MAX_CHARS - 1]
            space = head.rfind(" ")
            head = head[:space] if space > 0 else head
            text = head.rstrip(" .,;:-–—") + "…"
        return text[:1].upper() + text[1:] if text[:1].islower() else text

    wanted = set(keywords)
    best, best_hits = "", 0
    for sentence in sentences_of(central_text) if central_text else []:
        hits = len(wanted.intersection(terms_of(sentence)))
        if hits > best_hits:
            best, best_hits = sentence, hits
    if best:
        return shorten(best)
    return shorten(" · ".join(keywords[:3])) if keywords else ""


# --------------------------------------------------------------------------- data


def read_jsonl(path: Path) -> list[dict[str, object]]:
    with path.open(encoding="utf-8") as lines:
        return [json.loads(line) for line in lines if line.strip()]


def centroid_nearest(texts: Sequence[str], labels: Sequence[int]) -> dict[int, int]:
    """Per group, the text closest to the group's mean TF-IDF vector (a stand-in for the
    embedding centrality the pipeline uses)."""
    matrix = TfidfVectorizer(sublinear_tf=True).fit_transform(texts)
    label_array = np.asarray(labels)
    central: dict[int, int] = {}
    for group in sorted(set(labels) - {-1}):
        rows = np.flatnonzero(label_array == group)
        centre = np.asarray(matrix[rows].mean(axis=0)).ravel()
        similarity = matrix[rows] @ centre
        central[group] = int(rows[int(np.argmax(similarity))])
    return central


def gold_groups(data: Path) -> list[Group]:
    opinions = {int(str(o["id"])): o for o in read_jsonl(data / "opinions.jsonl")}
    arguments = read_jsonl(data / "arguments.jsonl")
    counts: dict[int, int] = defaultdict(int)
    for argument in arguments:
        counts[int(str(argument["opinion_id"]))] += 1
    gold = sorted(o for o, n in counts.items() if n >= GOLD_MIN_ARGUMENTS)
    group_of = {opinion: position for position, opinion in enumerate(gold)}
    texts = [prepare_text(str(a["body"])) for a in arguments]
    labels = [group_of.get(int(str(a["opinion_id"])), -1) for a in arguments]
    central = centroid_nearest(texts, labels)
    after = label_clusters(texts, labels, central)
    return [
        Group(
            "gold",
            f"arguments on « {str(opinions[opinion]['title'])[:60]} »",
            counts[opinion],
            after[position].keywords,
            legacy_title(texts[central[position]], after[position].keywords),
            after[position],
        )
        for position, opinion in enumerate(gold)
    ]


def section_groups(data: Path) -> list[Group]:
    proposals = [o for o in read_jsonl(data / "opinions.jsonl") if o["kind"] == "proposal"]
    sections = sorted({str(p["section_subtitle"]) for p in proposals})
    group_of = {section: position for position, section in enumerate(sections)}
    texts = [prepare_text(f"{p['title']}\n\n{p['body_text']}") for p in proposals]
    headlines = [str(p["title"]) for p in proposals]
    labels = [group_of[str(p["section_subtitle"])] for p in proposals]
    central = centroid_nearest(texts, labels)
    after = label_clusters(texts, labels, central, headlines=headlines)
    return [
        Group(
            "sections",
            f"proposals in section « {section} »",
            labels.count(position),
            after[position].keywords,
            legacy_title(texts[central[position]], after[position].keywords),
            after[position],
        )
        for position, section in enumerate(sections)
    ]


def stored_groups(database: Path) -> list[Group]:
    connection = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    try:
        run = connection.execute("SELECT max(run_id) FROM synthesis_clusters").fetchone()[0]
        clusters = connection.execute(
            "SELECT id, scope, position, title, keywords, quotes FROM synthesis_clusters "
            "WHERE run_id = ? ORDER BY scope, position",
            (run,),
        ).fetchall()
        members = connection.execute(
            "SELECT m.cluster_id, c.id, c.kind, c.body, c.new_text FROM synthesis_memberships m "
            "JOIN contributions c ON c.id = m.contribution_id WHERE m.run_id = ? "
            "ORDER BY m.cluster_id, c.id",
            (run,),
        ).fetchall()
    finally:
        connection.close()
    by_cluster: dict[int, list[tuple[int, str, str, str]]] = defaultdict(list)
    for cluster_id, contribution, kind, body, new_text in members:
        by_cluster[cluster_id].append((contribution, kind, body, new_text))
    by_scope: dict[str, list[tuple[int, int, str, list[str], list[int]]]] = defaultdict(list)
    for cluster_id, scope, position, title, keywords, quotes in clusters:
        by_scope[scope].append(
            (cluster_id, position, title, json.loads(keywords), json.loads(quotes))
        )

    groups: list[Group] = []
    for scope, rows in sorted(by_scope.items()):
        texts: list[str] = []
        labels: list[int] = []
        headlines: list[str] = []
        index_of: dict[int, int] = {}
        for cluster_id, position, _title, _keywords, _quotes in rows:
            for contribution, kind, body, new_text in by_cluster[cluster_id]:
                index_of[contribution] = len(texts)
                texts.append(prepare_text("\n\n".join(p for p in (body, new_text) if p)))
                labels.append(position)
                # An imported proposal is an amendment whose body is the proposal's title.
                headlines.append(body if kind == "amendment" and new_text else "")
        central = {
            position: index_of[quotes[0]]
            for _id, position, _title, _keywords, quotes in rows
            if position >= 0 and quotes and quotes[0] in index_of
        }
        after = label_clusters(texts, labels, central, headlines=headlines)
        for _id, position, title, keywords, _quotes in rows:
            if position < 0:
                continue
            groups.append(
                Group(
                    "stored",
                    f"stored cluster {scope or 'consultation'} #{position}",
                    labels.count(position),
                    tuple(keywords),
                    title,
                    after[position],
                )
            )
    return groups


# --------------------------------------------------------------------------- figures


def has_top_keyword(title: str, keywords: Sequence[str]) -> bool:
    return not set(keywords[:3]).isdisjoint(terms_of(title))


def figures(groups: Sequence[Group]) -> None:
    n = len(groups)
    topics = [g for g in groups if not g.after.generic]
    print(f"  {n} groups, {n - len(topics)} recognised as groups of brief reactions")
    rows = (
        ("cut with '…'", lambda t, _k: t.endswith("…")),
        ("keyword list ' · '", lambda t, _k: " · " in t),
        ("over the limit", lambda t, _k: len(t) > TITLE_MAX_CHARS),
        ("empty", lambda t, _k: not t),
    )
    print(f"  {'':34} {'before':>8} {'after':>8}")
    for caption, test in rows:
        before = sum(test(g.before, g.keywords) for g in groups) / n
        after = sum(test(g.after.title, g.after.keywords) for g in groups) / n
        print(f"  {caption:34} {before:8.0%} {after:8.0%}")
    if topics:
        before = sum(has_top_keyword(g.before, g.keywords) for g in topics) / len(topics)
        after = sum(has_top_keyword(g.after.title, g.after.keywords) for g in topics) / len(topics)
        print(f"  {'has a top-3 keyword (topic groups)':34} {before:8.0%} {after:8.0%}")
    mean_before = sum(len(g.before) for g in groups) / n
    mean_after = sum(len(g.after.title) for g in groups) / n
    print(f"  {'mean length (characters)':34} {mean_before:8.1f} {mean_after:8.1f}")


def show(groups: Sequence[Group], count: int) -> None:
    if count <= 0 or not groups:
        return
    step = max(len(groups) / count, 1.0)
    picked = sorted({int(i * step) for i in range(min(count, len(groups)))})
    for index in picked:
        group = groups[index]
        flag = "  [brief reactions]" if group.after.generic else ""
        print(f"- {group.name} ({group.size} items){flag}")
        print(f"    keywords: {', '.join(group.after.keywords[:5])}")
        print(f"    before:   {group.before}")
        print(f"    after:    {group.after.title}")


def timing(data: Path, size: int) -> None:
    arguments = [prepare_text(str(a["body"])) for a in read_jsonl(data / "arguments.jsonl")]
    proposals = [
        prepare_text(f"{o['title']}\n\n{o['body_text']}")
        for o in read_jsonl(data / "opinions.jsonl")
    ]
    pool = arguments + proposals
    texts = [pool[i % len(pool)] for i in range(size)]
    clusters = 300
    labels = np.arange(size) % clusters
    central = {c: c for c in range(clusters)}

    spent = [0.0]
    choose = getattr(label_module, "choose_title")  # noqa: B009 (swapped for a timed one)

    def timed(*args: object, **kwargs: object) -> object:
        started = time.perf_counter()
        try:
            return choose(*args, **kwargs)
        finally:
            spent[0] += time.perf_counter() - started

    setattr(label_module, "choose_title", timed)  # noqa: B010
    try:
        started = time.perf_counter()
        label_clusters(texts, labels, central)
        total = time.perf_counter() - started
    finally:
        setattr(label_module, "choose_title", choose)  # noqa: B010
    print(
        f"\n{size:,} texts in {clusters} clusters: {total:.1f} s, of which {spent[0]:.1f} s "
        "choosing titles"
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--database", type=Path, default=DEFAULT_DATABASE)
    parser.add_argument("--show", type=int, default=20, help="groups listed per set")
    parser.add_argument("--size", type=int, default=100_000, help="texts in the timing run")
    parser.add_argument("--set", choices=("gold", "sections", "stored"), action="append")
    args = parser.parse_args(argv)
    if not (args.data / "arguments.jsonl").exists():
        print(f"no data in {args.data}: see the docstring", file=sys.stderr)
        return 2
    sets = args.set or ["gold", "sections", "stored"]
    for set_name in sets:
        if set_name == "stored" and not args.database.exists():
            print(f"\n== stored: no database at {args.database}, skipped")
            continue
        started = time.perf_counter()
        if set_name == "gold":
            groups = gold_groups(args.data)
        elif set_name == "sections":
            groups = section_groups(args.data)
        else:
            groups = stored_groups(args.database)
        print(f"\n== {set_name} ({time.perf_counter() - started:.1f} s)")
        figures(groups)
        show(groups, args.show)
    if args.size > 0:
        timing(args.data, args.size)
    return 0


if __name__ == "__main__":
    sys.exit(main())
