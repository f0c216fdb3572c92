"""`tabot` command line (also `python -m bot`). Errors become one line and an exit code.

Exit codes: 0 ok, 1 a failure (failed demo check, unreachable server, a batch with lines that got an
error record, ...), 2 bad input or usage. No path ends in a traceback: `main` turns any error,
expected or not (a full disk inside Chroma, a corrupt SQLite file), into one line.
"""

from __future__ import annotations

import argparse
import gc
import getpass
import sys
from collections.abc import Callable, Sequence
from importlib.metadata import entry_points
from pathlib import Path

from bot.answering.guard import EMPTY_MESSAGE
from bot.config import Settings
from bot.errors import InputError, report
from bot.faces.batch import json_line, run_batch
from bot.schema import Answer

# Commands other installed packages add to `tabot` (the eval suite adds `tabot eval`): bot/ never
# imports them, they plug in through this entry-point group of their pyproject.toml.
PLUGIN_GROUP = "tabot.commands"


def plugin_commands() -> dict[str, Callable[[list[str]], int]]:
    """{name: main(argv) -> exit status} of every installed `tabot.commands` entry point, loaded lazily."""
    return {ep.name: (lambda argv, ep=ep: ep.load()(argv)) for ep in entry_points(group=PLUGIN_GROUP)}


def port(text: str) -> int:
    """A TCP port for --port; argparse turns the ValueError into a one-line usage error (exit 2)."""
    port = int(text)
    if not 1 <= port <= 65535:
        raise ValueError(text)
    return port


def _parser(plugins: Sequence[str] = ()) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tabot", description="Course Q&A bot answering only from TA answers.")
    commands = parser.add_subparsers(dest="command", required=True)
    chat = commands.add_parser("chat", help="build the index if needed and serve the browser chat")
    chat.add_argument("--host", help="interface to listen on (default TABOT_HOST or 127.0.0.1)")
    chat.add_argument("--port", type=port, help="port to listen on (default TABOT_PORT or 7860)")
    chat.add_argument("--share", action=argparse.BooleanOptionalAction, default=None,
                      help="also open a public gradio.live link (default TABOT_SHARE or no)")
    ask = commands.add_parser("ask", help="answer one question (or a JSONL batch)")
    ask.add_argument("question", nargs="?", help="the question, in quotes")
    ask.add_argument("--batch", type=Path, help='JSONL file, one {"id": ..., "question": ...} per line')
    ask.add_argument("--json", action="store_true", help="print the answer JSON")
    ask.add_argument("--why", action="store_true",
                     help="for staff: what the bot read and why it would answer or decline (no answer is logged)")
    commands.add_parser("index", help="build or update the search index (incremental)")
    demos = commands.add_parser("demos", help="verify or run the numeric demos")
    demos.add_argument("action", nargs="?", choices=["verify", "run"], default="verify")
    demos.add_argument("name", nargs="?", help="demo name, for 'run'")
    demos.add_argument("--json", action="store_true")
    demos.add_argument("--no-cache", action="store_true", help="re-run even unchanged demos")
    commands.add_parser("discord", help="run the Discord bot (needs TABOT_DISCORD_TOKEN)")
    for name in plugins:
        commands.add_parser(name, help=f"see: tabot {name} --help")
    gaps = commands.add_parser("gaps", help="topics students asked that no TA answer covers (from the question log)")
    gaps.add_argument("--json", action="store_true", help="print the topics as JSON")
    gaps.add_argument("--out", type=Path, help="write gaps.md, gaps.html (with a plot over time), gaps.json here")
    gaps.add_argument("--draft", type=Path, help="write one knowledge-entry skeleton per topic into this folder")
    gaps.add_argument("--limit", type=int, default=20, help="topics shown in the terminal (default 20)")
    feedback = commands.add_parser("feedback", help="export student feedback for staff")
    feedback.add_argument("action", choices=["export"])
    feedback.add_argument("--format", choices=["csv", "jsonl"], default="csv")
    feedback.add_argument("--out", type=Path, required=True)
    return parser


def _print(text: str) -> None:
    """Print `text` whatever the terminal's encoding; a character it cannot show (a lone surrogate a
    student typed) comes out as an escape instead of ending the command with UnicodeEncodeError."""
    try:
        print(text, flush=True)
    except UnicodeEncodeError:
        encoding = sys.stdout.encoding or "utf-8"
        print(text.encode(encoding, "backslashreplace").decode(encoding), flush=True)


def _print_json(record: dict) -> None:
    try:
        print(json_line(record), flush=True)
    except UnicodeEncodeError:  # stdout is not UTF-8 (e.g. PYTHONIOENCODING=ascii): escape everything
        print(json_line(record, ascii_only=True), flush=True)


def _cli_user() -> str:
    """Who runs `tabot ask`, as the question log's (salted, hashed) user: the login name."""
    try:
        return "cli:" + getpass.getuser()
    except Exception:  # no login name in some containers
        return "cli"


