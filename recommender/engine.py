"""In-memory search over one published catalogue: goal resolution, required skills, ranking.

Everything a query needs is read once when the catalogue is opened (course metadata, the course
vector matrix, the sparse course×skill link matrix, occupation label vectors), so a query is a
few matrix products and no SQL. What takes long to build from the catalogue is kept in `cache/`
beside it (`recommender.index_cache`), so only the first open of a build builds it.

One module though over 600 lines: it is one class whose methods all read the state one open
loads, and what stands on its own is already out (scores in `ranking`, the course indexes in
`course_side`, goal resolution in `goals`, the goal memo in `goal_memo`, the caches in
`index_cache`, the SQL views in `views`).
"""

from __future__ import annotations

import json
import logging
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
from scipy import sparse

from core import embed, store
from core.language import detect_text_language, load_identifier_in_background
from core.skill_extract import SkillExtractor
from core.taxonomy import skill_matrix
from recommender import course_side, goal_memo, ranking
from recommender.course_side import TRANSVERSAL_FACTOR
from recommender.errors import (
    CatalogReplacedError,
    EmptyCatalogError,
    EmptyGoalError,
    ModelMismatchError,
    TaxonomyMissingError,
)
from recommender.goal_memo import OCCUPATIONS_PER_GOAL
from recommender.goals import GoalResolver, OccupationHit, clean_goal
from recommender.index_cache import TaxonomyIndexes, course_indexes, file_identity, read_extractor, taxonomy_indexes
from recommender.lexical import Bm25Index
from recommender.ranking import RankConfig
from recommender.stack import Candidate, greedy_stack

log = logging.getLogger(__name__)

ESSENTIAL_WEIGHT = 1.0
OPTIONAL_WEIGHT = 0.35
HAVE_MIN_COSINE = 0.6
# The stack starts from the best-ranked credential when it closes at least this share of what the
# most covering course of the pool closes: "much of the gap" as far as this catalogue can close it.
STACK_CREDENTIAL_SHARE = 0.6
STACK_CREDENTIALS = ("professional certificate", "specialization", "program")


@dataclass(frozen=True)
class Ranking:
    results: list[dict]  # what is shown, best first, scores descending
    scores: np.ndarray  # every course's score; -inf where the filters exclude it
    weights: np.ndarray  # the skill gap as a weight per skill column
    pool: np.ndarray  # the relevant courses in the goal's language the stack may choose from, best first
    goal_language: str | None = None
    cut_by_floor: int = 0  # candidates not shown because relevance ended before k results
    language_fallback: bool = False  # the catalogue has no course in the goal's language: all are shown


STACK_POOL = 100
# all-MiniLM-L6-v2 was trained on English text.
MODEL_LANGUAGE = "en"
_RESULT_COLUMNS = (
    "id", "name", "provider", "institution", "url", "credential", "hours", "price", "currency", "access_model", "level",
    "in_language", "rating", "rating_count",
)  # fmt: skip


