"""Alternative inference backends for the e5 encoder: torch int8, ONNX fp32 and ONNX int8.

Each backend is a function ``encode(texts, prompt) -> (n, 384) float32`` (L2-normalised,
mean pooling, e5 prompt such as ``"passage: "``), built from the local provisioned model
folder only: no hub access. ONNX needs ``onnxruntime`` and ``onnx`` (and torch's exporter needs
``onnxscript``); they are looked up on ``sys.path``, and the benchmark reports "not
installed" without them. sentence-transformers' own ``backend="onnx"`` needs
``optimum-onnx``, which pins transformers < 4.58 and would downgrade this project's
transformers 5, so the export here uses torch.onnx directly: same graph, same runtime.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

Encode = Callable[[Sequence[str], str], np.ndarray]  # (texts, prompt) -> unit rows


def _batches(texts: Sequence[str], batch_size: int) -> list[list[int]]:
    order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
    return [order[i:i + batch_size] for i in range(0, len(order), batch_size)]


def _mean_pool(hidden: np.ndarray, mask: np.ndarray) -> np.ndarray:
    mask = mask[..., None].astype(np.float32)
    pooled = (hidden * mask).sum(1) / np.maximum(mask.sum(1), 1e-9)
    return pooled / np.linalg.norm(pooled, axis=1, keepdims=True)


def torch_int8(st_model: Any, batch_size: int) -> Encode:
    """The sentence-transformers model with its Linear layers dynamically quantised to int8."""
    import torch

    quantised = torch.ao.quantization.quantize_dynamic(
        copy.deepcopy(st_model), {torch.nn.Linear}, dtype=torch.qint8)

    def encode(texts: Sequence[str], prompt: str) -> np.ndarray:
        return np.asarray(quantised.encode(list(texts), prompt=prompt, batch_size=batch_size,
                                           normalize_embeddings=True, convert_to_numpy=True,
                                           show_progress_bar=False), dtype=np.float32)

    return encode


def quantise_onnx(fp32: Path) -> Path:
    """Dynamic int8 quantisation of an exported model (weights int8, activations on the fly)."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    out = fp32.with_name("model_qint8.onnx")
    if not out.is_file():
        quantize_dynamic(str(fp32), str(out), weight_type=QuantType.QInt8)
    return out


def onnx_encoder(st_model: Any, model_path: Path, batch_size: int, threads: int) -> Encode:
    """Encode with onnxruntime on CPU: the model's tokenizer, longest-first batches, mean pool."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    session = ort.InferenceSession(str(model_path), options, providers=["CPUExecutionProvider"])
    tokenizer = st_model.tokenizer
    max_len = st_model.max_seq_length

    def encode(texts: Sequence[str], prompt: str) -> np.ndarray:
        out = np.zeros((len(texts), 384), dtype=np.float32)
        for idx in _batches(texts, batch_size):
            tok = tokenizer([prompt + texts[i] for i in idx], padding=True, truncation=True,
                            max_length=max_len, return_tensors="np")
            hidden = session.run(None, {"input_ids": tok["input_ids"].astype(np.int64),
                                        "attention_mask": tok["attention_mask"].astype(np.int64)})
            out[idx] = _mean_pool(hidden[0], tok["attention_mask"])
        return out

    return encode
