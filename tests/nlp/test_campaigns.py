"""Copy-paste campaign detection: normalisation, shingles, grouping and its invariants."""

from __future__ import annotations

import itertools
import json
import random
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from datasketch import MinHash
from hypothesis import given, settings
from hypothesis import strategies as st

from consult.nlp import campaigns as campaigns_module
from consult.nlp.campaigns import (
    Campaign,
    CampaignParams,
    Item,
    detect_campaigns,
    shingle_hash,
    signatures,
)
from consult.nlp.normalize import normalise_for_matching, shingles, shingles_of_normalised

DEMO = Path(__file__).resolve().parents[2] / "consult" / "demo" / "contributions.jsonl"
T0 = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)

TEMPLATE = (
    "Je m'oppose à l'article 13 du projet de loi, qui prévoit une amende pouvant atteindre "
    "quinze mille euros pour les représentants d'intérêts. En tant que professionnel, je "
    "participe de bonne foi aux consultations publiques pour apporter une expertise de terrain. "
    "Cette sanction disproportionnée découragera les entreprises de contribuer, au détriment "
    "de la qualité des textes. Je demande donc la suppression du II de l'article 13."
)
WORD_CHANGED = TEMPLATE.replace("découragera", "dissuadera")
SENTENCE_ADDED = TEMPLATE + " Merci de votre écoute et bon courage aux rédacteurs."
TYPOS = TEMPLATE.replace("oppose", "opose").replace("euros", "euro").replace("bonne", "bnone")

# Ten different arguments about the same article: same topic, same vocabulary, no copies.
SAME_ARTICLE = [
    "L'amende de quinze mille euros prévue à l'article 13 est disproportionnée pour une "
    "association de quartier qui n'a ni juriste ni permanent.",
    "Je soutiens l'article 13 : sans sanction, le registre des représentants d'intérêts "
    "resterait une obligation de papier que personne ne respecte.",
    "L'article 13 devrait distinguer les entreprises des associations, dont les moyens ne "
    "sont pas comparables, et moduler l'amende selon le chiffre d'affaires.",
    "Qui contrôlera le respect de l'article 13 ? Le texte ne désigne aucune autorité et ne "
    "prévoit aucun moyen supplémentaire pour les contrôles.",
    "Il faudrait une mise en demeure avant toute amende : beaucoup de petites structures "
    "ignorent qu'elles doivent s'inscrire au registre.",
    "Quinze mille euros, c'est peu pour un grand groupe industriel ; l'amende devrait être "
    "proportionnelle au budget consacré au lobbying.",
    "La rédaction de l'article 13 est trop floue : la notion de représentant d'intérêts "
    "doit être définie précisément pour éviter les contentieux.",
    "Je propose que les sanctions prononcées en application de l'article 13 soient "
    "publiées en ligne, avec le nom des personnes morales concernées.",
    "Les élus locaux devraient eux aussi déclarer leurs rencontres avec les lobbies, "
    "sinon l'article 13 ne concerne qu'une partie du problème.",
    "Supprimer l'article 13 serait une erreur : la transparence sur l'influence des "
    "intérêts privés est une demande ancienne des citoyens.",
]


def jaccard(first: str, second: str, size: int = 5) -> float:
    a, b = shingles(first, size), shingles(second, size)
    return len(a & b) / len(a | b)


def make_items(texts: Sequence[str], *, start_id: int = 1) -> list[Item]:
    """One item per text, by distinct authors, an hour apart."""
    return [
        Item(
            id=start_id + n,
            text=text,
            author=f"auteur-{start_id + n}",
            created_at=T0 + timedelta(hours=n),
        )
        for n, text in enumerate(texts)
    ]


