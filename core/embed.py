"""Sentence embeddings with all-MiniLM-L6-v2, from the package that ships it, run by `core.sentence_encoder`.

Vectors are L2-normalised, so a dot product is the cosine. Course descriptions are long and
goals short (asymmetric search); both go through the same model, documents cut at
`DOCUMENT_MAX_TOKENS` because the first paragraphs carry what a course teaches and the
model's cost grows with length.

The model runs in one of `settings.MODEL_VARIANTS` (`SKILLSTACK_MODEL_VARIANT`, see
`core.sentence_encoder`). Vectors of two variants are close but not equal, so every stored
vector is keyed by `MODEL_KEY`, which names the variant: a change of variant embeds everything
again and never compares vectors of two forms.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Sequence
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np

from skillstack.settings import EMBEDDING_MODEL_NAME, MODEL_VARIANTS, embedding_model_path, model_variant

if TYPE_CHECKING:
    from core.encoder_worker import EncoderWorker
    from core.sentence_encoder import SentenceEncoder

DIMENSIONS = 384
DOCUMENT_MAX_TOKENS = 128
QUERY_BATCH = 8
_ENCODE_LOCK = threading.Lock()


def load_model(variant: str | None = None) -> SentenceEncoder:
    """The model in `variant` (default: the configured one), built once per process and variant."""
    return _load_model(variant or model_variant())


@lru_cache(maxsize=len(MODEL_VARIANTS))
def _load_model(variant: str) -> SentenceEncoder:
    from core.sentence_encoder import SentenceEncoder

    return SentenceEncoder(embedding_model_path(), variant=variant)


def encode(
    texts: Sequence[str],
    *,
    max_tokens: int | None = None,
    batch_size: int = 64,
    variant: str | None = None,
    progress: str | None = None,
) -> np.ndarray:
    """Normalised float32 vectors, one row per text (an empty input gives a 0×384 array).

    Texts are cut at `max_tokens` word pieces, by default the model's limit (256). `variant`
    defaults to the configured one. With `progress`, a long call shows a bar (or log lines) under
    that name.
    """
    if not texts:
        return np.zeros((0, DIMENSIONS), dtype=np.float32)
    import torch

    from skillstack.progress import progress_bar

    model = load_model(variant)
    # Longest first, so a batch is padded to texts of like length (the forward pass costs what its
    # longest text costs); leading and trailing blanks carry no token.
    stripped = [str(text).strip() for text in texts]
    order = sorted(range(len(stripped)), key=lambda i: -len(stripped[i]))
    vectors = np.empty((len(texts), DIMENSIONS), dtype=np.float32)
    # One encode at a time: the dashboard serves sessions from several threads, and torch's thread
    # count below is a setting of the whole process.
    with _ENCODE_LOCK:
        previous_threads = torch.get_num_threads()
        if len(texts) <= QUERY_BATCH:
            # A query is a few short texts: one thread answers it in tens of milliseconds, while two
            # threads on a busy machine wait for each other (measured: 57 ms against 992 ms).
            torch.set_num_threads(1)
        try:
            with torch.inference_mode(), progress_bar(len(texts), progress, unit="texts") as bar:
                for start in range(0, len(order), batch_size):
                    batch = order[start : start + batch_size]
                    vectors[batch] = model.embed([stripped[i] for i in batch], max_tokens).numpy()
                    bar.update(len(batch))
        finally:
            torch.set_num_threads(previous_threads)
    return vectors


_QUERY_CACHE: OrderedDict[tuple[str, str], np.ndarray] = OrderedDict()
_QUERY_CACHE_LOCK = threading.Lock()
QUERY_CACHE_SIZE = 1024


def encode_queries(texts: Sequence[str]) -> np.ndarray:
    """`encode` for the short texts of a query, remembering the last `QUERY_CACHE_SIZE`: one
    recommendation encodes the goal for the occupation resolver and again for course retrieval, and
    a dashboard user asks about the same goal and occupation several times. Remembered per variant."""
    variant = model_variant()
    with _QUERY_CACHE_LOCK:
        found = {text: _QUERY_CACHE[variant, text] for text in texts if (variant, text) in _QUERY_CACHE}
    missing = list(dict.fromkeys(text for text in texts if text not in found))
    if missing:
        vectors = _WORKER.encode(missing, variant) if _WORKER is not None else None
        if vectors is None:
            vectors = encode(missing, variant=variant)
        found.update(zip(missing, vectors, strict=True))
    with _QUERY_CACHE_LOCK:
        for text in dict.fromkeys(texts):
            _QUERY_CACHE[variant, text] = found[text]
            _QUERY_CACHE.move_to_end((variant, text))
        while len(_QUERY_CACHE) > QUERY_CACHE_SIZE:
            _QUERY_CACHE.popitem(last=False)
    if not texts:
        return np.zeros((0, DIMENSIONS), dtype=np.float32)
    return np.vstack([found[text] for text in texts])


_WORKER: EncoderWorker | None = None


def encode_queries_in(worker: EncoderWorker | None) -> None:
    """From now on `encode_queries` asks `worker` (`core.encoder_worker`) for what it has not
    remembered, and encodes in this process only if the worker fails; None: always in this process."""
    global _WORKER
    _WORKER = worker


def remember_queries(vectors: dict[str, np.ndarray]) -> None:
    """Put vectors the caller kept (`recommender.goal_memo`) into `encode_queries`' memory, as if
    this process had encoded them with the configured variant."""
    variant = model_variant()
    with _QUERY_CACHE_LOCK:
        for text, vector in vectors.items():
            _QUERY_CACHE[variant, text] = vector
            _QUERY_CACHE.move_to_end((variant, text))
        while len(_QUERY_CACHE) > QUERY_CACHE_SIZE:
            _QUERY_CACHE.popitem(last=False)


def remembered_query(text: str) -> np.ndarray | None:
    """The vector `encode_queries` remembers for `text` in the configured variant, if any."""
    with _QUERY_CACHE_LOCK:
        return _QUERY_CACHE.get((model_variant(), text))


def encode_documents(texts: Sequence[str], *, variant: str | None = None, progress: str | None = None) -> np.ndarray:
    return encode(texts, max_tokens=DOCUMENT_MAX_TOKENS, variant=variant, progress=progress)


def course_text(name: str | None, skills_declared: Sequence[str] | None, description: str | None) -> str:
    """What a course is embedded as: its title, its declared skills, then its description."""
    parts = [name or ""]
    if skills_declared is not None and len(skills_declared):
        parts.append("Skills: " + ", ".join(skills_declared))
    if description:
        parts.append(description)
    return ". ".join(p for p in parts if p)


# The part of `MODEL_KEY` that names the variant, with the version of its recipe: raised when the
# way a variant is made changes its vectors. fp32 has none, so catalogues made before variants
# existed (all fp32) stay valid.
VARIANT_KEYS = {"fp32": "", "bf16": "+bf16.1"}


def model_key(variant: str | None = None) -> str:
    """What `course_embeddings.model` and every other stored vector record: the model, its variant
    and how documents were cut, since any of them changing means every vector must be made again."""
    return f"{EMBEDDING_MODEL_NAME}{VARIANT_KEYS[variant or model_variant()]}@{DOCUMENT_MAX_TOKENS}"


def __getattr__(name: str) -> str:
    # `embed.MODEL_KEY` is read by every layer that stores or reads vectors; it follows the
    # configured variant at each read (as `settings.home()` does), so a test or a bench may switch.
    if name == "MODEL_KEY":
        return model_key()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def content_hash(text: str) -> str:
    """Key of an embedded text: unchanged text is never embedded twice for the same model."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:32]
