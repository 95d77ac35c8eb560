"""The one settings object. Only this module (and the CLI's flags) read the environment.

Every field can be set as an environment variable with the prefix ``ASSISTANT_`` (for example
``ASSISTANT_LLM_THREADS=1``) or in a ``.env`` file in the working directory.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

#: The repository root when the package is installed in editable mode (``make run`` does so).
PROJECT_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    """Everything the assistant can be told, with its default."""

    model_config = SettingsConfigDict(env_prefix="ASSISTANT_", env_file=".env", extra="ignore")

    # Where things live
    index_dir: Path = Field(PROJECT_ROOT / "index", description="Folder holding the built index (FAISS file, SQLite chunk store, manifest).")
    seeds_dir: Path = Field(PROJECT_ROOT / "seeds", description="The bundled default corpus, indexed when no path is given.")
    data_dir: Path = Field(
        PROJECT_ROOT / "data",
        description="Folder where documents added in the browser are stored (names sanitised); uploads are written nowhere else.",
    )
    models_dir: Path = Field(PROJECT_ROOT / "models", description="Folder where `assistant setup-models` puts the default models (git-ignored).")
    prompts_dir: Path = Field(PROJECT_ROOT / "prompts", description="Folder of prompt templates (text files).")

    # Embedding
    embedding_model: str = Field(
        "",
        description="Sentence-transformers model: a local folder or a hub id (hub ids need internet). "
        "Empty means the packaged multilingual-e5-small in models_dir.",
    )
    embedding_backend: Literal["onnx", "onnx-int8", "torch"] = Field(
        "onnx",
        description="Runtime for the embedding model: onnx (ONNX Runtime, float32: the same vectors as PyTorch and no "
        "PyTorch in memory when answering), onnx-int8 (weights and activations in int8: about 10% faster to index here "
        "but recall@5 on the seeds set fell 0.977 -> 0.955) or torch (sentence-transformers on PyTorch; the one that "
        "takes a hub id). The ONNX file is exported from the model folder once.",
    )
    embedding_threads: int = Field(2, ge=1, description="CPU threads for embedding (ONNX Runtime or PyTorch).")
    embedding_batch_size: int = Field(
        4,
        ge=1,
        description="Passages embedded per batch when indexing (sorted by token count). Small batches ran faster here: on 480 "
        "Greve passages (ONNX, 2 threads) 4 ran at 2,860 tokens/s against 2,610 for 16, with the same vectors.",
    )
    query_prompt: str = Field("query: ", description="Prefix the embedding model expects before a question.")
    passage_prompt: str = Field("passage: ", description="Prefix the embedding model expects before a passage.")

    max_document_mb: float = Field(
        20.0, gt=0, description="Largest document file (text, PDF, DOCX, HTML) indexed, in MB; larger ones are reported and skipped. JSONL record files are not capped."
    )

    # Chunking
    chunk_size: int = Field(1200, ge=200, description="Largest chunk in characters; agenda items longer than this are split.")
    chunk_overlap: int = Field(150, ge=0, description="Characters shared by neighbouring chunks of a split agenda item.")

    # Retrieval
    retrieval_mode: Literal["dense", "lexical", "hybrid"] = Field(
        "hybrid", description="dense (embeddings), lexical (BM25 over Danish stems and OCR-robust word skeletons) or hybrid (both, fused by reciprocal rank)."
    )
    lexical_weight_translated: float = Field(
        0.5,
        ge=0.0,
        description="Weight of both channels (dense and lexical) over the machine translation of an English question; "
        "the answer model's translations are rough, so less than the original question's 1.0.",
    )
    translate_questions: bool = Field(
        True,
        description="Let the answer model translate English questions into Danish before retrieval, so that Danish "
        "words can be matched (seeds dev set, English: recall@5 0.857 -> 0.905). Costs one short generation per English "
        "question; retrieve-only runs never translate.",
    )
    retrieval_depth: int = Field(50, ge=1, description="Candidates each channel contributes to the fusion.")
    rrf_k: int = Field(10, ge=1, description="Reciprocal-rank-fusion constant: smaller favours each channel's top ranks (10 measured best on tests/eval).")
    lexical_weight_da: float = Field(1.0, ge=0.0, description="Weight of the lexical channel in the fusion for Danish questions.")
    lexical_weight_en: float = Field(
        0.2, ge=0.0, description="Weight of the lexical channel for English questions (their words rarely occur in Danish text)."
    )
    top_k: int = Field(4, ge=1, le=50, description="Passages retrieved and given to the model.")
    min_score: float = Field(
        0.74,
        description="Cosine similarity below which a passage counts as irrelevant; when no passage reaches it the "
        "assistant answers that the documents do not say without asking the model. Cross-lingual questions score "
        "lower (e5-small: ≈0.77 for a relevant English question over Danish text, ≈0.89 in Danish), so keep it low.",
    )

    # Generation
    llm_model: str = Field(
        "",
        description="Path to a GGUF file. Empty means the packaged Qwen2.5-Coder-1.5B-Instruct Q4_K_M in models_dir.",
    )
    llm_threads: int = Field(2, ge=1, description="llama.cpp threads. Measured on 2 cores: see README; more than the cores collapses speed.")
    llm_context: int = Field(4096, ge=512, description="llama.cpp context window in tokens.")
    llm_max_tokens: int = Field(320, ge=16, description="Most tokens the model may write for one answer.")
    llm_temperature: float = Field(0.1, ge=0.0, description="Sampling temperature; low keeps answers close to the passages.")
    llm_repeat_penalty: float = Field(1.1, ge=1.0, description="Penalty on repeated tokens (small models loop without it).")
    llm_keep_system_state: bool = Field(
        True,
        description="Keep llama.cpp's state after the answer prompt's fixed system part (≈ 5 MB a language) and resume "
        "from it, so no question pays for those ≈ 160 tokens again, even after its translation used the model. "
        "(llama.cpp's whole-state RAM cache was measured instead: each saved state also copied a 311 MB logits array, "
        "and the server grew ≈ 0.4 GB per question.)",
    )
    attach_threshold: float = Field(
        0.8,
        description="Cosine similarity a sentence the model left uncited needs to a passage for that passage to be "
        "attached as its source; below it the sentence is flagged as unsupported.",
    )
    verify_threshold: float = Field(
        0.78,
        description="Cosine similarity a sentence needs to the passage its [n] names for the marker to stand (and every "
        "number in the sentence must occur in that passage); otherwise the marker is removed and the sentence "
        "re-attached or flagged as unsupported. 0.78 on tests/eval/seeds.jsonl: the lowest correct cited sentence scored "
        "0.77-0.78, invented ones 0.74-0.76.",
    )
    context_sentences: int = Field(
        3,
        ge=0,
        description="Sentences of each passage shown to the model: those most similar to the question (0 = the whole "
        "passage). A short context makes the small model answer better and sooner.",
    )
    context_chars: int = Field(
        0,
        ge=0,
        description="Most characters of passage text shown to the model in all (0 = no limit): each passage's best "
        "sentence, then the next best anywhere. A shorter prompt answers sooner (≈ 55 prompt tokens/s here), but on "
        "tests/eval/seeds.jsonl 1500 took answers from 20.1 to 15.7 s at the cost of facts correct 0.731 -> 0.692 and "
        "the 72-hour deadline in the example answer, so there is no limit by default.",
    )
    passage_chars: int = Field(1100, ge=100, description="Most characters of each passage shown to the model (keeps the prompt, and so the wait, short).")

    # Serving
    host: str = Field("127.0.0.1", description="Address the chat binds to. Keep 127.0.0.1 unless others must reach it.")
    port: int = Field(7860, description="Port of the chat.")
    auth: SecretStr = Field(
        SecretStr(""),
        description='Log-in for the chat as "user:password" (several: "u1:p1,u2:p2"); empty means no log-in. Set it before binding beyond 127.0.0.1.',
    )

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
    def lexical_weights(self) -> dict[str, float]:
        """Lexical-channel weight by question language ("translated": an English question put into Danish)."""
        return {"da": self.lexical_weight_da, "en": self.lexical_weight_en, "translated": self.lexical_weight_translated}

    @property
    def embedding_model_path(self) -> str:
        """The embedding model to load: the setting, or the packaged default."""
        return self.embedding_model or str(self.models_dir / "multilingual-e5-small")

    @property
    def llm_model_path(self) -> Path:
        """The GGUF file to load: the setting, or the packaged default."""
        return Path(self.llm_model) if self.llm_model else self.models_dir / "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
