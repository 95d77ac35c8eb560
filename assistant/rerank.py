"""An optional reranker behind a server: the first stage's best passages, reordered by a cross-encoder (such as the
multilingual bge-reranker-v2-m3) before the cut to the passages shown.

The serving engines users run speak one small API: Cohere/Jina's ``POST /rerank`` (vLLM, Infinity, llama.cpp's
server, Jina, Cohere: ``{"model", "query", "documents"}`` → ``{"results": [{"index", "relevance_score"}]}``), or
Hugging Face TEI's (``{"query", "texts"}`` → ``[{"index", "score"}]``). A reranker that fails gives way to the
fused ranking with a one-line warning: the question is still answered.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from .settings import Settings

log = logging.getLogger(__name__)

Flavor = Literal["cohere", "tei"]


class RerankerError(RuntimeError):
    """The reranker could not score the passages; the message names the URL."""


class ServerReranker:
    """Scores passages against a question with a reranking model behind ``/rerank``."""

    def __init__(self, url: str, *, model: str, api_key: str, flavor: Flavor, timeout: float) -> None:
        self.url = url.rstrip("/")
        self.model = model
        self.api_key = api_key
        self.flavor = flavor
        self.timeout = timeout

    @classmethod
    def from_settings(cls, settings: Settings) -> ServerReranker | None:
        """The reranker the settings describe; None when ``rerank_url`` is empty (the default: no reranking)."""
        s = settings
        if not s.rerank_url:
            return None
        return cls(s.rerank_url, model=s.rerank_model, api_key=s.rerank_api_key.get_secret_value(), flavor=s.rerank_flavor, timeout=s.llm_timeout)

    def scores(self, query: str, documents: list[str]) -> list[float]:
        """Each document's relevance to ``query``, in the documents' order (higher is more relevant)."""
        import httpx

        body: dict[str, Any] = {"query": query}
        if self.flavor == "tei":
            body["texts"] = documents
        else:
            body.update(model=self.model, documents=documents, top_n=len(documents), return_documents=False)
        headers = {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}
        try:
            reply = httpx.post(f"{self.url}/rerank", json=body, headers=headers, timeout=self.timeout)
            reply.raise_for_status()
            data = reply.json()
            results = data if isinstance(data, list) else data["results"]
            found = {int(r["index"]): float(r.get("relevance_score", r.get("score"))) for r in results}
        except (httpx.HTTPError, ValueError, KeyError, TypeError) as exc:
            raise RerankerError(f"the reranker at {self.url} failed ({type(exc).__name__}: {str(exc)[:120]})") from None
        if set(found) != set(range(len(documents))):
            raise RerankerError(f"the reranker at {self.url} scored {len(found)} of {len(documents)} passages")
        return [found[i] for i in range(len(documents))]
