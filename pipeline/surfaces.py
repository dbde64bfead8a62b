"""The texts embedded for each taxonomy concept ("surfaces"), computed once per model at build time.

Goal resolution compares a goal with every occupation surface and skill linking compares course
text with every skill surface, so what is listed here decides what those can match.
"""

from __future__ import annotations

import logging

import duckdb
import numpy as np
import pandas as pd

from pipeline import embed
from pipeline.taxonomy import taxonomy_loaded

log = logging.getLogger(__name__)


def taxonomy_surfaces(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """(kind, uri, surface, origin) for every skill and occupation surface."""
    return con.execute(
        """
        SELECT 'skill' AS kind, uri, label AS surface, 'esco-preferred' AS origin FROM skills
        UNION ALL
        SELECT 'occupation', uri, label, 'esco-preferred' FROM occupations
        UNION ALL
        SELECT DISTINCT 'occupation', uri, trim(alt), 'esco-alt'
        FROM (SELECT uri, unnest(alt_labels) AS alt FROM occupations) WHERE trim(alt) <> ''
        """
    ).df()


def ensure_taxonomy_vectors(con: duckdb.DuckDBPyConnection) -> int:
    """Embed the taxonomy surfaces unless this model's vectors are already in the catalogue."""
    have = con.execute(
        "SELECT count(*) FROM taxonomy_vectors WHERE model = ? AND kind <> 'tag'", [embed.MODEL_KEY]
    ).fetchone()[0]
    if have or not taxonomy_loaded(con):
        return 0
    surfaces = taxonomy_surfaces(con)
    log.info("embedding %d taxonomy surfaces (once per model)", len(surfaces))
    insert_vectors(con, surfaces, embed.encode(surfaces["surface"].tolist(), batch_size=256))
    return len(surfaces)


def insert_vectors(con: duckdb.DuckDBPyConnection, surfaces: pd.DataFrame, vectors: np.ndarray) -> None:
    frame = surfaces[["kind", "uri", "surface", "origin"]].assign(model=embed.MODEL_KEY, vector=list(vectors))
    con.register("new_taxonomy_vectors", frame)
    con.execute(
        "INSERT INTO taxonomy_vectors SELECT kind, uri, surface, origin, model, vector::FLOAT[384] "
        "FROM new_taxonomy_vectors"
    )
    con.unregister("new_taxonomy_vectors")
