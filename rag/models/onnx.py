"""Questions without torch: the provisioned model exported to ONNX, run by onnxruntime.

A one-shot ``rag ask`` spent 7 s importing sentence-transformers and 2 s loading the model
for a search of 30 ms. The same transformer exported once to ONNX answers from onnxruntime,
which imports in a fraction of a second, with the model's own tokenizer file read by
``tokenizers``: the same weights and the same arithmetic, so the vectors are the full
model's (cosine ≥ 0.99999 on every gold question, `tests/test_provision.py`). Passages are
still embedded by the full model (a build loads it anyway).

The weights are stored beside the graph as ONNX external data: onnxruntime maps that file
into memory instead of parsing 470 MB of protobuf, so a session opens in ~0.2 s instead of
~1.5 s, and app processes on one machine share the pages.

The export needs torch and ``onnx`` and runs once per model folder, when the model is
provisioned (or, for a folder provisioned before, the first time a build loads the model).
"""

from __future__ import annotations

import os
import shutil
import uuid
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

QUERY_MODEL = "query-onnx"  # a folder in the provisioned model folder: graph + weights
_GRAPH = "model.onnx"
_WEIGHTS = "weights.data"
_SINGLE_FILE = "query.onnx"  # the one-file export of version 0.3, weights inside the graph
_MAX_TOKENS = 512
_BATCH = 16
_PADDING = 0.1  # share of a row that may be padding when texts run together


def export_query_model(st_model: Any, folder: Path) -> Path:
    """Export the transformer of a loaded sentence-transformers model into ``folder``
    (input ids and attention mask -> hidden states), written beside and renamed into place."""
    import torch

    target = folder / QUERY_MODEL
    _upgrade_single_file(folder)
    if target.is_dir():
        return target
    transformer = st_model[0].auto_model.eval()
    sample = st_model.tokenizer(["query: een voorbeeld", "query: nog een voorbeeld"],
                                return_tensors="pt", padding=True)

    class Hidden(torch.nn.Module):  # the graph takes plain tensors, returns hidden states
        def __init__(self) -> None:
            super().__init__()
            self.inner = transformer

        def forward(self, input_ids: Any, attention_mask: Any) -> Any:
            return self.inner(input_ids=input_ids,
                              attention_mask=attention_mask).last_hidden_state

    dynamic = {"input_ids": {0: "batch", 1: "seq"}, "attention_mask": {0: "batch", 1: "seq"},
               "hidden": {0: "batch", 1: "seq"}}

    def write(single: Path) -> None:
        # The tracer warns about shape-dependent branches of the attention code; the graph is
        # checked against the full model's vectors (`tests/test_provision.py`).
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.onnx.export(Hidden(), (sample["input_ids"], sample["attention_mask"]),
                              str(single), input_names=["input_ids", "attention_mask"],
                              output_names=["hidden"], dynamic_axes=dynamic,
                              opset_version=17, dynamo=False)

    return _publish(folder, write)


def _publish(folder: Path, write: Callable[[Path], object]) -> Path:
    """Have ``write`` put a one-file ONNX model at the path it is given, split it into graph
    and external weights in a temporary folder of our own, and rename that folder into
    place (another process that got there first wins; ours is removed)."""
    import onnx

    target = folder / QUERY_MODEL
    tmp = folder / f".{QUERY_MODEL}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp"
    tmp.mkdir()
    try:
        single = tmp / _SINGLE_FILE
        write(single)
        onnx.save_model(onnx.load(str(single)), str(tmp / _GRAPH), save_as_external_data=True,
                        all_tensors_to_one_file=True, location=_WEIGHTS)
        single.unlink()
        for path in (tmp, tmp / _GRAPH, tmp / _WEIGHTS):
            path.chmod(0o755 if path.is_dir() else 0o644)
        try:
            tmp.rename(target)
        except OSError:
            if not target.is_dir():
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target


