"""The CLI reference, docs/cli.md, generated from the commands' own --help.

Run `uv run python -m xcc_sessions.docs` from the repository after changing a command:
tests/test_docs.py fails while docs/cli.md differs from what this writes.
"""

from __future__ import annotations

import sys
from pathlib import Path

import typer
import typer.core
import typer.main

from xcc_sessions.cli import app

PROGRAM = "xcc-sessions"
# Typer wraps help to the terminal, at most 80 columns: the reference shows it as a terminal would.
WIDTH = 80

EXIT_CODES = """\
## Exit codes

| code | meaning |
|---|---|
| 0 | Success; also a server (`serve`, `run`) stopped by Ctrl+C or SIGTERM, its normal end. |
| 1 | An error you can act on (a missing file, an unreachable URL or database): `Error: ...` |
| 2 | Bad usage: an unknown command or option, or a malformed option value. |
| 130, 143 | Stopped by Ctrl+C or SIGTERM: a load stopped before its commit changes nothing. |

Results go to stdout; progress, summaries and errors to stderr. `--quiet` silences progress and
summaries; `--verbose` adds detail. Shell completion: `xcc-sessions --install-completion`.
"""


def help_texts() -> dict[str, str]:
    """Each command's --help text by its full name, the program itself first."""
    root = typer.main.get_command(app)
    root_context = typer.Context(
        root,
        info_name=PROGRAM,
        terminal_width=WIDTH,
        max_content_width=WIDTH,
        **root.context_settings,
    )
    texts = {PROGRAM: root.get_help(root_context)}
    if isinstance(root, typer.core.TyperGroup):
        for name in root.list_commands(root_context):
            command = root.get_command(root_context, name)
            if command is None or command.hidden:
                continue
            context = typer.Context(
                command, info_name=name, parent=root_context, **command.context_settings
            )
            texts[f"{PROGRAM} {name}"] = command.get_help(context)
    return texts


def short_helps() -> dict[str, str]:
    """Each command's one-line summary by its name."""
    root = typer.main.get_command(app)
    context = typer.Context(root, info_name=PROGRAM)
    summaries: dict[str, str] = {}
    if isinstance(root, typer.core.TyperGroup):
        for name in root.list_commands(context):
            command = root.get_command(context, name)
            if command is not None and not command.hidden:
                summaries[name] = command.get_short_help_str(limit=WIDTH)
    return summaries


def cli_reference() -> str:
    """The whole of docs/cli.md."""
    parts = [
        "# CLI reference\n",
        "Generated from each command's `--help` by `uv run python -m xcc_sessions.docs`; "
        "do not edit by hand.\n",
        "| command | what it does |\n|---|---|\n"
        + "".join(f"| `{PROGRAM} {name}` | {text} |\n" for name, text in short_helps().items()),
    ]
    parts.extend(f"## {name}\n\n```text\n{text}\n```\n" for name, text in help_texts().items())
    parts.append(EXIT_CODES)
    return "\n".join(parts)


def main(argv: list[str]) -> None:
    if len(argv) > 1 or (argv and argv[0].startswith("-")):
        sys.exit("usage: python -m xcc_sessions.docs [FILE], FILE docs/cli.md if not given")
    target = Path(argv[0]) if argv else Path("docs/cli.md")
    target.write_text(cli_reference(), encoding="utf-8")
    print(f"wrote {target}", file=sys.stderr)


if __name__ == "__main__":
    main(sys.argv[1:])
