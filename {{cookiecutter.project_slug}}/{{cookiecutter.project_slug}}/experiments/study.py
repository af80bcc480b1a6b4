"""The Optuna study of a sweep, kept in ``<sweep_dir>/study.db`` (SQLite).

Several sweep.py processes may share one study. Each holds a worker lock
(``<sweep_dir>/.workers/<id>/.lock``, the run-directory ``flock``) for its life and tags
its trials with its id, so a trial left RUNNING by a killed process is recognised (its
worker's lock is free), marked failed and queued again with the same parameters. Every
step that reads the trial counts and starts a trial holds ``<sweep_dir>/.sweep.lock``,
so the study never gets more trials than ``n_trials`` and no two processes ever take
the same trial.
"""

import contextlib
import fcntl
import os
import shutil
import socket
import time
import uuid
from pathlib import Path

import optuna
from optuna.trial import TrialState

from ..utils.errors import ConfigError, DataError, RunDirError, UserError, first_line
from ..utils.run_dir import RunLock, lock_holder
from .search_space import SweepSpec

FINISHED = (TrialState.COMPLETE, TrialState.PRUNED)
# A RUNNING trial not yet tagged with its worker is given this long before it counts as
# abandoned (it is tagged right after it is created, under the sweep lock).
UNTAGGED_GRACE_S = 60.0


# How long to wait for another process's hold on the study (the sweep lock, SQLite).
# Holds are short (reading counts, starting a trial): a long one is a hung process.
LOCK_TIMEOUT_S = 120.0
DB_TIMEOUT_S = 120


@contextlib.contextmanager
def sweep_lock(sweep_dir: Path, timeout: float | None = None):
    """Exclusive for the ``with`` block, across processes. Says that it waits when
    another process holds it, and gives up after ``timeout`` seconds with one line.
    The lock file exists only while held: it is removed when the block ends, on every
    path (a corrupt study.db included), and a waiter that got the lock of a file
    removed meanwhile tries again on the new one."""
    path = sweep_dir / ".sweep.lock"
    timeout = LOCK_TIMEOUT_S if timeout is None else timeout
    deadline, said = time.monotonic() + timeout, False
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            if time.monotonic() >= deadline:
                raise RunDirError(
                    f"{path} was held by another process for {timeout:.0f} s; gave up. "
                    "If no other sweep.py runs on this study, that process hangs: stop "
                    "it, then run the command again"
                ) from None
            if not said:
                print(
                    f"waiting for another process that holds {path} (up to {timeout:.0f} s)",
                    flush=True,
                )
                said = True
            time.sleep(0.2)
            continue
        if _same_file(fd, path):
            break
        os.close(fd)  # its holder removed it before we got it: lock the current one
    try:
        yield
    finally:
        path.unlink(missing_ok=True)  # still held: no other process has this file locked
        os.close(fd)  # closing releases the lock


def _same_file(fd: int, path: Path) -> bool:
    try:
        return os.path.samestat(os.fstat(fd), os.stat(path))
    except FileNotFoundError:
        return False


def storage_url(sweep_dir: Path) -> str:
    return f"sqlite:///{(sweep_dir / 'study.db').resolve()}"


def build_sampler(spec: SweepSpec, trials_so_far: int) -> optuna.samplers.BaseSampler:
    """A fixed ``seed`` is offset by the trials the study already has: a continued study
    draws new start-up points instead of repeating the first run's."""
    settings = {k: v for k, v in spec.sampler.items() if k != "name" and v is not None}
    if "seed" in settings:
        settings["seed"] += trials_so_far
    if spec.sampler["name"] == "random":
        return optuna.samplers.RandomSampler(**settings)
    return optuna.samplers.TPESampler(**settings)


def build_pruner(spec: SweepSpec) -> optuna.pruners.BasePruner:
    settings = {k: v for k, v in spec.pruner.items() if k != "name" and v is not None}
    if spec.pruner["name"] == "median":
        return optuna.pruners.MedianPruner(**settings)
    if spec.pruner["name"] == "halving":
        return optuna.pruners.SuccessiveHalvingPruner(**settings)
    return optuna.pruners.NopPruner()


