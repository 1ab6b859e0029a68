"""The error tree and the exit codes: the contract documented in the README's exit-code table."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0  # no changes, or everything applied
    ERROR = 1  # bad input, bad token, server unreachable, unexpected answer
    CHANGES = 2  # changes present (plan / dry run with --detailed-exitcode only)
    PARTIAL = 3  # apply finished but some changes failed or were refused by the server; a load
    # still running past --load-timeout; a loader catalog's expectations unmet (plan too)
    REFUSED = 4  # refused by a safety guard; nothing written


class ReconcileError(Exception):
    """Base of every error the reconciler reports to the user (message only, no traceback)."""

    exit_code: ExitCode = ExitCode.ERROR


class InputError(ReconcileError):
    """The desired-state files are invalid. `problems` lists every error found, each naming
    the file, line and field path."""

    def __init__(self, problems: list[str], what: str = "") -> None:
        self.problems = problems
        count = len(problems)
        against = f" (against {what}); nothing was written" if what else ""
        head = f"{count} error{'s' if count != 1 else ''} in the desired state{against}:"
        super().__init__("\n".join([head, *(f"  {p}" for p in problems)]))


class ConfigError(ReconcileError):
    """A setting is missing or invalid (API URL, token file, flags)."""


class GuardRefused(ReconcileError):
    """A safety guard refused the plan before anything was written."""

    exit_code = ExitCode.REFUSED


class ApiError(ReconcileError):
    """The server answered something the reconciler cannot proceed with.

    `retryable` says whether the same request may succeed later (429/502/503/504,
    connection errors); `status` is the HTTP status or None for transport errors.
    """

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        method: str = "",
        path: str = "",
        retryable: bool = False,
        body: object = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.status = status
        self.method = method
        self.path = path
        self.retryable = retryable
        self.body = body


class AuthError(ApiError):
    """401/403: the token is missing, invalid or lacks the rights needed."""


class NotFound(ApiError):
    """404 on a detail URL."""


class OutcomeUnknown(ApiError):
    """A write was sent but no answer came back (timeout, dropped connection, 502/504 after
    sending): the server may or may not have applied it. Look before sending it again."""


class TransportError(ApiError):
    """The server could not be reached at all (nothing was sent)."""


class Interrupted(ApiError):
    """A signal (SIGTERM, SIGINT) stopped the run while it waited for the server."""


class RunTimeout(ApiError):
    """The run's deadline (``--run-timeout``) passed: no new request is sent."""
