"""Vraagbaak staff chat: ask in Dutch or English, read earlier answers quoted with citations.

    python app.py                       # the sample index, built on first start
    python app.py --corpus data         # your own folder: index-data/, built on first start
    python app.py --index /data/index   # any index built with `rag build`
    RAG_AUTH=staf:geheim python app.py --host 0.0.0.0
    RAG_AUTH=staf:geheim python app.py --share   # a public link: loud warning, login required

Stop it with Ctrl-C. This file holds the Gradio layout and its launch only: the controller
is `rag.chat.Chat` (which asks `Searcher.ask`, exactly as `rag ask` does, renders with
`rag.render` and stores judgements with `rag.feedback`), and for the "Nieuwe Kamervragen"
tab `rag.dossier.desk.Desk`. The model is loaded once per process and shared by every
session; requests wait in Gradio's queue. The terminal speaks English, the page Dutch.
"""

from __future__ import annotations

import ipaddress
import logging
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator, MutableMapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from rag.chat import (
    ALL_MINISTRIES,
    ALL_YEARS,
    DEFAULT_K,
    MAX_K,
    Chat,
    Turn,
    detail,
    echo,
    pick_label,
    turn_of,
    verdict_of,
)
from rag.config import DEFAULT_INDEX_DIR, DEFAULT_MODEL, Settings
from rag.dossier.desk import (
    MAX_UPLOAD_BYTES,
    UPLOAD_TYPES,
    Desk,
    View,
    accordion_label,
    choices,
    section_html,
)
from rag.errors import RagError
from rag.feedback import FEEDBACK_FILE, REASONS, FeedbackError, FeedbackStore, Verdict
from rag.login import FREE_ATTEMPTS, LOCKOUT_SECONDS, LoginError, LoginGuard, read_accounts
from rag.scratch import make_scratch, remove_stale

log = logging.getLogger("vraagbaak.app")

EXAMPLES = [
    "Wat heeft de minister gezegd over een AI-adviesraad?",
    "Komt er een AI-fabriek in Nederland?",
    "Wat doet het kabinet om het mkb te helpen met AI?",
    "Can AI help with labour market shortages?",
]
# Gradio's thumbs are "Like" and "Dislike"; further options appear in a menu beside them.
FEEDBACK_OPTIONS = ("Like", "Dislike", *(reason.capitalize() for reason in REASONS))
CONCURRENCY = 64  # questions handled at once per process (most wait for their batch)
HANDLER_THREADS = 40  # Gradio's default thread limit for handlers, made explicit
CSS = """
.vb-hit p, .vb-hit blockquote, .vb-hit details { margin-top: 0; }
.vb-cite { font-weight: 600; margin-bottom: .3em; }
.vb-quote { border-left: 3px solid var(--color-accent); margin: .3em 0 .4em; padding-left: .8em; }
.vb-meta, .vb-head { opacity: .85; }
.vb-head { margin-bottom: .4em; }
.vb-rel-hoog { font-weight: 600; }
.vb-link { white-space: nowrap; }
/* Each reply opens at its top (OPEN_REPLY_JS): Gradio's jump-to-the-bottom arrow would only
   float over the text, and its floating corner buttons over the first line. */
#vb-chat .scroll-down-button-container, #vb-chat .top-panel { display: none !important; }
/* A notice (nothing found, a refused question) has no hit to judge. */
#vb-chat .message-row:has(.vb-notice) .message-buttons { display: none !important; }
.vb-earlier { border-top: 1px solid var(--border-color-primary); padding-top: .4em; }
.vb-flag, .vb-flag-newer { color: var(--color-accent); }
.vb-flag::before { content: "● "; }
.vb-subject { border-left: 3px dashed var(--border-color-primary); padding-left: .6em; }
/* The copy buttons of the side panel sit inside their box, not on its border. */
#vb-citation .icon-button-wrapper, #vb-full .icon-button-wrapper { top: 6px; right: 6px; }
"""
# The page margins sit outside the part Gradio scopes `css` to, so they go in the head. On a
# phone the conversation takes the whole screen height, so that the best hit of a reply,
# opened at its top, fits whole (its relevance, link and source line included); the input
# box is one swipe down.
HEAD = """<style>@media (max-width: 600px) { .gradio-container .main.app {
  padding-left: 6px !important; padding-right: 6px !important; }
  #vb-chat { height: calc(100dvh - 12px) !important; } }</style>"""
