"""Shard-folder checkpoints (``trainer.strategy=fsdp`` under torchrun): ``last.dcp/``
instead of ``last.pt``, written by every process at once through
``torch.distributed.checkpoint`` (DCP).

A folder holds the tensors of the model and optimizer as DCP shards (``.metadata`` and
``__<rank>_0.distcp`` files) and everything else (config, counters, RNG states, and
the non-tensor values of the optimizer state) in ``state.pt``, a plain
``weights_only`` file written last: a folder without it is unfinished. ``state.pt``
also records the size of every shard file and a digest of ``.metadata``, so a
missing, truncated or foreign shard is named before DCP reads anything (a cheap check,
also made by ``resume=auto``'s scan), and the sha256 of every shard file, checked at
every load: a shard swapped in from another epoch, or changed at the same size, is
refused (the integrity rule of every checkpoint: ``integrity``).

``load_shard_folder`` consolidates a folder into the same dict a ``.pt`` holds (full
tensors, parameter names as the optimizer's keys), in one process: evaluate.py,
predict.py, export.py and a resume with any number of processes read it like a file.
"""

import hashlib
import io
import logging
import pickle
import shutil
import warnings
from pathlib import Path
from typing import Any

import torch

from ..utils import dist
from ..utils.errors import first_line
from .checkpoint import FORMATS, CheckpointError, check_digests, serialize, write_atomic
from .integrity import file_digest

SUFFIX = ".dcp"
STATE = "state.pt"  # the folder's non-tensor part, written last
METADATA = ".metadata"  # DCP's index of the shards
SHARDED = ("model", "optimizer")  # the entries whose tensors go to the shards
log = logging.getLogger(__name__)


def folder_for(path: Path) -> Path:
    """``checkpoints/last.pt`` -> ``checkpoints/last.dcp``: the policy names files."""
    return path.with_suffix(SUFFIX)


def saved_checkpoint(path: Path) -> Path:
    """The checkpoint a run saved as ``path`` (``checkpoints/best.pt``): that file, or its
    shard folder (``best.dcp``) when the run was sharded."""
    folder = folder_for(path)
    return folder if is_shard_folder(folder) else path


def is_shard_folder(path: Path) -> bool:
    return path.is_dir() and (path / METADATA).exists()


def inside_shard_folder(path: Path) -> Path | None:
    """The shard folder that ``path`` (a file) belongs to, if any."""
    return path.parent if is_shard_folder(path.parent) and path.is_file() else None


def save_sharded(
    state: dict[str, Any], paths: list[Path], evicted: list[Path], background: bool = False
) -> list[Path]:
    """Write ``state`` (this rank's shards in ``model``/``optimizer``) to the folder of
    each of ``paths``; delete the folders of ``evicted``. A collective: every rank calls
    it. Each folder is written beside, then swapped in, so a kill leaves the old one or
    the new one (``.<name>.tmp`` leftovers are removed at the next start).

    ``background`` (``trainer.checkpoint.async_save``): the shards are copied to memory,
    then written by a thread while training goes on; the folders are swapped in once all
    are written (``finish_pending``). A save waits for the previous one first."""
    import torch.distributed.checkpoint as dcp

    finish_pending(wait=True)
    folders = [folder_for(path) for path in paths]
    if not folders:
        return folders
    tensors, rest = split(state)
    staging = folders[0].with_name(f".{folders[0].name}.tmp")
    if dist.is_main_process() and staging.exists():
        shutil.rmtree(staging)
    dist.barrier()
    # Serialized now: the state's tensors (running sums) change as training goes on.
    pending = PendingSave(None, staging, folders, evicted, serialize(rest))
    if not background:
        dcp.save(tensors, checkpoint_id=staging)
        pending.finish()
        dist.barrier()
        return folders
    # Its own process group: the thread's collectives must not interleave with training's.
    PendingSave.group = PendingSave.group or torch.distributed.new_group(backend="gloo")
    response = dcp.async_save(tensors, checkpoint_id=staging, process_group=PendingSave.group)
    pending.future = getattr(response, "upload_completion", response)
    PendingSave.current = pending
    return folders


