"""Vraagbaak staff chat: ask in Dutch or English, read earlier answers quoted with citations.

    python app.py                       # the sample index, built on first start
    python app.py --index /data/index   # any index built with `rag build`
    RAG_AUTH=staf:geheim python app.py --host 0.0.0.0
    RAG_AUTH=staf:geheim python app.py --share   # a public link: loud warning, login required

This file holds the Gradio layout and its launch only: the controller is `rag.chat.Chat`
(which asks `Searcher.ask`, exactly as `rag ask` does, and renders with `rag.render`). The
model is loaded once per process and shared by every session; requests wait in Gradio's
queue.
"""

from __future__ import annotations

import ipaddress
import logging
import os
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any

import click

from rag.chat import ALL_MINISTRIES, ALL_YEARS, DEFAULT_K, MAX_K, Chat, detail, echo
from rag.cite import citation
from rag.config import DEFAULT_INDEX_DIR, DEFAULT_MODEL, Settings
from rag.errors import RagError
from rag.login import FREE_ATTEMPTS, LOCKOUT_SECONDS, LoginError, LoginGuard, read_accounts

log = logging.getLogger("vraagbaak.app")

EXAMPLES = [
    "Wat heeft de minister gezegd over een AI-adviesraad?",
    "Komt er een AI-fabriek in Nederland?",
    "Wat doet het kabinet om het mkb te helpen met AI?",
    "Can AI help with labour market shortages?",
]
CSS = """
.vb-hit { border-top: 1px solid var(--border-color-primary); padding-top: .5em; margin-top: .5em; }
.vb-cite { font-weight: 600; margin-bottom: .3em; }
.vb-quote { border-left: 3px solid var(--color-accent); margin: .3em 0 .4em; padding-left: .8em; }
.vb-meta, .vb-head { opacity: .8; }
"""