# After each reply, scroll the conversation so that the question just asked is at the top,
# with the best hit below it (Gradio's own autoscroll, off, would show the weakest hit); on a
# narrow screen also bring it into the page's view.
OPEN_REPLY_JS = """
() => {
  let replies = 0;
  const open = () => {
    const chat = document.querySelector('#vb-chat');
    const log = chat && chat.querySelector('[role="log"]');
    if (!log) return;
    const heads = log.querySelectorAll('.vb-head, .vb-notice');
    if (heads.length <= replies) { replies = heads.length; return; }
    replies = heads.length;
    const reply = heads[heads.length - 1].closest('.message-row');
    const rows = [...log.querySelectorAll('.message-row')];
    const at = rows.indexOf(reply);
    const question = at > 0 ? rows[at - 1] : reply;
    const gap = question.getBoundingClientRect().top - log.getBoundingClientRect().top;
    log.scrollTop += gap - 4;
    const top = question.getBoundingClientRect().top;
    if (top < 0 || top > window.innerHeight * 0.6) window.scrollBy(0, top - 8);
  };
  new MutationObserver(() => requestAnimationFrame(open))
    .observe(document.body, {childList: true, subtree: true});
}
"""
# Hands the file just made to the browser (the hidden button of the dossier tab).
DOWNLOAD_JS = """
() => {
  const target = document.querySelector('#vb-download-file');
  const button = target && (target.matches('button, a') ? target
                                                       : target.querySelector('button, a'));
  if (button) button.click();
}
"""
CHAT_TAB, DOSSIER_TAB = "chat", "dossier"


@dataclass(frozen=True)
class ChatTab:
    """What the chat tab hands to the rest of the page: the chosen hit and its button."""

    pick: Any
    shown: Any
    more: Any


def build_ui(chat: Chat, desk: Desk | None = None) -> Any:
    """The Gradio app: the chat tab and, with a desk, the "Nieuwe Kamervragen" tab."""
    import gradio as gr

    # Files uploaded but never made into a dossier are deleted after an hour.
    with (gr.Blocks(title="Vraagbaak", analytics_enabled=False,
                    delete_cache=(600, 3600)) as demo,
          gr.Tabs(selected=CHAT_TAB) as tabs):
        with gr.Tab("Vragen stellen", id=CHAT_TAB):
            handles = chat_tab(chat)
        if desk is not None:
            with gr.Tab("Nieuwe Kamervragen", id=DOSSIER_TAB):
                tab = dossier_tab(desk)

            def more(choice: int | None, hits: tuple) -> tuple:
                hit = hits[choice] if hits and choice is not None and 0 <= choice < len(
                    hits) else None
                return (gr.Tabs(selected=DOSSIER_TAB), *tab.show(desk.from_hit(hit)))

            handles.more.click(more, [handles.pick, handles.shown], [tabs, *tab.outputs],
                               api_visibility="private")
    return demo