def end_of_startup() -> None:
    """Freeze what start-up made and turn the cyclic GC back on (the commands that start the
    service turn it off first thing).

    Starting makes a few hundred thousand objects that live as long as the process (modules -
    Gradio's for the chat -, Chroma's client, the ONNX session, the index): with the GC on, it walks
    them over and over while they are made, and `tabot ask` once more at exit - a quarter of its
    time, a third of a second of the chat's start-up. Frozen, they are never walked again; the few
    thousand cyclic leftovers of start-up (measured: 4,666 objects in the chat) are never freed."""
    gc.freeze()
    gc.enable()


def _open_encoder_early(settings: Settings) -> None:
    """Start opening the ONNX MiniLM now, beside the imports that follow (`bot.search.onnx_minilm.open_early`)."""
    if settings.embed_backend != "onnx":
        return
    from bot.search.onnx_minilm import models_dir, open_early
    from bot.search.torch_minilm import MODEL_SHA256

    open_early(models_dir(settings.data_dir), MODEL_SHA256)


def _ask(args: argparse.Namespace, settings: Settings) -> int:
    if args.batch is None and (args.question is None or not args.question.strip()):
        raise InputError(EMPTY_MESSAGE)
    if args.batch is not None and not args.json:
        raise InputError("--batch writes JSON lines; add --json")
    if args.batch is not None and not args.batch.is_file():
        raise InputError(f"batch file not found: {args.batch}")
    if args.why and args.batch is not None:
        raise InputError("--why explains one question; leave out --batch")
    gc.disable()  # until the service has started: see `end_of_startup`
    try:
        _open_encoder_early(settings)
        from bot.conversation import log_question
        from bot.faces.render import answer_text
        from bot.question_log import QuestionLog
        from bot.service import Tabot, console_progress

        tabot = Tabot.start(settings, progress=console_progress)
    finally:
        end_of_startup()
    if args.why:  # staff looking into a decision: nothing a student asked, so nothing is logged
        explanation = tabot.explain(args.question)
        if args.json:
            _print_json(explanation.to_json())
        else:
            _print(explanation.text())
        return 0
    questions, user = QuestionLog.from_settings(settings), _cli_user()

    def answer_logged(question: object) -> Answer:
        # The same log call the Conversation makes for the web and Discord, surface "cli".
        answer = tabot.ask(question)
        log_question(questions, "cli", answer, user)
        return answer

    if args.batch is None:
        answer = answer_logged(args.question)
        if args.json:
            _print_json(answer.to_json())
        else:
            _print(answer_text(answer))
        return 0
    result = run_batch(args.batch, lambda question: answer_logged(question).to_json(), _print_json)
    if result.failed:  # every line has its record on stdout; the exit status says not all are answers
        print(f"tabot: {result.summary(args.batch)}", file=sys.stderr)
        return 1
    return 0


def run(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    plugins = plugin_commands()
    if argv[:1] and argv[0] in plugins:  # a plugin owns its options (argparse cannot forward "--flags")
        return plugins[argv[0]](argv[1:])
    args = _parser(sorted(plugins)).parse_args(argv)
    settings = Settings.from_env()
    if args.command == "ask":
        return _ask(args, settings)
    if args.command == "chat":
        gc.disable()  # until the chat is built: see `end_of_startup`
        # Flags win over TABOT_HOST / TABOT_PORT / TABOT_SHARE, as users of gradio and uvicorn expect.
        flags = {"host": args.host, "port": args.port, "share": args.share}
        settings = settings.with_(**{k: v for k, v in flags.items() if v is not None})
        _open_encoder_early(settings)  # beside Gradio's import
        from bot.faces.web import serve

        serve(settings, built=end_of_startup)
        return 0
    if args.command == "index":
        from bot.service import Tabot, console_progress

        print(Tabot(settings, progress=console_progress).reindex())
        return 0
    if args.command == "demos":
        from bot.faces.demo_table import demos_command

        if args.action == "run" and not args.name:
            raise InputError("which demo? tabot demos run NAME (tabot demos verify lists them)")
        return demos_command(args.action, args.name, args.json, not args.no_cache, settings)
    if args.command == "discord":
        from bot.faces.discord.app import run as run_discord

        run_discord(settings)
        return 0
    if args.command == "gaps":
        from bot.faces.gaps_cli import gaps_command

        return gaps_command(args, settings, _print, _print_json)
    if args.command == "feedback":
        from bot.feedback import FeedbackStore

        count = FeedbackStore(settings.feedback_db).export(args.out, fmt=args.format)
        print(f"wrote {count} feedback rows to {args.out}")
        return 0
    raise AssertionError(f"argparse accepted an unknown command {args.command!r}")


def main(argv: Sequence[str] | None = None) -> int:
    try:
        return run(argv)
    except (Exception, KeyboardInterrupt) as error:  # argparse's SystemExit passes through
        return report("tabot", error)


if __name__ == "__main__":
    raise SystemExit(main())
