"""Skill extraction: free text (a job-ad sentence, a course description) → ranked ESCO skills.

A sentence usually names a skill in a few words ("experience leading a team" → "lead a team"),
and a whole-sentence vector blurs those words with the rest, so each skill is scored on three
signals that are added:

- dense, sentence: the cosine of the sentence vector with the skill's preferred-label vector;
- dense, span: the best cosine of any span of one to `SPAN_MAX_WORDS` words with that vector.
  Span vectors are means of the sentence's contextual token vectors (all-MiniLM-L6-v2 pools the
  same way), so they cost no extra encoding: one forward pass per sentence;
- lexical: a bonus when one of the skill's labels, preferred or alternative, occurs in the text
  word for word, after dropping stop words and crude suffixes ("leading a team" ~ "lead team").

Only the preferred labels are embedded. Embedding ESCO's 97k alternative labels or its
descriptions as extra surfaces (best surface per skill) was measured and lowered RP@5 on both
validation sets: many alternative labels are broad ("management", "design") and pull in wrong
skills; the alternative labels earn their place in the lexical match instead. The weights were
chosen on the tune half of the validation sets and checked on the held-out half
(`evaluation.skills`). Everything is CPU-only and deterministic; no model is downloaded
(see `core.embed`).
"""

from __future__ import annotations

import logging
import re
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import duckdb
import numpy as np
from threadpoolctl import threadpool_limits

from core import embed
from core.taxonomy import ORIGIN_PREFERRED

log = logging.getLogger(__name__)

# A change here that scores any text differently changes courses' links: raise `pipeline.skills.LINKER_VERSION`.
SURFACE_ORIGINS = (ORIGIN_PREFERRED,)

SENTENCE_WEIGHT = 0.3  # the rest goes to the best span
SPAN_MAX_WORDS = 3
# Skills whose spans are scored: the sentence's closest by its whole vector, plus those it names.
SPAN_CANDIDATES = 256
LEXICAL_BONUS = 0.25
# A sentence is cut here (the model's own limit is 256 word pieces); longer texts are split into
# sentences first, so this only trims run-on sentences.
SEGMENT_MAX_TOKENS = 128
ENCODE_BATCH = 32
# Course texts per forward pass when reading documents: `embed.encode`'s batch. With 32 the same
# texts took 20-30 % longer than `encode` (600 texts, interleaved runs: 33-35 s against 26-27 s).
DOCUMENT_BATCH = 64
# Tokens of a sentence cut by the document window that must be inside it for the sentence to be read.
PARTIAL_SEGMENT_MIN_TOKENS = 4

# Word-like tokens for the lexical match: "c++", "c#", "node.js", "ci/cd" and "e-commerce" stay whole.
_TOKEN = re.compile(r"[a-z0-9][a-z0-9+#]*(?:[.\-/][a-z0-9+#]+)*")
_LEXICAL_MAX_WORDS = 6
# Left out of both sides of the lexical match, so "leading a team" meets the label "lead team".
_STOP_WORDS = frozenset(
    {"a", "an", "the", "of", "to", "and", "or", "in", "on", "for", "with", "at", "by", "from", "as", "into"}
    | {"your", "our", "their", "its", "be", "is", "are"}
)
_SUFFIXES = ("ing", "ed", "es", "s", "e")
# Sentence ends; a bullet or a line break ends one too in scraped descriptions.
_SENTENCE_END = re.compile(r"(?<=[.!?;])\s+(?=[A-Z0-9\"'(])|\s*[\n\r•·▪●]+\s*")
_HAS_WORD = re.compile(r"\w")

Match = tuple[str, str, float]  # (uri, preferred label, score)


def tokens(text: str) -> tuple[str, ...]:
    """The words the lexical match compares: lower-cased, stop words dropped, crudely stemmed."""
    return tuple(_stem(word) for word in _TOKEN.findall(text.lower()) if word not in _STOP_WORDS)


