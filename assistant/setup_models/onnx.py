"""The ONNX export of a sentence-transformers folder, for the ONNX Runtime embedding backends."""

from __future__ import annotations

import logging
import tempfile
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from .wheels import ModelSetupError, Progress

ONNX_FILES = {"onnx": "onnx/model.onnx", "onnx-int8": "onnx/model_qint8.onnx"}


def onnx_file(folder: Path, backend: str) -> Path:
    """Where the ONNX export for ``backend`` ("onnx" or "onnx-int8") lives in a sentence-transformers folder."""
    return folder / ONNX_FILES[backend]


def ensure_onnx(folder: Path, backend: str, progress: Progress) -> Path:
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
            # 7-bit weights (reduce_range): ONNX Runtime's u8s8 kernels on AVX2/AVX-512 CPUs without VNNI add pairs of
            # products in 16 bits, which full-range weights can overflow, so the same file agreed less on some CPUs.
            quantize_dynamic(str(fp32), str(out), weight_type=QuantType.QInt8, per_channel=True, reduce_range=True)
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
    """Refuse an ONNX file whose mean-pooled vectors stray from PyTorch's (int8 keeps cosine ≈ 0.995 here)."""
    import onnxruntime as ort
    import torch
    from tokenizers import Tokenizer

    from ..pooling import pool

    tok = Tokenizer.from_file(str(folder / "tokenizer.json"))
    tok.enable_padding(pad_id=tok.token_to_id("<pad>") or 0)
    enc = tok.encode_batch(["passage: Byrådet godkendte budgettet for 2024.", "query: When does the new agreement take effect?"])
    ids = np.array([e.ids for e in enc], dtype=np.int64)
    mask = np.array([e.attention_mask for e in enc], dtype=np.int64)
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    got = pool(session.run(None, {"input_ids": ids, "attention_mask": mask})[0], mask)
    with torch.no_grad():
        hidden = model(input_ids=torch.from_numpy(ids), attention_mask=torch.from_numpy(mask)).last_hidden_state.numpy()  # type: ignore[operator]
    agreement = float((got * pool(hidden, mask)).sum(axis=1).min())
    if agreement < 0.98:
        raise ModelSetupError(f"the ONNX export of {folder} disagrees with PyTorch (cosine {agreement:.3f}); set ASSISTANT_EMBEDDING_BACKEND=torch")
