"""Errors a user can cause. The CLI prints each as one line on stderr and exits with its code."""


class XccError(Exception):
    """A failure the user can act on: a missing file, an unreachable URL, a bad database URL.

    The message is shown to the user as it is, so it must say what went wrong and, where it
    helps, what to do about it. It must never hold a password.
    """

    exit_code: int = 1


class UsageError(XccError):
    """The command was called wrongly (a malformed option value): exit code 2, like Click's."""

    exit_code = 2