def chat_tab(chat: Chat) -> ChatTab:
    """The chat: the conversation on the left, search settings and the full text beside it."""
    import gradio as gr

    with gr.Blocks(title="Vraagbaak", analytics_enabled=False):
        gr.Markdown("## Vraagbaak: eerdere antwoorden op Kamervragen\n"
                    "Stel een vraag in het Nederlands (of Engels). U krijgt de meest relevante "
                    "eerdere antwoorden van het kabinet, **letterlijk geciteerd** en met bron.")
        shown = gr.State(())  # the hits of the latest reply, per session
        turns = gr.State([])  # every reply of this conversation (rag.chat.Turn)
        with gr.Row():
            with gr.Column(scale=3):
                chatbot = gr.Chatbot(
                    label="Gesprek", show_label=False, height=620, elem_id="vb-chat",
                    autoscroll=False,  # OPEN_REPLY_JS opens each reply at its top instead
                    # Replies are HTML built by rag.render, in which every piece of document
                    # text is escaped; Markdown and LaTeX rendering stay off so nothing in a
                    # source is ever interpreted, and Gradio's sanitizer is a second fence.
                    render_markdown=False, sanitize_html=True, latex_delimiters=[],
                    allow_tags=False, buttons=[],
                    # one message per hit, each with its own 👍/👎 and reasons
                    feedback_options=FEEDBACK_OPTIONS, group_consecutive_messages=False,
                    layout="panel",  # full width for the quotes, on a phone too
                    placeholder="Nog geen vragen. Kies een voorbeeld of typ een vraag.")
                with gr.Row(equal_height=True):
                    gr.Markdown("<small>Beoordeel elk resultaat met de duimen eronder (de vlag "
                                "geeft een reden), of meld dat geen enkel resultaat klopt."
                                "</small>", elem_id="vb-feedback-hint")
                    none_of_these = gr.Button("Geen van deze", size="sm", scale=0,
                                              min_width=130, elem_id="vb-none",
                                              variant="secondary")
                with gr.Row():
                    box = gr.Textbox(label="Uw vraag", placeholder="Bijvoorbeeld: Wat zei de "
                                     "minister over AI in het mkb?", lines=1, max_lines=6,
                                     scale=5, autofocus=True, elem_id="vb-question")
                    ask = gr.Button("Zoeken", variant="primary", scale=1, elem_id="vb-ask")
                examples = gr.Dataset(components=[box], samples=[[q] for q in EXAMPLES],
                                      type="index", label="Voorbeeldvragen (klik om te zoeken)",
                                      elem_id="vb-examples")
            with gr.Column(scale=2):
                with gr.Accordion("Zoekinstellingen", open=True):
                    k = gr.Slider(1, MAX_K, value=DEFAULT_K, step=1, label="Aantal resultaten")
                    year = gr.Dropdown([ALL_YEARS, *chat.years()], value=ALL_YEARS,
                                       label="Vergaderjaar")
                    ministry = gr.Dropdown([ALL_MINISTRIES, *chat.ministries()],
                                           value=ALL_MINISTRIES, label="Ministerie")
                    clear = gr.Button("Gesprek wissen", variant="secondary")
                with gr.Accordion("Volledige tekst en citaat", open=True):
                    pick = gr.Dropdown([], type="index", label="Resultaat uit het laatste antwoord",
                                       interactive=True, elem_id="vb-pick")
                    cite = gr.Textbox(label="Citaat (kopieer met de knop)", buttons=["copy"],
                                      interactive=False, elem_id="vb-citation", lines=2)
                    full = gr.Textbox(label="Hele vraag en antwoord", buttons=["copy"],
                                      interactive=False, lines=10, max_lines=16,
                                      elem_id="vb-full")
                    more = gr.Button("Meer over dit onderwerp", variant="secondary",
                                     elem_id="vb-more")
                    with gr.Row(equal_height=True):
                        note = gr.Textbox(label="Andere reden: dit resultaat klopt niet, omdat …",
                                          placeholder="Bijvoorbeeld: beleid is gewijzigd",
                                          lines=1, max_lines=3, scale=3, elem_id="vb-note")
                        send_note = gr.Button("Opslaan", size="sm", scale=1,
                                              elem_id="vb-note-send")

        def respond(message: Any, history: list, k_: float, year_: str, ministry_: str,
                    turns_: list[Turn]) -> tuple:
            reply = chat.reply(message, int(k_), year_, ministry_)
            history = [*(history or []), {"role": "user", "content": echo(message)}]
            first = len(history)
            history += [{"role": "assistant", "content": m} for m in reply.messages]
            # Every reply is a turn, also one without hits (a notice), so that "Geen van
            # deze" always judges the latest reply and never an earlier question.
            turns_ = [*(turns_ or []), Turn(reply.question, reply.filters, reply.hits, first)]
            labels = [pick_label(h) for h in reply.hits]
            # A question that could not be searched stays in the box, to be mended.
            kept = message if reply.refused and isinstance(message, str) else ""
            return (history, kept, reply.hits, turns_,
                    gr.Dropdown(choices=labels, value=labels[0] if labels else None),
                    *detail(reply.hits, 0))

        def ask_example(index: int | None, history: list, k_: float, year_: str,
                        ministry_: str, turns_: list[Turn]) -> tuple:
            question = EXAMPLES[index] if index is not None and 0 <= index < len(EXAMPLES) else ""
            return respond(question, history, k_, year_, ministry_, turns_)

        def judge(turn: Turn | None, hit: Any, verdict: Verdict, reason: str | None,
                  request: gr.Request | None) -> None:
            if turn is None:
                gr.Info("Hier valt niets te beoordelen: kies een resultaat.", duration=3)
                return
            try:
                stored = chat.judge(turn, hit, verdict, reason,
                           user=getattr(request, "username", None) if request else None,
                           session=getattr(request, "session_hash", None) if request else None)
            except FeedbackError as exc:
                log.error("feedback not stored: %s", exc)
                gr.Warning("Uw beoordeling kon niet worden opgeslagen (zie het serverlogboek).")
                return
            if stored:
                gr.Info("Beoordeling opgeslagen. Dank u!", duration=2)

        def on_like(turns_: list[Turn], data: gr.LikeData, request: gr.Request) -> None:
            index = data.index if isinstance(data.index, int) else None
            found = turn_of(turns_ or [], index) if index is not None else None
            verdict, reason = verdict_of(data.liked)
            judge(found[0] if found else None, found[1] if found else None, verdict, reason,
                  request)

        def on_none(turns_: list[Turn], request: gr.Request) -> None:
            turn = latest_reply(turns_)
            if turn is None:
                gr.Info(NOTHING_TO_JUDGE, duration=4)
                return
            judge(turn, None, Verdict.NONE, None, request)

        def on_note(text: str, choice: int | None, turns_: list[Turn],
                    request: gr.Request) -> str:
            turn = latest_reply(turns_)
            hit = (turn.hits[choice] if turn and choice is not None
                   and 0 <= choice < len(turn.hits) else None)
            if not (text or "").strip() or hit is None:
                gr.Info("Kies een resultaat en typ een reden.", duration=3)
                return text
            judge(turn, hit, Verdict.DOWN, text.strip(), request)
            return ""

        def choose(choice: int | None, hits: tuple) -> tuple[str, str]:
            return detail(hits, choice)

        def reset() -> tuple:
            return [], "", (), [], gr.Dropdown(choices=[], value=None), "", ""

        # Gradio hands request and event data to parameters by their type, which it reads from
        # the annotations; gradio is imported in this function, so they are given as objects.
        for handler in (on_like, on_none, on_note):
            handler.__annotations__.update(request=gr.Request)
        on_like.__annotations__.update(data=gr.LikeData)

        outputs = [chatbot, box, shown, turns, pick, cite, full]
        settings = [chatbot, k, year, ministry, turns]
        box.submit(respond, [box, *settings], outputs, api_name="ask")
        ask.click(respond, [box, *settings], outputs, api_visibility="private")
        examples.click(ask_example, [examples, *settings], outputs, api_visibility="private")
        chatbot.like(on_like, [turns], None, api_visibility="private")
        none_of_these.click(on_none, [turns], None, api_visibility="private")
        send_note.click(on_note, [note, pick, turns], [note], api_visibility="private")
        pick.input(choose, [pick, shown], [cite, full], api_visibility="private")
        clear.click(reset, None, outputs, api_visibility="private")
    return ChatTab(pick, shown, more)


