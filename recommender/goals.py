"""Goal resolution: a career goal in plain words → ranked ESCO occupations.

The cleaned goal is scored against every occupation through six channels, each an occupation
score in [0, 1]-ish, and their weighted sum ranks the occupations:

- `labels`: dense — the best cosine between the goal and the occupation's ESCO preferred or
  alternative labels (max over surfaces, as the plain baseline);
- `centroid`: dense — the cosine with the mean of those label vectors: an occupation whose many
  labels all sit near the goal beats one with a single lucky label, and ties between occupations
  that share a label are broken;
- `description`: dense — the first sentence of the ESCO description, for goals that describe the
  work ("protect companies from hackers") instead of naming a job;
- `onet`: dense — the best O*NET job title joined through the crosswalk (lay and short titles such
  as "UX Designer" that ESCO lacks);
- `tasks`: dense — the best O*NET task statement joined the same way ("Monitor computer networks
  for security threats"), for goals that say what the user wants to do. It counts only as far as
  no label matches the goal well (`tasks_below`): on job titles it only added noise (measured
  weights 0.05–0.5 on every title: tune MRR 0.4073 down to 0.3901 against 0.4076 without), while
  a lay description ("take care of sick people in hospital") matches no label closely;
- `lexical`: character 3–4-gram TF-IDF cosine over the ESCO labels and O*NET titles: tolerant of
  typos ("ux desinger") and of words the sentence model knows poorly (acronyms, tool names).

A goal equal to a label (ignoring case and spacing) adds `exact` to that occupation, and `named` puts
the occupation whose preferred label it is first: a user who types an occupation's own name means
it, though ESCO lists "electrician" as an alternative label of "domestic electrician" too and the
other channels preferred that (before it and the preamble fix for "train driver", 28 of the 3,007
preferred labels resolved to another occupation, now none; the benchmark's MRR did not move). `brevity`
gives a small edge to occupations with shorter preferred labels (vacancy titles name plain jobs —
"welder", not "spot welder"). Vacancy-title noise (seniority words, gender tags, "urgent", a trailing location) is
stripped before matching (`strip_vacancy_noise`). The weights were tuned on the "tune" half of the
job-title benchmark (evaluation/goals.py); what was tried and left out is listed there.
Everything but the one `encode` call is precomputed in `load`, so a query is one dense product
with the surface matrix (and one with the task statements when they count), one sparse product
with the n-gram matrix and a few gathers.
"""

from __future__ import annotations

import bisect
import math
import re
from dataclasses import dataclass, field
from typing import NamedTuple

import duckdb
import numpy as np
import pandas as pd
from rapidfuzz import process
from rapidfuzz.distance import OSA
from scipy import sparse

from core import embed
from core.taxonomy import ONET_MATCH_TYPES, ONET_ORIGIN_PREFIX, ONET_TASK_ORIGIN_PREFIX

LABEL_ORIGINS = ("esco-preferred", "esco-alt")
DESCRIPTION_ORIGIN = "esco-description"
# The preferred label is what ESCO calls the occupation: when two occupations share an alternative
# label, the one whose preferred label it is should win.
ORIGIN_WEIGHTS = {
    "esco-preferred": 1.0,
    "esco-alt": 0.99,
    DESCRIPTION_ORIGIN: 1.0,
    **{prefix + match: 1.0 for prefix in (ONET_ORIGIN_PREFIX, ONET_TASK_ORIGIN_PREFIX) for match in ONET_MATCH_TYPES},
}
DEFAULT_ORIGIN_WEIGHT = 0.9
LEXICAL_ONET_WEIGHT = 0.5  # an O*NET title is a weaker witness than ESCO's own labels
QUERY_BATCH = 256
TASKS_RAMP = 0.2