def _stem(word: str) -> str:
    """One suffix off, then a doubled final consonant: leading/leads → lead, managing/manage → manag,
    programming → program. Crude on purpose: both sides go through it, so it only has to be consistent."""
    if len(word) <= 4 or not word.isalpha():
        return word
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3 and not (suffix == "s" and word.endswith("ss")):
            word = word[: -len(suffix)]
            break
    if len(word) > 3 and word[-1] == word[-2] and word[-1] not in "aeiouls":
        word = word[:-1]
    return word


def split_sentences(text: str) -> list[str]:
    """The sentences of a text, blank ones dropped."""
    return [s.strip() for s in _SENTENCE_END.split(text or "") if s and _HAS_WORD.search(s)]


def encode_spans(texts: Sequence[str], max_words: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """Per text: its sentence vector and the vectors of its spans of 1..max_words words, from one forward pass.

    The sentence vector is what `embed.encode` gives (the mean of the token vectors, normalised); a
    span vector is the mean of its own tokens' vectors, so a span is read in its sentence's context.
    Words without a letter or digit (punctuation) are not spans. Texts are cut at `SEGMENT_MAX_TOKENS`.
    """
    import torch

    model = embed.load_model()
    out = []
    for start in range(0, len(texts), ENCODE_BATCH):
        batch = list(texts[start : start + ENCODE_BATCH])
        encoded = model.tokenize(batch, SEGMENT_MAX_TOKENS)
        with torch.inference_mode():
            hidden = model.hidden_states(encoded).numpy()
        lengths = encoded.mask.numpy().sum(axis=1)
        for row, text in enumerate(batch):
            states = hidden[row, : lengths[row]].astype(np.float64)
            words = _word_token_ranges(encoded.word_ids[row][: lengths[row]], encoded.offsets[row], text)
            out.append((_normalise(states.mean(axis=0)[None, :])[0], _span_vectors(states, words, max_words)))
    return out


def _span_vectors(states: np.ndarray, words: list[tuple[int, int]], max_words: int) -> np.ndarray:
    """Normalised means of the token vectors of every run of 1..max_words consecutive words
    (`words`: each word's first and last token, as indices into `states`); runs of one word first,
    then of two, and so on, each in text order."""
    cumulative = np.vstack([np.zeros((1, states.shape[1])), np.cumsum(states, axis=0)])
    firsts = np.fromiter((first for first, _ in words), dtype=np.int64, count=len(words))
    ends = np.fromiter((last + 1 for _, last in words), dtype=np.int64, count=len(words))
    blocks = []
    for n in range(1, min(max_words, len(words)) + 1):
        begin, end = firsts[: len(words) - n + 1], ends[n - 1 :]
        blocks.append((cumulative[end] - cumulative[begin]) / (end - begin)[:, None])
    if not blocks:
        return np.zeros((0, states.shape[1]), dtype=np.float32)
    return _normalise(np.vstack(blocks))


@dataclass
class DocumentBatch:
    """One batch of `read_documents`: which documents, their vectors, and their segments read."""

    indices: list[int]  # positions in the texts given to `read_documents`
    vectors: np.ndarray  # one row per document: exactly what `embed.encode_documents` gives
    # per document, per segment asked for: (segment vector, span vectors), or None for a segment
    # that starts past the document window (or has fewer than PARTIAL_SEGMENT_MIN_TOKENS in it)
    segments: list[list[tuple[np.ndarray, np.ndarray] | None]]


def read_documents(
    texts: Sequence[str], segments: Sequence[Sequence[tuple[int, int]]], max_words: int = SPAN_MAX_WORDS
) -> Iterator[DocumentBatch]:
    """Embed documents and read their segments (a title, description sentences) in the same forward pass.

    Each document is cut at `embed.DOCUMENT_MAX_TOKENS` and its vector is the masked mean of its
    token vectors, normalised: `embed.encode_documents`'s. A segment, given as a character range of
    its (stripped) text, gets the mean of its own tokens' vectors and its spans of 1..max_words
    words, read in the context of the whole document window (a segment the window cuts, as far as
    the window goes). A course is then embedded and read
    for skills at the cost of one pass instead of one plus one per sentence. Batches group
    documents of like length.
    """
    import torch

    model = embed.load_model()
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    for start in range(0, len(order), DOCUMENT_BATCH):
        indices = order[start : start + DOCUMENT_BATCH]
        batch = [texts[i] for i in indices]
        encoded = model.tokenize(batch, embed.DOCUMENT_MAX_TOKENS)
        offsets = encoded.offsets
        with torch.inference_mode():
            hidden = model.hidden_states(encoded)
            vectors = model.pool(hidden, encoded.mask).numpy()
        hidden = hidden.numpy()
        read = []
        for row, (index, text) in enumerate(zip(indices, batch, strict=True)):
            word_ids = encoded.word_ids[row]
            real = np.array([word is not None for word in word_ids])
            starts, ends = offsets[row, :, 0], offsets[row, :, 1]
            window_end = int(ends[real].max()) if real.any() else 0
            found = []
            for begin, end in segments[index]:
                inside = np.flatnonzero(real & (starts >= begin) & (ends <= end))
                # A sentence the window cuts is read as far as the window goes, if a few words of it
                # are in; one that starts past the window is not read.
                if len(inside) < PARTIAL_SEGMENT_MIN_TOKENS and (not len(inside) or end > window_end):
                    found.append(None)
                    continue
                first, last = int(inside[0]), int(inside[-1])
                states = hidden[row, first : last + 1].astype(np.float64)
                # Token positions from here on count from the segment's first token.
                words = _word_token_ranges(word_ids[first : last + 1], offsets[row][first : last + 1], text)
                found.append((_normalise(states.mean(axis=0)[None, :])[0], _span_vectors(states, words, max_words)))
            read.append(found)
        yield DocumentBatch(indices=indices, vectors=vectors.astype(np.float32, copy=False), segments=read)


def _word_token_ranges(word_ids: list[int | None], offsets: np.ndarray, text: str) -> list[tuple[int, int]]:
    """(first token, last token) of each word that has a letter or digit, in order."""
    ranges: dict[int, list[int]] = {}
    for position, word in enumerate(word_ids):
        if word is not None:
            ranges.setdefault(word, [position, position])[1] = position
    return [
        (first, last)
        for _, (first, last) in sorted(ranges.items())
        if _HAS_WORD.search(text[offsets[first][0] : offsets[last][1]])
    ]


def one_blas_thread() -> threadpool_limits:
    """Numpy's products on one thread while the model runs on torch's: OpenBLAS threads left spinning
    after a product slowed the next forward pass by a third (measured, 1,000 course texts: 10.8 s
    against 8.5 s). The products between passes are small enough for one thread."""
    return threadpool_limits(limits=1, user_api="blas")


def _normalise(matrix: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return (matrix / np.where(norms == 0, 1, norms)).astype(np.float32)


# ---------------------------------------------------------------- the extractor


@dataclass
class SkillExtractor:
    uris: list[str]
    labels: list[str]
    surface_vectors: np.ndarray  # surfaces × 384, normalised
    surface_skill: np.ndarray  # surface row → skill index
    lexicon: dict[tuple[str, ...], tuple[int, ...]]  # label tokens → skill indices
    sentence_weight: float = SENTENCE_WEIGHT
    span_max_words: int = SPAN_MAX_WORDS
    span_candidates: int | None = SPAN_CANDIDATES  # None: every skill
    lexical_bonus: float = LEXICAL_BONUS

    def __post_init__(self) -> None:
        # Surfaces grouped by skill, so a skill's best surface is one `maximum.reduceat`.
        order = np.argsort(self.surface_skill, kind="stable")
        self.surface_vectors = np.ascontiguousarray(self.surface_vectors[order])
        self.surface_skill = self.surface_skill[order]
        self._skill_starts = np.flatnonzero(np.r_[True, np.diff(self.surface_skill) != 0]) if len(order) else order
        self._skills_with_vectors = self.surface_skill[self._skill_starts]
        # skill index -> its column in the per-skill score rows (-1: the skill has no vector)
        self._column_of_skill = np.full(len(self.uris), -1, dtype=np.int64)
        self._column_of_skill[self._skills_with_vectors] = np.arange(len(self._skills_with_vectors))
        self._one_surface_per_skill = len(self._skill_starts) == len(self.surface_vectors)

    @classmethod
    def load(cls, con: duckdb.DuckDBPyConnection, *, origins: Sequence[str] = SURFACE_ORIGINS) -> SkillExtractor:
        """Read the skills and their surface vectors; empty when the taxonomy or its vectors are missing."""
        skills = con.execute("SELECT uri, label, alt_labels FROM skills ORDER BY uri").df()
        uris = skills["uri"].tolist()
        index = {uri: i for i, uri in enumerate(uris)}
        placeholders = ", ".join("?" for _ in origins)
        vectors = con.execute(
            f"""
            SELECT uri, vector FROM taxonomy_vectors
            WHERE kind = 'skill' AND model = ? AND origin IN ({placeholders})
            ORDER BY uri, origin, surface
            """,
            [embed.MODEL_KEY, *origins],
        ).df()
        vectors = vectors[vectors["uri"].isin(index)]
        if vectors.empty:
            matrix = np.zeros((0, embed.DIMENSIONS), dtype=np.float32)
        else:
            matrix = np.vstack(vectors["vector"].to_numpy()).astype(np.float32)
        lexicon: dict[tuple[str, ...], set[int]] = defaultdict(set)
        for i, (label, alts) in enumerate(zip(skills["label"], skills["alt_labels"], strict=True)):
            for surface in [label, *(alts if alts is not None else ())]:
                key = tokens(surface)
                if 0 < len(key) <= _LEXICAL_MAX_WORDS:
                    lexicon[key].add(i)
        return cls(
            uris=uris,
            labels=skills["label"].tolist(),
            surface_vectors=matrix,
            surface_skill=vectors["uri"].map(index).to_numpy(dtype=np.int64),
            lexicon={key: tuple(sorted(value)) for key, value in lexicon.items()},
        )

    @property
    def ready(self) -> bool:
        return bool(self.uris) and len(self.surface_vectors) > 0

    def extract(self, texts: Sequence[str], k: int) -> list[list[Match]]:
        """For each text, its k best skills as (uri, preferred label, score), best first.

        A text of several sentences scores each skill by its best sentence. Blank text gives no skills.
        """
        return [self.top(row, k) if row is not None else [] for row in self.score(texts)]

    def score(self, texts: Sequence[str]) -> list[np.ndarray | None]:
        """Each text's score for every skill (None for a text with no words)."""
        segments: list[str] = []
        owner: list[int] = []
        for i, text in enumerate(texts):
            # Lone surrogates (broken scraped text) would make the tokenizer raise.
            clean = text.encode("utf-8", "replace").decode("utf-8") if isinstance(text, str) else ""
            for sentence in split_sentences(clean):
                segments.append(sentence)
                owner.append(i)
        result: list[np.ndarray | None] = [None] * len(texts)
        if not self.ready or not segments:
            return result
        # Batches of sentences of like length: a batch is padded to its longest sentence, and a title
        # batched with a long description sentence cost four times its own forward pass.
        order = sorted(range(len(segments)), key=lambda j: len(segments[j]))
        with one_blas_thread():
            for start in range(0, len(order), ENCODE_BATCH):
                batch = order[start : start + ENCODE_BATCH]
                for j, scores in zip(batch, self._score_segments([segments[j] for j in batch]), strict=True):
                    i = owner[j]
                    result[i] = scores if result[i] is None else np.maximum(result[i], scores)
        return result

    def _score_segments(self, segments: list[str]) -> list[np.ndarray]:
        return self.score_encoded(segments, encode_spans(segments, self.span_max_words))

    def score_encoded(
        self, segments: Sequence[str], encoded: Sequence[tuple[np.ndarray, np.ndarray]]
    ) -> list[np.ndarray]:
        """Each segment's score for every skill, from its text and its (sentence vector, span vectors)
        as `encode_spans` or `read_documents` give them."""
        if not len(encoded):
            return []
        sentence_best = self._best_per_skill(np.vstack([sentence for sentence, _ in encoded]) @ self.surface_vectors.T)
        lexical = [self._lexical_hits(text) for text in segments]
        out = []
        for (_, spans), sentence_row, hits in zip(encoded, sentence_best, lexical, strict=True):
            span_row = np.array(sentence_row, copy=True)
            if len(spans):
                # Spans are scored against the skills the whole sentence is closest to (and those it
                # names word for word), not all 13,896: the rest score too low on the sentence part
                # to reach a sentence's top ten, and the product costs 1/50 of the full one.
                if self.span_candidates is None or self.span_candidates >= len(sentence_row):
                    candidates = np.arange(len(sentence_row))
                else:
                    candidates = np.argpartition(-sentence_row, self.span_candidates)[: self.span_candidates]
                named = self._column_of_skill[np.fromiter(hits, dtype=np.int64, count=len(hits))]
                candidates = np.union1d(candidates, named[named >= 0])
                span_row[candidates] = self._span_best(spans, candidates)
            scores = np.full(len(self.uris), -1.0, dtype=np.float32)
            weight = self.sentence_weight
            scores[self._skills_with_vectors] = weight * sentence_row + (1 - weight) * span_row
            for skill in hits:
                scores[skill] += self.lexical_bonus
            out.append(scores)
        return out

    def _span_best(self, spans: np.ndarray, columns: np.ndarray) -> np.ndarray:
        """For these skill columns, the best cosine of any span with any of the skill's surfaces."""
        if self._one_surface_per_skill:
            return (spans @ self.surface_vectors[self._skill_starts[columns]].T).max(axis=0)
        ends = np.r_[self._skill_starts[1:], len(self.surface_vectors)]
        rows = np.concatenate([np.arange(self._skill_starts[c], ends[c]) for c in columns])
        lengths = ends[columns] - self._skill_starts[columns]
        per_surface = (spans @ self.surface_vectors[rows].T).max(axis=0)
        return np.maximum.reduceat(per_surface, np.r_[0, np.cumsum(lengths)[:-1]])

    def _best_per_skill(self, surface_scores: np.ndarray) -> np.ndarray:
        """Rows of scores per surface → rows of each skill's best surface score."""
        if self._one_surface_per_skill:
            return surface_scores  # already one column per skill, in skill order
        return np.maximum.reduceat(surface_scores, self._skill_starts, axis=1)

    def _lexical_hits(self, text: str) -> set[int]:
        words = tokens(text)
        hits: set[int] = set()
        for n in range(1, _LEXICAL_MAX_WORDS + 1):
            for i in range(len(words) - n + 1):
                hits.update(self.lexicon.get(words[i : i + n], ()))
        return hits

    def top(self, row: np.ndarray, k: int) -> list[Match]:
        """The k best skills of one row of `score`/`score_encoded`: (uri, preferred label, score)."""
        k = min(k, len(row))
        if k <= 0:
            return []
        top = np.argpartition(-row, k - 1)[:k]
        top = top[np.lexsort((top, -row[top]))]
        return [(self.uris[i], self.labels[i], float(row[i])) for i in top]