NOTHING_TO_JUDGE = ("Het laatste antwoord toont geen resultaten, dus er valt niets te "
                    "beoordelen. Stel een vraag en beoordeel de resultaten daarvan.")


def latest_reply(turns: list[Turn] | None) -> Turn | None:
    """The latest reply of a conversation when it showed hits: what "Geen van deze" and a
    typed reason judge. None after a notice (nothing found, a refused question), which has
    no hit to judge: a judgement then would land on an earlier question."""
    turn = turns[-1] if turns else None
    return turn if turn is not None and turn.hits else None


@dataclass(frozen=True)
class DossierTab:
    """How the rest of the page shows a dossier in the tab: ``show(view)`` gives the values
    for ``outputs``."""

    outputs: list[Any]
    show: Callable[[View], tuple]


def dossier_tab(desk: Desk) -> DossierTab:
    """The "Nieuwe Kamervragen" tab: a file or pasted text in; per vraag a collapsible
    section with its earlier answers (newest first, flags visible) and a checkbox per
    passage; "Download als Word" exports the ticked passages only."""
    import gradio as gr

    gr.Markdown("### Nieuwe Kamervragen\nUpload de vragen (PDF, Word, tekst, HTML of XML, tot "
                f"{MAX_UPLOAD_BYTES // 2**20} MB) of plak de tekst. Per vraag ziet u het eigen "
                "antwoord als de index dat al heeft, en de eerdere antwoorden over het "
                "onderwerp, **nieuwste eerst**. Vink de passages aan die u wilt gebruiken.")
    current = gr.State(None)  # this session's Dossier
    with gr.Row():
        with gr.Column(scale=1):
            upload = gr.File(label="Bestand met Kamervragen", file_types=UPLOAD_TYPES,
                             type="filepath", file_count="single", elem_id="vb-upload")
        with gr.Column(scale=2):
            pasted = gr.Textbox(label="Of plak de tekst", lines=6, max_lines=14,
                                elem_id="vb-paste")
            make = gr.Button("Maak dossier", variant="primary", elem_id="vb-make")
    message = gr.HTML(elem_id="vb-dossier-message")

    @gr.render(inputs=[current])
    def sections(dossier: Any) -> None:
        if dossier is None:
            return
        boxes: list[tuple[int, Any]] = []
        for i, section in enumerate(dossier.vragen):
            with gr.Accordion(accordion_label(section), open=i == 0,
                              elem_classes=["vb-section"]):
                gr.HTML(section_html(section))
                options = choices(section)
                if options:
                    boxes.append((i, gr.CheckboxGroup(options, value=[], label="Gebruiken in "
                                                      "het concept", elem_classes=["vb-pick"])))
        word = gr.Button("Download als Word", variant="primary", elem_id="vb-download")
        # The file is made when the button is clicked, from the boxes as they are ticked at
        # that moment (their values travel with the click), then handed to a hidden
        # download button: Gradio serves a download only from a file that exists already.
        file = gr.DownloadButton("Word-bestand", value=None, visible="hidden",
                                 elem_id="vb-download-file")

        def export(dossier_: Any, *ticked: list[str]) -> Any:
            chosen = {i: list(values or []) for (i, _), values in zip(boxes, ticked,
                                                                       strict=True)}
            return gr.DownloadButton(value=desk.export(dossier_, chosen))

        word.click(export, [current, *(box for _, box in boxes)], [file],
                   api_visibility="private").then(None, None, None, js=DOWNLOAD_JS)

    def show(view: View) -> tuple:
        return view.dossier, view.message

    outputs = [current, message]
    upload.upload(lambda path: (*show(desk.from_upload(path)), None), [upload],
                  [*outputs, upload], api_visibility="private")
    make.click(lambda text: show(desk.from_text(text)), [pasted], outputs,
               api_visibility="private")
    return DossierTab(outputs, show)


