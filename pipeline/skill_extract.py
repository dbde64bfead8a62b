"""Skill extraction: free text (a job-ad sentence, a course description) → ranked ESCO skills.

A sentence usually names a skill in a few words ("experience leading a team" → "lead a team"),
and a whole-sentence vector blurs those words with the rest, so each skill is scored on three
signals and they are added:

- dense, sentence: the cosine of the sentence vector with the skill's best surface;
- dense, span: the best cosine of any span of one to `SPAN_MAX_WORDS` words with the skill's best
  surface. Span vectors are means of the sentence's contextual token vectors (all-MiniLM-L6-v2
  pools the same way), so they cost no extra encoding: one forward pass per sentence;
- lexical: a bonus when one of the skill's labels occurs word for word in the text
  ("JavaScript", "project management").

A skill's surfaces are its ESCO preferred label (stored by `pipeline.surfaces`) and its
alternative labels (stored here by `ensure_skill_vectors`, origin `esco-alt`). Everything is
CPU-only and deterministic; no model is downloaded (see `pipeline.embed`).

The weights were chosen on the tune half of the skill-extraction validation sets and checked
on the held-out half (`pipeline.evaluate_skills`).
"""

from __future__ import annotations

import logging
import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import duckdb
import numpy as np
import pandas as pd

from pipeline import embed, surfaces
from pipeline.taxonomy import taxonomy_loaded

log = logging.getLogger(__name__)

ORIGIN_PREFERRED = "esco-preferred"  # stored by pipeline.surfaces.ensure_taxonomy_vectors
ORIGIN_ALT = "esco-alt"
SURFACE_ORIGINS = (ORIGIN_PREFERRED, ORIGIN_ALT)

SENTENCE_WEIGHT = 0.3  # the rest goes to the best span
SPAN_MAX_WORDS = 3
LEXICAL_BONUS = 0.2
# A sentence is cut here (the model's own limit is 256 word pieces); longer texts are split into
# sentences first, so this only trims run-on sentences.
SEGMENT_MAX_TOKENS = 128
ENCODE_BATCH = 32

# Word-like tokens for the lexical match: "c++", "c#", "node.js", "ci/cd" and "e-commerce" stay whole.
_TOKEN = re.compile(r"[a-z0-9][a-z0-9+#]*(?:[.\-/][a-z0-9+#]+)*")
_LEXICAL_MAX_WORDS = 6
# Sentence ends; a bullet or a line break ends one too in scraped descriptions.
_SENTENCE_END = re.compile(r"(?<=[.!?;])\s+(?=[A-Z0-9\"'(])|\s*[\n\r•·▪●]+\s*")
_HAS_WORD = re.compile(r"\w")

Match = tuple[str, str, float]  # (uri, preferred label, score)


def tokens(text: str) -> tuple[str, ...]:
    return tuple(_TOKEN.findall(text.lower()))


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
    tokenizer = model.tokenizer
    transformer = model[0].auto_model
    out = []
    for start in range(0, len(texts), ENCODE_BATCH):
        batch = list(texts[start : start + ENCODE_BATCH])
        encoded = tokenizer(
            batch,
            padding=True,
            truncation=True,
            max_length=SEGMENT_MAX_TOKENS,
            return_tensors="pt",
            return_offsets_mapping=True,
        )
        offsets = encoded.pop("offset_mapping").numpy()
        with torch.inference_mode():
            hidden = transformer(**encoded).last_hidden_state.numpy()
        lengths = encoded["attention_mask"].numpy().sum(axis=1)
        for row, text in enumerate(batch):
            states = hidden[row, : lengths[row]].astype(np.float64)
            sentence = states.mean(axis=0)
            words = _word_token_ranges(encoded.word_ids(row)[: lengths[row]], offsets[row], text)
            cumulative = np.vstack([np.zeros((1, states.shape[1])), np.cumsum(states, axis=0)])
            spans = [
                (cumulative[words[i + n - 1][1] + 1] - cumulative[words[i][0]])
                / (words[i + n - 1][1] + 1 - words[i][0])
                for n in range(1, max_words + 1)
                for i in range(len(words) - n + 1)
            ]
            span_matrix = np.asarray(spans, dtype=np.float64).reshape(-1, states.shape[1])
            out.append((_normalise(sentence[None, :])[0], _normalise(span_matrix)))
    return out


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


