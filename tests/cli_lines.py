"""Checking command lines written in docs and config files against the real CLI."""

from __future__ import annotations

import shlex

import typer
import typer.core
import typer.main

from xcc_sessions.cli import app


def command_options() -> dict[str, set[str]]:
    """The option names each command accepts (help included), the program's own under ""."""
    root = typer.main.get_command(app)
    context = typer.Context(root, info_name="xcc-sessions", **root.context_settings)
    assert isinstance(root, typer.core.TyperGroup)
    commands = {"": root, **{name: root.commands[name] for name in root.list_commands(context)}}
    return {
        name: {"-h", "--help"}
        | {
            option
            for parameter in command.get_params(context)
            for option in (*parameter.opts, *parameter.secondary_opts)
        }
        for name, command in commands.items()
    }


def command_line_problems(line: str) -> list[str]:
    """What in an `xcc-sessions ...` command line the CLI would refuse: an unknown command or
    option. Values are not checked (they may name files that exist only on the user's disk)."""
    words = shlex.split(line, comments=True)
    words = words[words.index("xcc-sessions") + 1 :]
    options = command_options()
    command = ""
    problems = []
    for word in words:
        if word.startswith("-") and word != "-":
            name = word.split("=", 1)[0]
            if name not in options[command]:
                problems.append(f"{command or 'xcc-sessions'} has no option {name}")
        elif not command and word in options:
            command = word
        elif not command:
            problems.append(f"no command {word}")
            break
    return problems