def is_loopback(host: str) -> bool:
    """Whether binding ``host`` keeps the chat on this machine."""
    if host.strip("[]").lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:  # a host name: it may resolve to anything
        return False


def launch_options(host: str, port: int, guard: LoginGuard | None,
                   share: bool) -> dict[str, Any]:
    """Gradio's launch arguments: the chat stays where it was put.

    ``share`` is always an explicit bool, so neither ``GRADIO_SHARE`` nor Gradio's hosted
    notebook detection can open a public tunnel; the monitoring page is off, and so are
    the extra servers Gradio can start (server-side rendering in Node, the MCP server,
    static file workers without login) and its run history. Gradio reads an empty list
    of allowed paths as "ask ``GRADIO_ALLOWED_PATHS``": `pin_gradio_environment` clears
    that. Uploads are capped at `MAX_UPLOAD_BYTES`: Gradio's upload route serves the whole
    app, but the only component that takes a file is the "Nieuwe Kamervragen" tab's,
    which accepts the reader's file types only and deletes each upload once read.
    """
    return {
        "server_name": host, "server_port": port, "share": bool(share),
        "auth": guard.login if guard else None,
        "auth_message": "Log in met uw Vraagbaak-account." if guard else None,
        "max_file_size": MAX_UPLOAD_BYTES, "enable_monitoring": False, "show_error": False,
        "footer_links": [], "allowed_paths": [], "strict_cors": True, "ssr_mode": False,
        "mcp_server": False, "num_workers": 0, "run_history": False,
        # Gradio runs handlers in at most this many threads; the chat's own limit
        # (`rag.chat.MAX_WAITING`) stays below it, so a burst is told to wait rather than
        # held in a line (more threads measured slower: 32 clients 7.8 instead of 15.8 a second).
        "max_threads": HANDLER_THREADS,
        # Gradio's own start-up lines ("To create a public link, set `share=True`") would
        # contradict --share; the chat prints where it listens itself.
        "quiet": True,
    }


