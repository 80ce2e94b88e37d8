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


def build_stage_copies() -> list[str]:
    """The checkout paths the first stage copies (its COPY instructions without --from)."""
    return [
        source
        for keyword, arguments in instructions(0)
        if keyword == "COPY" and not arguments.startswith("--from")
        for source in arguments.split()[:-1]
    ]
