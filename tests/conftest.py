"""Shared fixtures: small fakes for unit tests, and the real models and a real seeds index for the real path."""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest

from assistant.chunking import Chunker
from assistant.embedding import Embedder
from assistant.generation import LlamaGenerator
from assistant.index import FaissFolder, FaissStore
from assistant.indexing import BuildReport, build_index, expected_manifest
from assistant.settings import Settings
from bench._common import free_port

ROOT = Path(__file__).resolve().parent.parent  #: the source checkout the tests run in
MODELS = Settings().models_dir
SHARED = ROOT.parent / "shared"
#: The chunker of the default settings.
CHUNKER = Chunker.from_settings(Settings())


def build(paths: list[Path], index_dir: Path, embedder: object, chunker: Chunker = CHUNKER, **kwargs: object) -> BuildReport:
    """Index ``paths`` into a FAISS folder."""
    return build_index(paths, FaissFolder(index_dir), embedder, chunker, **kwargs)  # type: ignore[arg-type]


class FakeEmbedder:
    """Bag-of-words hashing vectors: deterministic, instant, and similar for texts sharing words (an
    ``interfaces.Embedder``)."""

    name = "fake-hashing"
    passage_prompt = "passage: "
    query_prompt = "query: "
    dimension = 256

    def __init__(self) -> None:
        self.embedded = 0

    def _vec(self, text: str) -> np.ndarray:
        v = np.zeros(self.dimension, dtype=np.float32)
        for word in re.findall(r"\w+", text.lower()):
            v[int(hashlib.md5(word.encode()).hexdigest(), 16) % self.dimension] += 1.0
        n = np.linalg.norm(v)
        return v / n if n else v

    def check(self) -> bool:
        return True

    def warm_up(self) -> None:
        pass

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        return np.stack([self._vec(t) for t in texts])

    def embed_passages(self, texts: list[str], progress: Callable[[int], None] | None = None) -> np.ndarray:
        self.embedded += len(texts)
        if progress:
            progress(len(texts))
        return np.stack([self._vec(t) for t in texts]) if texts else np.zeros((0, self.dimension), np.float32)


class FakeGenerator:
    """Replies with a fixed text, in pieces, and records the messages it was given (an ``interfaces.Generator``);
    asked to choose, it picks option ``choice`` (1: the best-ranked evidence; 0: none) with certainty."""

    def __init__(self, reply: str, choice: int = 1) -> None:
        self.reply = reply
        self.choice = choice
        self.calls: list[list[dict[str, str]]] = []

    def choose(self, messages: list[dict[str, str]], options: int) -> list[float]:
        self.calls.append(messages)
        return [1.0 if n == min(self.choice, options) else 0.0 for n in range(options + 1)]

    def warm_up(self) -> None:
        pass

    def stream(self, messages: list[dict[str, str]], passages: int = 0) -> Iterator[str]:
        self.calls.append(messages)
        for i in range(0, len(self.reply), 7):
            yield self.reply[i : i + 7]


@pytest.fixture
def fake_embedder() -> FakeEmbedder:
    return FakeEmbedder()


@pytest.fixture
def tiny_corpus(tmp_path: Path) -> Path:
    """Two small minutes documents in a folder, with a metadata.json."""
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "a.txt").write_text(
        "Referat\n\nAd. 1 Godkendelse af dagsorden\nDagsordenen blev godkendt.\n\n"
        "Ad. 2 Vold og trusler\nVold og trusler skal politianmeldes inden 72 timer.\n"
        "Det blev besluttet at skærpe retningslinjerne.\n",
        "utf-8",
    )
    (folder / "b.txt").write_text("1. Budget\nBudgettet for 2025 blev vedtaget uden ændringer.\n", "utf-8")
    (folder / "metadata.json").write_text('{"a.txt": {"title": "HovedMED referat", "date": "2015"}}', "utf-8")
    return folder


CASE = "24-000123"  #: the case number of ``case_corpus``'s day-care matter