class PendingSave:
    """A save whose shards a thread is writing; rank 0 swaps its folders in after."""

    current: "PendingSave | None" = None
    group = None  # the process group of background saves, made at the first one

    def __init__(self, future, staging: Path, folders: list[Path], evicted: list[Path], rest):
        self.future, self.staging, self.folders = future, staging, folders
        self.evicted, self.rest = evicted, rest

    def finish(self) -> None:
        if self.future is not None:
            self.future.result()  # raises what the thread raised (a full disk...)
        if not dist.is_main_process():
            return
        # Every rank's shards are written: DCP's index (rank 0's) comes after them.
        rest = torch.load(io.BytesIO(self.rest), weights_only=True)
        rest["shards"] = describe_shards(self.staging)
        files = {name: file_digest(self.staging / name) for name in rest["shards"]["files"]}
        write_atomic(serialize(rest, files=files), self.staging / STATE)
        for folder in self.folders[1:]:
            copy = folder.with_name(f".{folder.name}.tmp")
            shutil.rmtree(copy, ignore_errors=True)
            shutil.copytree(self.staging, copy)
            swap_in(copy, folder)
        swap_in(self.staging, self.folders[0])
        for path in self.evicted:
            shutil.rmtree(folder_for(path), ignore_errors=True)


def finish_pending(wait: bool) -> None:
    """Swap in the background save's folders once it is written (or wait for it)."""
    pending = PendingSave.current
    if pending is None or not (wait or pending.future.done()):
        return
    PendingSave.current = None
    pending.finish()


def swap_in(staging: Path, folder: Path) -> None:
    old = folder.with_name(f".{folder.name}.old.tmp")
    if folder.exists():
        folder.rename(old)
    staging.rename(folder)
    shutil.rmtree(old, ignore_errors=True)


def shard_folders(directory: Path) -> list[Path]:
    """The ``*.dcp`` entries of ``directory``, once a folder that a killed ``swap_in`` left
    as ``.<name>.old.tmp`` (moved aside, the new one not yet in its place) is put back:
    a complete checkpoint, which ``resume=auto`` must see. Every rank may call this at
    once; a folder another rank put back first is simply there."""
    for old in sorted(directory.glob(f".*{SUFFIX}.old.tmp")):
        folder = directory / old.name[1 : -len(".old.tmp")]
        if folder.exists():
            continue
        try:
            old.rename(folder)
        except OSError:  # another rank's rename came first
            continue
        log.warning("put back %s, left as %s by an interrupted save", folder, old.name)
    return sorted(directory.glob(f"*{SUFFIX}"))


def remove_stale_folders(directory: Path) -> None:
    """What a killed save leaves: staging folders, and an old folder whose new one did
    not get swapped in yet (then the old one is put back)."""
    shard_folders(directory)
    for old in directory.glob(f".*{SUFFIX}.old.tmp"):  # the new folder got swapped in
        shutil.rmtree(old, ignore_errors=True)
    for staging in directory.glob(f".*{SUFFIX}.tmp"):
        shutil.rmtree(staging, ignore_errors=True)


