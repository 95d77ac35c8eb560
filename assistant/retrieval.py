"""From a question to the passages most likely to answer it."""

from __future__ import annotations

from .embedding import Embedder
from .index import Index
from .records import Hit


class Retriever:
    """Dense retrieval over an Index with the question embedded as a query."""

    def __init__(self, index: Index, embedder: Embedder, top_k: int = 5) -> None:
        self.index = index
        self.embedder = embedder
        self.top_k = top_k

    def search(self, question: str, k: int | None = None) -> list[Hit]:
        """The best ``k`` passages for ``question`` (``top_k`` by default), best first, ranks from 1."""
        vector = self.embedder.embed_queries([question])[0]
        return self.index.search(vector, k or self.top_k)
