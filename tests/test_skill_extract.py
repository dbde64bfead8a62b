"""The skill extractor on the real ESCO taxonomy and real sentences of the skill-extraction benchmarks."""

from __future__ import annotations

import duckdb
import pandas as pd
import pytest

from core import embed
from core.skill_extract import SkillExtractor, read_documents, split_sentences, tokens
from core.store import apply_schema
from evaluation.skills import BENCHMARK_DIR, SETS, evaluate_skills
from pipeline.skills import EVIDENCE_MAX_CHARS, CourseDocument, _description_links, read_courses
from pipeline.surfaces import insert_vectors
from pipeline.taxonomy import load_taxonomy
from tests.helpers import MIRROR_DIR as MIRROR

# (benchmark set, sentence): every gold label the file gives the sentence must be in the top 5.
SENTENCES = [
    ("tech", "Experience leading a team"),
    ("tech", "javascript reactjs java"),
    ("house", "You have a proactive mindset and the ability to keep an overview in stressed situations"),
    ("house", "Be able to lead and motivate people and have good communication skills"),
]


@pytest.fixture(scope="module")
def catalogue(tmp_path_factory: pytest.TempPathFactory):
    """A real catalogue file with the full ESCO taxonomy and a vector for every skill's preferred label.

    All 13,896 preferred labels are embedded (about a minute on two cores), since a ranking test
    is only meaningful against every skill. The other taxonomy surfaces (occupations, O*NET
    titles) that `ensure_skill_vectors` would also embed through `pipeline.surfaces` are not read
    by the extractor, so only the skill rows it reads are stored here.
    """
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SKILLSTACK_MIRROR", str(MIRROR))
        con = duckdb.connect(str(tmp_path_factory.mktemp("catalog") / "catalog.duckdb"))
        apply_schema(con)
        load_taxonomy(con, tmp_path_factory.mktemp("downloads"))
    skills = con.execute("SELECT 'skill' AS kind, uri, label AS surface, 'esco-preferred' AS origin FROM skills").df()
    insert_vectors(con, skills, embed.encode(skills["surface"].tolist(), batch_size=256))
    yield con
    con.close()


@pytest.fixture(scope="module")
def extractor(catalogue) -> SkillExtractor:
    return SkillExtractor.load(catalogue)


def _gold_labels(name: str, sentence: str) -> set[str]:
    frame = pd.read_csv(BENCHMARK_DIR / SETS[name], dtype=str)
    labels = set(frame.loc[frame["sentence"] == sentence, "label"]) - {"LABEL NOT PRESENT", "UNDERSPECIFIED"}
    assert labels, f"{sentence!r} has no gold label in the {name} set"
    return labels


@pytest.mark.slow
@pytest.mark.parametrize(("name", "sentence"), SENTENCES)
def test_benchmark_sentences_have_their_gold_skills_in_the_top_5(extractor: SkillExtractor, name, sentence):
    top = [label for _uri, label, _score in extractor.extract([sentence], 5)[0]]
    assert _gold_labels(name, sentence) <= set(top), top


@pytest.mark.slow
def test_excel_course_text_links_to_the_spreadsheet_skill(extractor: SkillExtractor, catalogue):
    # The title and declared skills of the real Coursera course in the mirror's 2024 dataset.
    text = (
        "Getting Started with Microsoft Excel. "
        "Skills: Microsoft Excel, Excel Formulas, Spreadsheet Software, Data Entry, Microsoft 365"
    )
    spreadsheets = catalogue.execute("SELECT uri FROM skills WHERE label = ?", ["use spreadsheets software"]).fetchone()
    assert spreadsheets
    top = extractor.extract([text], 3)[0]
    assert spreadsheets[0] in [uri for uri, _label, _score in top], top


@pytest.mark.slow
def test_scores_are_sorted_and_the_run_is_deterministic(extractor: SkillExtractor):
    texts = ["Strong knowledge of SQL and data warehousing", "communicate fluently in English"]
    first, second = extractor.extract(texts, 10), extractor.extract(texts, 10)
    assert first == second
    for matches in first:
        assert len(matches) == 10
        scores = [score for _uri, _label, score in matches]
        assert scores == sorted(scores, reverse=True)


