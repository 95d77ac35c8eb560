"""Multilingual sentence embeddings (a sentence-transformers model), loaded on first use.

Two runtimes read the same model folder: ONNX Runtime (the default; float32, or int8 as an option) needs no PyTorch,
which keeps `serve` small; sentence-transformers on PyTorch also takes hub ids. The ONNX file is exported from the
folder once.
"""

from __future__ import annotations

import json
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .pooling import pool

if TYPE_CHECKING:
    from .settings import Settings


class EmbeddingModelMissing(RuntimeError):
    """The embedding model is not where the settings say."""


BACKENDS = ("onnx", "onnx-int8", "torch")


class Embedder:
    """Embeds questions and passages with the model's own prefixes; vectors are L2-normalised float32."""

    def __init__(self, model: str, *, threads: int, batch_size: int, query_prompt: str, passage_prompt: str, backend: str) -> None:
        if backend not in BACKENDS:
            raise ValueError(f"unknown embedding backend '{backend}'; choose from {', '.join(BACKENDS)}")
        self.model = model
        self.backend = backend
        self.threads = threads
        self.batch_size = batch_size
        self.query_prompt = query_prompt
        self.passage_prompt = passage_prompt
        self._st: Any = None
        self._onnx: _OnnxModel | None = None
        # The last two questions' vectors (a question and its translation): retrieval, context and citations embed the
        # same question, and only those in a row, so a benchmark cycling through questions never meets this cache.
        self._queries: dict[str, np.ndarray] = {}
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: Settings, **overrides: Any) -> Embedder:
        """The embedder the settings describe (``overrides``: constructor arguments to set otherwise)."""
        s = settings
        values = dict(
            threads=s.embedding_threads, batch_size=s.embedding_batch_size, query_prompt=s.query_prompt, passage_prompt=s.passage_prompt,
            backend=s.embedding_backend,
        )  # fmt: skip
        return cls(overrides.pop("model", s.embedding_model_path), **{**values, **overrides})

    @property
    def name(self) -> str:
        """The model's identity as the manifest records it: a folder's name or the hub id."""
        path = Path(self.model)
        return path.name if path.is_dir() else self.model

    def check(self) -> bool:
        """Refuse, naming the fix, a local model folder that is not there (without loading anything); returns whether
        the model is local (else it is a hub id)."""
        path = Path(self.model)
        looks_local = path.is_absolute() or self.model.startswith(".") or path.exists()
        if looks_local and not (path / "modules.json").exists() and not (path / "config.json").exists():
            raise EmbeddingModelMissing(
                f"embedding model not found at {path}; run `assistant setup-models` (or `make run`), "
                "or set ASSISTANT_EMBEDDING_MODEL to a sentence-transformers folder"
            )
        return looks_local

    def warm_up(self) -> None:
        """Load the model (once); for an ONNX backend, export the folder's model first if it has no ONNX file yet."""
        with self._lock:  # chat users may arrive together: load once
            self._load()

    def _load(self) -> None:
        if self._st is not None or self._onnx is not None:
            return
        looks_local = self.check()
        if self.backend != "torch":
            if not looks_local:
                raise EmbeddingModelMissing(
                    f"the {self.backend} embedding backend needs a local model folder, not the hub id '{self.model}'; "
                    "download the model to a folder or set ASSISTANT_EMBEDDING_BACKEND=torch"
                )
            from .setup_models import ensure_onnx

            folder = Path(self.model)
            self._onnx = _OnnxModel(folder, ensure_onnx(folder, self.backend, progress=_stderr), self.threads)
            return
        import torch
        from sentence_transformers import SentenceTransformer

        torch.set_num_threads(self.threads)
        self._st = SentenceTransformer(self.model, device="cpu", local_files_only=looks_local)

    @property
    def dimension(self) -> int:
        """Length of the vectors."""
        self.warm_up()
        if self._onnx is not None:
            return self._onnx.dimension
        get_dim = getattr(self._st, "get_embedding_dimension", None) or self._st.get_sentence_embedding_dimension
        return int(get_dim())

    def _encode(self, texts: list[str], prompt: str, progress: Callable[[int], None] | None = None) -> np.ndarray:
        self.warm_up()
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        prefixed = [prompt + t for t in texts]
        if self._onnx is not None:
            tokens = self._onnx.tokenize(prefixed)
            lengths = [len(t) for t in tokens]
        else:
            st, lengths = self._st, []
            for i in range(0, len(prefixed), 512):  # in slices, as the ONNX runtime tokenises
                lengths += [len(ids) for ids in st.tokenizer(prefixed[i : i + 512], truncation=True, max_length=st.max_seq_length)["input_ids"]]
        # Sorted by token count, a batch's texts are (nearly) equally long, so little work goes to padding: sorted by
        # characters, 8% of the tokens computed for the Greve corpus were padding.
        order = sorted(range(len(texts)), key=lengths.__getitem__)
        out = np.empty((len(texts), self.dimension), dtype=np.float32)
        for start in range(0, len(order), self.batch_size):
            idx = order[start : start + self.batch_size]
            if self._onnx is not None:
                out[idx] = self._onnx.run([tokens[i] for i in idx])
            else:
                out[idx] = self._st.encode([texts[i] for i in idx], prompt=prompt, batch_size=len(idx), normalize_embeddings=True, convert_to_numpy=True)
            if progress:
                progress(len(idx))
        return out

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        """Vectors for questions (a single question's is kept for the next call that asks for it again)."""
        if len(texts) != 1:
            return self._encode(texts, self.query_prompt)
        vector = self._queries.get(texts[0])
        if vector is None:
            vector = self._encode(texts, self.query_prompt)[0]
            if len(self._queries) >= 2:
                self._queries.pop(next(iter(self._queries)))
            self._queries[texts[0]] = vector
        return vector[None, :]

    def embed_passages(self, texts: list[str], progress: Callable[[int], None] | None = None) -> np.ndarray:
        """Vectors for passages; ``progress`` is called with the number done after each batch."""
        return self._encode(texts, self.passage_prompt, progress)


