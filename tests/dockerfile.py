"""Reading the Dockerfile, for the tests that check it against the package (Docker does not run
on the project's machines)."""

from __future__ import annotations

from pathlib import Path

DOCKERFILE = Path(__file__).resolve().parent.parent / "Dockerfile"


def instructions(stage: int, text: str | None = None) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of one build stage (0 = the first, -1 = the last)."""
    joined = (text if text is not None else DOCKERFILE.read_text(encoding="utf-8")).replace(
        "\\\n", " "
    )
    stages: list[list[tuple[str, str]]] = []
    for line in joined.splitlines():
        keyword, _, arguments = line.strip().partition(" ")
        if not keyword or keyword.startswith("#"):
            continue
        if keyword.upper() == "FROM":
            stages.append([])
        if stages:
            stages[-1].append((keyword.upper(), arguments.strip()))
    return stages[stage]


def build_stage_copies(*, before: str | None = None) -> list[str]:
    """The checkout paths the first stage copies (its COPY instructions without --from); with
    `before`, only those copied before the first RUN that contains that text."""
    copies: list[str] = []
    for keyword, arguments in instructions(0):
        if keyword == "RUN" and before is not None and before in arguments:
            return copies
        if keyword == "COPY" and not arguments.startswith("--from"):
            copies.extend(arguments.split()[:-1])
    if before is not None:
        raise LookupError(f"no RUN with {before!r} in the build stage")
    return copies