# Gradio's environment variables that would widen what the chat serves or where: a share
# tunnel and its server, folders served by /gradio_api/file=, the addresses it binds (also
# of the Node server), server-side rendering, the MCP server, static file workers, relaxed
# CORS, the in-browser code editor, profiling routes and run history sent to a bucket
# (gradio 6.31: blocks.py, routes.py, networking.py, http_server.py, node_server.py).
WIDENING_GRADIO_VARIABLES = (
    "GRADIO_SHARE", "GRADIO_SHARE_SERVER_ADDRESS", "GRADIO_ALLOWED_PATHS",
    "GRADIO_SERVER_NAME", "GRADIO_SERVER_PORT", "GRADIO_NODE_SERVER_NAME",
    "GRADIO_NODE_SERVER_PORT", "GRADIO_NODE_PATH", "GRADIO_SSR_MODE", "GRADIO_MCP_SERVER",
    "GRADIO_NUM_WORKERS", "GRADIO_LOCAL_DEV_MODE", "GRADIO_VIBE_MODE", "GRADIO_PROFILING",
    "GRADIO_HISTORY_BUCKET", "GRADIO_RUN_HISTORY",
)


def pin_gradio_environment(environ: MutableMapping[str, str]) -> list[str]:
    """Remove `WIDENING_GRADIO_VARIABLES` from ``environ`` (before Gradio reads them) and
    turn analytics off; returns the names that were set, to be told to the user."""
    ignored = [name for name in WIDENING_GRADIO_VARIABLES if environ.pop(name, None)]
    environ["GRADIO_ANALYTICS_ENABLED"] = "False"
    return ignored


class Stopped(KeyboardInterrupt):
    """SIGTERM or SIGHUP: a stop that was asked for, so the chat ends cleanly (exit 0)."""