def _stderr(message: str) -> None:
    print(message, file=sys.stderr)


class _OnnxModel:
    """A sentence-transformers folder run by ONNX Runtime: its tokenizer.json, the exported transformer, and the
    folder's pooling (mean or CLS) and normalisation done in numpy."""

    def __init__(self, folder: Path, onnx_path: Path, threads: int) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        pooling = _read_json(folder / "1_Pooling" / "config.json")
        self.cls = bool(pooling.get("pooling_mode_cls_token")) and not pooling.get("pooling_mode_mean_tokens")
        if not self.cls and not pooling.get("pooling_mode_mean_tokens", True):
            raise EmbeddingModelMissing(f"{folder} pools other than by mean or CLS token; set ASSISTANT_EMBEDDING_BACKEND=torch")
        self.normalize = (folder / "2_Normalize").exists() or not (folder / "modules.json").exists()
        max_len = int(_read_json(folder / "sentence_bert_config.json").get("max_seq_length", 512))
        self.tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self.tokenizer.enable_truncation(max_len)
        self.tokenizer.no_padding()
        pad = self.tokenizer.token_to_id("<pad>")
        self.pad_id = 1 if pad is None else pad
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        # Idle ONNX Runtime threads otherwise spin for a while after each call, taking the cores FAISS and SQLite
        # need next: on 2 cores that doubled a query's retrieval time.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self.session = ort.InferenceSession(str(onnx_path), options, providers=["CPUExecutionProvider"])
        self.inputs = {i.name for i in self.session.get_inputs()}
        self.dimension = int(_read_json(folder / "config.json").get("hidden_size") or self.encode(["x"]).shape[1])

    def tokenize(self, texts: list[str]) -> list[np.ndarray]:
        """Token ids of already-prefixed texts, cut at the model's maximum length, not padded."""
        # In slices, kept as small arrays: the Greve corpus' 27,375 tokenizer Encodings at once took 0.63 GB more.
        return [np.array(e.ids, dtype=np.int64) for i in range(0, len(texts), 512) for e in self.tokenizer.encode_batch(texts[i : i + 512])]

    def run(self, tokens: list[np.ndarray]) -> np.ndarray:
        """Normalised vectors for tokenised texts (padded here to the longest of them)."""
        width = max(len(t) for t in tokens)
        ids = np.full((len(tokens), width), self.pad_id, dtype=np.int64)
        mask = np.zeros((len(tokens), width), dtype=np.int64)
        for row, t in enumerate(tokens):
            ids[row, : len(t)] = t
            mask[row, : len(t)] = 1
        feed = {"input_ids": ids, "attention_mask": mask}
        if "token_type_ids" in self.inputs:
            feed["token_type_ids"] = np.zeros_like(ids)
        hidden = self.session.run(None, feed)[0]
        return pool(hidden, mask, cls=self.cls, normalize=self.normalize)

    def encode(self, texts: list[str]) -> np.ndarray:
        """Normalised vectors for already-prefixed texts."""
        return self.run(self.tokenize(texts))


def _read_json(path: Path) -> dict[str, Any]:
    try:
        return dict(json.loads(path.read_text("utf-8")))
    except (OSError, ValueError):
        return {}


class EmbeddingServerError(RuntimeError):
    """The embedding server could not give vectors; the message names the URL and what to do."""


