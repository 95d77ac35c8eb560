"""The one settings object. Only this module (and the CLI's flags) read the environment; every default lives here.

Every field can be set as an environment variable with the prefix ``ASSISTANT_`` (for example
``ASSISTANT_LLM_THREADS=1``) or in a ``.env`` file in the working directory.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

_PACKAGE = Path(__file__).resolve().parent
#: The source checkout the package runs from (``make run`` installs it editable), or None when installed from a wheel.
CHECKOUT = _PACKAGE.parent if (_PACKAGE.parent / "pyproject.toml").is_file() and (_PACKAGE.parent / "prompts").is_dir() else None


def _bundled(name: str) -> Path:
    """A folder shipped with the package: inside it when installed from a wheel, beside it in a source checkout."""
    inside = _PACKAGE / "_data" / name
    return inside if inside.is_dir() else _PACKAGE.parent / name


def _home() -> Path:
    """Where the index, models and uploads live by default: the checkout, else the user's data folder."""
    if CHECKOUT is not None:
        return CHECKOUT
    return Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share") / "municipal-assistant"


class Settings(BaseSettings):
    """Everything the assistant can be told, with its default. Why each default was chosen: ``bench/README.md``."""

    model_config = SettingsConfigDict(env_prefix="ASSISTANT_", env_file=".env", extra="ignore")

    # Where things live
    index_dir: Path = Field(_home() / "index", description="Folder holding the built index (FAISS file, SQLite chunk store, manifest).")
    seeds_dir: Path = Field(_bundled("seeds"), description="The bundled default corpus, indexed when no path is given.")
    data_dir: Path = Field(_home() / "data", description="Folder where documents added in the browser are stored; uploads are written nowhere else.")
    models_dir: Path = Field(_home() / "models", description="Folder where `assistant setup-models` puts the default models.")
    prompts_dir: Path = Field(_bundled("prompts"), description="Folder of prompt templates (text files).")

    store: Literal["faiss", "milvus"] = Field("faiss", description="Where the index lives: faiss (a folder, index_dir) or milvus (Milvus Lite in a file, or a cluster: milvus_uri).")
    milvus_uri: str = Field(str(_home() / "index-milvus" / "milvus.db"), description="Milvus to use with store=milvus: a file path runs Milvus Lite; http://host:19530 reaches a server.")
    milvus_collection: str = Field("assistant", description="Name (an alias) of the index's collection in Milvus.")
    milvus_token: SecretStr = Field(SecretStr(""), description='Milvus credentials ("user:password" or an API key), if the server wants them.')

    # Embedding
    embedding_model: str = Field("", description="Sentence-transformers model: a local folder or a hub id (needs internet); empty: the packaged multilingual-e5-small.")
    embedding_backend: Literal["onnx", "onnx-int8", "torch"] = Field(
        "onnx", description="Embedding runtime: onnx (ONNX Runtime, float32), onnx-int8 (faster, lower recall) or torch (sentence-transformers; takes hub ids)."
    )
    embedding_threads: int = Field(2, ge=1, description="CPU threads for embedding.")
    embedding_batch_size: int = Field(4, ge=1, description="Passages embedded per batch when indexing (batched by token count).")
    query_prompt: str = Field("query: ", description="Prefix the embedding model expects before a question.")
    passage_prompt: str = Field("passage: ", description="Prefix the embedding model expects before a passage.")
    embedding_url: str = Field("", description="OpenAI-compatible /v1/embeddings server to embed with, e.g. http://127.0.0.1:8081/v1; empty: the model runs in this process.")
    embedding_api_model: str = Field("multilingual-e5-small", description="Model name asked of the embedding server; the index's manifest records it.")
    embedding_api_key: SecretStr = Field(SecretStr(""), description="API key the embedding server wants, if any (never printed).")
    embedding_server_batch: int = Field(32, ge=1, description="Passages a request to the embedding server.")
    embedding_concurrency: int = Field(4, ge=1, description="Requests to the embedding server in flight at once while indexing.")
    danish_words_path: Path = Field(Path("/usr/share/dict/danish"), description="Danish word list (Debian wdanish) that compounds are split by for the lexical channel; absent: compounds stay whole.")
    english_words_path: Path = Field(Path("/usr/share/dict/british-english"), description="English word list (Debian wbritish) that tells Danish words in an English answer, to gloss them; absent: no glossing.")
    max_document_mb: float = Field(20.0, gt=0, description="Largest document file indexed, in MB; larger ones are reported and skipped (JSONL files are not capped).")

    # Chunking
    chunk_size: int = Field(1200, ge=200, description="Largest chunk in characters; agenda items longer than this are split.")
    chunk_overlap: int = Field(150, ge=0, description="Characters shared by neighbouring chunks of a split agenda item.")

    # Retrieval
    retrieval_mode: Literal["dense", "lexical", "hybrid"] = Field("hybrid", description="dense (embeddings), lexical (BM25 over Danish stems) or hybrid (both, fused by rank).")
    translate_questions: bool = Field(True, description="Let the answer model put English questions into Danish before retrieval (retrieve-only runs never do).")
    lexical_weight_da: float = Field(1.0, ge=0.0, description="Weight of the lexical channel in the fusion for a Danish question.")
    lexical_weight_en: float = Field(0.2, ge=0.0, description="Weight of the lexical channel for an English question that is not translated.")
    lexical_weight_translated: float = Field(0.5, ge=0.0, description="Weight of both channels for the Danish translation of an English question.")
    lexical_weight_dictionary: float = Field(0.5, ge=0.0, description="Weight of the lexical channel for an English question's word-by-word Danish translation (glossary and dictionaries); 0: none.")
    dense_weight_dictionary: float = Field(0.0, ge=0.0, description="Weight of the dense channel for an English question's word-by-word Danish translation; 0: not embedded.")
    glossary_path: Path = Field(_PACKAGE / "glossary.tsv", description="English→Danish glossary of municipal words (a tab between the English term and its Danish renderings).")
    dictionaries_dir: Path = Field(Path("/usr/share/dictd"), description="Folder of FreeDict's dictd files (Debian dict-freedict-dan-eng, dict-freedict-eng-dan); without them only the glossary translates.")
    hypothetical_weight: float = Field(0.0, ge=0.0, description="Weight of the dense channel for two sentences of Danish minutes the answer model writes to answer an English question (HyDE); 0: not written.")
    retrieval_depth: int = Field(50, ge=1, description="Candidates each channel contributes to the fusion.")
    rrf_k: int = Field(10, ge=1, description="Reciprocal-rank-fusion constant: smaller favours each channel's top ranks.")
    section_weights: dict[str, float] = Field(
        default_factory=lambda: {"Beslutning": 2.5, "Resume": 2.5, "Indstilling": 1.6},
        description='Factor on the fused score of passages of an agenda-item record\'s sections (JSON, e.g. {"Beslutning": 2.5}); other sections 1.',
    )
    decision_support: float = Field(0.5, ge=0.0, le=1.0, description="An agenda item's decision (its Beslutning passage) scores at least this share of the item's best passage: a reader of minutes looks for what was decided (0: off).")
    item_decay: float = Field(0.5, ge=0.0, le=1.0, description="An agenda item's score: its passages' fused scores, best first, each weighted this times the one before (0: its best passage alone).")
    item_section_power: float = Field(0.5, ge=0.0, description="Power of the section weights in an agenda item's score (0: an item's sections count alike; 1: as for passages).")
    sentence_weight: float = Field(0.5, ge=0.0, description="Weight of the sentence channel: the passages whose evidence sentences are nearest the question by embedding, beside the passages' own nearest (times each form's dense weight; 0: not searched).")
    evidence_items: int = Field(3, ge=0, le=20, description="Best agenda items (the meetings of one case count as one) whose every sentence is a candidate for the evidence (0: only the sentences of the passages retrieved).")
    prefer_weight: float = Field(0.25, ge=0.0, description="Added factor on a passage's score for each of the committee and meeting date (year, month) the question names.")
    rerank_url: str = Field("", description="A reranking server (the Cohere/Jina /rerank API of vLLM, Infinity, llama.cpp's server; or TEI's), e.g. http://127.0.0.1:7997; empty: no reranking.")
    rerank_model: str = Field("BAAI/bge-reranker-v2-m3", description="Reranking model asked of the server.")
    rerank_api_key: SecretStr = Field(SecretStr(""), description="API key the reranking server wants, if any (never printed).")
    rerank_flavor: Literal["cohere", "tei"] = Field("cohere", description="The reranking server's API: cohere (vLLM, Infinity, llama.cpp, Jina, Cohere) or tei (Hugging Face TEI).")
    rerank_depth: int = Field(20, ge=1, description="First-stage passages the reranker reorders before the cut to top_k.")
    top_k: int = Field(6, ge=1, le=50, description="Passages retrieved: shown beside the answer, their sentences ranked as the evidence (and given to the model when it writes freely).")
    min_score: float = Field(0.74, description="Cosine similarity below which a passage is irrelevant; with none above it the answer is \"not in the documents\".")

    # Generation
    llm_model: str = Field("", description="Path to a GGUF file; empty: the packaged Qwen2.5-Coder-1.5B-Instruct Q4_K_M.")
    llm_threads: int = Field(2, ge=1, description="llama.cpp threads (more than the cores collapses speed).")
    llm_context: int = Field(4096, ge=512, description="llama.cpp context window in tokens.")
    llm_max_tokens: int = Field(320, ge=16, description="Most tokens the model may write for one answer.")
    llm_temperature: float = Field(0.1, ge=0.0, description="Sampling temperature; low keeps answers close to the passages.")
    llm_repeat_penalty: float = Field(1.1, ge=1.0, description="Penalty on repeated tokens (small models loop without it).")
    llm_keep_system_state: bool = Field(True, description="Keep llama.cpp's state after the answer prompt's fixed part and resume from it for each answer.")

    # The answer model behind a server instead (llama.cpp server, vLLM, Ollama, any OpenAI-compatible one)
    llm_url: str = Field("", description="OpenAI-compatible server for answers and translation, e.g. http://127.0.0.1:8080/v1; empty: the GGUF runs in this process.")
    llm_api_model: str = Field("local", description="Model name asked of the server (vLLM and Ollama serve models by name; llama.cpp's server takes any).")
    llm_api_key: SecretStr = Field(SecretStr(""), description="API key the server wants, if any (never printed).")
    llm_api_flavor: Literal["llama.cpp", "vllm", "ollama", "openai"] = Field(
        "llama.cpp", description="The server's kind: how the citation-marker grammar is sent (llama.cpp: grammar; vllm: structured outputs; others: none)."
    )
    llm_timeout: float = Field(120.0, gt=0, description="Seconds to wait for the server to begin or continue a reply.")
    llm_retries: int = Field(3, ge=0, description="Retries, with backoff, when the server cannot be reached or fails (5xx) before a reply began.")
    serve_embeddings_port: int = Field(8081, description="Port `assistant serve-embeddings` serves the embedding GGUF on (127.0.0.1).")
    serve_model_port: int = Field(8080, description="Port `assistant serve-model` serves the default GGUF on (127.0.0.1).")

    # Context and citations
    prompt_best_last: bool = Field(False, description="Give the model the passages best last, nearest the question (their numbers stay those of their rank).")
    context_sentences: int = Field(3, ge=0, description="Sentences of each passage shown to the model, those most similar to the question (0: all).")
    context_chars: int = Field(0, ge=0, description="Most characters of passage text shown to the model in all (0: no limit).")
    passage_chars: int = Field(1100, ge=100, description="Most characters of each passage shown to the model.")
    evidence_candidates: int = Field(4, ge=0, le=9, description="Sentences of the passages ranked as the answer and offered to the model to choose from (0: the model writes freely).")
    evidence_chars: int = Field(200, ge=40, description="Most characters of each evidence sentence shown to the model to choose from.")
    evidence_shown: int = Field(2, ge=1, description="Best-ranked sentences quoted at once, before the model has read anything, and with the answer (the one it is built on first).")
    evidence_margin: float = Field(0.15, ge=0.0, description="A sentence is quoted beside the best one only when its evidence score is within this margin of the best's (a sentence on another matter is no evidence).")
    evidence_focus_weight: float = Field(0.67, ge=0.0, le=1.0, description="Share, in a sentence's similarity to the question, of its similarity to the question without the words of the agenda items' titles (what the question asks of the item, not which item it is).")
    evidence_overlap_weight: float = Field(0.3, ge=0.0, description="Weight, in the evidence ranking, of the share a sentence, with its agenda item's title, holds of the words of the question's closest wording (as asked, or a Danish form), each word counted by how few of the candidate sentences hold it.")
    evidence_kind_weight: float = Field(0.1, ge=0.0, description="Added to a sentence's evidence score when it holds the kind of answer asked for (a sum, a length, an amount, a date, a name, a decision).")
    evidence_passage_weight: float = Field(0.1, ge=0.0, description="Weight, in the evidence ranking, of the reciprocal rank of a sentence's passage in retrieval (its decision and summary sections, the committee and date named, the whole passage's words).")
    evidence_rank_weight: float = Field(1.0, ge=0.0, description="How much the evidence ranking counts beside the model's choice of sentence (0: the model's choice alone).")
    evidence_decline_score: float = Field(1.35, description="The evidence score that 'none of the sentences' stands for when the model's choice is weighed with the ranking.")
    evidence_strong_similarity: float = Field(0.88, description="A best evidence sentence at least this similar to the question (or its Danish translation) is answered from even when the model chose none.")
    verify_threshold: float = Field(0.78, description="Cosine similarity a sentence needs to the passage its [n] names for the marker to stand.")
    attach_threshold: float = Field(0.8, description="Cosine similarity an uncited sentence needs to a passage for it to be attached as its source.")

    # Serving
    host: str = Field("127.0.0.1", description="Address the chat binds to; keep 127.0.0.1 unless others must reach it.")
    port: int = Field(7860, description="Port of the chat.")
    auth: SecretStr = Field(SecretStr(""), description='Log-in for the chat as "user:password" (several: "u1:p1,u2:p2"); empty: none.')
    chat_concurrency: int = Field(0, ge=0, description="Answers the chat writes at once, others wait in the queue; 0: 1 with the in-process model, 4 with a server.")

    @property
    def answers_at_once(self) -> int:
        """``chat_concurrency``, or what suits the answer model: one llama.cpp context in process, several behind a server."""
        return self.chat_concurrency or (4 if self.llm_url else 1)

    @property
    def credentials(self) -> list[tuple[str, str]]:
        """``auth`` as (user, password) pairs; refuses an entry without both parts."""
        pairs = []
        for entry in filter(None, (e.strip() for e in self.auth.get_secret_value().split(","))):
            user, sep, password = entry.partition(":")
            if not sep or not user or not password:
                raise ValueError('ASSISTANT_AUTH must be "user:password" (several separated by commas)')
            pairs.append((user, password))
        return pairs

    @property
    def max_document_bytes(self) -> int:
        """``max_document_mb`` in bytes."""
        return int(self.max_document_mb * 1_000_000)

    @property
    def embedding_model_path(self) -> str:
        """The embedding model to load: the setting, or the packaged default."""
        return self.embedding_model or str(self.models_dir / "multilingual-e5-small")

    @property
    def embedding_gguf_path(self) -> Path:
        """The embedding model as GGUF, for `assistant serve-embeddings` (`assistant setup-models --model e5-gguf`)."""
        return self.models_dir / "multilingual-e5-small.gguf"

    @property
    def llm_model_path(self) -> Path:
        """The GGUF file to load: the setting, or the packaged default."""
        return Path(self.llm_model) if self.llm_model else self.models_dir / "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