def _upgrade_single_file(folder: Path) -> None:
    """Split the one-file export of an earlier version into graph and mapped weights (a few
    seconds, once), then remove that file: this module wrote it, under this fixed name, in
    the model folder provisioning made (an earlier version running beside this one may
    write it again after the split; it is then only removed)."""
    single = folder / _SINGLE_FILE
    if not single.is_file():
        return
    if not (folder / QUERY_MODEL).is_dir():
        _publish(folder, lambda path: shutil.copyfile(single, path))
    single.unlink(missing_ok=True)


class OnnxQueries:
    """The query side of the model: tokenize with the prompt, run, mean-pool, normalise."""

    def __init__(self, folder: Path, prompt: str) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        self._tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self._tokenizer.enable_truncation(_MAX_TOKENS)
        options = ort.SessionOptions()
        # Every graph rewrite (fused attention, layer norm, GELU): with the weights mapped
        # they cost nothing at start (0.14 s against 0.23 s for the basic set) and make a
        # question ~10 % faster (33 against 30 a second on one core; cosine to the basic
        # graph's vectors ≥ 0.9999998).
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        # One thread: a question takes ~17 ms on one core and batching gains little, while
        # a pool of two threads spinning between runs took the second core from the chat's
        # web server under load (one client on one core: 12.5 questions/s with the pool,
        # 27 without; bench/README.md).
        options.intra_op_num_threads = 1
        self._session = ort.InferenceSession(str(folder / QUERY_MODEL / _GRAPH), options,
                                             providers=["CPUExecutionProvider"])
        self._prompt = prompt

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """L2-normalised float32 rows, one per text. Texts run together only when their
        lengths are within `_PADDING` of each other: padding does not change a row, but a
        short question batched with a long one pays for the long one's length (squared, in
        attention) — on the chat's real questions, batches of 16 in length order embedded
        14 questions/s against 33 one by one and 36 in groups of like length."""
        encodings = self._tokenizer.encode_batch([self._prompt + t for t in texts])
        out = np.zeros((len(encodings), 0), dtype=np.float32)
        order = sorted(range(len(encodings)), key=lambda i: -len(encodings[i].ids))
        start = 0
        while start < len(order):
            longest = len(encodings[order[start]].ids)
            end = start + 1
            while (end < len(order) and end - start < _BATCH
                   and len(encodings[order[end]].ids) >= longest * (1 - _PADDING)):
                end += 1
            rows = order[start:end]
            vectors = self._run([encodings[i].ids for i in rows])
            if out.shape[1] == 0:
                out = np.zeros((len(encodings), vectors.shape[1]), dtype=np.float32)
            out[rows] = vectors
            start = end
        return out

    def _run(self, token_ids: Sequence[Sequence[int]]) -> np.ndarray:
        width = max(len(t) for t in token_ids)
        ids = np.zeros((len(token_ids), width), dtype=np.int64)
        mask = np.zeros((len(token_ids), width), dtype=np.int64)
        for row, tokens in enumerate(token_ids):
            ids[row, : len(tokens)] = tokens
            mask[row, : len(tokens)] = 1
        hidden = self._session.run(None, {"input_ids": ids, "attention_mask": mask})[0]
        weights = mask[..., None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
        return (pooled / np.linalg.norm(pooled, axis=1, keepdims=True)).astype(np.float32)


def query_encoder(folder: Path, prompt: str) -> OnnxQueries | None:
    """The ONNX query encoder of a model folder, or None when it has no export yet or
    onnxruntime is missing (questions then go to the full model)."""
    try:
        _upgrade_single_file(folder)
    except Exception:  # a damaged old file, a full disk, no onnx: the full model answers
        return None
    if not (folder / QUERY_MODEL).is_dir():
        return None
    try:
        return OnnxQueries(folder, prompt)
    except (ImportError, OSError, RuntimeError):  # onnxruntime's load errors are RuntimeErrors
        return None
