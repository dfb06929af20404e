"""An index folder is the build's own: where a build may write, and the only things it deletes.

A build writes only into a folder that is new, empty, or already marked as a Vraagbaak index
by :data:`MARKER` (``vraagbaak-index.json``), a file the build writes itself. The marker is
also the folder's register: every generation folder and temporary link the build creates is
recorded there *before* it is created, so the build can later prove what is its own. Nothing
is ever deleted by the shape of its name; an entry that is not in the register, or that is no
longer what the build made (a folder replaced by a link, a ``current`` that is a real file),
is left alone or refused.

Refused outright, before anything is written: the root folder, the home folder, the corpus
folder itself and any folder inside or above it, a file, and a folder holding other things.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from rag.errors import IndexError_

MARKER = "vraagbaak-index.json"
MARKER_KIND = "vraagbaak-index"
CURRENT = "current"
_TMP_SUFFIX = ".tmp"


class WriteFailed(IndexError_):
    """A write into the index folder failed (a full disk, a folder made read-only): the
    build stopped, and what the folder served before it serves still."""


@dataclass
class Register:
    """What the build has made in its folder: generation folders and temporary links."""

    generations: list[str] = field(default_factory=list)
    links: list[str] = field(default_factory=list)


def _refuse(path: Path, why: str, instead: str | None = None,
            corpus: Path | None = None) -> IndexError_:
    if instead is None:
        instead = "pass a new or empty folder" + _example(path, corpus)
    return IndexError_(f"refusing to build into {path}: {why}; {instead}")


def _example(refused: Path, corpus: Path | None) -> str:
    """``, e.g. --index NAME`` for a folder in the working folder a build could use instead:
    not the refused one, not in or around the corpus, new or empty ("" when none is)."""
    for name in ("index", *(f"index-{n}" for n in range(2, 10))):
        candidate = Path(name)
        try:
            usable = (candidate.resolve() != refused.resolve()
                      and _location_problem(candidate, corpus) is None
                      and (not candidate.exists()
                           or (candidate.is_dir() and not any(candidate.iterdir()))))
        except OSError:
            usable = False
        if usable:
            return f", e.g. --index {name}"
    return ""


def check_location(path: Path, corpus: Path | None = None) -> Path:
    """The resolved index path, or an error naming why a build may not write there."""
    why = _location_problem(path, corpus)
    if why is not None:
        raise _refuse(path, why, corpus=corpus)
    return path.resolve()


def _location_problem(path: Path, corpus: Path | None) -> str | None:
    """Why a build may never write into ``path``, wherever it is (None: it may)."""
    real = path.resolve()
    if real == Path(real.anchor):
        return "it is the root folder"
    if real == Path.home().resolve():
        return "it is the home folder"
    if corpus is not None:
        source = corpus.resolve()
        if real == source:
            return "it is the corpus folder"
        if real.is_relative_to(source):
            return f"it lies inside the corpus folder {corpus}"
        if source.is_relative_to(real):
            return f"the corpus folder {corpus} lies inside it"
    return None


class IndexFolder:
    """A folder the build has claimed: marked, with a register of what the build made."""

    def __init__(self, path: Path, created: tuple[Path, ...] = ()) -> None:
        self.path = path
        self.created = created  # folders this claim made (removed again if the build fails)

    @classmethod
    def claim(cls, path: Path, corpus: Path | None = None) -> IndexFolder:
        """Claim ``path`` for a build: create or mark it, or refuse it with one line.

        Nothing is written when the folder is refused.
        """
        check_location(path, corpus)
        created: list[Path] = []
        if path.is_symlink() and not path.is_dir():
            raise _refuse(path, "it is a broken link", corpus=corpus)
        if path.exists() and not path.is_dir():
            raise _refuse(path, "it is a file, not a folder", corpus=corpus)
        if not path.exists():
            for parent in reversed([path, *path.parents]):
                if not parent.exists():
                    try:
                        parent.mkdir()
                    except FileExistsError:
                        continue
                    except OSError as exc:
                        _remove_dirs(created)
                        raise IndexError_(f"cannot create index folder {parent}: "
                                          f"{exc.strerror or exc}") from None
                    created.append(parent)
        folder = cls(path, tuple(created))
        if is_marked(path):
            return folder
        try:
            entries = sorted(os.listdir(path))
        except OSError as exc:
            raise _refuse(path, f"it cannot be read ({exc.strerror or exc})",
                          corpus=corpus) from None
        if entries:
            shown = ", ".join(repr(e) for e in entries[:3]) + (" …" if len(entries) > 3 else "")
            hint = (" (it looks like an index of an earlier version: build into a new folder "
                    "and remove this one yourself)" if _earlier_index(path) else "")
            raise _refuse(path, f"it is not empty and not a Vraagbaak index ({shown}){hint}",
                          corpus=corpus)
        try:
            folder._write_register(Register(), exclusive=True)
        except FileExistsError:  # another build marked it a moment ago: it is an index now
            if not is_marked(path):
                raise _refuse(path, "another program is writing into it",
                              corpus=corpus) from None
        except OSError as exc:
            _remove_dirs(created)
            raise IndexError_(f"cannot write the index marker in {path}: "
                              f"{exc.strerror or exc}") from None
        return folder

    # -- the register ---------------------------------------------------------------------

    def register(self) -> Register:
        """The register as stored in the marker."""
        raw = _read_marker(self.path / MARKER)
        if raw is None:
            raise IndexError_(f"the index marker {self.path / MARKER} is missing or unreadable; "
                              "build into a new folder")
        return Register(list(raw.get("generations", [])), list(raw.get("links", [])))

    def _write_register(self, register: Register, exclusive: bool = False) -> None:
        """Replace the marker atomically (write beside it, then rename over it)."""
        body = json.dumps({"kind": MARKER_KIND, "format": 1,
                           "generations": register.generations, "links": register.links},
                          indent=2) + "\n"
        target = self.path / MARKER
        if exclusive:
            _write_new(target, body)
            fsync_dir(self.path)
            return
        tmp = self.path / f"{MARKER}.{uuid.uuid4().hex[:12]}{_TMP_SUFFIX}"
        try:
            _write_new(tmp, body)
            os.replace(tmp, target)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        fsync_dir(self.path)

    # -- generations ----------------------------------------------------------------------

    def current_name(self) -> str | None:
        """The generation ``current`` points at; refuses a ``current`` the build did not make."""
        link = self.path / CURRENT
        if not link.is_symlink():
            if link.exists():
                raise _refuse(self.path, f"{link} is not a link this build made",
                              "move it out of the index folder")
            return None
        target = os.readlink(link)
        if target not in self.register().generations:
            raise _refuse(self.path, f"{link} points at {target!r}, which this build did not "
                          "make", "move it out of the index folder")
        return target

    def new_generation(self) -> Path:
        """A new, empty generation folder, recorded in the register before it exists."""
        register = self.register()
        name = f"gen-{uuid.uuid4().hex[:12]}"
        register.generations.append(name)
        self._write_register(register)
        generation = self.path / name
        generation.mkdir()  # never exist_ok: a folder already there is not ours
        generation.chmod(0o755)  # readable by an app run as another user
        return generation

    def swap_in(self, generation: Path) -> None:
        """Point ``current`` at ``generation`` with one atomic rename, then drop the others."""
        self.current_name()  # refuse a foreign "current" before touching it
        register = self.register()
        name = f".{CURRENT}-{uuid.uuid4().hex[:8]}"
        register.links.append(name)
        self._write_register(register)
        link = self.path / name
        os.symlink(generation.name, link)
        os.replace(link, self.path / CURRENT)
        fsync_dir(self.path)
        with contextlib.suppress(OSError):  # the index is in place; tidying can wait
            self.discard_unfinished()

    def discard_unfinished(self) -> None:
        """Remove every generation and link in the register except the current one.

        Call it with the build lock. An entry that is no longer what the build made (a
        folder replaced by a link or a file) is dropped from the register, not deleted.
        """
        current = self.current_name()
        register = self.register()
        keep = Register([g for g in register.generations if g == current], [])
        for name in register.generations:
            path = self.path / name
            if name == current or not _is_own_child(self.path, name):
                continue
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path)
        for name in register.links:
            path = self.path / name
            if (_is_own_child(self.path, name) and path.is_symlink()
                    and os.readlink(path) in register.generations):
                path.unlink()
        for stale in self.path.iterdir():  # a marker update cut short: it carries our kind
            if (stale.name.startswith(f"{MARKER}.") and stale.name.endswith(_TMP_SUFFIX)
                    and stale.is_file() and not stale.is_symlink()
                    and _read_marker(stale) is not None):
                stale.unlink()
        if keep != register:  # no write when nothing changed: a full disk still builds
            self._write_register(keep)

    def write_failed(self, exc: OSError | UnicodeError, kept: str | None = None) -> WriteFailed:
        """The one line for a write that failed here, naming the file and what is kept
        (by default: the previous index when there is one)."""
        if kept is None:
            kept = ("the previous index is unchanged" if (self.path / CURRENT).is_symlink()
                    else "no index was written")
        if isinstance(exc, OSError):
            reason = exc.strerror or str(exc)
            if exc.filename:
                reason += f": {os.fsdecode(exc.filename)!r}"
        else:
            reason = str(exc)
        return WriteFailed(f"could not write the index in {self.path} ({reason}); {kept}")

    def release(self, lock_file: Path | None) -> None:
        """After a failed build: drop unfinished work; if no index was ever completed here and
        nothing else is in the folder, remove the marker and the lock file too, and the
        folders this claim created, so a failed first build leaves no index folder behind."""
        self.discard_unfinished()
        if self.current_name() is not None:
            return
        own = {MARKER} | ({lock_file.name} if lock_file is not None else set())
        if set(os.listdir(self.path)) - own:
            return
        if lock_file is not None:
            lock_file.unlink(missing_ok=True)
        (self.path / MARKER).unlink(missing_ok=True)
        _remove_dirs(list(self.created))


def _earlier_index(path: Path) -> bool:
    """Whether ``path`` holds what builds before the marker made: a link ``current`` to a
    ``gen-…`` folder beside it that holds a manifest."""
    link = path / CURRENT
    try:
        target = os.readlink(link) if link.is_symlink() else ""
        return (target.startswith("gen-") and "/" not in target
                and (path / target / "manifest.json").is_file())
    except OSError:
        return False


def is_marked(path: Path) -> bool:
    """Whether ``path`` holds a marker written by a build."""
    marker = path / MARKER
    return marker.is_file() and not marker.is_symlink() and _read_marker(marker) is not None


def _read_marker(path: Path) -> dict | None:
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return raw if isinstance(raw, dict) and raw.get("kind") == MARKER_KIND else None


def _is_own_child(folder: Path, name: str) -> bool:
    """A register entry names a direct child; anything else was not written by a build."""
    return bool(name) and "/" not in name and name not in (".", "..") and \
        (folder / name).parent == folder


def _write_new(path: Path, body: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o644)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(body)
            fh.flush()
            os.fsync(fh.fileno())
    except BaseException:
        path.unlink(missing_ok=True)
        raise


def _remove_dirs(created: list[Path]) -> None:
    """Remove folders a claim created, deepest first, only while they are empty."""
    for folder in sorted(created, key=lambda p: len(p.parts), reverse=True):
        try:
            folder.rmdir()
        except OSError:
            return


def fsync_dir(path: Path) -> None:
    """Make a folder's new entries (files, renames) durable: a crash keeps them."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
