"""The chat stays where it was put: no public link, uploads capped, no password guessing.

The running-app test starts app.py as a user would (with ``GRADIO_SHARE=true`` and
``GRADIO_ALLOWED_PATHS=/etc`` in its environment, which on their own would make Gradio open
a public tunnel and serve /etc) and talks to it over HTTP on loopback; the routes used
(``/login``, ``/gradio_api/upload``, ``/gradio_api/file=``) are Gradio's own. Every app
started here is stopped as a service manager stops it (SIGTERM), and must leave no private
folder behind.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from http.cookiejar import CookieJar
from pathlib import Path

import pytest
from click.testing import CliRunner

import app
from rag.chat import MAX_WAITING
from rag.dossier.desk import MAX_UPLOAD_BYTES
from rag.ingest.readers import MAX_FILE_BYTES
from rag.login import FORGET_SECONDS, FREE_ATTEMPTS, MAX_TRACKED, LoginGuard
from rag.scratch import MARKER, PREFIX, _started
from tests.conftest import ROOT
from tests.test_app import build_test_index
from tests.test_browser import _free_port, _wait_until_serving

LOCKOUT = 1.0  # seconds, so the test can wait a lock-out out


def test_launch_never_shares_and_caps_uploads(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GRADIO_SHARE", "true")
    options = app.launch_options("127.0.0.1", 7860, None, share=False)
    assert options["share"] is False and options["max_file_size"] == MAX_UPLOAD_BYTES
    assert MAX_UPLOAD_BYTES <= MAX_FILE_BYTES  # never more than the reader reads
    assert options["enable_monitoring"] is False
    # Enough handler threads that the chat's own "busy" notice, not a line, meets a burst.
    assert options["max_threads"] > MAX_WAITING >= 32  # 32 clients at once are all answered
    assert app.launch_options("127.0.0.1", 7860, None, share=True)["share"] is True
    guarded = app.launch_options("0.0.0.0", 7860, LoginGuard({"a": "b"}), share=False)
    assert inspect.iscoroutinefunction(guarded["auth"])  # else Gradio takes it as a verdict


@pytest.mark.parametrize(("host", "loopback"), [
    ("127.0.0.1", True), ("127.0.0.2", True), ("localhost", True), ("::1", True),
    ("[::1]", True), ("0.0.0.0", False), ("::", False), ("192.168.1.5", False),
    ("vraagbaak.intern", False)])
def test_which_binds_stay_on_this_machine(host: str, loopback: bool) -> None:
    assert app.is_loopback(host) is loopback


def test_share_without_a_login_is_refused(tmp_path: Path) -> None:
    result = CliRunner().invoke(app.main, ["--share", "--index", str(tmp_path / "x")],
                                env={"RAG_AUTH": ""})
    assert result.exit_code == 2
    assert "--share makes the chat public on the internet: set a login first" in result.output


def test_the_guard_locks_a_name_out_and_lets_it_in_after_the_lock() -> None:
    now = [1000.0]
    guard = LoginGuard({"staf": "geheim"}, lockout=30, clock=lambda: now[0])
    for _ in range(FREE_ATTEMPTS - 1):
        assert not guard.check("staf", "fout")
    assert guard.check("staf", "geheim")  # a success resets the count
    for _ in range(FREE_ATTEMPTS):
        assert not guard.check("staf", "fout")
    assert not guard.check("staf", "geheim")  # locked: even the right password
    assert guard.check("anna", "x") is False and guard.check("staf", "geheim") is False
    now[0] += 31
    assert not guard.check("staf", "fout")  # one more failure doubles the lock to 60 s
    now[0] += 59
    assert not guard.check("staf", "geheim")
    now[0] += 2
    assert guard.check("staf", "geheim")
    assert guard.check("staf", "geheim")


def test_a_refusal_is_answered_late_without_blocking_others() -> None:
    guard = LoginGuard({"staf": "geheim"}, failure_delay=0.2)

    async def both() -> tuple[float, bool]:
        started = time.perf_counter()
        wrong, right = await asyncio.gather(guard.login("x", "y"), guard.login("staf", "geheim"))
        assert not wrong and right
        return time.perf_counter() - started, right

    seconds, _ = asyncio.run(both())
    assert seconds >= 0.2


def _start(root: Path, index_dir: Path, **env_vars: str) -> tuple[subprocess.Popen, str, Path]:
    """app.py over ``index_dir`` with its temporary folder in ``root/tmp``; the process,
    its URL and its log, once it serves."""
    (root / "tmp").mkdir(exist_ok=True)
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RAG_", "GRADIO_"))}
    env.update(GRADIO_ANALYTICS_ENABLED="False", PYTHONUNBUFFERED="1",
               TMPDIR=str(root / "tmp"), **env_vars)
    log = root / "app.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, str(ROOT / "app.py"), "--index", str(index_dir), "--model",
             "hash:256", "--port", str(port)], cwd=root, env=env, stdout=out,
            stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_serving(proc, f"{url}/", log)
    except BaseException:
        _stop(proc, signal.SIGKILL)
        raise
    return proc, url, log


def _stop(proc: subprocess.Popen, how: int = signal.SIGTERM) -> int:
    proc.send_signal(how)
    try:
        return proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        return proc.wait()


def _private_folders(root: Path) -> list[Path]:
    return sorted((root / "tmp").glob(f"{PREFIX}*"))


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """app.py with a login, GRADIO_SHARE=true, GRADIO_ALLOWED_PATHS=/etc and a short
    lock-out; its URL and its log."""
    root = tmp_path_factory.mktemp("safety")
    proc, url, log = _start(root, build_test_index(root), GRADIO_SHARE="true",
                            GRADIO_ALLOWED_PATHS="/etc", RAG_AUTH="staf:geheim",
                            RAG_LOGIN_LOCKOUT=str(LOCKOUT))
    try:
        yield url, log
    finally:
        assert _stop(proc) == 0
        assert _private_folders(root) == []


def _login(url: str, password: str, opener: urllib.request.OpenerDirector) -> int:
    body = urllib.parse.urlencode({"username": "staf", "password": password}).encode()
    try:
        with opener.open(urllib.request.Request(f"{url}/login", data=body), timeout=10) as r:
            return int(r.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


def test_no_public_link_even_with_gradio_share_set(running: tuple[str, Path]) -> None:
    _, log = running
    deadline = time.monotonic() + 20  # the chat says where it listens once Gradio serves
    while "Running on local URL" not in log.read_text() and time.monotonic() < deadline:
        time.sleep(0.1)
    text = log.read_text()
    assert "Running on local URL" in text
    assert "public URL" not in text and "share link" not in text.lower()
    assert "gradio.live" not in text
    assert ("Warning: ignoring GRADIO_SHARE, GRADIO_ALLOWED_PATHS: where the chat listens and "
            "what it serves is set by its own options only.") in text


def test_no_folder_is_served_from_gradio_allowed_paths(running: tuple[str, Path]) -> None:
    url, _ = running
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))
    assert _login(url, "geheim", opener) == 200
    with pytest.raises(urllib.error.HTTPError) as refused:
        opener.open(f"{url}/gradio_api/file=/etc/passwd", timeout=10)
    assert refused.value.code == 403


def test_every_widening_gradio_variable_is_cleared() -> None:
    environ = {name: "1" for name in app.WIDENING_GRADIO_VARIABLES}
    environ.update(GRADIO_ALLOWED_PATHS="/etc", GRADIO_ROOT_PATH="/vraagbaak", HOME="/h")
    ignored = app.pin_gradio_environment(environ)
    assert ignored == list(app.WIDENING_GRADIO_VARIABLES)
    assert environ == {"GRADIO_ROOT_PATH": "/vraagbaak", "HOME": "/h",
                       "GRADIO_ANALYTICS_ENABLED": "False"}
    options = app.launch_options("127.0.0.1", 7860, None, share=False)
    assert options["allowed_paths"] == [] and options["ssr_mode"] is False
    assert options["mcp_server"] is False and options["num_workers"] == 0


@pytest.mark.parametrize("how", [signal.SIGTERM, signal.SIGHUP])
def test_a_stopped_chat_leaves_no_private_folder(tmp_path: Path, small_index: Path,
                                                 how: int) -> None:
    """Stopped by a signal, the chat removes its private folder; at start it removes those
    of chats killed outright (marked by a process that is gone), and nothing else."""
    (tmp_path / "tmp").mkdir()
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    left = {"killed": gone.pid, "running": os.getpid()}
    for name, pid in left.items():
        folder = tmp_path / "tmp" / f"{PREFIX}{name}"
        (folder / "upload").mkdir(parents=True)
        (folder / "upload" / "vragen.txt").write_text("geüpload")
        (folder / MARKER).write_text(json.dumps(
            {"kind": "vraagbaak-scratch", "pid": pid, "started": _started(pid)}))
    unmarked = tmp_path / "tmp" / f"{PREFIX}of-someone"  # the name alone proves nothing
    unmarked.mkdir()
    (unmarked / "data.txt").write_text("not the chat's")
    proc, _, log = _start(tmp_path, small_index)
    (own,) = [f for f in _private_folders(tmp_path) if (f / MARKER).is_file()
              and json.loads((f / MARKER).read_text())["pid"] == proc.pid]
    assert own.stat().st_mode & 0o777 == 0o700
    assert not (tmp_path / "tmp" / f"{PREFIX}killed").exists()
    assert _stop(proc, how) == 0, log.read_text()
    assert not own.exists()
    assert _private_folders(tmp_path) == [tmp_path / "tmp" / f"{PREFIX}of-someone",
                                          tmp_path / "tmp" / f"{PREFIX}running"]
    assert (unmarked / "data.txt").read_text() == "not the chat's"


def test_uploads_need_a_login_and_stay_under_the_cap(running: tuple[str, Path]) -> None:
    url, _ = running
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))
    assert _login(url, "geheim", opener) == 200
    boundary = "vraagbaakgrens"

    def upload(size: int) -> urllib.request.Request:
        body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"files\"; "
                f"filename=\"vragen.txt\"\r\nContent-Type: text/plain\r\n\r\n"
                ).encode() + b"x" * size + f"\r\n--{boundary}--\r\n".encode()
        return urllib.request.Request(
            f"{url}/gradio_api/upload", data=body,
            headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})

    with pytest.raises(urllib.error.HTTPError) as refused:
        opener.open(upload(MAX_UPLOAD_BYTES + 1), timeout=30)
    assert refused.value.code == 413
    with opener.open(upload(50_000), timeout=10) as accepted:
        (stored,) = json.loads(accepted.read())
    # kept in the process's private folder (0700, removed at exit), not the shared /tmp/gradio
    assert Path(stored).parent.parent.name.startswith("vraagbaak-gradio-")
    with pytest.raises(urllib.error.HTTPError) as anonymous:
        urllib.request.urlopen(upload(50_000), timeout=10)
    assert anonymous.value.code in (401, 403)


def test_password_guessing_is_locked_out_and_logged(running: tuple[str, Path]) -> None:
    url, log = running
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))
    started = time.perf_counter()
    codes = [_login(url, f"fout{i}", opener) for i in range(10)]
    assert codes == [400] * 10
    assert time.perf_counter() - started >= 10 * 0.25  # each refusal answered late
    assert _login(url, "geheim", opener) == 400  # the tenth in a row locked the name
    deadline = time.perf_counter() + 30
    while _login(url, "geheim", opener) != 200:
        assert time.perf_counter() < deadline, "the right password should work after the lock"
        time.sleep(0.5)
    lines = log.read_text().splitlines()
    assert any("login failed for 'staf' (5 in a row): locked for" in line for line in lines)
    assert any("login refused for 'staf': locked" in line for line in lines)
    assert json.dumps("geheim") not in log.read_text()  # passwords are never logged


@pytest.fixture(scope="module")
def small_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_test_index(tmp_path_factory.mktemp("launch"))


def _launch(monkeypatch: pytest.MonkeyPatch, args: list[str],
            env: dict[str, str]) -> tuple[object, dict]:
    """app.main up to Gradio's launch, which records its arguments instead of serving."""
    import gradio as gr

    seen: dict = {}

    def launch(self: object, **kwargs: object) -> None:
        folder = Path(os.environ["GRADIO_TEMP_DIR"])
        seen.update(kwargs, temp_dir=folder, temp_mode=folder.stat().st_mode & 0o777)

    monkeypatch.setattr(gr.Blocks, "launch", launch)
    result = CliRunner().invoke(app.main, ["--model", "hash:256", *args], env=env)
    return result, seen


