"""One error type for bad user input, and the wrapper that turns it into a one-line message.

Stage scripts run their work inside :func:`run_cli`. Anything the user can fix (params, data,
paths) raises :class:`UserError` (an ``OSError`` that names a file is treated the same way); the wrapper prints ``error: <message>`` on one line to stderr
and exits with status 2, before any declared output has been replaced.
"""

from __future__ import annotations

import sys
from collections.abc import Callable


class UserError(Exception):
    """Bad input that the user can fix. The message names the culprit (key, file or path)."""


def run_cli(main: Callable[[], None]) -> None:
    try:
        main()
    except UserError as exc:
        _fail(str(exc))
    except OSError as exc:  # an unwritable or missing path: name it
        if exc.filename is None:
            raise
        _fail(f"{exc.filename}: {exc.strerror or type(exc).__name__}")


def _fail(message: str) -> None:
    msg = " ".join(message.split())  # always one line
    print(f"error: {msg}", file=sys.stderr)
    raise SystemExit(2) from None