@dataclass
class Engine:
    path: Path
    course_row: dict[str, int]  # course id -> row
    courses: pd.DataFrame  # active courses, row i ↔ course_matrix[i]
    course_matrix: np.ndarray
    lexical: Bm25Index
    prior: np.ndarray  # credential fit, quality and freshness, mixed: the goal-independent part of a score
    links: sparse.csr_matrix  # courses × skills, link score
    link_evidence: np.ndarray  # per stored entry of `links` (its `data` order): an index into evidence_texts
    evidence_texts: list[str]  # each distinct evidence of a link once
    skill_uris: list[str]
    skill_index: dict[str, int]
    skill_labels: list[str]
    skill_transversal: np.ndarray
    occupation_skills: dict[str, list[tuple[str, str]]]  # occupation uri -> [(skill uri, relation type)]
    occupation_tools: dict[str, list[str]]  # ESCO occupation -> O*NET technology examples, hot first
    meta: dict[str, str]
    accepted: sparse.csr_matrix  # `links` with the entries a reader would not accept set to 0 (same layout)
    specificity: np.ndarray  # per skill column: inverse frequency over the catalogue, transversal near 0
    languages: np.ndarray  # per course row: primary language subtag, or None
    language_codes: np.ndarray  # per course row: index into language_index, -1 when unknown
    language_index: dict[str, int]
    # The columns a query reads, as plain object arrays (None where missing): read per query from the
    # frame, whose columns may be Arrow-backed, each cost a conversion of the whole column.
    column: dict[str, np.ndarray]
    # The goal resolver and the skill extractor: read at open, or at their first use when opened with
    # `lazy_taxonomy` (a goal whose resolution is remembered on disk never needs them, and answering
    # a new goal needs only the resolver).
    taxonomy: TaxonomyIndexes | None = None
    opened: tuple | None = None  # the catalogue file's identity when it was opened
    # The skills' vectors and labels, for what a user says they have: read at their first use.
    skill_lookup: tuple[list[str], np.ndarray, dict[str, str]] | None = None
    memo: goal_memo.GoalMemo = field(default_factory=goal_memo.GoalMemo.off)
    # The last `RESOLVED_GOALS` resolutions and goal languages, by goal text: a dashboard user or a
    # benchmark asks about the same goal again, and resolving costs more than ranking at 10k courses.
    resolved: OrderedDict = field(default_factory=OrderedDict, repr=False)
    goal_languages: OrderedDict = field(default_factory=OrderedDict, repr=False)
    occupation_vectors: dict[str, np.ndarray] = field(default_factory=dict, repr=False)  # uri -> its name's vector

    # ------------------------------------------------------------------ loading

    @classmethod
    def open(cls, path: Path, *, lazy_taxonomy: bool = False) -> Engine:
        """The engine over the catalogue at `path`. `lazy_taxonomy`: read the goal resolver and the
        skill extractor at their first use instead (the CLI: a remembered goal needs neither)."""
        opened = file_identity(path)
        with cls.connect(path) as con:
            return cls._load(con, path, opened, lazy_taxonomy=lazy_taxonomy)

    @staticmethod
    def connect(path: Path) -> duckdb.DuckDBPyConnection:
        """A read-only connection of its own: DuckDB connections are not shared across threads."""
        return store.connect(path, read_only=True)

    def _connect_opened(self) -> duckdb.DuckDBPyConnection:
        """A connection to the very file this engine was opened on, for what it reads at first use: a
        build publishes by renaming a new file over the old one, and the parts of two builds must not
        meet in one engine."""
        replaced = CatalogReplacedError(f"{self.path} was replaced or removed since it was opened; ask again")
        if file_identity(self.path) != self.opened:
            raise replaced
        con = self.connect(self.path)
        if file_identity(self.path) != self.opened:  # renamed over between the check and the open
            con.close()
            raise replaced
        return con

    def read(self, sql: str, parameters: list | None = None) -> pd.DataFrame:
        """A query on the catalogue this engine was opened on (details too large to keep in memory)."""
        with self.connect(self.path) as con:
            return con.execute(sql, parameters or []).df()

    @classmethod
    def _load(
        cls, con: duckdb.DuckDBPyConnection, path: Path, opened: tuple | None = None, *, lazy_taxonomy: bool = False
    ) -> Engine:
        built_with = dict(con.execute("SELECT key, value FROM catalog_meta").fetchall()).get("model")
        if built_with and built_with != embed.MODEL_KEY:
            # Its vectors are keyed by the model form that made them: this process would find none.
            raise ModelMismatchError(
                f"the catalogue was built with {built_with} and this process runs {embed.MODEL_KEY}: run "
                "`skillstack build`, or set SKILLSTACK_MODEL_VARIANT to the catalogue's variant"
            )
        skills = con.execute("SELECT uri, label, reuse_level FROM skills ORDER BY uri").df()
        skill_index = {uri: i for i, uri in enumerate(skills["uri"])}
        indexes = course_indexes(con, path, skills["uri"].tolist(), opened, course_side.build_course_indexes)
        courses = indexes.courses
        # Grouped once here: filtering the 124k relations per query cost ~10 ms, twice per recommendation.
        occupation_skills: dict[str, list[tuple[str, str]]] = {}
        for occupation, skill, relation in con.execute(
            "SELECT occupation_uri, skill_uri, relation_type FROM occupation_skills"
        ).fetchall():
            occupation_skills.setdefault(occupation, []).append((skill, relation))
        meta = dict(con.execute("SELECT key, value FROM catalog_meta").fetchall())
        taxonomy = None if lazy_taxonomy else taxonomy_indexes(con, path, opened)
        if taxonomy is not None:
            read_extractor(taxonomy, con)
        skill_lookup = None if lazy_taxonomy else _read_skill_lookup(con)
        tools: dict[str, list[str]] = {}
        for uri, example in con.execute(
            """
            SELECT x.esco_uri, t.example
            FROM esco_onet_crosswalk x JOIN onet_technology t ON t.code = x.onet_code
            WHERE x.match_type IN ('exactMatch', 'closeMatch', 'narrowMatch')
            GROUP BY x.esco_uri, t.example
            ORDER BY x.esco_uri, bool_or(t.hot) DESC, bool_or(t.in_demand) DESC, count(*) DESC, t.example
            """
        ).fetchall():
            tools.setdefault(uri, []).append(example)
        transversal = (skills["reuse_level"] == "transversal").to_numpy()
        accepted = course_side.accepted_links(indexes.links, indexes.link_evidence, indexes.evidence_texts)
        languages = courses["in_language"].astype(object).where(courses["in_language"].notna(), None)
        primary = np.array([v.split("-")[0] if v else None for v in languages], dtype=object)
        codes, names = pd.factorize(primary, use_na_sentinel=True)
        return cls(
            column={name: courses[name].to_numpy(dtype=object, na_value=None) for name in (*_RESULT_COLUMNS, "level")},
            accepted=accepted,
            specificity=course_side.specificity(accepted, transversal),
            languages=primary,
            language_codes=codes.astype(np.int32),
            language_index={name: i for i, name in enumerate(names)},
            path=path,
            course_row=dict(zip(courses["id"].tolist(), range(len(courses)), strict=True)),
            courses=courses,
            lexical=indexes.lexical,
            # Computed at every open (vectorised, tens of milliseconds at 250k courses), not kept in
            # the cache: the priors' weights are ranking settings, not part of the indexes.
            prior=course_side.prior_scores(courses),
            course_matrix=indexes.course_matrix,
            links=indexes.links,
            link_evidence=indexes.link_evidence,
            evidence_texts=indexes.evidence_texts,
            skill_uris=skills["uri"].tolist(),
            skill_index=skill_index,
            skill_labels=skills["label"].tolist(),
            skill_transversal=transversal,
            occupation_skills=occupation_skills,
            occupation_tools=tools,
            meta=meta,
            taxonomy=taxonomy,
            skill_lookup=skill_lookup,
            opened=opened,
            memo=goal_memo.GoalMemo.for_catalog(path, meta),
        )

    @property
    def skill_vector_uris(self) -> list[str]:
        return self._skill_lookup()[0]

    @property
    def skill_vectors(self) -> np.ndarray:
        return self._skill_lookup()[1]

    @property
    def skill_by_label(self) -> dict[str, str]:
        """Lower-cased preferred and alternative labels -> uri."""
        return self._skill_lookup()[2]

    def _skill_lookup(self) -> tuple[list[str], np.ndarray, dict[str, str]]:
        if self.skill_lookup is None:
            with _SKILLS_LOCK, self._connect_opened() as con:
                if self.skill_lookup is None:
                    self.skill_lookup = _read_skill_lookup(con)
        return self.skill_lookup

    @property
    def goals(self) -> GoalResolver:
        return self._taxonomy().resolver

    @property
    def skill_extractor(self) -> SkillExtractor:
        taxonomy = self._taxonomy()
        if taxonomy.extractor is None:
            with _TAXONOMY_LOCK, self._connect_opened() as con:
                read_extractor(taxonomy, con)
        return taxonomy.extractor

    def _taxonomy(self) -> TaxonomyIndexes:
        if self.taxonomy is None:
            with _TAXONOMY_LOCK:
                if self.taxonomy is None:
                    with self._connect_opened() as con:
                        self.taxonomy = taxonomy_indexes(con, self.path, self.opened)
        return self.taxonomy

    # ------------------------------------------------------------------ goal → occupations → skills

    def resolve_goal(self, goal: str, *, k: int = OCCUPATIONS_PER_GOAL) -> list[OccupationHit]:
        text = clean_goal(goal)
        if not text:
            raise EmptyGoalError('the goal is empty: type a career goal, e.g. `skillstack recommend "data analyst"`')
        key = (goal, k)
        with _RESOLVED_LOCK:
            if key in self.resolved:
                self.resolved.move_to_end(key)
                return list(self.resolved[key])
        remembered = self.memo.read(goal, k)
        if remembered is not None:
            embed.remember_queries(remembered.vectors)
            self.occupation_vectors.update(remembered.occupation_vectors)
            self._remember_language(text, remembered.language)
            hits = list(remembered.occupations)
        else:
            if text not in self.goal_languages:
                load_identifier_in_background()
            self._require_taxonomy_vectors()
            hits = self.goals.resolve(goal, k=k)
        with _RESOLVED_LOCK:
            self.resolved[key] = tuple(hits)
            while len(self.resolved) > RESOLVED_GOALS:
                self.resolved.popitem(last=False)
        return hits

    def keep_goal(self, goal: str, occupations: list[OccupationHit], *, k: int) -> None:
        """Write what answering `goal` needed from the model and the taxonomy into the goal memo: its
        resolution, the query vectors `rank` encoded and the goal's language. Nothing when remembered."""
        text = clean_goal(goal)
        if not self.memo.enabled or not text or self.memo.read(goal, k) is not None:
            return
        vector = embed.remembered_query(text)
        if vector is None or text not in self.goal_languages:
            return
        named = {o.uri: self.occupation_vectors[o.uri] for o in occupations if o.uri in self.occupation_vectors}
        remembered = goal_memo.Remembered(tuple(occupations), {text: vector}, self.goal_languages[text], named)
        self.memo.write(goal, k, remembered)

    def goal_language(self, text: str) -> str | None:
        """`detect_text_language`, remembered per goal text (with the resolution, in the goal memo)."""
        with _RESOLVED_LOCK:
            if text in self.goal_languages:
                return self.goal_languages[text]
        language = detect_text_language(text)
        self._remember_language(text, language)
        return language

    def _remember_language(self, text: str, language: str | None) -> None:
        with _RESOLVED_LOCK:
            self.goal_languages[text] = language
            self.goal_languages.move_to_end(text)
            while len(self.goal_languages) > RESOLVED_GOALS:
                self.goal_languages.popitem(last=False)

    def _require_taxonomy_vectors(self) -> None:
        if not self.goals.labels:
            raise TaxonomyMissingError(
                "no taxonomy in the catalogue: run `skillstack taxonomy load`, then `skillstack build`"
            )
        # Kept with the resolver: reading the skills' vectors or the extractor to find out cost 0.3 s of
        # a CLI answer.
        if not self.goals.ready or not self._taxonomy().skills_ready:
            raise TaxonomyMissingError("the taxonomy is loaded but not indexed yet: run `skillstack build`")

    def occupation_vector(self, occupation: OccupationHit) -> np.ndarray:
        """The vector of the occupation's name as the build embedded it (a row of the resolver's
        matrix), so a query encodes only the goal's words; encoded here when the taxonomy lacks it."""
        vector = self.occupation_vectors.get(occupation.uri)
        if vector is None:
            vector = self.goals.label_vector(occupation.uri)
            if vector is None:
                vector = embed.encode_queries([occupation.label])[0]
            self.occupation_vectors[occupation.uri] = vector
        return vector

    def occupation_label(self, uri: str) -> str | None:
        return self.goals.labels.get(uri)

    @staticmethod
    def occupation_tuple(uri: str, label: str, score: float) -> OccupationHit:
        return OccupationHit(uri, label, score)

    def required_skills(self, occupation_uri: str) -> dict[str, float]:
        """Skill uri → weight: essential above optional, transversal skills down-weighted."""
        weights: dict[str, float] = {}
        for uri, relation in self.occupation_skills.get(occupation_uri, ()):
            idx = self.skill_index.get(uri)
            if idx is None:
                continue
            weight = ESSENTIAL_WEIGHT if relation == "essential" else OPTIONAL_WEIGHT
            if self.skill_transversal[idx]:
                weight *= TRANSVERSAL_FACTOR
            weights[uri] = max(weight, weights.get(uri, 0.0))
        return weights

    def describe_required(self, occupation_uri: str) -> list[tuple[str, str, float, bool, bool]]:
        """(uri, label, weight, essential, transversal) of the occupation's skills, heaviest first."""
        weights = self.required_skills(occupation_uri)
        essential = {uri for uri, relation in self.occupation_skills.get(occupation_uri, ()) if relation == "essential"}
        described = [
            (uri, self.skill_label(uri), w, uri in essential, bool(self.skill_transversal[self.skill_index[uri]]))
            for uri, w in weights.items()
        ]
        return sorted(described, key=lambda r: (-r[2], r[1]))

    def normalise_have(self, have: tuple[str, ...] | list[str]) -> list[tuple[str, str, float]]:
        """Skills the user says they have, each mapped to its ESCO skill: an exact label first, else the
        nearest label when it is close enough to trust."""
        found: dict[str, tuple[str, str, float]] = {}
        phrases = [" ".join(h.split()) for h in have if h and h.strip()]
        for phrase in phrases:
            uri = self.skill_by_label.get(phrase.lower())
            if uri:
                found.setdefault(uri, (uri, self.skill_label(uri), 1.0))
                continue
            if not len(self.skill_vectors):
                continue
            scores = self.skill_vectors @ embed.encode([phrase])[0]
            best = int(np.argmax(scores))
            if scores[best] >= HAVE_MIN_COSINE:
                uri = self.skill_vector_uris[best]
                found.setdefault(uri, (uri, self.skill_label(uri), float(scores[best])))
        return list(found.values())

    def tools(self, occupation_uri: str, limit: int = 15) -> tuple[str, ...]:
        return tuple(self.occupation_tools.get(occupation_uri, ())[:limit])

    def skill_label(self, uri: str) -> str:
        idx = self.skill_index.get(uri)
        return self.skill_labels[idx] if idx is not None else uri

    # ------------------------------------------------------------------ ranking

    def rank(
        self,
        goal: str,
        occupation: OccupationHit | None,
        required: dict[str, float],
        filters,
        *,
        k: int,
        config: RankConfig | None = None,
    ) -> Ranking:
        """The courses to show for a goal (see `recommender.ranking` for how they are scored and chosen)."""
        config = config or RankConfig()
        if self.courses.empty:
            raise EmptyCatalogError("the catalogue has no courses: run `skillstack crawl` then `skillstack build`")
        text = clean_goal(goal)
        if not text:
            raise EmptyGoalError('the goal is empty: type a career goal, e.g. `skillstack recommend "data analyst"`')
        query = embed.encode_queries([text])[0].astype(np.float32)
        query_words = text
        if occupation is not None and config.occupation_weight:
            weight = ranking.query_weight(occupation.score, config)
            if weight > 0:
                query = query + weight * self.occupation_vector(occupation)
                query_words = f"{text} {occupation.label}"
        query /= np.linalg.norm(query) or 1.0
        semantic = self.course_matrix @ query
        lexical = self.lexical.scores(query_words)
        score = ranking.base_score(semantic, lexical, self.prior, config)
        mask = self.filter_mask(filters)
        if not mask.all():  # without filters, two passes over every course saved
            score = np.where(mask, score, -np.inf).astype(np.float32)

        weights = np.zeros(len(self.skill_uris), dtype=np.float32)
        for uri, weight in required.items():
            weights[self.skill_index[uri]] = weight
        goal_language = self.goal_language(text)
        preferred = goal_language if config.prefer_goal_language and not filters.languages else None
        in_language = self.language_mask(preferred)
        # A goal in a language the catalogue has no course in (a Spanish goal over English listings)
        # is answered in every language, and says so.
        language_fallback = preferred is not None and preferred not in self.language_index
        if language_fallback:
            in_language = np.ones(len(self.courses), dtype=bool)
        candidates = _top(score, max(k, ranking.CANDIDATE_POOL))
        rerank = candidates[in_language[candidates]][: ranking.RERANK_POOL]
        if config.coverage and required:
            coverage = ranking.coverage_scores(self.accepted, rerank, weights, self.specificity)
            score[rerank] += config.coverage * coverage
        if config.title:
            titles = self.column["name"][rerank].tolist()
            named = ranking.title_overlap(ranking.content_words(text), titles)
            if occupation is not None and config.occupation_weight:
                by_occupation = ranking.title_overlap(ranking.content_words(occupation.label), titles)
                named = np.maximum(named, by_occupation * float(np.clip(occupation.score, 0, 1)))
            score[rerank] += config.title * named
        candidates = candidates[np.argsort(-score[candidates], kind="stable")]
        relevant = semantic >= config.floor_semantic
        if goal_language not in (None, MODEL_LANGUAGE):
            # The model reads English: between texts in another language its cosine is no evidence,
            # so every result needs the title witness ("ayudante de cocina" is no branding course).
            relevant[:] = False
        weak = candidates[(semantic[candidates] >= config.floor_weak) & ~relevant[candidates]]
        if len(weak):
            titles = self.column["name"][weak].tolist()
            witnessed = ranking.title_overlap(ranking.content_words(text), titles) > 0
            relevant[weak[witnessed]] = True
        choice = ranking.choose(
            candidates,
            score,
            k=k,
            in_language=in_language,
            relevant=relevant,
            vectors=self.course_matrix,
            providers=self.column["provider"],
            institutions=self._institutions,
            credentials=self._credentials,
            languages=self.languages,
            titles=self.column["name"],
            config=config,
        )
        results = [self.result_row(s.row, s.score, weights, editions=s.editions) for s in choice.shown]
        keep = in_language[candidates]
        if config.floor:
            keep &= relevant[candidates]
        return Ranking(
            results=results,
            scores=score,
            weights=weights,
            pool=candidates[keep][: max(k, STACK_POOL)],
            goal_language=goal_language,
            cut_by_floor=choice.cut_by_floor,
            language_fallback=language_fallback,
        )

    def language_mask(self, language: str | None) -> np.ndarray:
        """Courses in `language` or of unknown language; every course when `language` is None."""
        if language is None:
            return np.ones(len(self.courses), dtype=bool)
        return (self.language_codes == self.language_index.get(language, -2)) | (self.language_codes == -1)

    @property
    def _institutions(self) -> np.ndarray:
        return self.column["institution"]

    @property
    def _credentials(self) -> np.ndarray:
        return self.column["credential"]

    def stack(self, ranking: Ranking, gap: dict[str, float]) -> tuple[list, tuple[str, ...], tuple[str, ...]]:
        """Skill stack over the ranking's pool: [(course row, closes labels)], covered, uncovered.

        It starts from the best-ranked credential (professional certificate, specialization,
        program) when that closes at least `STACK_CREDENTIAL_SHARE` of the gap, then covers what it
        leaves open greedily. Only accepted links count: a step claims what its evidence shows."""
        columns = {self.skill_index[uri]: w for uri, w in gap.items() if uri in self.skill_index}
        closing = []
        for i in ranking.pool:
            start, end = self.accepted.indptr[i], self.accepted.indptr[i + 1]
            cols, data = self.accepted.indices[start:end], self.accepted.data[start:end]
            skills = frozenset(int(s) for s, d in zip(cols, data, strict=True) if d > 0 and int(s) in columns)
            if skills:
                closing.append((int(i), skills))
        rows = [i for i, _ in closing]
        pool_hours = self.column["hours"][rows].tolist()
        pool_levels = self.column["level"][rows].tolist()
        pool_credentials = self.column["credential"][rows].tolist()
        candidates = [
            Candidate(i, _none(hours), _none(level), skills)
            for (i, skills), hours, level in zip(closing, pool_hours, pool_levels, strict=True)
        ]
        most = max((sum(columns[s] for s in c.skills) for c in candidates), default=0.0)
        first = next(
            (
                c
                for c, credential in zip(candidates, pool_credentials, strict=True)
                if credential in STACK_CREDENTIALS
                and most > 0
                and sum(columns[s] for s in c.skills) >= STACK_CREDENTIAL_SHARE * most
            ),
            None,
        )
        steps = greedy_stack(candidates, columns, first=first)
        covered_cols = {s for step in steps for s in step.closes}
        heaviest = sorted(columns, key=lambda s: -columns[s])
        return (
            [(step.index, tuple(self.skill_labels[s] for s in step.closes)) for step in steps],
            tuple(self.skill_labels[s] for s in heaviest if s in covered_cols),
            tuple(self.skill_labels[s] for s in heaviest if s not in covered_cols),
        )

    def filter_mask(self, filters) -> np.ndarray:
        c = self.courses
        mask = np.ones(len(c), dtype=bool)
        if filters.free_only:
            mask &= (c["access_model"].isin(["free", "free-audit+paid-certificate"]) | (c["price"] == 0)).to_numpy()
        if filters.with_certificate:
            mask &= (c["credential"].notna() & (c["credential"] != "none")).to_numpy()
        if filters.levels:
            mask &= c["level"].isin(filters.levels).to_numpy()
        if filters.languages:
            mask &= c["in_language"].fillna("").str.split("-").str[0].isin(filters.languages).to_numpy()
        if filters.max_hours is not None:
            mask &= (c["hours"] <= filters.max_hours).fillna(False).to_numpy(dtype=bool)
        if filters.max_price is not None:
            price = c["price"]
            if filters.with_certificate:
                # Asking for a certificate, a free-audit course costs what its certificate costs: an
                # edX course free to audit with a $199 certificate is not under $10.
                if "_certificate_price" not in self.__dict__:
                    # Read on first use (one column, aligned to `courses`), not kept in the course
                    # indexes: only this filter needs it.
                    try:
                        found = self.read("SELECT id, certificate_price FROM courses WHERE certificate_price > 0")
                        by_id = dict(zip(found["id"], found["certificate_price"], strict=True))
                    except duckdb.BinderException:  # a catalogue built before the column existed
                        by_id = {}
                    self.__dict__["_certificate_price"] = c["id"].map(by_id).astype("float64")
                certificate = self.__dict__["_certificate_price"]
                audit = (c["access_model"] == "free-audit+paid-certificate").to_numpy()
                price = price.where(~audit, certificate)
            mask &= (price <= filters.max_price).fillna(False).to_numpy(dtype=bool)
        if filters.providers:
            mask &= c["provider"].isin(filters.providers).to_numpy()
        return mask

    def result_row(self, i: int, score: float, weights: np.ndarray, *, editions: tuple[int, ...] = ()) -> dict:
        # Each column's value, not `iloc[i]`: building a mixed-type row Series cost 4x as much.
        row = {name: self.column[name][i] for name in _RESULT_COLUMNS}
        start, end = self.accepted.indptr[i], self.accepted.indptr[i + 1]
        skill_cols = self.accepted.indices[start:end]
        accepted = self.accepted.data[start:end] > 0
        covered = sorted(
            (int(s) for s, ok in zip(skill_cols, accepted, strict=True) if ok and weights[s] > 0),
            key=lambda s: -weights[s],
        )
        entry = {int(s): start + j for j, s in enumerate(skill_cols)}
        return {
            "course_id": row["id"],
            "title": row["name"],
            "provider": row["provider"],
            "institution": _none(row["institution"]),
            "url": row["url"],
            "score": score,
            "credential": _none(row["credential"]),
            "hours": _none(row["hours"]),
            "price": _none(row["price"]),
            "currency": _none(row["currency"]),
            "access_model": _none(row["access_model"]),
            "level": _none(row["level"]),
            "in_language": _none(row["in_language"]),
            "rating": _none(row["rating"]),
            "rating_count": int(row["rating_count"]) if _none(row["rating_count"]) is not None else None,
            "matched_skills": tuple(self.skill_labels[s] for s in covered),
            "evidence": tuple(self.evidence_texts[self.link_evidence[entry[s]]] for s in covered),
            "also_in": tuple(
                (
                    self.languages[e],
                    self.column["id"][e],
                    self.column["name"][e],
                    self.column["url"][e],
                )
                for e in editions
            ),
        }

    # ------------------------------------------------------------------ skills and summary

    def extract_skills(self, text: str, *, k: int) -> list[tuple[str, str, float]]:
        if not text.strip():
            raise EmptyGoalError(
                'the text is empty: give a sentence, e.g. `skillstack skills extract "analyse data in Excel"`'
            )
        self._require_taxonomy_vectors()
        return self.skill_extractor.extract([text], k)[0]

    def summary(self) -> dict:
        return {
            "courses": int(self.meta_report().get("courses", len(self.courses))),
            "active": len(self.courses),
            "providers": tuple(sorted(self.courses["provider"].dropna().unique())),
            "built_at": self.meta.get("built_at"),
        }

    def meta_report(self) -> dict:
        return json.loads(self.meta.get("report", "{}"))