def test_launch_arguments_and_a_private_file_cache(monkeypatch: pytest.MonkeyPatch,
                                                   small_index: Path) -> None:
    result, seen = _launch(monkeypatch, ["--index", str(small_index)],
                           {"GRADIO_SHARE": "true", "RAG_AUTH": ""})
    assert result.exit_code == 0, result.output
    assert seen["share"] is False and seen["max_file_size"] == MAX_UPLOAD_BYTES
    assert seen["auth"] is None
    assert seen["server_name"] == "127.0.0.1"
    assert seen["temp_mode"] == 0o700 and seen["temp_dir"].name.startswith("vraagbaak-gradio-")
    assert not seen["temp_dir"].exists()  # removed when the chat stops
    assert "without a login" not in result.stderr


@pytest.mark.parametrize(("args", "env", "warning"), [
    (["--host", "0.0.0.0"], {"RAG_AUTH": ""}, "listens on 0.0.0.0 without a login"),
    (["--host", "192.168.1.5"], {"RAG_AUTH": ""}, "listens on 192.168.1.5 without a login"),
    (["--share"], {"RAG_AUTH": "staf:geheim"}, "WARNING: --share makes the chat reachable"),
])
def test_the_warning_fires_for_any_bind_off_this_machine(
        monkeypatch: pytest.MonkeyPatch, small_index: Path, args: list[str],
        env: dict[str, str], warning: str) -> None:
    result, seen = _launch(monkeypatch, ["--index", str(small_index), *args], env)
    assert result.exit_code == 0, result.output
    assert warning in result.stderr
    assert seen["share"] is ("--share" in args)


def test_spraying_names_cannot_unlock_a_name() -> None:
    """10,001 failures under other names after "staf" is locked: the lock holds, and while
    the guard is full of fresh failures no name it does not hold gets in, right password
    or not (else such guesses would never count); later the old failures are forgotten."""
    now = [1000.0]
    guard = LoginGuard({"staf": "geheim", "piet": "welkom"}, lockout=30, clock=lambda: now[0])
    for _ in range(FREE_ATTEMPTS):
        assert not guard.check("staf", "fout")
    for i in range(MAX_TRACKED + 1):
        assert not guard.check(f"naam{i}", "fout")
    now[0] += 31  # staf's 30 s lock is over: only its own failures decide now
    assert not guard.check("staf", "fout")  # the sixth failure in a row: locked for 60 s
    assert not guard.check("staf", "geheim")
    assert not guard.check("piet", "welkom")  # a name the full guard does not hold
    now[0] += FORGET_SECONDS  # the sprayed names are forgotten, staf's lock long over
    assert guard.check("piet", "welkom")
    assert guard.check("staf", "geheim")
