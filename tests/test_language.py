"""Language of a course from what its record holds, and of a goal (core.language)."""

from __future__ import annotations

import csv

import pytest

from core.language import detect_language, language_name, normalise_language
from skillstack.settings import mirror_file_for
from tests.helpers import MIRROR_DIR

COURSERA_2024 = (
    "https://raw.githubusercontent.com/clumsycoder42525/Learning_Management_System/"
    "4d7eeb30852a0cdedf0f3e60bcc259ac78cb2ee4/Coursera.csv"
)


def coursera_2024_titles() -> list[str]:
    with mirror_file_for(COURSERA_2024, MIRROR_DIR).open(encoding="utf-8", newline="") as handle:
        return [row["Title"] for row in csv.DictReader(handle)]


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        # Titles of the Coursera 2024 dataset, which states no language and no description.
        ("قيادة الفرق", "ar"),
        ("إدارة المواهب", "ar"),
        ("Google Data Analytics (PT)", "pt"),
        ("Marketing de Mídias Sociais do Meta", "pt"),
        ("Introdução à Ciência da Computação com Python Parte 1", "pt"),
        ("Gestión de Proyectos de Google", "es"),
        ("Negociación exitosa: Estrategias y habilidades esenciales (en español)", "es"),
        ("Data Engineering, Big Data and ML on Google Cloud en Español", "es"),
        ("Gestion de projet de Google", "fr"),
        ("KI für alle", "de"),
        ("Google データアナリティクス", "ja"),
        ("Developing Applications with Google Cloud 日本語版", "ja"),
        ("Искусственный Интеллект (ИИ) для всех", "ru"),
        ("Management Communication 管理沟通", "zh"),
        ("Google Data Analytics", "en"),
        ("Excel Skills for Business", "en"),
        ("IBM Data Analyst", "en"),
        ("The Define Phase for the 6 σ Black Belt", "en"),
        # "Spanish" names what is taught, not the language it is taught in.
        ("Spanish for Beginners", "en"),
    ],
)
def test_language_of_a_title_with_no_description(title: str, expected: str):
    assert title in coursera_2024_titles() or title == "Spanish for Beginners"
    assert normalise_language(None, text=title) == expected


@pytest.mark.parametrize("text", ["", "API", "12345 67890", "🙂🙂🙂"])
def test_too_little_text_has_no_language(text: str):
    assert detect_language(text) is None


def test_almost_every_coursera_2024_title_gets_a_language():
    titles = coursera_2024_titles()
    found = [detect_language(t) for t in titles]
    unknown = sum(code is None for code in found)
    # Unknown only where that is honest: a bare acronym ("CSS", "API"), a mixed or unsure title.
    assert unknown / len(titles) < 0.02, unknown
    assert 0.85 < found.count("en") / len(titles) < 0.97


def test_goals_in_spanish_and_english():
    assert detect_language("ayudante de cocina") == "es"
    assert detect_language("I want to become a nurse") == "en"
    assert detect_language("data analyst") == "en"


def test_language_names_for_display():
    assert language_name("es") == "Spanish"
    assert language_name("pt") == "Portuguese"
    assert language_name(None) == "unknown"
