"""Embedding runtimes: pooling, backend choice, and the ONNX runtimes against PyTorch on the real model."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from assistant.embedding import BACKENDS, Embedder, EmbeddingModelMissing
from assistant.pooling import pool
from assistant.settings import Settings
from tests.conftest import ROOT, require_models

HIDDEN = np.array([[[1.0, 0.0], [3.0, 4.0], [100.0, 100.0]]], dtype=np.float32)


@pytest.mark.parametrize(
    ("mask", "cls", "normalize", "expected"),
    [
        ([[1, 1, 0]], False, False, [[2.0, 2.0]]),  # padding left out of the mean
        ([[1, 1, 1]], False, False, [[104 / 3, 104 / 3]]),
        ([[1, 1, 0]], False, True, [[0.70710677, 0.70710677]]),
        ([[1, 1, 0]], True, False, [[1.0, 0.0]]),  # the first (CLS) token
        ([[0, 0, 0]], False, False, [[0.0, 0.0]]),  # no tokens: zeros, not NaN
    ],
)
def test_pool(mask: list[list[int]], cls: bool, normalize: bool, expected: list[list[float]]) -> None:
    got = pool(HIDDEN, np.array(mask), cls=cls, normalize=normalize)
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, np.array(expected), rtol=1e-5)


def test_unknown_backend_is_refused() -> None:
    with pytest.raises(ValueError, match="onnx, onnx-int8, torch"):
        Embedder.from_settings(Settings(), model="some-model", backend="tensorflow")


def test_onnx_backend_needs_a_local_folder() -> None:
    with pytest.raises(EmbeddingModelMissing, match="ASSISTANT_EMBEDDING_BACKEND=torch"):
        Embedder.from_settings(Settings(), model="intfloat/multilingual-e5-small", backend="onnx").warm_up()


def test_default_backend_is_onnx() -> None:
    assert Settings().embedding_backend == "onnx" and Embedder.from_settings(Settings(), model="some-model").backend == "onnx"
    assert set(BACKENDS) == {"onnx-int8", "onnx", "torch"}


TEXTS = [
    "Den nye MED-aftale træder i kraft den 1. januar 2025.",
    "Vold mod medarbejdere skal politianmeldes inden for 72 timer.",
    "Byrådet godkendte budgettet for skoleområdet.",
    "Referat fra mødet i Hovedudvalget, sygefravær og trivsel.",
]
QUESTIONS = ["Hvornår træder den nye MED-aftale i kraft?", "What was decided about police reporting of violence?"]


def _vectors(backend: str) -> tuple[np.ndarray, np.ndarray]:
    s = Settings(embedding_backend=backend)
    e = Embedder.from_settings(s)
    return e.embed_passages(TEXTS), e.embed_queries(QUESTIONS)


@pytest.mark.real
@pytest.mark.parametrize(("backend", "min_cosine", "same_ranking"), [("onnx", 0.999, True), ("onnx-int8", 0.98, False)])
def test_onnx_backends_agree_with_pytorch(backend: str, min_cosine: float, same_ranking: bool) -> None:
    """float32 ONNX gives PyTorch's vectors and rankings; int8 stays close (its ranking may differ: why it is an option)."""
    require_models("multilingual-e5-small")
    p_torch, q_torch = _vectors("torch")
    p_onnx, q_onnx = _vectors(backend)
    assert p_onnx.shape == p_torch.shape == (4, 384)
    np.testing.assert_allclose(np.linalg.norm(p_onnx, axis=1), 1.0, rtol=1e-4)
    assert (p_onnx * p_torch).sum(axis=1).min() > min_cosine
    assert (q_onnx * q_torch).sum(axis=1).min() > min_cosine
    assert list((q_torch @ p_torch.T).argmax(axis=1)) == [0, 1]
    if same_ranking:
        assert list((q_onnx @ p_onnx.T).argmax(axis=1)) == [0, 1]


@pytest.mark.real
def test_onnx_export_of_a_folder_without_one(tmp_path: Path) -> None:
    """A model folder with no ONNX file is exported on first use and gives PyTorch's vectors."""
    require_models("multilingual-e5-small")
    source = Settings().embedding_model_path
    folder = tmp_path / "e5"
    folder.mkdir()
    for item in Path(source).iterdir():
        if item.name != "onnx":
            (folder / item.name).symlink_to(item)
    e = Embedder.from_settings(Settings(), model=str(folder), backend="onnx")
    vecs = e.embed_passages(TEXTS[:2])
    assert (folder / "onnx" / "model.onnx").is_file()
    p_torch, _ = _vectors("torch")
    assert (vecs * p_torch[:2]).sum(axis=1).min() > 0.999


@pytest.mark.real
def test_onnx_backend_does_not_load_pytorch() -> None:
    """Answering questions needs no PyTorch in memory (it would cost ≈ 0.5 GB of the serve process)."""
    require_models("multilingual-e5-small")
    code = (
        "import sys; from assistant.embedding import Embedder; from assistant.settings import Settings; "
        "v = Embedder.from_settings(Settings(embedding_backend='onnx')).embed_queries(['Hvornår?']); "
        "print(v.shape, 'torch' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300, check=True)
    assert out.stdout.strip() == "(1, 384) False"


@pytest.mark.real
@pytest.mark.parametrize("backend", ["onnx", "torch"])
def test_batches_give_each_text_its_own_vector(backend: str) -> None:
    """Texts are batched by token count, out of their order: each still gets the vector it gets alone, in its place."""
    require_models("multilingual-e5-small")
    texts = [TEXTS[3] * 6, "Godkendt.", TEXTS[0], "Beslutning " + TEXTS[1] * 3, TEXTS[2]]
    e = Embedder.from_settings(Settings(), batch_size=2, backend=backend)
    together = e.embed_passages(texts)
    alone = np.stack([e.embed_passages([t])[0] for t in texts])
    assert (together * alone).sum(axis=1).min() > 0.9999


def test_an_embedding_server_that_is_not_there_is_one_line() -> None:
    from assistant.embedding import EmbeddingServerError, ServerEmbedder
    from bench._common import free_port

    url = f"http://127.0.0.1:{free_port()}/v1"
    embedder = ServerEmbedder.from_settings(Settings(embedding_url=url, llm_retries=0, llm_timeout=5))
    with pytest.raises(EmbeddingServerError, match=f"the embedding server at {url} failed") as failed:
        embedder.embed_queries(["Hvad?"])
    assert "\n" not in str(failed.value) and "assistant serve-embeddings" in str(failed.value)


def test_the_settings_choose_the_embedder() -> None:
    from assistant.embedding import Embedder, ServerEmbedder, embedder_from_settings

    assert isinstance(embedder_from_settings(Settings()), Embedder)
    served = embedder_from_settings(Settings(embedding_url="http://127.0.0.1:1/v1", embedding_api_model="e5"))
    assert isinstance(served, ServerEmbedder) and served.name == "e5"
