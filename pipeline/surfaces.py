"""The texts embedded for each taxonomy concept ("surfaces"), computed once per model at build time.

Goal resolution compares a goal with every occupation surface and skill linking compares course
text with every skill surface, so what is listed here decides what those can match.

Occupation surfaces, by `origin`:
- `esco-preferred`, `esco-alt`: ESCO's own labels;
- `esco-description`: the first sentence of the ESCO description ("Welders join metal parts
  using ..."), so a goal that describes the work ("protect companies from hackers") has something
  to match;
- `onet-title/<match type>`: O*NET alternate, short ("UX Designer") and reported job titles and
  the O*NET occupation title, joined to ESCO through the official crosswalk. The match type stays
  in the origin so the resolver can weight it;
- `onet-task/<match type>`: the O*NET task statements of those occupations ("Monitor computer
  networks for security threats"), joined the same way: a goal that describes the work matches
  what workers of the occupation say they do.

A first run may embed ESCO's own texts first and the O*NET ones later (`build --defer-onet`): skill
linking reads only skill labels, and goals resolve on ESCO's labels and descriptions while the
O*NET texts, 59 % of the taxonomy's text, wait for the next build.
"""

from __future__ import annotations

import logging

import duckdb
import numpy as np
import pandas as pd

from core import embed
from core.taxonomy import ONET_MATCH_TYPES, ONET_ORIGIN_PREFIX, ONET_TASK_ORIGIN_PREFIX, taxonomy_loaded

log = logging.getLogger(__name__)

# When one occupation gets the same text from several origins, the first origin here keeps it.
ORIGIN_PRIORITY = (
    "esco-preferred",
    "esco-alt",
    *(ONET_ORIGIN_PREFIX + match_type for match_type in ONET_MATCH_TYPES),
    "esco-description",
    *(ONET_TASK_ORIGIN_PREFIX + match_type for match_type in ONET_MATCH_TYPES),
)