def split(state: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(the tensors of ``model`` and ``optimizer``, everything else): the first goes to
    the shards, the second to ``state.pt`` (same nesting, tensors left out)."""
    rest = {key: value for key, value in state.items() if key not in SHARDED}
    tensors = {}
    for key in SHARDED:
        tensors[key], rest[key] = _split(state[key])
    return {k: v for k, v in tensors.items() if v is not _NONE}, rest


_NONE = ()  # "nothing on this side" (None is a value an optimizer state may hold)


def _split(tree):
    if isinstance(tree, torch.Tensor):
        return tree, _NONE
    if isinstance(tree, dict):
        parts = {key: _split(value) for key, value in tree.items()}
        tensors = {k: t for k, (t, _) in parts.items() if t is not _NONE}
        return tensors or _NONE, {k: r for k, (_, r) in parts.items() if r is not _NONE}
    return _NONE, tree


def merge(tensors, rest):
    """``split``'s inverse: the nested dicts joined again, in the saved order."""
    if not isinstance(tensors, dict):
        return tensors
    rest = rest if isinstance(rest, dict) else {}
    keys = [*rest, *(key for key in tensors if key not in rest)]
    return {
        key: merge(tensors[key], rest.get(key)) if key in tensors else rest[key] for key in keys
    }


def describe_shards(folder: Path) -> dict[str, Any]:
    files = {p.name: p.stat().st_size for p in sorted(folder.iterdir()) if p.name != STATE}
    return {"files": files, "metadata_sha256": _digest(folder / METADATA)}


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def check_shard_digests(folder: Path, rest: dict[str, Any]) -> None:
    """``state.pt``'s tensors and every shard file are the ones saved (see ``integrity``);
    a folder written before digests were recorded loads with one warning."""
    digests = check_digests(rest, folder)
    if digests is None:
        return
    files = digests.get("files")
    if not isinstance(files, dict):
        raise CheckpointError(
            f"shard folder {folder}: its {STATE} lists no shard digests; "
            "it was not written by train.py"
        )
    for name, saved in sorted(files.items()):
        if file_digest(folder / name) != saved:  # present: ``check_shard_folder`` ran first
            raise CheckpointError(
                f"checkpoint {folder} was changed after it was saved: the shard {name} is "
                "not the one saved (its sha256 differs: a shard of another checkpoint, or "
                "changed in place); use another checkpoint of the run"
            )


def check_shard_folder(folder: Path, rest: dict[str, Any]) -> None:
    """Every shard file that ``state.pt`` lists, at its size, with the same index."""
    shards = rest.get("shards")
    if not isinstance(shards, dict) or not isinstance(shards.get("files"), dict):
        raise CheckpointError(
            f"shard folder {folder}: its {STATE} lists no shards; it was not written by train.py"
        )
    # The index first: another checkpoint's shards copied in come with their own.
    if _digest(folder / METADATA) != shards.get("metadata_sha256"):
        raise CheckpointError(
            f"shard folder {folder}: its {METADATA} is not the one its {STATE} was saved with "
            "(shards of another checkpoint copied in?); use another checkpoint of the run"
        )
    for name, size in shards["files"].items():
        path = folder / name
        if not path.is_file():
            raise CheckpointError(
                f"shard folder {folder} is missing the shard {name} (of {len(shards['files'])} "
                "files); copy the whole folder, or use another checkpoint of the run"
            )
        if path.stat().st_size != size:
            raise CheckpointError(
                f"shard folder {folder}: {name} is truncated or changed ({path.stat().st_size} "
                f"bytes, written as {size}); use another checkpoint of the run"
            )


def read_state(folder: Path) -> dict[str, Any]:
    """The folder's ``state.pt`` (no tensors of the model): counters, config, progress."""
    path = folder / STATE
    if not path.is_file():
        raise CheckpointError(
            f"shard folder {folder} has no {STATE}: an unfinished save or a folder not "
            "written by train.py; use another checkpoint of the run"
        )
    try:
        rest = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # noqa: BLE001 - a damaged file, named
        raise CheckpointError(
            f"shard folder {folder}: {STATE} is truncated or corrupt ({first_line(error)})"
        ) from None
    if not isinstance(rest, dict):
        raise CheckpointError(f"shard folder {folder}: {STATE} is not a checkpoint dict")
    return rest


def checked_state(folder: Path) -> dict[str, Any]:
    """``read_state`` once the shards it lists are all there (for ``resume=auto``)."""
    rest = read_state(folder)
    check_shard_folder(folder, rest)
    return rest


def load_shard_folder(folder: Path, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """The checkpoint dict of a shard folder, consolidated in this process."""
    from torch.distributed.checkpoint.default_planner import _EmptyStateDictLoadPlanner
    from torch.distributed.checkpoint.state_dict_loader import _load_state_dict

    rest = checked_state(folder)
    check_shard_digests(folder, rest)
    reader = checked_reader(folder)
    try:  # the index on its own first: DCP would log the refusal and try another file
        reader.read_metadata()
    except pickle.UnpicklingError as error:
        raise CheckpointError(
            f"refused to load {folder}: its {METADATA} holds pickled Python objects other than "
            f"DCP's index ({first_line(error)}); nothing in it was executed"
        ) from None
    except Exception as error:  # noqa: BLE001 - a damaged index, named
        raise CheckpointError(
            f"shard folder {folder}: its {METADATA} is truncated or corrupt ({first_line(error)})"
        ) from None
    tensors: dict[str, Any] = {}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            # As DCP's own dcp_to_torch_save: every shard read into full tensors, no
            # process group involved (the ranks of a job may each call it).
            _load_state_dict(
                tensors,
                storage_reader=reader,
                planner=_EmptyStateDictLoadPlanner(),
                no_dist=True,
            )
    except Exception as error:  # noqa: BLE001 - damaged shards, named
        raise CheckpointError(
            f"shard folder {folder} is truncated or corrupt ({first_line(error)})"
        ) from None
    state = merge(tensors, rest)
    state.pop("shards", None)
    if map_location not in (None, "cpu"):
        state["model"] = {k: v.to(map_location) for k, v in state["model"].items()}
    return state


# What DCP's ``.metadata`` (a pickle, which DCP itself loads with ``pickle.load``) may
# name: its own index classes, tensor sizes, dtypes and layouts, paths. Anything else
# (a function to call, as a crafted file would hold) is refused before it runs.
INDEX_MODULES = ("torch.distributed.checkpoint.metadata",)
INDEX_NAMES = {
    ("torch.distributed.checkpoint.filesystem", "_StorageInfo"),
    ("torch", "Size"),
    ("torch.serialization", "_get_layout"),
    ("pathlib", "PosixPath"),
    ("pathlib", "WindowsPath"),
    ("pathlib", "PurePosixPath"),
    ("pathlib", "PureWindowsPath"),
    ("collections", "OrderedDict"),
}


class IndexUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str):
        found = super().find_class(module, name) if module.startswith("torch") else None
        allowed = (
            (module in INDEX_MODULES and isinstance(found, type))
            or (module, name) in INDEX_NAMES
            or (module == "torch" and isinstance(found, torch.dtype))
        )
        if not allowed:
            raise pickle.UnpicklingError(f"{module}.{name} is not part of a DCP index")
        return found if found is not None else super().find_class(module, name)


def checked_reader(folder: Path):
    """DCP's FileSystemReader, reading ``.metadata`` through ``IndexUnpickler``."""
    from torch.distributed.checkpoint import FileSystemReader
    from torch.distributed.checkpoint.metadata import StorageMeta

    class CheckedReader(FileSystemReader):
        def read_metadata(self, *args, **kwargs):
            with (folder / METADATA).open("rb") as handle:
                metadata = IndexUnpickler(handle).load()
            if getattr(metadata, "storage_meta", None) is None:
                metadata.storage_meta = StorageMeta()
            metadata.storage_meta.load_id = self.load_id
            return metadata

    return CheckedReader(folder)


class ShardFolders:
    """Shard folders as a checkpoint format of ``load_checkpoint`` and ``resume=auto``."""

    def owns(self, path: Path) -> bool:
        return is_shard_folder(path)

    def refuse(self, path: Path) -> None:
        if folder := inside_shard_folder(path):
            raise CheckpointError(
                f"{path} is one file of the shard folder {folder} (trainer.strategy=fsdp): "
                "give the folder itself as the checkpoint"
            )
        if path.suffix == SUFFIX and path.exists():
            raise CheckpointError(
                f"checkpoint {path} is not a shard folder written by train.py (no .metadata "
                "inside); give a .pt file or a shard folder (runs/<run>/checkpoints/last.dcp)"
            )

    def load(self, path: Path, map_location: str | torch.device) -> dict[str, Any]:
        return load_shard_folder(path, map_location)  # consolidated here, in one process

    def listed(self, directory: Path) -> list[Path]:
        return [path for path in shard_folders(directory) if is_shard_folder(path)]

    def training_state(self, path: Path) -> dict[str, Any]:
        return checked_state(path)


FORMATS.append(ShardFolders())