@dataclass(frozen=True)
class ChannelWeights:
    labels: float = 0.5
    centroid: float = 1.0
    description: float = 0.3
    onet: float = 0.1
    tasks: float = 0.3
    # The tasks channel has its full weight when the best label cosine is `TASKS_RAMP` below this,
    # none at or above it.
    tasks_below: float = 0.7
    lexical: float = 0.5
    exact: float = 0.05
    named: float = 1.0
    brevity: float = 0.02

    @property
    def total(self) -> float:
        """The largest fused score a perfect match could get (brevity left out: it is a tie-breaker;
        tasks too: a goal that matches a label perfectly gets nothing from them; named too: it puts
        an occupation's own name first, and the score shown is capped at 1)."""
        return self.labels + self.centroid + self.description + self.onet + self.lexical + self.exact


# Lay phrasings around a job title: "I want to become a data analyst" → "data analyst". Without the
# "I want to", a verb counts only in a phrasing no occupation's name starts with: "train as a
# welder" and "work in HR", but not "train driver" or "work placement officer".
_GOAL_PREAMBLE = re.compile(
    r"^\s*(?:"
    r"i\s*(?:'d| would)?\s*(?:really\s+)?(?:want|wanna|like|love|hope|plan|need)\s+(?:to\s+)?"
    r"(?:(?:become|be|work|get\s+a\s+job|start\s+a\s+career|train|retrain)\s+(?:as\s+|in\s+)?)?"
    r"|become\s+"
    r"|(?:work|train|retrain|get\s+a\s+job|start\s+a\s+career)\s+(?:as|in)\s+"
    r"|be\s+(?=(?:an?|the)\s)"
    r")?"
    r"(?:an?\s+|the\s+)?",
    re.IGNORECASE,
)


# Vacancy-title noise around the occupation's name. Only words no ESCO occupation label uses are
# dropped everywhere ("junior" and "senior" are the exception: measured, dropping them helps — ESCO's
# "senior ..." labels name other occupations); contract terms only as a parenthesis of their own,
# because "contract manager" and "remote sensing technician" are occupations.
_GENDER_TAG = re.compile(
    r"\(\s*[mwfhd]\s*/\s*[mwfhd]\s*(?:/\s*[mwfhdx]\s*)?\)|\b[mwfh]/[mwfh](?:/[dx])?\b", re.IGNORECASE
)
_CONTRACT_TERMS = re.compile(
    r"\(\s*(?:(?:full|part)[- ]?time|temporary|permanent|contract|freelance|remote|hybrid|[,/& ])+\s*\)", re.IGNORECASE
)
_NOISE_WORDS = re.compile(
    r"\b(?:senior|junior|snr|sr|jr|urgent(?:ly)?|hiring|vacanc(?:y|ies)|wanted|needed|required|immediate(?:ly)?"
    r"|(?:full|part)[- ]time|jobs?\s*$)\b\.?",
    re.IGNORECASE,
)
# "Retail Assistant @ KL Gateway Mall", "SUPERVISOR IN BATU KAWAN, PENANG": a place named after the job.
# Lower-case "at a primary school" is kept: it is part of what a lay goal asks for.
_TRAILING_PLACE = re.compile(r"\s(?:@\s*|(?i:at|in|based in)\s+(?=[A-Z]))[^()]*$")
_GRADE = re.compile(r"\b\d+\b|\b(?:ii|iii|iv)\s*$", re.IGNORECASE)
_DANGLING = re.compile(r"^\s*(?:for|of)\b|\b(?:for|of)\s*$", re.IGNORECASE)
_ABBREVIATIONS = {
    "exec": "executive",
    "execs": "executives",
    "mgr": "manager",
    "asst": "assistant",
    "engr": "engineer",
    "hr": "human resources",
    "acct": "accounts",
    "dept": "department",
}
_EDGE_PUNCTUATION = " -,/|.:;"


class OccupationHit(NamedTuple):
    uri: str
    label: str
    score: float


def clean_goal(goal: str) -> str:
    text = " ".join((goal or "").split())
    stripped = _GOAL_PREAMBLE.sub("", text, count=1).strip(" .!?")
    return stripped or text


