"""The command line's shared behaviour: version, help, and how errors leave the program."""

from __future__ import annotations

import subprocess
import sys

from typer.testing import CliRunner

from xcc_sessions import __version__
from xcc_sessions.cli import app

runner = CliRunner()


def test_version_prints_the_package_version() -> None:
    result = runner.invoke(app, ["--version"])

    assert result.stdout.strip() == f"xcc-sessions {__version__}"


def test_short_help_option_opens_with_an_example() -> None:
    result = runner.invoke(app, ["-h"])

    assert "Example: xcc-sessions" in result.stdout


def test_unknown_command_is_a_usage_error_with_exit_code_2() -> None:
    result = runner.invoke(app, ["no-such-command"])

    assert result.exit_code == 2


def test_module_entry_point_runs_the_same_app() -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "xcc_sessions", "--version"], capture_output=True, text=True
    )

    assert completed.stdout.strip() == f"xcc-sessions {__version__}"
