"""BM25 over course text, as one sparse matrix: a query is a sum of a few columns.

Lexical matching catches what embeddings blur — tool and acronym names ("SQL", "AWS", "Tableau")
— and is the "BM25" half of hybrid retrieval.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np
from scipy import sparse

K1 = 1.2
B = 0.75
TOKEN_PATTERN = r"(?u)\b\w[\w+#.]*\w\b|\b\w\b"


class Bm25Index:
    """The index keeps scikit-learn's analysis as plain values (vocabulary, stop words, token pattern)
    and analyses a query with them, as `CountVectorizer.build_analyzer()` does for these settings
    (lower-case, find the tokens, drop the stop words): a query then needs no scikit-learn, whose
    import took more than a second of a CLI answer."""

    def __init__(self, texts: Sequence[str]):
        from sklearn.feature_extraction.text import CountVectorizer

        vectorizer = CountVectorizer(
            lowercase=True, stop_words="english", token_pattern=TOKEN_PATTERN, dtype=np.float32
        )
        self.size = len(texts)
        self.token_pattern = TOKEN_PATTERN
        self.stop_words = sorted(vectorizer.get_stop_words())
        self.vocabulary: dict[str, int] = {}
        if not texts:
            self.weights = sparse.csc_matrix((0, 0), dtype=np.float32)
            return
        try:
            counts = vectorizer.fit_transform(texts).tocsr()
        except ValueError:  # every text empty or only stop words
            self.weights = sparse.csc_matrix((len(texts), 0), dtype=np.float32)
            return
        self.vocabulary = {term: int(column) for term, column in vectorizer.vocabulary_.items()}
        lengths = np.asarray(counts.sum(axis=1)).ravel()
        average = lengths.mean() or 1.0
        df = np.bincount(counts.indices, minlength=counts.shape[1])
        idf = np.log1p((len(texts) - df + 0.5) / (df + 0.5)).astype(np.float32)
        rows = np.repeat(np.arange(counts.shape[0]), np.diff(counts.indptr))
        tf = counts.data
        norm = K1 * (1 - B + B * lengths[rows] / average)
        counts.data = (tf * (K1 + 1) / (tf + norm) * idf[counts.indices]).astype(np.float32)
        self.weights = counts.tocsc()

    def scores(self, query: str) -> np.ndarray:
        """BM25 of every document for the query, scaled so the best document scores 1 (0 when none match)."""
        if self.weights.shape[1] == 0:
            return np.zeros(self.size, dtype=np.float32)
        columns = sorted({self.vocabulary[t] for t in self.analyse(query) if t in self.vocabulary})
        if not columns:
            return np.zeros(self.size, dtype=np.float32)
        scores = np.asarray(self.weights[:, columns].sum(axis=1)).ravel()
        top = scores.max()
        return scores / top if top > 0 else scores

    def analyse(self, text: str) -> list[str]:
        """The terms of a text, as the fitted `CountVectorizer` finds them."""
        stop_words = frozenset(self.stop_words)
        return [token for token in re.findall(self.token_pattern, text.lower()) if token not in stop_words]