def strip_vacancy_noise(text: str) -> str:
    """A vacancy title reduced to the occupation it names: "Senior Sales Exec (m/w/d) @ KL" → "Sales executive".

    Returns the text unchanged (but for spacing) when nothing would be left.
    """
    original = " ".join(text.split())
    stripped = _CONTRACT_TERMS.sub(" ", _GENDER_TAG.sub(" ", original))
    stripped = _TRAILING_PLACE.sub("", stripped)
    stripped = " ".join(_ABBREVIATIONS.get(word.casefold().rstrip("."), word) for word in stripped.split())
    stripped = _GRADE.sub(" ", _NOISE_WORDS.sub(" ", stripped))
    stripped = re.sub(r"\(\s*\)", " ", stripped).strip(_EDGE_PUNCTUATION)
    stripped = _DANGLING.sub(" ", stripped)
    return " ".join(stripped.split()).strip(_EDGE_PUNCTUATION) or original


def normalise_label(text: str) -> str:
    return " ".join(text.casefold().split())


_WORD = re.compile(r"[^\W\d_]+")
# Only words this long are corrected, and by at most this many edits (a swap of two neighbouring
# letters is one): short words have too many neighbours to guess from.
TYPO_MIN_LENGTH = 5
TYPO_LONG_WORD = 10


def _vocabulary(texts: list[str]) -> list[str]:
    counts: dict[str, int] = {}
    for text in texts:
        for word in _WORD.findall(text.casefold()):
            counts[word] = counts.get(word, 0) + 1
    # Most frequent first: of two equally close words, the common one is the likelier intent.
    return sorted(counts, key=lambda word: (-counts[word], word))


def _free_texts(con: duckdb.DuckDBPyConnection) -> list[str]:
    rows = con.execute(
        "SELECT label FROM skills UNION ALL SELECT description FROM occupations WHERE description IS NOT NULL"
    ).fetchall()
    return [row[0] for row in rows]


def correct_typos(text: str, vocabulary: list[str], known: set[str]) -> str:
    """Replace each word unknown to the labels by the closest known word, when one is close enough."""
    if not vocabulary:
        return text

    def fix(match: re.Match[str]) -> str:
        word = match.group(0)
        lowered = word.casefold()
        if len(lowered) < TYPO_MIN_LENGTH or lowered in known:
            return word
        edits = 2 if len(lowered) >= TYPO_LONG_WORD else 1
        found = process.extractOne(lowered, vocabulary, scorer=OSA.distance, score_cutoff=edits)
        return found[0] if found else word

    return _WORD.sub(fix, text)


LEXICAL_NGRAMS = (3, 4)
_WHITE_SPACES = re.compile(r"\s\s+")


@dataclass
class CharGrams:
    """The lexical channel's character n-gram TF-IDF: scikit-learn's `TfidfVectorizer(analyzer="char_wb",
    ngram_range=LEXICAL_NGRAMS, sublinear_tf=True, dtype=np.float32)` once fitted, kept as plain
    values. `transform` takes scikit-learn's steps in its order and precision (float32 counts, log,
    idf, an L2 norm summed in float64), so its vectors are the same to the bit
    (tests/test_goals.py), and a query needs no scikit-learn, whose import took a second of a CLI
    answer."""

    vocabulary: dict[str, int]
    idf: np.ndarray  # float32, per n-gram column

    @classmethod
    def fit(cls, texts: list[str]) -> tuple[CharGrams, sparse.csr_matrix]:
        """The fitted n-grams and the texts' vectors (texts × n-grams)."""
        from sklearn.feature_extraction.text import TfidfVectorizer

        fitted = TfidfVectorizer(analyzer="char_wb", ngram_range=LEXICAL_NGRAMS, sublinear_tf=True, dtype=np.float32)
        vectors = fitted.fit_transform(texts)
        vocabulary = {gram: int(column) for gram, column in fitted.vocabulary_.items()}
        return cls(vocabulary, fitted.idf_.astype(np.float32)), sparse.csr_matrix(vectors)

    def transform(self, texts: list[str]) -> sparse.csr_matrix:
        indptr, indices, data = [0], [], []
        for text in texts:
            counts: dict[int, int] = {}
            for gram in _char_wb_ngrams(text.lower()):
                column = self.vocabulary.get(gram)
                if column is not None:
                    counts[column] = counts.get(column, 0) + 1
            columns = np.fromiter(counts, dtype=np.int32, count=len(counts))
            values = np.fromiter(counts.values(), dtype=np.float32, count=len(counts))
            order = np.argsort(columns, kind="stable")
            columns, values = columns[order], values[order]
            np.log(values, out=values)
            values += 1.0
            values *= self.idf[columns]
            total = 0.0
            for square in (values * values).tolist():  # in order, in float64, as scikit-learn's normalize
                total += square
            if total != 0.0:
                values = (values.astype(np.float64) / math.sqrt(total)).astype(np.float32)
            indices.append(columns)
            data.append(values)
            indptr.append(indptr[-1] + len(columns))
        return sparse.csr_matrix(
            (
                np.concatenate(data) if data else np.zeros(0, dtype=np.float32),
                np.concatenate(indices) if indices else np.zeros(0, dtype=np.int32),
                np.asarray(indptr, dtype=np.int32),
            ),
            shape=(len(texts), len(self.vocabulary)),
            dtype=np.float32,
        )