@pytest.fixture
def case_corpus(tmp_path: Path) -> Path:
    """Agenda-item records as Greve's JSONL has them: one case at three meetings (committee, Økonomiudvalget, Byrådet),
    the agenda's approval at two (a standing item, no case), and an item of another case."""
    text = (
        "Beslutning {decision} Resume Der skal bygges en ny daginstitution i Tune med plads til 120 børn. "
        "Indstilling Administrationen indstiller, at anlægsbevillingen på 45 mio. kr. til daginstitutionen i Tune godkendes."
    )
    rows = [
        ("1", "Ny daginstitution i Tune", "Skole-, Børne- og Ungeudvalget", "2024-03-04T16:00:00+01:00", CASE, "Afbud: Ole Hansen. Anbefales."),
        ("2", "Ny daginstitution i Tune", "Økonomiudvalget", "2024-03-12T16:00:00+01:00", CASE, "Økonomiudvalget anbefaler overfor Byrådet, at indstillingen godkendes."),
        ("3", "Ny daginstitution i Tune", "Byrådet", "2024-03-21T18:00:00+01:00", CASE, "Byrådet godkendte Økonomiudvalgets indstilling."),
        ("4", "Godkendelse af dagsorden", "Økonomiudvalget", "2024-03-12T16:00:00+01:00", "21-000009", "Dagsordenen blev godkendt."),
        ("5", "Godkendelse af dagsorden", "Byrådet", "2024-03-21T18:00:00+01:00", "21-000009", "Dagsordenen blev godkendt."),
    ]
    records = [
        {"_id": i, "title": title, "committee": body, "meeting_date": date, "case_number": case, "text": text.format(decision=decision)}
        for i, title, body, date, case, decision in rows
    ]
    records.append({
        "_id": "6", "title": "Trafiksikkerhed ved Hedelyskolen", "committee": "Klima-, Teknik- og Miljøudvalget",
        "meeting_date": "2024-02-01T16:00:00+01:00", "case_number": "24-000200",
        "text": "Beslutning Godkendt. Resume Der etableres en hævet flade ved skolens indgang for 0,8 mio. kr.",
    })  # fmt: skip
    folder = tmp_path / "cases"
    folder.mkdir()
    (folder / "items.jsonl").write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in records) + "\n", "utf-8")
    return folder


def require_models(*names: str) -> None:
    """Fail (not skip) when the real models are missing: `make test` puts them in place first."""
    missing = [n for n in names if not (MODELS / n).exists()]
    if missing:
        pytest.fail(f"models missing in {MODELS}: {missing}; run `make test` (it runs `assistant setup-models` first)")


@pytest.fixture(scope="session")
def real_embedder() -> Embedder:
    require_models("multilingual-e5-small")
    return Embedder.from_settings(Settings())


@pytest.fixture(scope="session")
def seeds_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Settings whose index is a fresh, real index of seeds/ (built once per session)."""
    return Settings(index_dir=tmp_path_factory.mktemp("seeds-index") / "index")


@pytest.fixture(scope="session")
def seeds_index(seeds_settings: Settings, real_embedder: Embedder) -> FaissStore:
    build([seeds_settings.seeds_dir], seeds_settings.index_dir, real_embedder)
    return FaissStore.load(seeds_settings.index_dir, expected_manifest(real_embedder, CHUNKER))


SMALL_GGUF = "qwen2.5-coder-0.5b-instruct-q5_0.gguf"


def small_model(**overrides: object) -> LlamaGenerator:
    """The real 0.5B GGUF: fast plumbing through the real chat template, not for content."""
    require_models(SMALL_GGUF)
    return LlamaGenerator.from_settings(Settings(), model_path=MODELS / SMALL_GGUF, **{"max_tokens": 48, **overrides})


@pytest.fixture(scope="session")
def small_generator() -> LlamaGenerator:
    return small_model()


def nearest(store: FaissStore, vector: np.ndarray, k: int) -> list:  # type: ignore[type-arg]
    """The ``k`` passages nearest to a vector, as Hits."""
    return store.hits([row for row, _ in store.dense(vector, k)], vector)


class ModelServer:
    """A real llama-cpp-python OpenAI-compatible server (``python -m llama_cpp.server``) on 127.0.0.1, as
    ``assistant serve-model`` (or, with ``embeddings``, ``assistant serve-embeddings``) starts it; can be killed and
    started again on the same port."""

    def __init__(self, model: Path, log: Path, embeddings: bool = False) -> None:
        self.model, self.log, self.port, self.embeddings = model, log, free_port(), embeddings
        self.url = f"http://127.0.0.1:{self.port}/v1"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        import time
        import urllib.request

        from assistant.embedding import embedding_server_command
        from assistant.generation import model_server_command

        if self.embeddings:
            command = embedding_server_command(Settings(), port=self.port, model=self.model)
        else:
            command = model_server_command(Settings(llm_context=4096), port=self.port, model=self.model)
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the model server exited: {self.log.read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(self.url + "/models", timeout=2):
                    return
            except OSError:
                time.sleep(0.3)
        raise RuntimeError(f"the model server did not come up: {self.log.read_text()[-2000:]}")

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()


E5_GGUF = "multilingual-e5-small.gguf"


@pytest.fixture
def embedding_server(tmp_path: Path) -> Iterator[ModelServer]:
    """multilingual-e5-small (GGUF) behind a real llama_cpp.server's /v1/embeddings on a free port."""
    require_models(E5_GGUF)
    server = ModelServer(MODELS / E5_GGUF, tmp_path / "embedding-server.log", embeddings=True)
    server.start()
    try:
        yield server
    finally:
        server.kill()


@pytest.fixture
def small_model_server(tmp_path: Path) -> Iterator[ModelServer]:
    """The 0.5B GGUF behind a real llama_cpp.server on a free port."""
    require_models(SMALL_GGUF)
    server = ModelServer(MODELS / SMALL_GGUF, tmp_path / "server.log")
    server.start()
    try:
        yield server
    finally:
        server.kill()
