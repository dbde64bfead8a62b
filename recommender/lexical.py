"""BM25 over course text, as one sparse matrix: a query is a sum of a few columns.

Lexical matching catches what embeddings blur — tool and acronym names ("SQL", "AWS", "Tableau")
— and is the "BM25" half of hybrid retrieval.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import CountVectorizer

K1 = 1.2
B = 0.75


class Bm25Index:
    def __init__(self, texts: Sequence[str]):
        self.vectorizer = CountVectorizer(
            lowercase=True, stop_words="english", token_pattern=r"(?u)\b\w[\w+#.]*\w\b|\b\w\b", dtype=np.float32
        )
        self.size = len(texts)
        if not texts:
            self.weights = sparse.csc_matrix((0, 0), dtype=np.float32)
            return
        try:
            counts = self.vectorizer.fit_transform(texts).tocsr()
        except ValueError:  # every text empty or only stop words
            self.weights = sparse.csc_matrix((len(texts), 0), dtype=np.float32)
            return
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
        analyse = self.vectorizer.build_analyzer()
        vocabulary = self.vectorizer.vocabulary_
        columns = sorted({vocabulary[t] for t in analyse(query) if t in vocabulary})
        if not columns:
            return np.zeros(self.size, dtype=np.float32)
        scores = np.asarray(self.weights[:, columns].sum(axis=1)).ravel()
        top = scores.max()
        return scores / top if top > 0 else scores