def assert_invariants(found: list[Campaign], items: Sequence[Item], params: CampaignParams) -> None:
    by_id = {item.id: item for item in items}
    seen: set[int] = set()
    for campaign in found:
        assert list(campaign.members) == sorted(campaign.members)
        assert not seen & set(campaign.members), "an item is in two campaigns"
        seen |= set(campaign.members)
        members = [by_id[member] for member in campaign.members]
        assert campaign.copies == len(members) >= params.min_copies
        assert campaign.representative in campaign.members
        representative = normalise_for_matching(by_id[campaign.representative].text)
        assert campaign.exact_copies == sum(
            normalise_for_matching(m.text) == representative for m in members
        )
        assert campaign.distinct_authors == len({m.author for m in members})
        assert campaign.first_at == min(m.created_at for m in members)
        assert campaign.last_at == max(m.created_at for m in members)
    keys = [(-c.copies, c.members[0]) for c in found]
    assert keys == sorted(keys)


# --- normalisation --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("variants", "expected"),
    [
        (["L’article", "L'article", "L‘article", "Lʼarticle", "l'ARTICLE"], "l'article"),
        (
            ["« redevabilité »", "«redevabilité»", "“redevabilité”", '"redevabilité"'],
            "redevabilité",
        ),
        (
            [
                "le « droit » d’être",
                'le "droit" d\'être',
                "le “droit” d’être",
                "le «\u202fdroit\u202f» d’être",
            ],
            'le "droit" d\'être',
        ),
        (
            ["Article\u00a02", "Article\u202f2", "Article  2", "article\n2", "Article\t 2"],
            "article 2",
        ),
        (
            ["D’accord !", "d'accord!", "D'accord\u202f!", "  D'accord.  ", "...d'accord ?!"],
            "d'accord",
        ),
        (
            ["un *droit* réel", "un **droit** réel", "un _droit_ réel", "un `droit` réel"],
            "un droit réel",
        ),
        (["mi-temps", "mi–temps", "mi—temps", "mi\u2011temps"], "mi-temps"),
        (["Oui, mais non", "Oui , mais non", "OUI, MAIS NON"], "oui, mais non"),
        (["zéro\u200bdéchet", "zéro\u00addéchet", "\ufeffzérodéchet"], "zérodéchet"),
        (["Ｌ’ÉTÉ", "l’été"], "l'été"),
    ],
)
def test_normalisation_folds_typographic_variants(variants: list[str], expected: str) -> None:
    assert {normalise_for_matching(variant) for variant in variants} == {expected}


def test_normalisation_keeps_accents() -> None:
    words = ["côte", "cote", "côté", "coté"]
    assert len({normalise_for_matching(word) for word in words}) == 4
    assert normalise_for_matching("Élève À PARIS") == "élève à paris"


def test_normalisation_of_empty_and_punctuation_only_texts() -> None:
    for text in ["", "   ", "...", "« ! »", "\u00a0\n\t", "**"]:
        assert normalise_for_matching(text) == ""
        assert shingles(text) == set()


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_normalisation_is_idempotent(text: str) -> None:
    once = normalise_for_matching(text)
    assert normalise_for_matching(once) == once


def test_shingles() -> None:
    assert shingles("Abcdef") == {"abcde", "bcdef"}
    assert shingles("« Oui ! »") == {"oui"}
    assert shingles("abc", size=3) == {"abc"}
    assert shingles("ab ab ab", size=2) == {"ab", "b ", " a"}
    with pytest.raises(ValueError):
        shingles("abc", size=0)


@settings(max_examples=200, deadline=None)
@given(st.text(), st.integers(min_value=1, max_value=8))
def test_shingles_cover_the_normalised_text(text: str, size: int) -> None:
    normalised = normalise_for_matching(text)
    result = shingles(text, size)
    if not normalised:
        assert result == set()
    elif len(normalised) <= size:
        assert result == {normalised}
    else:
        assert all(len(shingle) == size and shingle in normalised for shingle in result)
        assert 1 <= len(result) <= len(normalised) - size + 1


def test_signatures_equal_datasketch_minhash() -> None:
    params = CampaignParams(num_perm=64, seed=3)
    texts = [
        normalise_for_matching(t) for t in [TEMPLATE, TYPOS, "abc", "👍 tout à fait 👍", "abcde"]
    ]
    fast = signatures(texts, params)
    for text, row in zip(texts, fast, strict=True):
        reference = MinHash(num_perm=64, seed=3, hashfunc=shingle_hash)
        reference.update_batch([s.encode("utf-8") for s in shingles_of_normalised(text)])
        assert np.array_equal(reference.hashvalues, row)