@contextmanager
def stop_on_signals() -> Iterator[None]:
    """SIGTERM (a service manager, ``kill``) and SIGHUP (the terminal closed) stop the chat
    as Ctrl-C does: a build in progress cleans up, the server closes (Gradio stops on a
    ``KeyboardInterrupt``), and the private folder is removed. The handlers before are
    restored afterwards."""
    if threading.current_thread() is not threading.main_thread():
        yield  # only the main thread may handle signals
        return

    def stop(signum: int, _frame: object) -> None:
        raise Stopped(signal.Signals(signum).name)

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGHUP)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _notify(message: str) -> None:
    click.echo(message, err=True)


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--index", "index_dir", type=click.Path(file_okay=False, path_type=Path),
              default=None, envvar="RAG_INDEX",
              help=f"Index folder (env RAG_INDEX). Without it: ./{DEFAULT_INDEX_DIR}, built "
                   "from the bundled sample on first start.")
@click.option("--corpus", "corpus_dir", default=None, envvar="RAG_CORPUS",
              type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="Serve this folder of documents (env RAG_CORPUS): its index (--index, else "
                   "./index-<folder name>) is built on first start and updated on every later "
                   "one.")
@click.option("--feedback", "feedback_file", type=click.Path(dir_okay=False, path_type=Path),
              default=None, envvar="RAG_FEEDBACK",
              help=f"Where staff judgements are stored (env RAG_FEEDBACK; default: "
                   f"{FEEDBACK_FILE} in the index folder, which rebuilds keep).")
@click.option("--model", default=DEFAULT_MODEL, show_default=True, envvar="RAG_MODEL",
              help="Embedding model the index was built with (env RAG_MODEL).")
@click.option("--host", default="127.0.0.1", show_default=True, envvar="RAG_HOST",
              help="Address to listen on; use 0.0.0.0 only with a login (env RAG_HOST).")
@click.option("--port", default=7860, show_default=True, type=click.IntRange(1, 65535),
              envvar="RAG_PORT", help="Port (env RAG_PORT).")