def check_settings(spec: SweepSpec) -> None:
    """The sampler and pruner settings, built once before anything is written
    (``min_resource: 0`` passes the type check but not Optuna's)."""
    for what, build in (("sampler", lambda: build_sampler(spec, 0)), ("pruner", build_pruner)):
        try:
            build() if what == "sampler" else build(spec)
        except (ValueError, TypeError) as error:
            settings = getattr(spec, what)
            raise ConfigError(
                f"{what} {settings.get('name')} in {spec.path}: {first_line(error)}"
            ) from None


def say_if_db_busy(db: Path) -> None:
    """SQLite waits silently (up to DB_TIMEOUT_S) for another process's write: say so."""
    import sqlite3

    try:
        connection = sqlite3.connect(db, timeout=0.05)
        try:
            connection.execute("BEGIN IMMEDIATE")
            connection.rollback()
        finally:
            connection.close()
    except sqlite3.OperationalError as error:
        if "locked" in str(error) or "busy" in str(error):
            print(
                f"waiting for another process that holds {db} (up to {DB_TIMEOUT_S} s)",
                flush=True,
            )
    except sqlite3.Error:
        pass  # not a database: open_study says so


def open_study(spec: SweepSpec, sweep_dir: Path, create: bool) -> optuna.Study:
    """Create the study, or continue it; its search space must be the one it began with."""
    exists = (sweep_dir / "study.db").is_file()
    if not exists and not create:
        raise ConfigError(f"no study in {sweep_dir} yet; run with n_trials >= 1 first")
    if not exists and any(sweep_dir.glob("trial-*")):
        raise ConfigError(
            f"{sweep_dir} holds trial folders but no study.db; choose another study= or sweep_dir="
        )
    if exists:
        say_if_db_busy(sweep_dir / "study.db")
    try:
        storage = optuna.storages.RDBStorage(
            storage_url(sweep_dir),
            engine_kwargs={"connect_args": {"timeout": DB_TIMEOUT_S}},
        )
        study = optuna.create_study(
            storage=storage,
            study_name=spec.study,
            direction="minimize" if spec.mode == "min" else "maximize",
            pruner=build_pruner(spec),
            load_if_exists=True,
        )
    except Exception as error:  # noqa: BLE001 - sqlalchemy/optuna errors of a bad file
        if isinstance(error, UserError):
            raise
        raise DataError(
            f"{sweep_dir / 'study.db'} cannot be opened as an Optuna study "
            f"({first_line(error)}); if another process holds it, wait for it; if it is "
            "damaged, move it away (and the trial-* folders) or choose another study= or "
            "sweep_dir="
        ) from None
    study.sampler = build_sampler(spec, len(study.get_trials(deepcopy=False)))
    recorded = study.user_attrs.get("search_space")
    if recorded is None:
        study.set_user_attr("search_space", spec.fingerprint())
        study.set_user_attr("sweep_file", str(spec.path))
    elif recorded != spec.fingerprint():
        raise ConfigError(
            f"the study in {sweep_dir} was started with another search space or monitor "
            f"(from {study.user_attrs.get('sweep_file')}); use another study= to start a new one"
        )
    return study


class Worker:
    """This process, as the other sweep.py processes see it: a held lock and an id."""

    def __init__(self, sweep_dir: Path) -> None:
        self.id = f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"
        self.dir = sweep_dir / ".workers" / self.id
        self.dir.mkdir(parents=True)
        self.lock = RunLock(self.dir).acquire()

    def close(self) -> None:
        self.lock.release()
        shutil.rmtree(self.dir, ignore_errors=True)


def recover_abandoned(study: optuna.Study, sweep_dir: Path) -> list[int]:
    """Fail the RUNNING trials whose process is gone and queue their parameters again.
    Call under ``sweep_lock``."""
    recovered = []
    now = time.time()
    for trial in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        worker = trial.user_attrs.get("worker")
        if worker is None:
            started = trial.datetime_start.timestamp() if trial.datetime_start else now
            abandoned = now - started > UNTAGGED_GRACE_S
        else:
            abandoned = lock_holder(sweep_dir / ".workers" / worker) is None
        if abandoned:
            abandon(study, trial.number, trial.params)
            recovered.append(trial.number)
    return recovered


def abandon(study: optuna.Study, number: int, params: dict) -> None:
    """Mark a trial that did not finish as failed, and queue its parameters again."""
    study.tell(number, state=TrialState.FAIL, skip_if_finished=True)
    study.enqueue_trial(params, user_attrs={"retry_of": number})


def count(study: optuna.Study, states) -> int:
    return len(study.get_trials(deepcopy=False, states=states))