def _char_wb_ngrams(text: str) -> list[str]:
    """scikit-learn's `_char_wb_ngrams`: the n-grams of each word padded with a space on each side."""
    text = _WHITE_SPACES.sub(" ", text)
    low, high = LEXICAL_NGRAMS
    grams = []
    for word in text.split():
        word = " " + word + " "
        length = len(word)
        for n in range(low, high + 1):
            offset = 0
            grams.append(word[offset : offset + n])
            while offset + n < length:
                offset += 1
                grams.append(word[offset : offset + n])
            if offset == 0:  # a short word (shorter than n) counts once
                break
    return grams


@dataclass
class _Channel:
    """Surface rows of one channel, sorted by occupation, for a max-per-occupation reduction."""

    text_index: np.ndarray  # row → column of the score matrix it reads
    weight: np.ndarray  # row → origin weight
    starts: np.ndarray  # first row of each occupation that has rows
    occupations: np.ndarray  # occupation index of each run

    @classmethod
    def build(cls, text_index: np.ndarray, occupation_index: np.ndarray, weight: np.ndarray) -> _Channel:
        order = np.lexsort((text_index, occupation_index))
        occ = occupation_index[order]
        starts = np.flatnonzero(np.r_[True, occ[1:] != occ[:-1]]) if len(occ) else np.zeros(0, dtype=np.int64)
        return cls(text_index[order], weight[order].astype(np.float32), starts, occ[starts])

    def reduce(self, scores: np.ndarray, n_occupations: int) -> np.ndarray:
        """(queries × texts) → (queries × occupations): each occupation's best weighted row, 0 if none."""
        out = np.zeros((scores.shape[0], n_occupations), dtype=np.float32)
        if len(self.text_index):
            rows = scores[:, self.text_index] * self.weight
            out[:, self.occupations] = np.maximum.reduceat(rows, self.starts, axis=1)
        return np.maximum(out, 0.0, out=out)


