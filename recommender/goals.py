"""Goal resolution: a career goal in plain words → ranked ESCO occupations.

Dense: the cleaned goal is embedded and compared with every occupation surface (preferred and
alternative labels, see pipeline/surfaces.py); an occupation scores its best surface. An exact
label match outranks any near miss.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import NamedTuple

import duckdb
import numpy as np

from pipeline import embed

EXACT_LABEL_BONUS = 0.5

# Lay phrasings around a job title: "I want to become a data analyst" → "data analyst".
_GOAL_PREAMBLE = re.compile(
    r"^\s*(?:i\s*(?:'d| would)?\s*(?:really\s+)?(?:want|wanna|like|love|hope|plan|need)\s+(?:to\s+)?)?"
    r"(?:(?:become|be|work|get\s+a\s+job|start\s+a\s+career|train|retrain)\s+(?:as\s+|in\s+)?)?"
    r"(?:an?\s+|the\s+)?",
    re.IGNORECASE,
)


class OccupationHit(NamedTuple):
    uri: str
    label: str
    score: float


def clean_goal(goal: str) -> str:
    text = " ".join((goal or "").split())
    stripped = _GOAL_PREAMBLE.sub("", text, count=1).strip(" .!?")
    return stripped or text


@dataclass
class GoalResolver:
    labels: dict[str, str]  # occupation uri -> preferred label
    surface_uris: np.ndarray
    surface_text: list[str]
    matrix: np.ndarray

    @classmethod
    def load(cls, con: duckdb.DuckDBPyConnection) -> GoalResolver:
        surfaces = con.execute(
            "SELECT uri, surface, vector FROM taxonomy_vectors WHERE kind = 'occupation' AND model = ? ORDER BY uri",
            [embed.MODEL_KEY],
        ).df()
        matrix = (
            np.vstack(surfaces["vector"].to_numpy()).astype(np.float32)
            if not surfaces.empty
            else np.zeros((0, embed.DIMENSIONS), dtype=np.float32)
        )
        labels = dict(con.execute("SELECT uri, label FROM occupations").fetchall())
        return cls(labels, surfaces["uri"].to_numpy(), surfaces["surface"].tolist(), matrix)

    @property
    def ready(self) -> bool:
        return bool(len(self.matrix))

    def resolve(self, goal: str, *, k: int = 5) -> list[OccupationHit]:
        return self.resolve_many([goal], k=k)[0]

    def resolve_many(self, goals: list[str], *, k: int = 5) -> list[list[OccupationHit]]:
        cleaned = [clean_goal(g) for g in goals]
        queries = embed.encode(cleaned, batch_size=256)
        results = []
        for text, query in zip(cleaned, queries, strict=True):
            scores = self.matrix @ query
            lowered = text.lower()
            best: dict[str, float] = {}
            for idx in np.argsort(-scores)[: 50 * k]:
                uri = self.surface_uris[idx]
                score = float(scores[idx])
                if self.surface_text[idx].lower() == lowered:
                    score += EXACT_LABEL_BONUS
                if score > best.get(uri, -1.0):
                    best[uri] = score
            ranked = sorted(best.items(), key=lambda kv: kv[1], reverse=True)[:k]
            results.append([OccupationHit(uri, self.labels.get(uri, uri), min(s, 1.0)) for uri, s in ranked])
        return results