def taxonomy_surfaces(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """(kind, uri, surface, origin) for every skill and occupation surface, one row per distinct text.

    Skills keep their preferred label only (what skill linking reads). An occupation's texts are
    de-duplicated case-insensitively, keeping the origin that comes first in `ORIGIN_PRIORITY`.
    """
    skills = con.execute("SELECT 'skill' AS kind, uri, label AS surface, 'esco-preferred' AS origin FROM skills").df()
    occupations = con.execute(
        r"""
        WITH candidates AS (
            SELECT uri, label AS surface, 'esco-preferred' AS origin FROM occupations
            UNION ALL
            SELECT uri, alt, 'esco-alt' FROM (SELECT uri, unnest(alt_labels) AS alt FROM occupations)
            UNION ALL
            -- The first sentence: up to the first full stop that follows a lower-case letter, so
            -- abbreviations such as "e.g." or "U.S." in mid-sentence rarely cut it short.
            SELECT uri, regexp_extract(description, '^(.*?[a-z])\.(\s|$)', 1), 'esco-description'
            FROM occupations WHERE description IS NOT NULL
            UNION ALL
            SELECT c.esco_uri, t.title, $prefix || c.match_type
            FROM onet_titles t JOIN esco_onet_crosswalk c ON c.onet_code = t.code
            WHERE list_contains($match_types, c.match_type)
            UNION ALL
            SELECT c.esco_uri, o.title, $prefix || c.match_type
            FROM onet_occupations o JOIN esco_onet_crosswalk c ON c.onet_code = o.code
            WHERE list_contains($match_types, c.match_type)
            UNION ALL
            SELECT c.esco_uri, t.task, $task_prefix || c.match_type
            FROM onet_tasks t JOIN esco_onet_crosswalk c ON c.onet_code = t.code
            WHERE list_contains($match_types, c.match_type)
        )
        SELECT 'occupation' AS kind, uri, surface, origin
        FROM (
            SELECT c.uri, trim(c.surface) AS surface, c.origin,
                   row_number() OVER (
                       PARTITION BY c.uri, lower(trim(c.surface))
                       ORDER BY list_position($priority, c.origin), c.surface
                   ) AS nth
            FROM candidates c SEMI JOIN occupations o ON o.uri = c.uri
            WHERE trim(coalesce(c.surface, '')) <> ''
        )
        WHERE nth = 1
        ORDER BY uri, list_position($priority, origin), surface
        """,
        {
            "prefix": ONET_ORIGIN_PREFIX,
            "task_prefix": ONET_TASK_ORIGIN_PREFIX,
            "match_types": list(ONET_MATCH_TYPES),
            "priority": list(ORIGIN_PRIORITY),
        },
    ).df()
    return pd.concat([skills, occupations], ignore_index=True)


def is_onet(origin: str) -> bool:
    return origin.startswith((ONET_ORIGIN_PREFIX, ONET_TASK_ORIGIN_PREFIX))


def ensure_taxonomy_vectors(con: duckdb.DuckDBPyConnection, *, defer_onet: bool = False) -> int:
    """Bring this model's taxonomy vectors in line with `taxonomy_surfaces`; return how many texts were embedded.

    Rows whose surface is no longer listed are dropped and new ones added, so a catalogue built
    before a surface was introduced picks it up on the next build. A text is embedded once however
    many concepts share it, and never again while any row of this model already has its vector.
    `defer_onet` leaves the O*NET surfaces that have no vector yet for a later call (the vectors
    they already have are kept).
    """
    if not taxonomy_loaded(con):
        return 0
    surfaces = taxonomy_surfaces(con)
    if defer_onet:
        surfaces = surfaces[~surfaces["origin"].map(is_onet)]
    con.register("wanted_surfaces", surfaces)
    try:
        con.execute(
            """
            DELETE FROM taxonomy_vectors v
            WHERE v.model = $model AND v.kind IN ('occupation', 'skill')
              AND NOT ($deferring AND (starts_with(v.origin, $title) OR starts_with(v.origin, $task)))
              AND NOT EXISTS (
                SELECT 1 FROM wanted_surfaces w
                WHERE w.kind = v.kind AND w.uri = v.uri AND w.surface = v.surface AND w.origin = v.origin
            )
            """,
            {"model": embed.MODEL_KEY, "deferring": defer_onet, "title": ONET_ORIGIN_PREFIX,
             "task": ONET_TASK_ORIGIN_PREFIX},
        )  # fmt: skip
        missing = _without_vectors(con)
    finally:
        con.unregister("wanted_surfaces")
    if missing.empty:
        return 0
    known = _known_vectors(con, missing["surface"].unique().tolist())
    texts = sorted(set(missing["surface"]) - known.keys())
    if texts:
        log.info("embedding %d taxonomy texts for %d surfaces (once per model)", len(texts), len(missing))
        known.update(zip(texts, embed.encode(texts, batch_size=256, progress="embedding taxonomy"), strict=True))
    insert_vectors(con, missing, np.vstack([known[text] for text in missing["surface"]]))
    return len(texts)


def surfaces_without_vectors(con: duckdb.DuckDBPyConnection) -> int:
    """How many taxonomy surfaces this model has no vector for (those a `defer_onet` build left)."""
    if not taxonomy_loaded(con):
        return 0
    con.register("wanted_surfaces", taxonomy_surfaces(con))
    try:
        return len(_without_vectors(con))
    finally:
        con.unregister("wanted_surfaces")


def _without_vectors(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """The rows of the registered `wanted_surfaces` that have no vector of this model."""
    return con.execute(
        """
        SELECT w.kind, w.uri, w.surface, w.origin FROM wanted_surfaces w
        WHERE NOT EXISTS (
            SELECT 1 FROM taxonomy_vectors v
            WHERE v.model = ? AND v.kind = w.kind AND v.uri = w.uri AND v.surface = w.surface AND v.origin = w.origin
        )
        """,
        [embed.MODEL_KEY],
    ).df()


def _known_vectors(con: duckdb.DuckDBPyConnection, texts: list[str]) -> dict[str, np.ndarray]:
    """Vectors this model already has for any of `texts` (e.g. an ESCO label that is also an O*NET title)."""
    con.register("wanted_texts", pd.DataFrame({"surface": texts}))
    try:
        frame = con.execute(
            """
            SELECT v.surface, any_value(v.vector) AS vector
            FROM taxonomy_vectors v SEMI JOIN wanted_texts w ON w.surface = v.surface
            WHERE v.model = ? GROUP BY v.surface
            """,
            [embed.MODEL_KEY],
        ).df()
    finally:
        con.unregister("wanted_texts")
    vectors = zip(frame["surface"], frame["vector"], strict=True)
    return {text: np.asarray(vector, dtype=np.float32) for text, vector in vectors}


def insert_vectors(con: duckdb.DuckDBPyConnection, surfaces: pd.DataFrame, vectors: np.ndarray) -> None:
    frame = surfaces[["kind", "uri", "surface", "origin"]].assign(model=embed.MODEL_KEY, vector=list(vectors))
    con.register("new_taxonomy_vectors", frame)
    con.execute(
        "INSERT INTO taxonomy_vectors SELECT kind, uri, surface, origin, model, vector::FLOAT[384] "
        "FROM new_taxonomy_vectors"
    )
    con.unregister("new_taxonomy_vectors")
