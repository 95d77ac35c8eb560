"""The question→answer path, composed from its stages; it holds no rule of its own.

``Assistant.stream`` reads top to bottom: query rewrite (language, translation) → retrieval (channels, fusion,
filters; the best agenda items and their sentences) → context (which passages and sentences the model sees) → prompt → generation → citations (markers,
verification, attachment, abstention) → Answer.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

from .citations import CitationChecker
from .context import ContextBuilder
from .embedding import embedder_from_settings
from .generation import generator_from_settings
from .indexing import location, open_store
from .interfaces import Embedder as EmbedderLike
from .interfaces import Generator, Reranker, Store
from .lexicon import Lexicon
from .prompts import AnswerPrompt
from .query import QueryRewriter
from .records import Answer, Case, Evidence, Filter, Found, Hit
from .rerank import ServerReranker
from .retrieval import Mode, Retriever
from .settings import Settings
from .templates import Templates


@dataclass(frozen=True)
class Partial:
    """A step of a streamed answer: the evidence found (quoted before the model has read anything), the text so far,
    and the final Answer once done."""

    text: str
    passages: list[Hit]
    answer: Answer | None = None
    evidence: tuple[Evidence, ...] = ()


class Assistant:
    """Answers questions from an index. Heavy parts are parameters so tests can pass their own; the models load on
    first use, and the index is loaded again when a new build replaced it (an upload, another indexer)."""

    def __init__(
        self,
        settings: Settings,
        embedder: EmbedderLike | None = None,
        generator: Generator | None = None,
        store: Store | None = None,
        templates: Templates | None = None,
        reranker: Reranker | None = None,
    ) -> None:
        self.settings = settings
        self.embedder = embedder or embedder_from_settings(settings)
        self.generator = generator or generator_from_settings(settings)
        self.templates = templates or Templates.load(settings.prompts_dir)
        self._store = store
        self._store_fixed = store is not None
        self._where = location(settings)
        self._built: object = None
        self._lock = threading.Lock()
        self.reranker = reranker if reranker is not None else ServerReranker.from_settings(settings)
        self.lexicon = Lexicon.from_settings(settings)
        self.rewriter = QueryRewriter.from_settings(settings, self.templates, self.generator, self.lexicon)
        self.context = ContextBuilder.from_settings(settings, self.embedder)
        self.prompt = AnswerPrompt.from_settings(settings, self.templates)
        self.citations = CitationChecker.from_settings(settings, self.embedder, self.templates, self.lexicon)

    @property
    def store(self) -> Store:
        """The index, loaded on first use (refused if built under other settings), and again after a rebuild."""
        with self._lock:
            if self._store_fixed:
                assert self._store is not None
                return self._store
            manifest = self._where.manifest() or {}
            built = (manifest.get("built_at"), manifest.get("chunks"), manifest.get("files"))
            if self._store is None or built != self._built:
                self._store, self._built = open_store(self.settings, self.embedder), built
            return self._store

    @property
    def bodies(self) -> list[str]:
        """The committees and councils of the index's documents (a question naming one prefers its meetings)."""
        return self.store.facets()["bodies"]

    def warm_up(self, generation: bool = True) -> None:
        """Load the index and models now rather than on the first question."""
        _ = self.store
        self.embedder.warm_up()
        self.lexicon.warm_up()
        self.lexicon.vocabularies()
        if generation:
            self.generator.warm_up()

    def retriever(self, mode: Mode | None = None) -> Retriever:
        """A Retriever over the index (in ``mode``, default: the settings')."""
        return Retriever.from_settings(self.settings, self.store, self.embedder, mode, self.reranker)

    def retrieve(
        self, question: str, k: int | None = None, translate: bool | None = None, narrow: Filter | None = None, mode: Mode | None = None
    ) -> list[Hit]:
        """The passages for a question, best first (``translate=False`` guarantees no model is loaded); ``narrow``
        limits them to some documents, bodies or dates; ``mode`` overrides the settings' retrieval mode."""
        return self.retriever(mode).run(self.rewriter.run(question, translate, self.bodies), k, narrow)

    def search(
        self, question: str, k: int | None = None, translate: bool | None = None, narrow: Filter | None = None, mode: Mode | None = None
    ) -> Found:
        """What retrieval finds for a question, as an answer is written from it: the passages (as ``retrieve``), the
        agenda items ranked, and the sentences of the best items the evidence is chosen from."""
        return self.retriever(mode).search(self.rewriter.run(question, translate, self.bodies), k, narrow)

    def stream(self, question: str, k: int | None = None, narrow: Filter | None = None) -> Iterator[Partial]:
        """Answer ``question``, yielding the evidence as soon as it is found, then the text as it is written; the last
        Partial carries the Answer. ``narrow`` answers from some documents, bodies or dates only."""
        started = time.perf_counter()
        shown = self.settings.evidence_shown
        # First the sentences that answer, found without the answer model; an English question is then put into
        # Danish by the model and searched again, and the evidence shown again.
        query = self.rewriter.run(question, translate=False, bodies=self.bodies)
        found = self.retriever().search(query, k, narrow)
        context = self.context.run(query, found)
        yield Partial("", context.passages, evidence=context.quotes[:shown])
        if self.rewriter.will_translate(query):
            query = self.rewriter.run(question, bodies=self.bodies)
            found = self.retriever().search(query, k, narrow)
            context = self.context.run(query, found)
            yield Partial("", context.passages, evidence=context.quotes[:shown])
        if not context.passages:
            answer = self.citations.declined(query, found.passages)
        elif context.evidence:
            choice = self.prompt.choice_messages(query, context.evidence)
            chosen = self.citations.pick(query, context.evidence, self.generator.choose(choice, len(context.evidence)))
            if chosen is None:
                answer = self.citations.declined(query, context.passages)
            else:
                yield Partial("", context.passages, evidence=(chosen,))
                reply = ""
                phrase = self.prompt.phrase_messages(choice, context.evidence.index(chosen) + 1, query.language)
                for piece in self.generator.stream(phrase):
                    reply += piece
                    yield Partial(reply, context.passages, evidence=(chosen,))
                answer = self.citations.phrased(query, context, chosen, reply, shown)
        else:
            reply = ""
            for piece in self.generator.stream(self.prompt.messages(query, context), len(context.passages)):
                reply += piece
                yield Partial(reply, context.passages)
            answer = self.citations.run(query, context, reply)
        # The cited item's case: its history beside the answer, and a later meeting's decision where it was taken up again.
        cited = answer.citations[0].hit.chunk.doc_id if answer.citations else None
        answer = self.citations.with_case(query, answer, self.store.case(cited) if cited else None)
        answer = dataclasses.replace(answer, seconds=time.perf_counter() - started)
        yield Partial(answer.text, answer.passages, answer, answer.evidence)

    def case(self, number: str) -> Case | None:
        """The case with this number and every meeting that handled it, newest first; None when the index has none."""
        return self.store.numbered(number)

    def ask(self, question: str, k: int | None = None, narrow: Filter | None = None) -> Answer:
        """Answer ``question`` and return the finished Answer."""
        last = None
        for last in self.stream(question, k, narrow):
            pass
        assert last is not None and last.answer is not None
        return last.answer
