"""The taxonomy as the catalogue stores it, read by the build and the recommender alike: the
origins of the embedded texts (`taxonomy_vectors.origin`), whether the taxonomy is there, and the
skills' label vectors. Loading it is `pipeline.taxonomy`; embedding its texts, `pipeline.surfaces`."""

from __future__ import annotations

import duckdb
import numpy as np

from core import embed

# The vector of a concept's ESCO preferred label: the one vector of a skill that linking and the
# extractor read (`pipeline.surfaces.ensure_taxonomy_vectors` stores it).
ORIGIN_PREFERRED = "esco-preferred"

# Crosswalk match types whose O*NET titles name the ESCO occupation. broadMatch is left out: there
# one O*NET code fans out to up to 81 narrower ESCO occupations, so its titles tie all of them and
# lowered the benchmark MRR (evaluation/goals.py); exactISCO points at ISCO groups, not
# occupations.
ONET_MATCH_TYPES = ("exactMatch", "closeMatch", "narrowMatch")
ONET_ORIGIN_PREFIX = "onet-title/"
ONET_TASK_ORIGIN_PREFIX = "onet-task/"


def taxonomy_loaded(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether ESCO skills and occupations are in the catalogue (what everything downstream needs)."""
    row = con.execute(
        "SELECT EXISTS (SELECT 1 FROM skills) AND EXISTS (SELECT 1 FROM occupations)",
    ).fetchone()
    return bool(row and row[0])


def skill_matrix(con: duckdb.DuckDBPyConnection) -> tuple[list[str], list[str], np.ndarray]:
    """(uris, labels, vectors) of every ESCO skill's preferred label."""
    frame = con.execute(
        """
        SELECT v.uri, s.label, v.vector FROM taxonomy_vectors v JOIN skills s ON s.uri = v.uri
        WHERE v.kind = 'skill' AND v.origin = ? AND v.model = ? ORDER BY v.uri
        """,
        [ORIGIN_PREFERRED, embed.MODEL_KEY],
    ).df()
    if frame.empty:
        return [], [], np.zeros((0, embed.DIMENSIONS), dtype=np.float32)
    return frame["uri"].tolist(), frame["label"].tolist(), np.vstack(frame["vector"].to_numpy()).astype(np.float32)