def _normalise(matrix: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return (matrix / np.where(norms == 0, 1, norms)).astype(np.float32)


# ---------------------------------------------------------------- vectors in the catalogue


def alt_label_surfaces(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """(kind, uri, surface, origin) of every ESCO alternative label that is not the preferred label again."""
    frame = con.execute("SELECT uri, label, alt_labels FROM skills ORDER BY uri").df()
    rows = []
    for uri, label, alts in zip(frame["uri"], frame["label"], frame["alt_labels"], strict=True):
        seen = {label.strip().lower()}
        for alt in alts if alts is not None else ():
            surface = alt.strip()
            # Case variants ("Java" / "java") embed alike: one vector per skill is enough.
            if surface and surface.lower() not in seen:
                seen.add(surface.lower())
                rows.append((uri, surface))
    out = pd.DataFrame(rows, columns=["uri", "surface"])
    return out.assign(kind="skill", origin=ORIGIN_ALT)[["kind", "uri", "surface", "origin"]]


def ensure_skill_vectors(con: duckdb.DuckDBPyConnection) -> int:
    """Store the skill surface vectors the extractor needs; returns how many texts had to be embedded.

    Preferred labels come from `pipeline.surfaces.ensure_taxonomy_vectors` (called first).
    Alternative labels (about 97k) are embedded once per model: a text this model already has a
    vector for, in this catalogue or in the previous one a build attaches as `prev`, is copied,
    not embedded again. That also keeps rebuilds cheap if another step drops these rows. Rows of
    labels the taxonomy no longer has are removed.
    """
    if not taxonomy_loaded(con):
        return 0
    surfaces.ensure_taxonomy_vectors(con)
    wanted = alt_label_surfaces(con)
    con.register("wanted_surfaces", wanted)
    try:
        con.execute(
            """
            DELETE FROM taxonomy_vectors v
            WHERE v.kind = 'skill' AND v.origin = ? AND v.model = ?
              AND NOT EXISTS (SELECT 1 FROM wanted_surfaces w WHERE w.uri = v.uri AND w.surface = v.surface)
            """,
            [ORIGIN_ALT, embed.MODEL_KEY],
        )
        missing = con.execute(
            """
            SELECT w.kind, w.uri, w.surface, w.origin FROM wanted_surfaces w
            WHERE NOT EXISTS (
                SELECT 1 FROM taxonomy_vectors v
                WHERE v.kind = 'skill' AND v.origin = w.origin AND v.model = ? AND v.uri = w.uri
                  AND v.surface = w.surface
            )
            ORDER BY w.uri, w.surface
            """,
            [embed.MODEL_KEY],
        ).df()
    finally:
        con.unregister("wanted_surfaces")
    if missing.empty:
        return 0
    known = _known_vectors(con, missing["surface"].unique().tolist())
    texts = sorted(set(missing["surface"]) - known.keys())
    if texts:
        log.info("embedding %d ESCO alternative labels (once per model)", len(texts))
        known.update(zip(texts, embed.encode(texts, batch_size=256), strict=True))
    surfaces.insert_vectors(con, missing, np.vstack([known[text] for text in missing["surface"]]))
    return len(texts)


def _known_vectors(con: duckdb.DuckDBPyConnection, texts: list[str]) -> dict[str, np.ndarray]:
    """This model's vectors for any of `texts`, from any taxonomy row here or in an attached `prev` catalogue."""
    sources = ["taxonomy_vectors"]
    if con.execute("SELECT count(*) FROM duckdb_databases() WHERE database_name = 'prev'").fetchone()[0]:
        sources.append("prev.taxonomy_vectors")
    union = " UNION ALL ".join(f"SELECT surface, vector, model FROM {table}" for table in sources)  # fixed names
    con.register("wanted_texts", pd.DataFrame({"surface": texts}))
    try:
        frame = con.execute(
            f"""
            SELECT v.surface, any_value(v.vector) AS vector
            FROM ({union}) v SEMI JOIN wanted_texts w ON w.surface = v.surface
            WHERE v.model = ? GROUP BY v.surface
            """,
            [embed.MODEL_KEY],
        ).df()
    finally:
        con.unregister("wanted_texts")
    return {
        text: np.asarray(vector, dtype=np.float32)
        for text, vector in zip(frame["surface"], frame["vector"], strict=True)
    }


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
    lexical_bonus: float = LEXICAL_BONUS

    def __post_init__(self) -> None:
        # Surfaces grouped by skill, so a skill's best surface is one `maximum.reduceat`.
        order = np.argsort(self.surface_skill, kind="stable")
        self.surface_vectors = np.ascontiguousarray(self.surface_vectors[order])
        self.surface_skill = self.surface_skill[order]
        self._skill_starts = np.flatnonzero(np.r_[True, np.diff(self.surface_skill) != 0]) if len(order) else order
        self._skills_with_vectors = self.surface_skill[self._skill_starts]

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
        return [self._top(row, k) if row is not None else [] for row in self.score(texts)]

    def extract_spans(self, texts: Sequence[str], k: int) -> list[list[tuple[str, str, float, str]]]:
        """Like `extract` per sentence of each text, with the sentence as evidence: (uri, label, score, sentence)."""
        per_text = [split_sentences(t) for t in texts]
        flat = [s for sentences in per_text for s in sentences]
        ranked = iter(self.extract(flat, k))
        out = []
        for sentences in per_text:
            best: dict[str, tuple[str, str, float, str]] = {}
            for sentence in sentences:
                for uri, label, score in next(ranked):
                    if uri not in best or score > best[uri][2]:
                        best[uri] = (uri, label, score, sentence)
            out.append(sorted(best.values(), key=lambda m: (-m[2], m[0]))[:k])
        return out

    def score(self, texts: Sequence[str]) -> list[np.ndarray | None]:
        """Each text's score for every skill (None for a text with no words)."""
        segments: list[str] = []
        owner: list[int] = []
        for i, text in enumerate(texts):
            for sentence in split_sentences(text if isinstance(text, str) else ""):
                segments.append(sentence)
                owner.append(i)
        result: list[np.ndarray | None] = [None] * len(texts)
        if not self.ready or not segments:
            return result
        for start in range(0, len(segments), ENCODE_BATCH):
            batch = segments[start : start + ENCODE_BATCH]
            for offset, scores in enumerate(self._score_segments(batch)):
                i = owner[start + offset]
                result[i] = scores if result[i] is None else np.maximum(result[i], scores)
        return result

    def _score_segments(self, segments: list[str]) -> list[np.ndarray]:
        starts = self._skill_starts
        out = []
        for text, (sentence, spans) in zip(segments, encode_spans(segments, self.span_max_words), strict=True):
            sentence_best = np.maximum.reduceat(self.surface_vectors @ sentence, starts)
            if len(spans):
                span_best = np.maximum.reduceat((spans @ self.surface_vectors.T).max(axis=0), starts)
            else:
                span_best = sentence_best
            scores = np.full(len(self.uris), -1.0, dtype=np.float32)
            scores[self._skills_with_vectors] = (
                self.sentence_weight * sentence_best + (1 - self.sentence_weight) * span_best
            )
            for skill in self._lexical_hits(text):
                scores[skill] += self.lexical_bonus
            out.append(scores)
        return out

    def _lexical_hits(self, text: str) -> set[int]:
        words = tokens(text)
        hits: set[int] = set()
        for n in range(1, _LEXICAL_MAX_WORDS + 1):
            for i in range(len(words) - n + 1):
                hits.update(self.lexicon.get(words[i : i + n], ()))
        return hits

    def _top(self, row: np.ndarray, k: int) -> list[Match]:
        k = min(k, len(row))
        if k <= 0:
            return []
        top = np.argpartition(-row, k - 1)[:k]
        top = top[np.lexsort((top, -row[top]))]
        return [(self.uris[i], self.labels[i], float(row[i])) for i in top]
