"""How `skillstack eval relevance` reads roles and judgements from providers' titles (evaluation.relevance)."""

from __future__ import annotations

import pytest

from evaluation.relevance import field_match, ndcg_at_k, recall_at_k, role_of_title, split_of

# ESCO and O*NET titles, as the catalogue holds them (normalised).
VOCABULARY = {"data analyst", "bookkeeper", "data engineer", "project manager", "developer", "scrum master", "analyst"}


@pytest.mark.parametrize(
    ("title", "role"),
    [
        # Credential titles of the Coursera 2024 dataset.
        ("IBM Data Analyst", "data analyst"),
        ("Meta Data Analyst", "data analyst"),
        ("Unilever Supply Chain Data Analyst", "data analyst"),
        ("Tally Bookkeeper", "bookkeeper"),
        ("Preparing for Google Cloud Certification: Cloud Data Engineer", "data engineer"),
        ("IBM IT Scrum Master", "scrum master"),
        ("IBM Project Manager", "project manager"),
        # A generic noun alone names no role, and a field is not a job.
        ("IBM Java Developer", None),
        ("Google Data Analytics", None),
        ("Google Project Management:", None),
    ],
)
def test_the_role_a_credential_is_named_for(title: str, role: str | None):
    assert role_of_title(title, VOCABULARY) == role


@pytest.mark.parametrize(
    ("role", "title", "expected"),
    [
        ("data analyst", "Data Analysis with Python", True),
        ("data analyst", "Google Data Analytics", True),
        ("data analyst", "Databases and SQL for Data Science with Python", False),
        ("project manager", "Project Management Foundations", True),
        ("marketing specialist", "Digital Marketing Strategy", True),
        ("bookkeeper", "Bookkeeping Basics", True),
        ("bookkeeper", "Financial Accounting", False),
    ],
)
def test_a_title_on_the_role_field(role: str, title: str, expected: bool):
    assert field_match(role, title) is expected


def test_metrics_on_a_graded_list():
    relevance = {"a": 3, "b": 2, "c": 1}
    assert ndcg_at_k(["a", "b", "c"], relevance) == 1.0
    assert ndcg_at_k(["x", "c", "b", "a"], relevance) < ndcg_at_k(["a", "x", "b", "c"], relevance) < 1.0
    assert recall_at_k(["a", "x", "c"], relevance) == 0.5  # of the two courses graded 2 or 3


def test_every_phrasing_of_a_role_falls_in_one_half():
    assert split_of("data analyst") == split_of("data analyst")
    halves = {split_of(role) for role in ("data analyst", "bookkeeper", "project manager", "ux designer", "nurse")}
    assert halves == {"tune", "held-out"}
