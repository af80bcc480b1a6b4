"""The errors a user can fix, and the one boundary that turns them into one line.

Every script's ``main`` is wrapped in ``error_boundary``: an error a user caused (a
wrong config value, a missing or corrupt file, a full disk) ends as a single
``error: ...`` line on stderr and an exit code (2 for config, 1 for data and files),
never as a traceback. Anything else is a bug and keeps its traceback.
"""

import errno
import functools
import sys
from collections.abc import Callable


class UserError(Exception):
    """An error in what the user gave us; the message says what, the rule and the way out."""

    exit_code = 1


class ConfigError(UserError, ValueError):
    """A config value, key or command-line argument is wrong."""

    exit_code = 2


class DataError(UserError):
    """A data file is missing, empty, truncated or inconsistent; the message names it."""


class RunDirError(UserError):
    """The run directory cannot be used: it holds another run, is locked, or is not a folder."""


# What to tell the user for the OS errors they can fix themselves.
OS_ADVICE = {
    errno.ENOSPC: "the disk is full; free space or choose another output_dir",
    errno.EDQUOT: "the disk quota is exceeded; free space or choose another output_dir",
    errno.EROFS: "the file system is read-only; choose a writable output_dir",
    errno.EACCES: "permission denied; choose a folder you can write to",
    errno.EPERM: "operation not permitted; choose a folder you can write to",
    errno.ENOTDIR: "a part of the path is a file, not a folder",
    errno.EISDIR: "the path is a folder, not a file",
    errno.ENAMETOOLONG: "the path or file name is too long",
}


def first_line(error: BaseException) -> str:
    """The first line of an exception's message (library messages can run to a page),
    or its type name when it has none (``str(EOFError())`` is empty)."""
    lines = str(error).strip().splitlines()
    return lines[0] if lines else type(error).__name__


def fold_message(error: BaseException) -> str:
    """The whole message on one line (parsers spread theirs over several), without the
    context OmegaConf appends; its type name when it has none."""
    text = " ".join(str(error).split()).split(" full_key:")[0]
    return text or type(error).__name__


def user_message(error: UserError) -> str:
    """The message; for an error raised in a DataLoader worker (which the DataLoader
    re-raises with the worker's whole traceback as its text), the worker's own message."""
    text = str(error)
    if text.startswith("Caught ") and "Original Traceback" in text:
        last = text.strip().splitlines()[-1]  # "package.module.DataError: <message>"
        return last.split(": ", 1)[1] if ": " in last else last
    return text


def describe_os_error(error: OSError) -> str:
    where = error.filename if error.filename is not None else "?"
    advice = OS_ADVICE.get(error.errno, error.strerror or type(error).__name__)
    return f"cannot write or read {where}: {advice}"


def error_boundary(main: Callable[..., int]) -> Callable[..., int]:
    """Wrap a script's ``main(argv) -> exit code`` so user errors end in one clear line."""

    @functools.wraps(main)
    def run(*args, **kwargs) -> int:
        try:
            return main(*args, **kwargs)
        except UserError as error:
            print(f"error: {user_message(error)}", file=sys.stderr)
            return error.exit_code
        except OSError as error:
            if error.errno not in OS_ADVICE:
                raise
            print(f"error: {describe_os_error(error)}", file=sys.stderr)
            return 1
        except KeyboardInterrupt:
            print("interrupted", file=sys.stderr)
            return 130

    return run