@pytest.mark.slow
def test_empty_and_hostile_text(extractor: SkillExtractor, catalogue):
    texts = [
        "",
        "   \n\t ",
        "!!! ... ???",
        "'; DROP TABLE skills; --",
        "<script>alert('x')</script> Python",
        "Excel " * 5000,  # far beyond the model's window: cut, not an error
        "日本語のテキスト",
        "\x00\ud800 broken",
    ]
    results = extractor.extract(texts, 5)
    assert results[0] == results[1] == results[2] == []
    assert all(len(matches) <= 5 for matches in results)
    assert "Python (computer programming)" in [label for _uri, label, _score in results[4]]
    assert results[5], "a very long text still yields skills"
    assert catalogue.execute("SELECT count(*) FROM skills").fetchone()[0] == 13_896
    assert extractor.extract([], 5) == []
    assert extractor.extract(["python"], 0) == [[]]


def test_lexical_normalisation_meets_label_and_text_halfway():
    assert tokens("Experience leading a team") == tokens("experience lead team")
    assert tokens("C++ and C# on Node.js") == ("c++", "c#", "node.js")
    assert split_sentences("First one. Second one!\n• a bullet") == ["First one.", "Second one!", "a bullet"]


@pytest.mark.slow
def test_description_links_keep_the_sentence_as_evidence(extractor: SkillExtractor, catalogue):
    description = (
        "You will learn to write SQL queries against a relational database. "
        + "This long sentence goes on and on about nothing in particular " * 5
        + "and then mentions project management."
    )
    catalogue.execute(
        """
        INSERT INTO courses (id, source, provider, url, name, description, first_seen, last_seen, status, content_hash)
        VALUES (?, 'test', 'Test', 'https://example.org/c', ?, ?, now(), now(), 'active', 'h')
        """,
        ["test/sql", "Databases for beginners", description],
    )
    try:
        assert read_courses(catalogue, extractor) == 1
        assert read_courses(catalogue, extractor) == 0  # read once: the second call finds it all stored
        links = _description_links(catalogue)
    finally:
        catalogue.execute("DELETE FROM courses WHERE id = ?", ["test/sql"])
    labels = dict(catalogue.execute("SELECT uri, label FROM skills").fetchall())
    evidence = {labels[uri]: text for uri, text in zip(links["skill_uri"], links["evidence"], strict=True)}
    assert evidence["SQL"] == 'description: "You will learn to write SQL queries against a relational database."'
    assert all(len(text) <= len('description: ""') + EVIDENCE_MAX_CHARS for text in evidence.values())
    assert links["score"].between(0, 1).all()


@pytest.mark.slow
def test_evaluation_reports_baseline_and_system_on_a_slice(catalogue):
    report = evaluate_skills(catalogue, limit=4)
    assert set(report["sets"]) == {"tech", "house"}
    for result in report["sets"].values():
        for system in ("baseline", "system"):
            figures = result[system]
            assert figures["all"]["sentences"] == 4
            assert figures["tune"]["sentences"] + figures["held-out"]["sentences"] == 4
            for metric in ("rp@5", "rp@10", "mrr"):
                assert 0.0 <= figures["all"][metric] <= 1.0


@pytest.mark.slow
def test_one_pass_gives_the_document_vector_and_reads_the_sentences_that_fit():
    # A real course: the 2024 Coursera dataset's "Getting Started with Microsoft Excel", its declared
    # skills, and a description long enough to run past the 128-token document window.
    description = (
        "Learn the basics of Microsoft Excel. You will enter data and write formulas. "
        + "Then you will format worksheets and build charts to present the data. " * 12
        + "Finally you will learn pivot tables."
    )
    document = CourseDocument.of(
        "h-excel", "Getting Started with Microsoft Excel", ["Microsoft Excel", "Spreadsheet Software"], description
    )
    assert [sentence for _, sentence, _ in document.segments][:3] == [
        "Getting Started with Microsoft Excel",
        "Learn the basics of Microsoft Excel.",
        "You will enter data and write formulas.",
    ]
    welding = "Welding basics. Learn to weld steel safely."
    second = welding.index("Learn")
    texts = [document.text, welding]
    segments = [[where for _, _, where in document.segments], [(0, 14), (second, len(welding))]]
    batches = list(read_documents(texts, segments))
    vectors = {i: v for batch in batches for i, v in zip(batch.indices, batch.vectors, strict=True)}
    read = {i: r for batch in batches for i, r in zip(batch.indices, batch.segments, strict=True)}
    # The document vector is exactly what the plain encoder gives the same text.
    expected = embed.encode_documents(texts)
    for i in range(2):
        assert abs(float(vectors[i] @ expected[i]) - 1.0) < 1e-5
    # The title and the first sentences are read; the last sentence lies past the window.
    assert all(entry is not None for entry in read[0][:3])
    assert read[0][-1] is None
    sentence_vector, spans = read[1][1]
    assert sentence_vector.shape == (384,)
    assert spans.shape == (5 + 4 + 3, 384)  # "Learn to weld steel safely.": 5 words, spans of 1 to 3 words