# --- grouping -------------------------------------------------------------------------------


def test_empty_input() -> None:
    assert detect_campaigns([]) == []


def test_exact_duplicates_after_normalisation() -> None:
    texts = [
        TEMPLATE,
        TEMPLATE.replace("'", "’"),
        TEMPLATE.upper(),
        TEMPLATE.replace(" ", "\u00a0"),
        f"**{TEMPLATE}**",
    ]
    items = make_items(texts)
    (campaign,) = detect_campaigns(items)
    assert campaign.members == (1, 2, 3, 4, 5)
    assert campaign.copies == campaign.exact_copies == 5
    assert campaign.representative == 1
    assert campaign.distinct_authors == 5


def test_near_duplicates_are_grouped() -> None:
    variants = [WORD_CHANGED, SENTENCE_ADDED, TYPOS]
    assert all(jaccard(TEMPLATE, variant) >= 0.8 for variant in variants)
    items = make_items([TEMPLATE, *variants])
    (campaign,) = detect_campaigns(items)
    assert campaign.members == (1, 2, 3, 4)
    assert campaign.representative == 1
    assert campaign.exact_copies == 1


def test_grouping_is_transitive() -> None:
    first = TEMPLATE
    second = first.replace("Je m'oppose à", "Je refuse").replace("quinze mille", "15 000")
    third = second.replace("au détriment de la qualité des textes", "ce qui appauvrira le débat")
    assert jaccard(first, second) >= 0.8
    assert jaccard(second, third) >= 0.8
    assert jaccard(first, third) < 0.8
    found = detect_campaigns(make_items([first, second, third]))
    assert [campaign.members for campaign in found] == [(1, 2, 3)]


def test_different_arguments_on_the_same_article_are_not_grouped() -> None:
    assert all(len(normalise_for_matching(text)) >= 40 for text in SAME_ARTICLE)
    params = CampaignParams(min_copies=2)
    assert detect_campaigns(make_items(SAME_ARTICLE), params) == []
    # Each of them next to three copies of itself is its own campaign, never merged with the
    # others.
    items = make_items([text for text in SAME_ARTICLE for _ in range(3)])
    found = detect_campaigns(items)
    assert len(found) == 10
    assert all(campaign.copies == campaign.exact_copies == 3 for campaign in found)


def test_short_texts_only_group_when_exactly_equal() -> None:
    agree = ["D'accord.", "d’accord !", "D'ACCORD", "*D'accord*", "D'accord."] * 2
    similar = ["Je suis tout à fait d'accord avec ça."] * 3 + [
        "Je suis tout à fait d'accord avec ca."
    ] * 3
    assert jaccard(similar[0], similar[-1]) >= 0.8
    items = make_items(agree + similar)
    found = detect_campaigns(items)
    assert sorted(campaign.copies for campaign in found) == [3, 3, 10]
    assert all(campaign.copies == campaign.exact_copies for campaign in found)
    # With no minimum length, the two similar sentences are one campaign.
    merged = detect_campaigns(items, CampaignParams(min_chars=0))
    assert sorted(campaign.copies for campaign in merged) == [6, 10]


def test_texts_empty_after_normalisation_are_never_a_campaign() -> None:
    items = make_items(["", "...", "  ", "!!", "« »", "**"])
    assert detect_campaigns(items, CampaignParams(min_copies=2)) == []


