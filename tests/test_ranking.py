"""The ranking core on a small in-memory catalogue: no model, no database (recommender.ranking, stack)."""

from __future__ import annotations

import numpy as np
from scipy import sparse

from recommender.ranking import RankConfig, choose, coverage_scores
from recommender.stack import Candidate, greedy_stack


def unit(*values: float) -> np.ndarray:
    vector = np.array(values, dtype=np.float32)
    return vector / np.linalg.norm(vector)


# Six real course titles of the Coursera 2024 dataset, with made-up vectors of the likeness each pair has.
TITLES = np.array(
    [
        "Google Data Analytics",  # 0
        "Análisis de Datos de Google",  # 1: its Spanish edition
        "Google Data Analytics",  # 2: the same certificate listed twice
        "IBM Data Analyst",  # 3
        "قيادة الفرق",  # 4: Arabic, off topic
        "Excel Basics for Data Analysis",  # 5
    ],
    dtype=object,
)
VECTORS = np.vstack(
    [
        unit(1, 0.1, 0, 0),
        unit(1, 0.5, 0, 0),
        unit(1, 0.1, 0, 0),
        unit(0.8, 0, 0.6, 0),
        unit(0, 0, 0, 1),
        unit(0.6, 0, 0, 0.8),
    ]
)
PROVIDERS = np.array(["Coursera"] * 6, dtype=object)
INSTITUTIONS = np.array(["Google", "Google", "Google", "IBM", "Some University", "IBM"], dtype=object)
CREDENTIALS = np.array(["professional certificate"] * 4 + ["none", "none"], dtype=object)
LANGUAGES = np.array(["en", "es", "en", "en", "ar", "en"], dtype=object)


DEFAULT = RankConfig()


def chosen(score, *, k=10, relevant=None, in_language=None, config=DEFAULT):
    order = np.argsort(-score, kind="stable")
    return choose(
        order,
        score,
        k=k,
        in_language=LANGUAGES == "en" if in_language is None else in_language,
        relevant=np.ones(6, dtype=bool) if relevant is None else relevant,
        vectors=VECTORS,
        providers=PROVIDERS,
        institutions=INSTITUTIONS,
        credentials=CREDENTIALS,
        languages=LANGUAGES,
        titles=TITLES,
        config=config,
    )


SCORES = np.array([0.9, 0.88, 0.87, 0.8, 0.85, 0.6], dtype=np.float32)


def test_editions_fold_copies_go_and_other_languages_stay_out():
    choice = chosen(SCORES)
    rows = [s.row for s in choice.shown]
    assert rows == [0, 3, 5]  # the copy (2) and the Arabic course (4) are not shown
    assert choice.shown[0].editions == (1,)  # the Spanish edition is listed with the English one
    scores = [s.score for s in choice.shown]
    assert scores == sorted(scores, reverse=True)


def test_without_the_language_preference_every_language_is_ranked():
    choice = chosen(SCORES, config=RankConfig(prefer_goal_language=False, group_editions=False))
    assert [s.row for s in choice.shown] == [0, 1, 4, 3, 5]


def test_the_list_ends_where_relevance_ends():
    relevant = np.array([True, True, True, True, True, False])
    choice = chosen(SCORES, relevant=relevant)
    assert [s.row for s in choice.shown] == [0, 3]
    assert choice.cut_by_floor == 1
    # Without the floor the weak match is shown.
    assert [s.row for s in chosen(SCORES, relevant=relevant, config=RankConfig(floor=False)).shown] == [0, 3, 5]


def test_coverage_prefers_the_course_about_the_gap_over_a_broad_one():
    # Skills: 0 data analysis (needed, specific), 1 SQL (needed), 2 leadership (broad), 3 budgeting, 4 hiring.
    links = sparse.csr_matrix(
        np.array(
            [
                [1.0, 1.0, 0, 0, 0],  # a data analytics certificate: both needed skills
                [1.0, 0, 1.0, 1.0, 1.0],  # a management course: one needed skill among many others
                [0, 0, 1.0, 0, 0],
            ],
            dtype=np.float32,
        )
    )
    weights = np.array([1.0, 1.0, 0, 0, 0], dtype=np.float32)
    specificity = np.array([0.8, 0.7, 0.1, 0.6, 0.6], dtype=np.float32)
    coverage = coverage_scores(links, np.arange(3), weights, specificity)
    assert coverage[0] == 1.0
    assert 0 < coverage[1] < 0.5
    assert coverage[2] == 0


def test_the_stack_starts_from_the_credential_and_adds_what_it_leaves_open():
    weights = {0: 1.0, 1: 1.0, 2: 1.0, 3: 0.35}
    certificate = Candidate(10, 180.0, "beginner", frozenset({0, 1, 2}))
    short = Candidate(11, 2.0, "beginner", frozenset({0}))
    other = Candidate(12, 10.0, "intermediate", frozenset({3}))
    steps = greedy_stack([short, certificate, other], weights, first=certificate)
    assert [s.index for s in steps] == [10, 12]
    assert steps[0].closes == (0, 1, 2)
    # Greedy alone would start from the short course (most skill per hour).
    assert greedy_stack([short, certificate, other], weights)[0].index == 11
