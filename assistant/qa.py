"""The question→answer path: retrieve, prompt, generate, check citations.

It reads top to bottom: ``Assistant.stream`` retrieves passages (retrieval), builds messages (prompts), streams
the model's text (generation), then checks its markers (citations) and returns an Answer.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .chunking import Chunker
from .citations import check_citations, support_sentences
from .embedding import Embedder
from .generation import Generator
from .index import BuildReport, Index, build_index, expected_manifest, indexed_sources
from .ingest import Problem, store_upload
from .language import question_language
from .prompts import Prompts
from .records import Answer, Filter, Hit
from .retrieval import Mode, Retriever, best_sentences
from .settings import Settings


@dataclass(frozen=True)
class Partial:
    """A step of a streamed answer: the text so far, and the final Answer once done."""

    text: str
    passages: list[Hit]
    answer: Answer | None = None


class Assistant:
    """Answers questions from an index. Heavy parts are parameters so tests can pass their own."""

    def __init__(
        self,
        settings: Settings,
        embedder: Embedder | None = None,
        generator: Generator | None = None,
        index: Index | None = None,
        prompts: Prompts | None = None,
    ) -> None:
        self.settings = settings
        self.embedder = embedder or Embedder.from_settings(settings)
        self.generator = generator or Generator.from_settings(settings)
        self._index = index
        self.prompts = prompts or Prompts.load(settings.prompts_dir)

    @property
    def index(self) -> Index:
        """The index, loaded on first use and refused if built under other settings."""
        if self._index is None:
            # A missing model is the thing to fix first: the index check would otherwise ask for a rebuild that fails.
            self.embedder.check()
            chunker = Chunker(self.settings.chunk_size, self.settings.chunk_overlap)
            self._index = Index.load(self.settings.index_dir, expected_manifest(self.embedder, chunker))
        return self._index

    def add_documents(
        self, files: Sequence[tuple[Path, str]], progress: Callable[[int, int], None] | None = None
    ) -> tuple[BuildReport, list[Problem]]:
        """Store uploaded ``(path, original name)`` files in the data folder and index them with what is indexed
        already (only new passages are embedded); the new index is searched from the next question on, no restart.

        Returns the build report and the uploads refused before indexing (bad names or kinds).
        """
        s = self.settings
        refused: list[Problem] = []
        for path, name in files:
            try:
                store_upload(path, name, s.data_dir)
            except (OSError, ValueError) as exc:
                refused.append(Problem(name, str(exc)))
        sources = indexed_sources(s.index_dir) or ([s.seeds_dir] if s.seeds_dir.exists() else [])
        data = s.data_dir.resolve()
        if data.exists() and not any(p.resolve() == data for p in sources):
            sources.append(data)
        chunker = Chunker(s.chunk_size, s.chunk_overlap)
        report = build_index(sources, s.index_dir, self.embedder, chunker, progress, s.max_document_bytes)
        self._index = Index.load(s.index_dir, expected_manifest(self.embedder, chunker))
        return report, refused

    def warm_up(self, generation: bool = True) -> None:
        """Load the index and models now rather than on the first question."""
        _ = self.index
        self.embedder.warm_up()
        if generation:
            self.generator.warm_up()

    def retrieve(self, question: str, k: int | None = None, translate: bool | None = None, narrow: Filter | None = None) -> list[Hit]:
        """The passages for a question, best first (``translate=False`` guarantees no model is loaded); ``narrow``
        limits them to some documents, bodies or dates."""
        return self.retriever(self.settings.retrieval_mode, translate).search(question, k, narrow)

    def retriever(self, mode: Mode, translate: bool | None = None) -> Retriever:
        """A Retriever over this assistant's index in the given mode, with the settings' fusion weights.

        ``translate`` (default: the setting) lets the answer model put English questions into Danish first.
        """
        s = self.settings
        use = s.translate_questions if translate is None else translate
        return Retriever(self.index, self.embedder, s.top_k, mode, s.retrieval_depth, s.rrf_k, s.lexical_weights, self.translate if use else None)

    def translate(self, question: str) -> str:
        """The question in Danish, written by the answer model (one short generation)."""
        text = "".join(self.generator.stream(self.prompts.translation_messages(question))).strip()
        first = text.splitlines()[0].strip() if text else ""
        return question if not first or _says_not_found(first, self.prompts.not_found.values()) else first

    def stream(self, question: str, k: int | None = None, narrow: Filter | None = None) -> Iterator[Partial]:
        """Answer ``question``, yielding the text as it is written; the last Partial carries the Answer.
        ``narrow`` answers from some documents, bodies or dates only."""
        started = time.perf_counter()
        language = question_language(question)
        not_found = self.prompts.not_found[language]
        hits = self.retrieve(question, k, narrow=narrow)
        relevant = [h for h in hits if h.score >= self.settings.min_score]
        if not relevant:
            answer = Answer(question, not_found, [], hits, abstained=True, seconds=time.perf_counter() - started)
            yield Partial(not_found, hits, answer)
            return
        texts = best_sentences(question, relevant, self.embedder, self.settings.context_sentences, self.settings.context_chars)
        messages = self.prompts.messages(question, relevant, language, self.settings.passage_chars, texts)
        text = ""
        for piece in self.generator.stream(messages, len(relevant)):
            text += piece
            yield Partial(text, relevant)
        checked = check_citations(text, relevant)
        words = re.sub(r"\[\d+\]", "", checked.text).strip()
        abstained = not words or _says_not_found(words, self.prompts.not_found.values())
        supported = (
            None
            if abstained
            else support_sentences(
                checked, relevant, self._similarity(relevant), self.settings.attach_threshold, self.settings.verify_threshold, question
            )
        )
        if supported is not None and not supported.citations:
            # Not one sentence has a source, cited or attachable: nothing here may be shown as an answer.
            supported, abstained = None, True
        answer = Answer(
            question,
            not_found if supported is None else supported.text,
            [] if supported is None else supported.citations,
            relevant,
            abstained=abstained,
            dropped_citations=checked.dropped,
            unsupported=[] if supported is None else supported.unsupported,
            unverified_citations=0 if supported is None else supported.unverified,
            seconds=time.perf_counter() - started,
        )
        yield Partial(answer.text, relevant, answer)

    def _similarity(self, passages: list[Hit]) -> Callable[[list[str]], np.ndarray]:
        """Cosine similarity of answer sentences to the passages (their stored vectors)."""

        def similarity(sentences: list[str]) -> np.ndarray:
            matrix = np.stack([self.index.vector(h.row) for h in passages])
            return self.embedder.embed_queries(sentences) @ matrix.T

        return similarity

    def ask(self, question: str, k: int | None = None, narrow: Filter | None = None) -> Answer:
        """Answer ``question`` and return the finished Answer."""
        last = None
        for last in self.stream(question, k, narrow):
            pass
        assert last is not None and last.answer is not None
        return last.answer


def _says_not_found(words: str, phrases: Iterable[str]) -> bool:
    """True when the answer's words (markers removed) are just a fixed "not in the documents" phrase."""
    core = words.strip().strip(".").lower()
    return any(core == p.strip().strip(".").lower() for p in phrases)