def test_representative_counts_and_time_span() -> None:
    items = [
        Item(10, SENTENCE_ADDED, "alice", T0),
        Item(11, TEMPLATE, "bruno", T0 + timedelta(hours=2)),
        Item(12, TEMPLATE.replace("'", "’"), "chloé", T0 + timedelta(hours=1)),
        Item(13, TEMPLATE, "bruno", T0 + timedelta(days=3)),
        Item(14, WORD_CHANGED, "driss", T0 + timedelta(days=2)),
        Item(15, TEMPLATE, "emma", T0 + timedelta(hours=1)),
        Item(16, SAME_ARTICLE[0], "fatou", T0 - timedelta(days=1)),
    ]
    (campaign,) = detect_campaigns(items)
    assert campaign.members == (10, 11, 12, 13, 14, 15)
    assert campaign.copies == 6
    # The template is the most central text; among its copies, 12 and 15 are the earliest
    # and 12 has the lower id.
    assert campaign.representative == 12
    assert campaign.exact_copies == 4
    assert campaign.distinct_authors == 5
    assert campaign.first_at == T0
    assert campaign.last_at == T0 + timedelta(days=3)


def test_representative_is_the_most_central_text_not_the_most_copied() -> None:
    # An outlying variant copied twice, and three texts close to each other.
    far = TEMPLATE.replace("Je m'oppose à", "Je refuse").replace("quinze mille", "15 000")
    far = far + " Les petites entreprises seront les premières touchées."
    texts = [far, far, TEMPLATE, WORD_CHANGED, TYPOS]
    found = detect_campaigns(make_items(texts))
    assert [campaign.representative for campaign in found] == [3]


def test_tie_between_texts_goes_to_the_earliest_item() -> None:
    # Two texts, two copies each: both are equally central.
    items = [
        Item(1, TEMPLATE, "a", T0 + timedelta(hours=5)),
        Item(2, TEMPLATE, "b", T0 + timedelta(hours=6)),
        Item(3, WORD_CHANGED, "c", T0 + timedelta(hours=4)),
        Item(4, WORD_CHANGED, "d", T0 + timedelta(hours=4)),
    ]
    (campaign,) = detect_campaigns(items)
    assert campaign.representative == 3
    assert campaign.exact_copies == 2


def test_min_copies_is_respected() -> None:
    items = make_items([TEMPLATE, WORD_CHANGED])
    assert detect_campaigns(items) == []
    assert [c.copies for c in detect_campaigns(items, CampaignParams(min_copies=2))] == [2]
    many = make_items([TEMPLATE] * 4 + ["D'accord."] * 3)
    assert [c.copies for c in detect_campaigns(many, CampaignParams(min_copies=4))] == [4]


def test_threshold_is_respected() -> None:
    items = make_items([TEMPLATE, TEMPLATE, SENTENCE_ADDED])
    similarity = jaccard(TEMPLATE, SENTENCE_ADDED)
    above = CampaignParams(threshold=similarity + 0.01)
    assert [c.copies for c in detect_campaigns(items, above)] == []
    below = CampaignParams(threshold=similarity - 0.01)
    assert [c.copies for c in detect_campaigns(items, below)] == [3]


def test_invalid_input_is_rejected() -> None:
    with pytest.raises(ValueError, match="unique"):
        detect_campaigns([Item(1, "a", "x", T0), Item(1, "b", "y", T0)])
    for params in [
        CampaignParams(threshold=0.0),
        CampaignParams(threshold=1.5),
        CampaignParams(num_perm=1),
        CampaignParams(shingle_size=0),
        CampaignParams(min_copies=0),
        CampaignParams(min_chars=-1),
    ]:
        with pytest.raises(ValueError):
            detect_campaigns(make_items([TEMPLATE]), params)


def corpus(seed: int) -> list[Item]:
    """Three letters with edited copies, unrelated texts and short answers, by some authors
    who post more than once."""
    rng = random.Random(seed)
    letters = [TEMPLATE, SAME_ARTICLE[1] * 2, SAME_ARTICLE[6] + " " + SAME_ARTICLE[7]]
    texts: list[str] = []
    for letter in letters:
        for _ in range(rng.randint(3, 8)):
            words = letter.split(" ")
            at = rng.randrange(len(words))
            edit = rng.choice(["as is", "word", "upper", "sentence"])
            if edit == "word":
                words[at] = rng.choice(["vraiment", "donc", "aussi"])
            elif edit == "upper":
                words[at] = words[at].upper()
            elif edit == "sentence":
                words.append("Merci.")
            texts.append(" ".join(words))
    texts += SAME_ARTICLE + ["D'accord."] * rng.randint(1, 4) + ["Non."] * rng.randint(1, 4)
    return [
        Item(n, text, f"auteur-{rng.randint(1, 30)}", T0 + timedelta(minutes=rng.randint(0, 5000)))
        for n, text in enumerate(texts, start=100)
    ]