def build_ui(chat: Chat) -> Any:
    """The Gradio Blocks app: chat on the left, search settings and the full text beside it."""
    import gradio as gr

    with gr.Blocks(title="Vraagbaak", analytics_enabled=False) as demo:
        gr.Markdown("## Vraagbaak: eerdere antwoorden op Kamervragen\n"
                    "Stel een vraag in het Nederlands (of Engels). U krijgt de meest relevante "
                    "eerdere antwoorden van het kabinet, **letterlijk geciteerd** en met bron.")
        shown = gr.State(())  # the hits of the latest reply, per session
        with gr.Row():
            with gr.Column(scale=3):
                chatbot = gr.Chatbot(
                    label="Gesprek", height=620, elem_id="vb-chat",
                    # Replies are HTML built by rag.present, in which every piece of document
                    # text is escaped; Markdown and LaTeX rendering stay off so nothing in a
                    # source is ever interpreted, and Gradio's sanitizer is a second fence.
                    render_markdown=False, sanitize_html=True, latex_delimiters=[],
                    allow_tags=False, feedback_options=None, buttons=[],
                    placeholder="Nog geen vragen. Kies een voorbeeld of typ een vraag.")
                with gr.Row():
                    box = gr.Textbox(label="Uw vraag", placeholder="Bijvoorbeeld: Wat zei de "
                                     "minister over AI in het mkb?", lines=1, max_lines=6,
                                     scale=5, autofocus=True, elem_id="vb-question")
                    ask = gr.Button("Zoeken", variant="primary", scale=1, elem_id="vb-ask")
                gr.Examples(EXAMPLES, inputs=[box], label="Voorbeeldvragen")
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
                                       interactive=True)
                    cite = gr.Textbox(label="Citaat (kopieer met de knop)", buttons=["copy"],
                                      interactive=False, elem_id="vb-citation", lines=2)
                    full = gr.Textbox(label="Hele vraag en antwoord", buttons=["copy"],
                                      interactive=False, lines=10, max_lines=16)

        def respond(message: Any, history: list, k_: float, year_: str, ministry_: str) -> tuple:
            reply = chat.reply(message, int(k_), year_, ministry_)
            history = [*(history or []), {"role": "user", "content": echo(message)},
                       {"role": "assistant", "content": reply.html}]
            labels = [f"{h.rank}. {citation(h.doc.doc_id, h.doc.meta, h.chunk.vraag)}"
                      for h in reply.hits]
            first = detail(reply.hits, 0)
            return (history, "", reply.hits,
                    gr.Dropdown(choices=labels, value=labels[0] if labels else None), *first)

        def choose(choice: int | None, hits: tuple) -> tuple[str, str]:
            return detail(hits, choice)

        outputs = [chatbot, box, shown, pick, cite, full]
        inputs = [box, chatbot, k, year, ministry]
        box.submit(respond, inputs, outputs, api_name="ask")
        ask.click(respond, inputs, outputs, api_visibility="private")
        pick.input(choose, [pick, shown], [cite, full], api_visibility="private")
        clear.click(lambda: ([], "", (), gr.Dropdown(choices=[], value=None), "", ""),
                    None, outputs, api_visibility="private")
    return demo


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
    notebook detection can open a public tunnel; uploads are refused (the chat takes no
    files) and the monitoring page is off.
    """
    return {
        "server_name": host, "server_port": port, "share": bool(share),
        "auth": guard.login if guard else None,
        "auth_message": "Log in met uw Vraagbaak-account." if guard else None,
        "max_file_size": 0, "enable_monitoring": False, "show_error": False,
        "footer_links": [],
    }


def _notify(message: str) -> None:
    click.echo(message, err=True)


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--index", "index_dir", type=click.Path(file_okay=False, path_type=Path),
              default=None, envvar="RAG_INDEX",
              help=f"Index folder (env RAG_INDEX). Without it: ./{DEFAULT_INDEX_DIR}, built "
                   "from the bundled sample on first start.")
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
              help="Decide 'Geen eerder antwoord gevonden' by this best dense cosine instead "
                   "of the relevance model (env RAG_MIN_SCORE; -1 never abstains).")
def main(index_dir: Path | None, model: str, host: str, port: int, auth_file: Path | None,
         login_lockout: float, share: bool, min_score: float | None) -> None:
    """Start the Vraagbaak chat in the browser (http://127.0.0.1:7860 by default)."""
    from rag.startup import open_chat_searcher

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    log.setLevel(logging.INFO)
    logging.getLogger("bm25s").setLevel(logging.WARNING)
    try:
        accounts = read_accounts(os.environ.get("RAG_AUTH"), auth_file)
    except LoginError as exc:
        raise click.UsageError(str(exc)) from None
    if share and not accounts:
        raise click.UsageError("--share makes the chat public on the internet: set a login "
                               "first (RAG_AUTH=gebruiker:wachtwoord or --auth-file)")
    settings = Settings(index_dir=index_dir or DEFAULT_INDEX_DIR, model=model,
                        min_score=min_score)
    try:
        searcher = open_chat_searcher(settings, build_sample=index_dir is None, notify=_notify)
    except RagError as exc:
        raise click.ClickException(str(exc)) from None
    if share:
        _notify("LET OP: --share maakt de chat via een openbare link op internet bereikbaar "
                "voor iedereen die de link heeft; alleen de login beschermt de index.")
    elif not is_loopback(host) and not accounts:
        _notify(f"Let op: de chat luistert op {host} zonder login; zet RAG_AUTH of "
                "--auth-file voor gedeeld gebruik.")
    chat = Chat(searcher)
    threading.Thread(target=_warm_up, args=(chat,), daemon=True).start()
    # Gradio's file cache private to this process (0700, removed at exit) rather than the
    # shared /tmp/gradio another app could read from or write into.
    uploads = tempfile.TemporaryDirectory(prefix="vraagbaak-gradio-")
    os.environ["GRADIO_TEMP_DIR"] = uploads.name
    demo = build_ui(chat)
    demo.queue(max_size=64, default_concurrency_limit=1)
    _notify(f"Vraagbaak: {len(searcher.index.chunks)} passages uit "
            f"{len(searcher.index.documents)} document(en), index {settings.index_dir}.")
    guard = LoginGuard(accounts, lockout=login_lockout) if accounts else None
    with uploads:
        demo.launch(**launch_options(host, port, guard, share), css=CSS, theme=_theme())


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
