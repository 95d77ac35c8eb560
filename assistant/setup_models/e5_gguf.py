"""multilingual-e5-small as a GGUF file, for an embedding server run by llama.cpp (``assistant serve-embeddings``).

The conversion is llama.cpp's own (``convert_hf_to_gguf.py``), taken from the source archive of the installed
llama-cpp-python, so the converter and the server are one llama.cpp version. Its XLM-RoBERTa reader wants the
tokenizer's normaliser as one "Precompiled" step, and our tokenizer.json wraps it in a sequence with a rule that
collapses runs of spaces, which the converter writes from a flag of tokenizer_config.json: the folder is staged with
the step unwrapped and the flag set, so that llama.cpp tokenises as the in-process model does. The result is checked against
its sha256; its vectors match the in-process model's to cosine 0.99999 (f32: f16 weights flipped near-tied rankings).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from importlib import metadata
from pathlib import Path

from ..ingest import sha256_of
from .wheels import ModelSetupError, Progress

GGUF = "multilingual-e5-small.gguf"
SHA256 = "4958c7d0f0cdd1c1dd0c2bb5dd6681443490f73c27e0e39892aceb6e37fc67d4"
_CONVERTER = "vendor/llama.cpp/"


def _converter(tmp: Path) -> Path:
    """llama.cpp's converter (script, its conversion package and gguf-py) out of llama-cpp-python's source archive."""
    version = metadata.version("llama_cpp_python")
    cmd = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--no-binary=:all:", "-d", str(tmp), f"llama-cpp-python=={version}"]
    result = subprocess.run(cmd, capture_output=True, text=True)
    archives = list(tmp.glob("llama_cpp_python-*.tar.gz"))
    if result.returncode != 0 or not archives:
        raise ModelSetupError(f"could not download llama-cpp-python {version}'s source archive: {result.stderr.strip()[-300:]}")
    wanted = ("convert_hf_to_gguf.py", "conversion/", "gguf-py/")
    with tarfile.open(archives[0]) as tar:
        members = [m for m in tar.getmembers() if _CONVERTER in m.name and m.name.split(_CONVERTER, 1)[1].startswith(wanted)]
        tar.extractall(tmp, members=members, filter="data")
    (script,) = tmp.glob(f"*/{_CONVERTER}convert_hf_to_gguf.py")
    return script


def ensure_e5_gguf(models_dir: Path, e5: Path, progress: Progress) -> Path:
    """``models_dir``/multilingual-e5-small.gguf, converted from the e5 folder unless a verified copy is there."""
    target = models_dir / GGUF
    stamp = target.with_suffix(".sha256")
    if target.exists() and stamp.exists() and stamp.read_text().strip() == SHA256:
        return target
    try:
        import sentencepiece  # noqa: F401 - the converter needs it
    except ImportError:
        raise ModelSetupError("the GGUF conversion needs sentencepiece: pip install sentencepiece") from None
    progress(f"  {GGUF}: converting {e5.name} with llama.cpp's converter")
    with tempfile.TemporaryDirectory(dir=models_dir) as name:
        tmp = Path(name)
        script = _converter(tmp)
        stage = tmp / "stage" / e5.name  # the converter names the model after its folder
        stage.mkdir(parents=True)
        for item in e5.iterdir():
            if item.name not in ("tokenizer.json", "tokenizer_config.json"):
                (stage / item.name).symlink_to(item.resolve())
        tokenizer = json.loads((e5 / "tokenizer.json").read_text("utf-8"))
        steps = tokenizer.get("normalizer", {}).get("normalizers") or []
        tokenizer["normalizer"] = next((s for s in steps if s.get("type") == "Precompiled"), tokenizer["normalizer"])
        (stage / "tokenizer.json").write_text(json.dumps(tokenizer, ensure_ascii=False), "utf-8")
        # The sequence's other step collapses runs of spaces; the converter writes that rule from this flag.
        config = json.loads((e5 / "tokenizer_config.json").read_text("utf-8")) if (e5 / "tokenizer_config.json").exists() else {}
        (stage / "tokenizer_config.json").write_text(json.dumps({**config, "clean_up_tokenization_spaces": True}), "utf-8")
        out = tmp / GGUF
        env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
        run = subprocess.run(
            [sys.executable, str(script), str(stage), "--outfile", str(out), "--outtype", "f32"], capture_output=True, text=True, env=env, cwd=script.parent
        )  # fmt: skip
        if run.returncode != 0 or not out.exists():
            raise ModelSetupError(f"llama.cpp's converter failed on {e5}: {run.stderr.strip()[-400:]}")
        digest = sha256_of(out)
        if digest != SHA256:
            raise ModelSetupError(f"{GGUF}: checksum mismatch (got {digest}, expected {SHA256}); the converter or the e5 folder changed")
        shutil.move(str(out), target)
    stamp.write_text(SHA256 + "\n")
    return target
