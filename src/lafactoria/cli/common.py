"""What every command shares: the consoles, settings loading and how failures end a command.

Exit codes: 0 success; 1 the operation failed (a job failed, the server is unreachable, a
conflict); 2 the command was used wrongly (bad options or input, bad configuration or
credentials). Expected failures print one clear line, never a traceback.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum
from typing import NoReturn, TypeVar

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.markup import escape

from lafactoria.settings import Settings

E = TypeVar("E", bound=StrEnum)

EXIT_FAILED = 1
EXIT_USAGE = 2
# Error codes (GraphQL and domain) that mean the caller got something wrong.
USAGE_CODES = frozenset(
    {"INVALID_INPUT", "BAD_USER_INPUT", "UNAUTHENTICATED", "INVALID_CREDENTIALS"}
)

# Results go to stdout (so they can be piped); progress, messages and errors to stderr.
stdout = Console(highlight=False)
stderr = Console(stderr=True, highlight=False)


def fail(message: str, *, code: int = EXIT_FAILED) -> NoReturn:
    stderr.print(f"[red]Error:[/red] {escape(message)}", soft_wrap=True)
    raise typer.Exit(code)


def fail_with_code(message: str, error_code: str | None) -> NoReturn:
    """Fail with the exit code an error code calls for."""
    fail(message, code=EXIT_USAGE if error_code in USAGE_CODES else EXIT_FAILED)


def load_settings() -> Settings:
    try:
        return Settings()
    except ValidationError as exc:
        fail(f"invalid configuration:\n{exc}", code=EXIT_USAGE)


def choice(enum_type: type[E]) -> Callable[[str], E]:
    """An option parser for one of ``enum_type``'s values.

    Typer checks enum options with pydantic, whose wording leaks into the message ("Value
    error, 'phd' is not one of …"); this one says only what was wrong and what is accepted.
    """

    def parse(value: str) -> E:
        try:
            return enum_type(value)
        except ValueError:
            choices = ", ".join(repr(member.value) for member in enum_type)
            raise typer.BadParameter(f"{value!r} is not one of {choices}.") from None

    return parse
