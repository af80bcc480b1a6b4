"""The kill wrapper's rules for torchrun jobs (resume_tools.write_killer's ``extra``):
which rank dies, once, and a line when a restarted group trains again."""

from pathlib import Path

from .resume_tools import write_killer

RANK_RULES = """\
def may_die():
    # KILL_RANK set: only that rank dies, and only in the first attempt (a group
    # restarted by torchrun --max-restarts has TORCHELASTIC_RESTART_COUNT > 0).
    rank = os.environ.get("KILL_RANK")
    first_attempt = os.environ.get("TORCHELASTIC_RESTART_COUNT", "0") == "0"
    if rank is not None and (os.environ.get("RANK") != rank or not first_attempt):
        return False
    # KILL_ONCE=<file>: one kill in all, whichever process gets here first. Two torchrun
    # agents count restarts apart: the one whose process lived restarts it with count 0.
    once = os.environ.get("KILL_ONCE")
    if once:
        try:
            os.close(os.open(once, os.O_CREAT | os.O_EXCL))
        except FileExistsError:
            return False
    return True


if os.environ.get("TORCHELASTIC_RESTART_COUNT", "0") != "0":  # a group torchrun restarted
    trained_step, announced = base.BaseTrainer.after_optimizer_step, []

    def announcing_after_optimizer_step(self, *args, **kwargs):
        trained_step(self, *args, **kwargs)
        if not announced:  # its first step
            print(f"training again at {time.time():.3f}", flush=True)
            announced.append(True)

    base.BaseTrainer.after_optimizer_step = announcing_after_optimizer_step
"""


def write_rank_killer(directory: Path) -> Path:
    """``write_killer`` with the rules above: for train.py under torchrun."""
    return write_killer(directory, RANK_RULES)
