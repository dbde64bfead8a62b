"""The plain-torch all-MiniLM-L6-v2 against sentence-transformers, on real course texts of the mirror.

sentence-transformers is the reference: the vectors of catalogues built with it must stay valid.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from core import embed, skill_extract
from crawlers.spiders.coursera_skills_2024 import CourseraSkills2024Spider
from crawlers.spiders.edx_kaggle_2020 import EdxKaggle2020Spider
from pipeline.skills import CourseDocument
from skillstack.settings import embedding_model_path, mirror_file_for
from tests.helpers import MIRROR_DIR

REPOSITORY = Path(__file__).resolve().parents[1]

TOLERANCE = 1e-5


@pytest.fixture(autouse=True)
def fp32(monkeypatch):
    """The reference is the model as published: these tests read the fp32 form (bf16 is compared
    with it in tests/test_model_variants.py)."""
    monkeypatch.setenv("SKILLSTACK_MODEL_VARIANT", "fp32")


@pytest.fixture(scope="module")
def reference():
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(embedding_model_path()), device="cpu")


@pytest.fixture(scope="module")
def edx() -> pd.DataFrame:
    return pd.read_csv(mirror_file_for(EdxKaggle2020Spider.start_urls[0], MIRROR_DIR), dtype=str)


@pytest.fixture(scope="module")
def course_texts(edx: pd.DataFrame) -> list[str]:
    """About 50 real texts: long English course texts (description and syllabus), courses in
    Chinese, Japanese, Arabic, French, Portuguese, Italian, accented Coursera titles, and ""."""
    english = edx[edx["language"] == "English"].head(20)
    foreign = edx[~edx["language"].isin(["English", "Español"])].groupby("language").head(3)
    texts = [
        embed.course_text(
            row.title, None, " ".join(v for v in (row.course_description, row.course_syllabus) if isinstance(v, str))
        )
        for row in pd.concat([english, foreign]).itertuples()
    ]
    titles = pd.read_csv(mirror_file_for(CourseraSkills2024Spider.start_urls[0], MIRROR_DIR), dtype=str)["Title"]
    texts += titles[titles.str.contains(r"[^\x00-\x7f]")].head(10).tolist() + titles.head(5).tolist()
    return [*texts, ""]


@pytest.mark.slow
def test_the_texts_cover_long_short_and_non_ascii(reference, course_texts):
    lengths = [len(ids) for ids in reference.tokenizer(course_texts)["input_ids"]]
    assert sum(n > 256 for n in lengths) >= 5
    assert sum(128 < n <= 256 for n in lengths) >= 3
    assert sum(n <= 32 for n in lengths) >= 10
    assert any(re.search("[\u4e00-\u9fff]", text) for text in course_texts)  # Chinese or Japanese
    assert any(re.search("[\u0600-\u06ff]", text) for text in course_texts)  # Arabic
    assert "Réussir le Changement" in course_texts


@pytest.mark.slow
@pytest.mark.parametrize("max_length", [128, 256])
def test_tokens_offsets_and_words_are_the_transformers_tokenizers(reference, course_texts, max_length):
    expected = reference.tokenizer(
        course_texts,
        padding=True,
        truncation=True,
        max_length=max_length,
        return_tensors="np",
        return_offsets_mapping=True,
    )
    tokens = embed.load_model().tokenize(course_texts, max_length)
    assert tokens.ids.shape == (len(course_texts), max_length)  # the longest texts are cut, the rest padded
    np.testing.assert_array_equal(tokens.ids.numpy(), expected["input_ids"])
    np.testing.assert_array_equal(tokens.mask.numpy(), expected["attention_mask"])
    np.testing.assert_array_equal(tokens.offsets, expected["offset_mapping"])
    assert tokens.word_ids == [expected.word_ids(row) for row in range(len(course_texts))]


@pytest.mark.slow
@pytest.mark.parametrize("max_tokens", [None, 128])
def test_vectors_are_sentence_transformers(reference, course_texts, max_tokens):
    reference.max_seq_length = max_tokens or 256
    try:
        expected = reference.encode(course_texts, normalize_embeddings=True, convert_to_numpy=True)
    finally:
        reference.max_seq_length = 256
    vectors = embed.encode(course_texts, max_tokens=max_tokens)
    assert vectors.dtype == np.float32
    assert vectors.shape == (len(course_texts), embed.DIMENSIONS)
    assert np.abs(vectors - expected).max() < TOLERANCE
    # A few texts take the query path (one torch thread) and give the same vectors.
    assert np.abs(embed.encode(course_texts[:3], max_tokens=max_tokens) - expected[:3]).max() < TOLERANCE


# ---------------------------------------------------------------- skill_extract, against its code before the encoder
# The two functions below are `encode_spans` and `read_documents` as they were on the
# transformers model, so the values the extractor reads are shown unchanged.


def _reference_forward(reference, texts: list[str], max_length: int):
    encoded = reference.tokenizer(
        texts, padding=True, truncation=True, max_length=max_length, return_tensors="pt", return_offsets_mapping=True
    )
    offsets = encoded.pop("offset_mapping").numpy()
    with torch.inference_mode():
        hidden = reference[0].auto_model(**encoded).last_hidden_state
    return encoded, offsets, hidden


def _reference_encode_spans(reference, texts: list[str], max_words: int):
    encoded, offsets, hidden = _reference_forward(reference, texts, skill_extract.SEGMENT_MAX_TOKENS)
    hidden = hidden.numpy()
    lengths = encoded["attention_mask"].numpy().sum(axis=1)
    out = []
    for row, text in enumerate(texts):
        states = hidden[row, : lengths[row]].astype(np.float64)
        words = skill_extract._word_token_ranges(encoded.word_ids(row)[: lengths[row]], offsets[row], text)
        spans = skill_extract._span_vectors(states, words, max_words)
        out.append((skill_extract._normalise(states.mean(axis=0)[None, :])[0], spans))
    return out


def _reference_read_document(reference, text: str, segments, max_words: int):
    encoded, offsets, hidden = _reference_forward(reference, [text], embed.DOCUMENT_MAX_TOKENS)
    vector = torch.nn.functional.normalize(hidden.mean(dim=1), p=2, dim=1).numpy()[0]
    hidden = hidden.numpy()
    word_ids = encoded.word_ids(0)
    real = np.array([word is not None for word in word_ids])
    starts, ends = offsets[0, :, 0], offsets[0, :, 1]
    window_end = int(ends[real].max()) if real.any() else 0
    found = []
    for begin, end in segments:
        inside = np.flatnonzero(real & (starts >= begin) & (ends <= end))
        if len(inside) < skill_extract.PARTIAL_SEGMENT_MIN_TOKENS and (not len(inside) or end > window_end):
            found.append(None)
            continue
        first, last = int(inside[0]), int(inside[-1])
        states = hidden[0, first : last + 1].astype(np.float64)
        words = skill_extract._word_token_ranges(word_ids[first : last + 1], offsets[0][first : last + 1], text)
        spans = skill_extract._span_vectors(states, words, max_words)
        found.append((skill_extract._normalise(states.mean(axis=0)[None, :])[0], spans))
    return vector, found


def _assert_read_equal(got, expected) -> None:
    assert (got is None) == (expected is None)
    if got is not None:
        assert got[1].shape == expected[1].shape
        np.testing.assert_allclose(got[0], expected[0], rtol=0, atol=TOLERANCE)
        np.testing.assert_allclose(got[1], expected[1], rtol=0, atol=TOLERANCE)


@pytest.mark.slow
def test_encode_spans_reads_what_the_transformers_model_read(reference, edx):
    sentences = [s for text in edx["course_description"].dropna().head(12) for s in skill_extract.split_sentences(text)]
    assert len(sentences) > 40
    got = skill_extract.encode_spans(sentences, skill_extract.SPAN_MAX_WORDS)
    expected = _reference_encode_spans(reference, sentences, skill_extract.SPAN_MAX_WORDS)
    for mine, theirs in zip(got, expected, strict=True):
        _assert_read_equal(mine, theirs)


@pytest.mark.slow
def test_read_documents_reads_what_the_transformers_model_read(reference, edx):
    documents = [
        CourseDocument.of(f"edx-{i}", row.title, None, row.course_description)
        for i, row in enumerate(edx.head(30).itertuples())
    ]
    texts = [document.text for document in documents]
    segments = [[where for _, _, where in document.segments] for document in documents]
    batches = list(skill_extract.read_documents(texts, segments))
    assert sorted(i for batch in batches for i in batch.indices) == list(range(len(texts)))
    cut = 0
    for batch in batches:
        for index, vector, read in zip(batch.indices, batch.vectors, batch.segments, strict=True):
            expected_vector, expected_read = _reference_read_document(reference, texts[index], segments[index], 3)
            np.testing.assert_allclose(vector, expected_vector, rtol=0, atol=TOLERANCE)
            assert len(read) == len(expected_read)
            for got, expected in zip(read, expected_read, strict=True):
                _assert_read_equal(got, expected)
            cut += read[-1] is None
    assert cut >= 3  # some descriptions run past the 128-token window, so the cut is exercised


@pytest.mark.slow
def test_loading_the_model_imports_neither_transformers_nor_sentence_transformers():
    script = (
        "import sys\n"
        "from core import embed\n"
        "embed.load_model('fp32')\n"
        "embed.load_model('bf16')\n"
        "assert embed.encode(['data analyst']).shape == (1, 384)\n"
        "print(sorted({'transformers', 'sentence_transformers'} & set(sys.modules)))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=REPOSITORY, capture_output=True, text=True, timeout=300, check=True
    )
    assert result.stdout.strip() == "[]"