RESOLVED_GOALS = 1024
_RESOLVED_LOCK = threading.Lock()
_TAXONOMY_LOCK = threading.Lock()
_SKILLS_LOCK = threading.Lock()


def _read_skill_lookup(con: duckdb.DuckDBPyConnection) -> tuple[list[str], np.ndarray, dict[str, str]]:
    """The skills' uris and vectors, and lower-cased preferred and alternative labels -> uri."""
    uris, _labels, vectors = skill_matrix(con)
    by_label = dict(
        con.execute(
            """
            SELECT surface, any_value(uri) FROM (
                SELECT uri, lower(label) AS surface FROM skills
                UNION ALL SELECT uri, lower(trim(unnest(alt_labels))) FROM skills
            ) GROUP BY surface
            """
        ).fetchall()
    )
    return uris, vectors, by_label


def _top(scores: np.ndarray, n: int) -> np.ndarray:
    """Indices of the n highest finite scores, best first (argpartition: no full sort at 250k rows)."""
    finite_mask = np.isfinite(scores)
    if finite_mask.all():  # no filter excluded a course: no gather of every score
        finite = np.argpartition(-scores, n)[:n] if len(scores) > n else np.arange(len(scores))
    else:
        finite = np.flatnonzero(finite_mask)
        if len(finite) > n:
            finite = finite[np.argpartition(-scores[finite], n)[:n]]
    return finite[np.argsort(-scores[finite], kind="stable")]


def _none(value):
    if value is None:
        return None
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        return value
    return value.item() if hasattr(value, "item") else value