@dataclass
class GoalResolver:
    labels: dict[str, str]  # occupation uri -> preferred label
    occupation_uris: list[str]
    matrix: np.ndarray  # distinct surface texts × 384
    centroids: np.ndarray  # occupations × 384
    channels: dict[str, _Channel]
    lexical: CharGrams | None
    lexical_matrix: sparse.csr_matrix  # n-gram features × lexical texts
    lexical_channel: _Channel
    exact: dict[str, np.ndarray]  # normalised label → occupation indices
    vocabulary: list[str]  # words of the labels and titles, most frequent first
    known_words: set[str]
    brevity: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.float32))  # occupation → prior
    weights: ChannelWeights = field(default_factory=ChannelWeights)
    task_matrix: np.ndarray = field(default_factory=lambda: np.zeros((0, embed.DIMENSIONS), dtype=np.float32))
    named: dict[str, np.ndarray] = field(default_factory=dict)  # normalised preferred label → occupation indices
    # Occupation index → the row of `matrix` holding its preferred label's vector, -1 when it has none.
    label_rows: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))

    @classmethod
    def load(cls, con: duckdb.DuckDBPyConnection, *, weights: ChannelWeights | None = None) -> GoalResolver:
        labels = dict(con.execute("SELECT uri, label FROM occupations ORDER BY uri").fetchall())
        occupation_uris = sorted(labels)
        brevity = _brevity([labels[uri] for uri in occupation_uris])
        occupation_index = {uri: i for i, uri in enumerate(occupation_uris)}
        # Task statements in a matrix of their own: most goals match a label well enough that the
        # tasks channel counts for nothing, and then its product is not computed.
        texts, task_texts = (
            con.execute(
                f"""
                SELECT surface, any_value(vector) AS vector FROM taxonomy_vectors
                WHERE kind = 'occupation' AND model = ? AND {"" if tasks else "NOT "}starts_with(origin, ?)
                GROUP BY surface ORDER BY surface
                """,
                [embed.MODEL_KEY, ONET_TASK_ORIGIN_PREFIX],
            ).df()
            for tasks in (False, True)
        )
        rows = con.execute(
            "SELECT uri, surface, origin FROM taxonomy_vectors WHERE kind = 'occupation' AND model = ?",
            [embed.MODEL_KEY],
        ).df()
        rows = rows[rows["uri"].isin(occupation_index)]
        if texts.empty or rows.empty:
            empty = np.zeros((0, embed.DIMENSIONS), dtype=np.float32)
            no_rows = _Channel.build(*(np.zeros(0, dtype=np.int64),) * 2, np.zeros(0))
            return cls(
                labels, occupation_uris, empty, np.zeros((len(labels), embed.DIMENSIONS), dtype=np.float32),
                {}, None, sparse.csr_matrix((0, 0), dtype=np.float32), no_rows, {}, [], set(), brevity,
                weights or ChannelWeights(),
            )  # fmt: skip
        matrix = np.vstack(texts["vector"].to_numpy()).astype(np.float32)
        task_matrix = (
            np.vstack(task_texts["vector"].to_numpy()).astype(np.float32)
            if len(task_texts)
            else np.zeros((0, embed.DIMENSIONS), dtype=np.float32)
        )
        is_task = rows["origin"].str.startswith(ONET_TASK_ORIGIN_PREFIX).to_numpy()
        text_position = pd.Series(np.arange(len(texts)), index=texts["surface"])
        task_position = pd.Series(np.arange(len(task_texts)), index=task_texts["surface"])
        rows = rows.assign(
            # A task row's column is in task_matrix, every other row's in matrix.
            text=np.where(
                is_task,
                task_position.reindex(rows["surface"]).to_numpy(),
                text_position.reindex(rows["surface"]).to_numpy(),
            ).astype(np.int64),
            occupation=rows["uri"].map(occupation_index).to_numpy(),
            weight=rows["origin"].map(ORIGIN_WEIGHTS).fillna(DEFAULT_ORIGIN_WEIGHT).to_numpy(),
        )
        is_label = rows["origin"].isin(LABEL_ORIGINS)
        is_onet = rows["origin"].str.startswith(ONET_ORIGIN_PREFIX)
        channels = {
            name: _Channel.build(part["text"].to_numpy(), part["occupation"].to_numpy(), part["weight"].to_numpy())
            for name, part in (
                ("labels", rows[is_label]),
                ("description", rows[rows["origin"] == DESCRIPTION_ORIGIN]),
                ("onet", rows[is_onet]),
                ("tasks", rows[is_task]),
            )
        }
        centroids = np.zeros((len(occupation_uris), embed.DIMENSIONS), dtype=np.float32)
        label_rows = rows[is_label]
        np.add.at(centroids, label_rows["occupation"].to_numpy(), matrix[label_rows["text"].to_numpy()])
        centroids /= np.maximum(np.linalg.norm(centroids, axis=1, keepdims=True), 1e-9)

        lexical_rows = rows[is_label | is_onet]
        lexical_texts = sorted(set(lexical_rows["surface"]))
        lexical_position = pd.Series(np.arange(len(lexical_texts)), index=lexical_texts)
        lexical, lexical_vectors = CharGrams.fit(lexical_texts)
        lexical_matrix = lexical_vectors.T.tocsr()
        lexical_weight = np.where(lexical_rows["origin"].str.startswith(ONET_ORIGIN_PREFIX), LEXICAL_ONET_WEIGHT, 1.0)
        lexical_channel = _Channel.build(
            lexical_position.reindex(lexical_rows["surface"]).to_numpy(),
            lexical_rows["occupation"].to_numpy(),
            lexical_weight * lexical_rows["weight"].to_numpy(),
        )

        exact_rows = rows[is_label | (rows["origin"] == f"{ONET_ORIGIN_PREFIX}exactMatch")]
        exact_sets: dict[str, set[int]] = {}
        for surface, occupation in zip(exact_rows["surface"], exact_rows["occupation"], strict=True):
            exact_sets.setdefault(normalise_label(surface), set()).add(int(occupation))
        exact = {key: np.fromiter(found, dtype=np.int64) for key, found in exact_sets.items()}
        named_sets: dict[str, list[int]] = {}
        for i, uri in enumerate(occupation_uris):
            named_sets.setdefault(normalise_label(labels[uri]), []).append(i)
        named = {key: np.array(found, dtype=np.int64) for key, found in named_sets.items()}
        vocabulary = _vocabulary(lexical_texts)
        # Words of skill labels and descriptions are real words too ("protect", "companies"): never
        # "corrected", though not offered as corrections (they name no occupation).
        known_words = set(vocabulary) | set(_vocabulary(_free_texts(con)))
        # Every preferred label is one of the surfaces (origin esco-preferred): its vector is a row.
        label_rows = text_position.reindex([labels[uri] for uri in occupation_uris]).fillna(-1).to_numpy(np.int64)
        return cls(
            labels, occupation_uris, matrix, centroids, channels, lexical, lexical_matrix, lexical_channel, exact,
            vocabulary, known_words, brevity, weights or ChannelWeights(), task_matrix, named, label_rows,
        )  # fmt: skip

    @property
    def ready(self) -> bool:
        return bool(len(self.matrix))

    def label_vector(self, uri: str) -> np.ndarray | None:
        """The vector of the occupation's preferred label as the build embedded it, if the taxonomy has it."""
        i = bisect.bisect_left(self.occupation_uris, uri)
        if i == len(self.occupation_uris) or self.occupation_uris[i] != uri or i >= len(self.label_rows):
            return None
        row = int(self.label_rows[i])
        return self.matrix[row].copy() if row >= 0 else None

    def prepare(self, goal: str) -> str:
        """`clean_goal`, `strip_vacancy_noise`, then each unknown word replaced by the nearest label word (typos)."""
        cleaned = clean_goal(goal)
        if not cleaned:
            return cleaned
        return correct_typos(strip_vacancy_noise(cleaned), self.vocabulary, self.known_words)

    def resolve(self, goal: str, *, k: int = 5) -> list[OccupationHit]:
        return self.resolve_many([goal], k=k)[0]

    def resolve_many(self, goals: list[str], *, k: int = 5) -> list[list[OccupationHit]]:
        """The k best occupations per goal, best first; an empty goal gets an empty list."""
        cleaned = [self.prepare(goal) for goal in goals]
        results: list[list[OccupationHit]] = [[] for _ in goals]
        wanted = [i for i, text in enumerate(cleaned) if text]
        if not wanted or not self.ready or k < 1:
            return results
        scale = self.weights.total
        for start in range(0, len(wanted), QUERY_BATCH):
            batch = wanted[start : start + QUERY_BATCH]
            scores = self.score_matrix([cleaned[i] for i in batch])
            top = min(k, scores.shape[1])
            best = np.argpartition(-scores, top - 1, axis=1)[:, :top]
            for row, i in enumerate(batch):
                ranked = best[row][np.argsort(-scores[row, best[row]], kind="stable")]
                results[i] = [
                    OccupationHit(
                        self.occupation_uris[j],
                        self.labels[self.occupation_uris[j]],
                        float(np.clip(scores[row, j] / scale, 0.0, 1.0)),
                    )
                    for j in ranked
                ]
        return results

    def score_matrix(self, cleaned_goals: list[str], vectors: np.ndarray | None = None) -> np.ndarray:
        """(goals × occupations) fused scores for goals already passed through `prepare`.

        `vectors` may carry the goals' embeddings when the caller has them (the benchmark run
        encodes each distinct title once).
        """
        if vectors is None:
            vectors = embed.encode_queries(cleaned_goals)
        # BLAS keeps its threads for a single goal too: on two cores the surface product takes 3.4 ms
        # against 7.1 ms on one, and with another process busy on a core two threads still answered
        # no slower (cold p95 over 120 goals at 250k courses, docs/benchmarks.md).
        return self.fuse(self.channel_scores(cleaned_goals, vectors))

    def channel_scores(self, cleaned_goals: list[str], vectors: np.ndarray) -> dict[str, np.ndarray]:
        """Each channel's (goals × occupations) scores, before weighting."""
        n = len(self.occupation_uris)
        dense = vectors @ self.matrix.T
        scores = {name: channel.reduce(dense, n) for name, channel in self.channels.items() if name != "tasks"}
        if "tasks" in self.channels:
            tasks = np.zeros((len(cleaned_goals), n), dtype=np.float32)
            counted = np.flatnonzero(self.tasks_gate(scores["labels"]) > 0)
            if len(counted):
                tasks[counted] = self.channels["tasks"].reduce(vectors[counted] @ self.task_matrix.T, n)
            scores["tasks"] = tasks
        scores["centroid"] = np.maximum(vectors @ self.centroids.T, 0.0)
        if self.lexical is not None:
            grams = self.lexical.transform([normalise_label(goal) for goal in cleaned_goals])
            scores["lexical"] = self.lexical_channel.reduce((grams @ self.lexical_matrix).toarray(), n)
        exact = np.zeros((len(cleaned_goals), n), dtype=np.float32)
        named = np.zeros((len(cleaned_goals), n), dtype=np.float32)
        for row, goal in enumerate(cleaned_goals):
            key = normalise_label(goal)
            for found, hits in ((exact, self.exact.get(key)), (named, self.named.get(key))):
                if hits is not None:
                    found[row, hits] = 1.0
        scores["exact"] = exact
        scores["named"] = named
        return scores

    def tasks_gate(self, label_scores: np.ndarray, weights: ChannelWeights | None = None) -> np.ndarray:
        """Per goal, the share of its weight the tasks channel gets: 1 when no label comes near the goal,
        0 when one matches it well (best label cosine at or above `tasks_below`)."""
        weights = weights or self.weights
        best_label = label_scores.max(axis=1, initial=0.0)
        return np.clip((weights.tasks_below - best_label) / TASKS_RAMP, 0.0, 1.0)

    def fuse(self, scores: dict[str, np.ndarray], weights: ChannelWeights | None = None) -> np.ndarray:
        weights = weights or self.weights
        total = np.zeros_like(scores["exact"])
        for name, part in scores.items():
            if name == "tasks":
                part = part * self.tasks_gate(scores["labels"], weights)[:, None]
            total += getattr(weights, name) * part
        if weights.brevity and len(self.brevity) == total.shape[1]:
            total += weights.brevity * self.brevity
        return total


def _brevity(labels: list[str]) -> np.ndarray:
    """Minus the word count of each preferred label, standardised."""
    words = -np.array([len(label.split()) for label in labels], dtype=np.float32)
    spread = words.std() if len(words) else 0.0
    return ((words - words.mean()) / spread if spread else np.zeros_like(words)).astype(np.float32)
