"""`tabot gaps [--json] [--out DIR] [--draft DIR]`: the staff's view of what no TA answer covers."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from bot.config import Settings
from bot.errors import InputError
from bot.faces.gaps import gaps_from_log
from bot.faces.gaps_drafts import write_drafts
from bot.faces.gaps_report import terminal_table, write_reports
from bot.knowledge import load_entries


def gaps_command(args: argparse.Namespace, settings: Settings, say: Callable[[str], None],
                 say_json: Callable[[dict], None]) -> int:
    if args.limit < 1:
        raise InputError("--limit must be at least 1")
    report = gaps_from_log(settings)
    if args.json:
        say_json(report.to_json())
    else:
        say(terminal_table(report, args.limit))
    # Files are announced on stderr, so `--json` output stays one JSON document on stdout.
    if args.out is not None:
        written = write_reports(report, args.out)
        print(f"wrote {', '.join(str(p) for p in written)}", file=sys.stderr)
    if args.draft is not None:
        existing = {entry.id for entry in load_entries(settings.knowledge_dir)}
        drafts = write_drafts(report, args.draft, existing)
        print(f"wrote {len(drafts)} draft entries to {args.draft}: a TA replaces each TODO line with the answer, "
              "then moves the file to the knowledge folder and runs `tabot index` (knowledge/README.md)",
              file=sys.stderr)
    return 0
