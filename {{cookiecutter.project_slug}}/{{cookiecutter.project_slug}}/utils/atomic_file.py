"""Files replaced whole or not at all: checkpoints, predictions and the start-up caches."""

import os
import socket
import tempfile
from pathlib import Path


def write_atomic(data: bytes, path: Path) -> Path:
    """A temporary file in the same directory, flushed and fsynced, then ``os.replace``:
    a crash leaves the old file or the new one, never a truncated mix. The temporary
    file's name says which process wrote it; what a killed writer of ``path`` left is
    removed first (a SIGKILL runs no cleanup of its own)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(path)
    prefix = f".{path.name}.{os.getpid()}@{socket.gethostname()}."
    fd, tmp_name = tempfile.mkstemp(prefix=prefix, suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp_name, path)
    except OSError as error:  # a full or read-only disk: name the file, keep the old one
        Path(tmp_name).unlink(missing_ok=True)
        raise OSError(error.errno, error.strerror, str(path)) from None
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)
    return path


def remove_stale_temporaries(path: Path) -> None:
    """Delete the temporary files that writers of ``path`` on this machine left when they
    were killed (their process is gone); another process's write in progress is kept."""
    prefix = f".{path.name}."
    for stale in path.parent.glob(f"{glob_escape(prefix)}*.tmp"):
        tag = stale.name[len(prefix) : -len(".tmp")].rpartition(".")[0]  # pid@host.random
        writer, _, host = tag.partition("@")
        if host == socket.gethostname() and writer.isdigit() and not _alive(int(writer)):
            stale.unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: alive
        pass
    return True


def glob_escape(name: str) -> str:
    return "".join(f"[{c}]" if c in "*?[" else c for c in name)


def fsync_dir(directory: Path) -> None:
    """Make the rename itself durable (POSIX); a no-op where directories can't be opened."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