class ServerEmbedder:
    """Embeds through an OpenAI-compatible ``/v1/embeddings`` server (llama.cpp's server, vLLM, Infinity, Hugging Face
    TEI, Ollama) with the same contract as ``Embedder``: the model's prefixes added here, vectors L2-normalised here,
    float32. Passages go in batches, several requests in flight; the manifest records the served model's name, so an
    index built with another model is refused."""

    def __init__(
        self, url: str, *, model: str, api_key: str, batch_size: int, concurrency: int, query_prompt: str, passage_prompt: str, timeout: float,
        retries: int,
    ) -> None:  # fmt: skip
        self.url = url.rstrip("/")
        self.model = model
        self.api_key = api_key
        self.batch_size = batch_size
        self.concurrency = concurrency
        self.query_prompt = query_prompt
        self.passage_prompt = passage_prompt
        self.timeout = timeout
        self.retries = retries
        self._client: Any = None
        self._dimension = 0
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: Settings) -> ServerEmbedder:
        """The server embedder the settings describe."""
        s = settings
        return cls(
            s.embedding_url, model=s.embedding_api_model, api_key=s.embedding_api_key.get_secret_value(), batch_size=s.embedding_server_batch,
            concurrency=s.embedding_concurrency, query_prompt=s.query_prompt, passage_prompt=s.passage_prompt, timeout=s.llm_timeout,
            retries=s.llm_retries,
        )  # fmt: skip

    @property
    def name(self) -> str:
        """The served model's name, as the manifest records it."""
        return self.model

    def check(self) -> bool:
        """Nothing local to check: the server is reached on first use."""
        return False

    def warm_up(self) -> None:
        """Make the client and learn the vectors' length from the server (once)."""
        with self._lock:
            if self._client is None:
                from openai import OpenAI

                self._client = OpenAI(base_url=self.url, api_key=self.api_key or "none", timeout=self.timeout, max_retries=self.retries)
            if not self._dimension:
                self._dimension = int(self._request(["dimension"]).shape[1])

    @property
    def dimension(self) -> int:
        """Length of the vectors."""
        self.warm_up()
        return self._dimension

    def _request(self, texts: list[str]) -> np.ndarray:
        import httpx
        import openai

        try:
            reply = self._client.embeddings.create(model=self.model, input=texts, encoding_format="float")
        except (openai.APIError, httpx.HTTPError) as exc:
            raise EmbeddingServerError(
                f"the embedding server at {self.url} failed ({type(exc).__name__}: {str(exc)[:120]}); check that it runs and serves "
                f"'{self.model}' (`assistant serve-embeddings` starts one), or unset ASSISTANT_EMBEDDING_URL"
            ) from None
        vectors = np.array([d.embedding for d in sorted(reply.data, key=lambda d: d.index)], dtype=np.float32)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors / np.where(norms == 0, 1.0, norms)

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        """Vectors for questions."""
        self.warm_up()
        return self._request([self.query_prompt + t for t in texts])

    def embed_passages(self, texts: list[str], progress: Callable[[int], None] | None = None) -> np.ndarray:
        """Vectors for passages, ``batch_size`` a request and ``concurrency`` requests in flight; ``progress`` is called
        with the number done after each batch, in the order they finish."""
        from concurrent.futures import ThreadPoolExecutor

        self.warm_up()
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        prefixed = [self.passage_prompt + t for t in texts]
        batches = [prefixed[i : i + self.batch_size] for i in range(0, len(prefixed), self.batch_size)]
        out = np.empty((len(texts), self.dimension), dtype=np.float32)

        def run(n: int) -> None:
            out[n * self.batch_size : n * self.batch_size + len(batches[n])] = self._request(batches[n])
            if progress:
                progress(len(batches[n]))

        with ThreadPoolExecutor(max_workers=self.concurrency, thread_name_prefix="embedding") as pool:
            for done in [pool.submit(run, n) for n in range(len(batches))]:
                done.result()  # the first failure stops the build with its one line
        return out


def embedder_from_settings(settings: Settings) -> Embedder | ServerEmbedder:
    """The embedder the settings name: a server when ``embedding_url`` is set, else the model in this process."""
    return ServerEmbedder.from_settings(settings) if settings.embedding_url else Embedder.from_settings(settings)


def embedding_server_command(settings: Settings, port: int | None = None, model: Path | None = None) -> list[str]:
    """The command that serves the embedding GGUF with llama-cpp-python's OpenAI-compatible server on 127.0.0.1
    (``/v1/embeddings``), with the settings' embedding threads; the model name it answers to is the settings'."""
    threads = str(settings.embedding_threads)
    return [
        sys.executable, "-m", "llama_cpp.server", "--model", str(model or settings.embedding_gguf_path), "--model_alias", settings.embedding_api_model,
        "--embedding", "True", "--host", "127.0.0.1", "--port", str(port or settings.serve_embeddings_port), "--n_ctx", "512",
        "--n_threads", threads, "--n_threads_batch", threads, "--n_batch", "512", "--n_ubatch", "512", "--use_mmap", "False",
    ]  # fmt: skip