@click.option("--auth-file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              default=None, help="File of 'user:password' lines; or set RAG_AUTH=user:password.")
@click.option("--login-lockout", type=click.FloatRange(min=0.1), default=LOCKOUT_SECONDS,
              show_default=True, envvar="RAG_LOGIN_LOCKOUT",
              help=f"Seconds a user name is locked after {FREE_ATTEMPTS} wrong passwords in a "
                   "row; doubles with each further failure (env RAG_LOGIN_LOCKOUT).")
@click.option("--share", is_flag=True,
              help="Also open a public link through Gradio's share service. The chat is then "
                   "reachable from the internet: refused without a login.")
@click.option("--min-score", type=float, default=None, envvar="RAG_MIN_SCORE",
              help="Decide 'no earlier answer found' by this best dense cosine instead of "
                   "the relevance model (env RAG_MIN_SCORE; -1 never abstains).")
def main(index_dir: Path | None, corpus_dir: Path | None, feedback_file: Path | None,
         model: str, host: str, port: int, auth_file: Path | None, login_lockout: float,
         share: bool, min_score: float | None) -> None:
    """Start the Vraagbaak chat in the browser (http://127.0.0.1:7860 by default).

    Stop it with Ctrl-C.
    """
    try:
        with stop_on_signals():
            _start(index_dir, corpus_dir, feedback_file, model, host, port, auth_file,
                   login_lockout, share, min_score)
    except Stopped as stop:  # asked to stop before Gradio was serving (its own stop is quiet)
        _notify(f"Stopped ({stop}).")


def _start(index_dir: Path | None, corpus_dir: Path | None, feedback_file: Path | None,
           model: str, host: str, port: int, auth_file: Path | None, login_lockout: float,
           share: bool, min_score: float | None) -> None:
    """`main`: open the index (building what is missing), then serve it until stopped."""
    from rag.logs import configure
    from rag.startup import corpus_index_dir, open_chat_searcher

    configure()  # our INFO lines and libraries' warnings, no library debug output
    ignored = pin_gradio_environment(os.environ)
    if ignored:
        _notify(f"Warning: ignoring {', '.join(ignored)}: where the chat listens and what it "
                "serves is set by its own options only.")
    try:
        accounts = read_accounts(os.environ.get("RAG_AUTH"), auth_file)
    except LoginError as exc:
        raise click.UsageError(str(exc)) from None
    if share and not accounts:
        raise click.UsageError("--share makes the chat public on the internet: set a login "
                               "first (RAG_AUTH=user:password or --auth-file)")
    if index_dir is None:
        index_dir_used = corpus_index_dir(corpus_dir) if corpus_dir else DEFAULT_INDEX_DIR
    else:
        index_dir_used = index_dir
    settings = Settings(index_dir=index_dir_used, model=model, min_score=min_score)
    try:
        live = open_chat_searcher(settings, build_sample=index_dir is None and not corpus_dir,
                                  notify=_notify, corpus_dir=corpus_dir)
    except (RagError, OSError) as exc:  # OSError: a model cache or folder it cannot write
        raise click.ClickException(str(exc)) from None
    if share:
        _notify("WARNING: --share makes the chat reachable on the internet through a public "
                "link, for anyone who has it; only the login protects the index.")
    elif not is_loopback(host) and not accounts:
        _notify(f"Warning: the chat listens on {host} without a login; set RAG_AUTH or "
                "--auth-file for shared use.")
    chat = Chat(live, _feedback_store(feedback_file or settings.index_dir / FEEDBACK_FILE))
    threading.Thread(target=_warm_up, args=(chat,), daemon=True).start()
    # Gradio's file cache private to this process (`rag.scratch`: 0700, removed when the
    # chat stops, also by a signal), rather than the shared /tmp/gradio another app could
    # read from or write into; those of chats killed outright are removed first.
    for stale in remove_stale():
        log.info("removed %s, the private folder of a chat that was killed", stale)
    with make_scratch() as uploads:
        os.environ["GRADIO_TEMP_DIR"] = uploads
        exports = Path(uploads) / "exports"
        exports.mkdir(mode=0o700)
        demo = build_ui(chat, Desk(lambda: chat.searcher, exports))
        # Many questions at once: the chat itself tells a question over its limit to wait
        # (`rag.chat.MAX_WAITING`), so Gradio's own queue never turns one away with an error.
        demo.queue(max_size=None, default_concurrency_limit=CONCURRENCY)
        index = chat.searcher.index
        _notify(f"Vraagbaak: {len(index.chunks)} passages from "
                f"{len(index.documents)} document(s), index {settings.index_dir}. "
                f"Open http://{host}:{port} in a browser; stop with Ctrl-C.")
        guard = LoginGuard(accounts, lockout=login_lockout) if accounts else None
        demo.launch(**launch_options(host, port, guard, share), css=CSS, js=OPEN_REPLY_JS,
                    head=HEAD, theme=_theme(), prevent_thread_lock=True)
        # Gradio is quiet (see launch_options): the chat says where it listens once it does.
        _notify(f"* Running on local URL:  {demo.local_url}")
        demo.block_thread()  # until Ctrl-C


def _feedback_store(path: Path) -> FeedbackStore | None:
    """The feedback database; without one the chat still answers, and says why it takes no
    judgements."""
    try:
        store = FeedbackStore(path)
    except FeedbackError as exc:
        _notify(f"Warning: judgements will not be stored: {exc}")
        return None
    _notify(f"Judgements are stored in {path}.")
    return store


def _warm_up(chat: Chat) -> None:
    try:
        chat.warm_up()
    except Exception:  # the first question will report the problem in the chat
        log.exception("model warm-up failed")


def _theme() -> Any:
    import gradio as gr

    # System fonts: no request to a font CDN, which closed networks block.
    return gr.themes.Default(font=["system-ui", "Segoe UI", "Roboto", "sans-serif"],
                             font_mono=["ui-monospace", "Consolas", "monospace"])


if __name__ == "__main__":
    sys.exit(main())