@settings(max_examples=25, deadline=None)
@given(st.integers(min_value=0, max_value=10_000), st.randoms(use_true_random=False))
def test_result_does_not_depend_on_input_order(seed: int, rng: random.Random) -> None:
    items = corpus(seed)
    expected = detect_campaigns(items)
    shuffled = list(items)
    rng.shuffle(shuffled)
    assert detect_campaigns(shuffled) == expected
    assert_invariants(expected, items, CampaignParams())
    # Each letter's copies are a campaign.
    assert len(expected) >= 3


@settings(max_examples=25, deadline=None)
@given(st.integers(min_value=0, max_value=10_000), st.integers(min_value=1, max_value=5))
def test_campaigns_are_sound(seed: int, min_copies: int) -> None:
    params = CampaignParams(min_copies=min_copies)
    items = corpus(seed)
    found = detect_campaigns(items, params)
    assert_invariants(found, items, params)
    by_id = {item.id: item for item in items}
    for campaign in found:
        # Every member is linked to the others by a chain of pairs at or above the threshold.
        texts = sorted({normalise_for_matching(by_id[m].text) for m in campaign.members})
        linked = {texts[0]}
        changed = True
        while changed:
            changed = False
            for text in texts:
                if text not in linked and any(jaccard(text, other) >= 0.8 for other in linked):
                    linked.add(text)
                    changed = True
        assert linked == set(texts)
    # Equal normalised texts are never split.
    grouped = {member: n for n, campaign in enumerate(found) for member in campaign.members}
    by_text: dict[str, set[int | None]] = {}
    for item in items:
        by_text.setdefault(normalise_for_matching(item.text), set()).add(grouped.get(item.id))
    assert all(len(groups) == 1 for text, groups in by_text.items() if text)


def test_large_groups_use_the_minhash_estimate(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = random.Random(5)
    variants = [TEMPLATE] * 3
    for _ in range(30):
        words = TEMPLATE.split(" ")
        words[rng.randrange(len(words))] = rng.choice(["vraiment", "donc", "aussi", "très"])
        variants.append(" ".join(words))
    items = make_items(variants)
    exact = detect_campaigns(items)
    monkeypatch.setattr(campaigns_module, "_EXACT_CENTRALITY_LIMIT", 4)
    monkeypatch.setattr(campaigns_module, "_INDEXED_PER_GROUP", 2)
    estimated = detect_campaigns(items)
    assert [c.members for c in estimated] == [c.members for c in exact] == [tuple(range(1, 34))]
    assert estimated[0].representative == exact[0].representative == 1


def test_demo_campaign_is_found() -> None:
    records = [json.loads(line) for line in DEMO.read_text(encoding="utf-8").splitlines() if line]
    (letter,) = [record for record in records if record.get("campaign")]
    variants = [record for record in records if record.get("campaign_variant")]
    assert len(variants) == 4
    items: list[Item] = []
    counter = itertools.count(1)
    for record in records:
        copies = 60 if record is letter else 1
        for copy in range(copies):
            number = next(counter)
            author = record["author"] if copy == 0 else f"signataire-{copy}"
            items.append(Item(number, record["body"], author, T0 + timedelta(minutes=7 * number)))
    letter_ids = {item.id for item in items if item.text == letter["body"]}
    variant_ids = {item.id for item in items if item.text in {v["body"] for v in variants}}

    (campaign,) = detect_campaigns(items)
    assert set(campaign.members) == letter_ids | variant_ids
    assert campaign.copies == 64
    assert campaign.exact_copies == 60
    assert campaign.distinct_authors == 64
    assert campaign.representative == min(letter_ids)
    assert detect_campaigns(list(reversed(items))) == [campaign]
