"""A real single-node SLURM cluster for one test session, in a temporary folder.

Debian's ``munge``, ``slurmctld``, ``slurmd`` and ``slurm-client`` packages, started as
root with a munge key, a ``slurm.conf`` naming this host (as ``slurmd -C`` describes it,
on 127.0.0.1 and free ports) and every state, spool, log and pid file in the folder: the
machine's own /etc/slurm and /etc/munge are not read or changed, two sessions side by
side do not meet, and ``stop()`` ends the daemons this object started (by their pid).
``unavailable()`` says why it cannot run here, for a skip.
"""

import os
import re
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

COMMANDS = ("munged", "slurmctld", "slurmd", "sbatch", "scontrol", "squeue", "srun")
PACKAGES = "slurmctld slurmd slurm-client munge"

SLURM_CONF = """\
ClusterName=templatetest
SlurmctldHost={node}(127.0.0.1)
SlurmctldPort={ctld_port}
SlurmdPort={d_port}
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
# cred_expire: also how long SLURM holds a requeued job before it may start again (a
# relaunch while the old credential is still revoked fails); 120 s by default.
AuthInfo=socket={munge_socket},cred_expire=10
CredType=cred/munge
StateSaveLocation={root}/state
SlurmdSpoolDir={root}/spool
SlurmctldPidFile={root}/slurmctld.pid
SlurmdPidFile={root}/slurmd.pid
SlurmctldLogFile={root}/log/slurmctld.log
SlurmdLogFile={root}/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SwitchType=switch/none
MpiDefault=none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
JobRequeue=1
MinJobAge=600
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
{node_line} NodeAddr=127.0.0.1 State=UNKNOWN
PartitionName=test Nodes={node} Default=YES MaxTime=INFINITE State=UP
"""


def unavailable() -> str | None:
    """Why this machine cannot run the cluster, or None."""
    if os.name != "posix" or os.geteuid() != 0:
        return "starting munged, slurmctld and slurmd needs root"
    missing = [name for name in COMMANDS if shutil.which(name) is None]
    if missing:
        return f"not installed: {', '.join(missing)} (apt-get install -y {PACKAGES})"
    return None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class SlurmCluster:
    def __init__(self) -> None:
        # Its own folder in /tmp, not pytest's: munged wants every folder above its
        # socket open to all (pytest's base folder is private).
        root = Path(tempfile.mkdtemp(prefix="slurm-cluster-"))
        root.chmod(0o755)
        self.root = root
        self.daemons: list[subprocess.Popen] = []
        self.env = {**os.environ, "SLURM_CONF": str(root / "slurm.conf")}

    def start(self) -> None:
        """Write the key and slurm.conf, start the three daemons, wait until the node is idle.
        Raises RuntimeError (with the daemons' last log lines) when the cluster does not
        come up within a minute."""
        root = self.root
        for name in ("key", "socket", "state", "spool", "log"):
            (root / name).mkdir(parents=True, exist_ok=True)
        # munged checks permissions: a key only root reads, a socket folder all can enter.
        (root / "key").chmod(0o700)
        (root / "socket").chmod(0o755)
        key = root / "key" / "munge.key"
        if not key.exists():
            key.write_bytes(os.urandom(1024))
        key.chmod(0o400)
        munge_socket = root / "socket" / "munge.sock"
        node_line = subprocess.run(
            ["slurmd", "-C"], capture_output=True, text=True, check=True
        ).stdout.splitlines()[0]  # NodeName=<host> CPUs=... RealMemory=...
        node = re.match(r"NodeName=(\S+)", node_line).group(1)
        (root / "slurm.conf").write_text(
            SLURM_CONF.format(
                root=root,
                node=node,
                node_line=node_line,
                ctld_port=free_port(),
                d_port=free_port(),
                munge_socket=munge_socket,
            )
        )
        self.node = node
        self._daemon(
            "munged",
            "--foreground",
            f"--key-file={key}",
            f"--socket={munge_socket}",
            f"--pid-file={root / 'munged.pid'}",
            f"--seed-file={root / 'key' / 'munged.seed'}",
            f"--log-file={root / 'log' / 'munged.log'}",
        )
        self._wait(lambda: munge_socket.exists(), "munged did not create its socket")
        conf = str(root / "slurm.conf")
        # -i: ignore state a killed earlier start of this folder left behind.
        self._daemon("slurmctld", "-D", "-i", "-f", conf)
        self._daemon("slurmd", "-D", "-f", conf, "-N", node)
        self._wait(self._node_idle, "the node did not become idle")

    def _daemon(self, *command: str) -> None:
        log = open(self.root / "log" / f"{command[0]}.out", "ab")  # noqa: SIM115 - kept open
        self.daemons.append(
            subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=self.env)
        )

    def _node_idle(self) -> bool:
        done = self.run("sinfo", "--noheader", "--format=%T", check=False)
        return done.returncode == 0 and done.stdout.strip() == "idle"

    def _wait(self, ready, problem: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            dead = [p.args[0] for p in self.daemons if p.poll() is not None]
            if dead:
                raise RuntimeError(f"{', '.join(dead)} exited at start:\n{self.logs()}")
            if ready():
                return
            time.sleep(0.2)
        raise RuntimeError(f"{problem} within {timeout} s:\n{self.logs()}")

    def logs(self, lines: int = 15) -> str:
        texts = []
        for path in sorted((self.root / "log").glob("*")):
            tail = path.read_text(errors="replace").splitlines()[-lines:]
            texts.append(f"--- {path.name}\n" + "\n".join(tail))
        return "\n".join(texts)

    def run(self, *command: str, check: bool = True) -> subprocess.CompletedProcess:
        done = subprocess.run(command, capture_output=True, text=True, env=self.env, timeout=60)
        if check and done.returncode != 0:
            raise RuntimeError(f"{' '.join(command)}: {done.stderr.strip()}")
        return done

    def job(self, job_id: str) -> dict[str, str]:
        """``scontrol show job``'s fields (JobState, Restarts, BeginTime, ExitCode...)."""
        text = self.run("scontrol", "--oneliner", "show", "job", job_id).stdout
        return dict(re.findall(r"(\w+)=(\S*)", text))

    def wait_job(
        self, job_id: str, until, timeout: float, what: str, output: Path
    ) -> dict[str, str]:
        """Poll ``scontrol show job`` until ``until(fields)``; else fail with the job's
        ``output`` file and the daemons' logs."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            fields = self.job(job_id)
            if until(fields):
                return fields
            time.sleep(0.5)
        text = output.read_text()[-5000:] if output.exists() else f"no {output}"
        raise AssertionError(
            f"job {job_id}: {what} within {timeout} s: {fields}\n{text}\n{self.logs(5)}"
        )

    def stop(self) -> None:
        """Cancel every job, wait for their processes to end (slurmd's job steps outlive
        it), end the daemons this object started, remove the folder."""
        if any(p.poll() is None for p in self.daemons):
            self.run("scancel", "--full", "--partition=test", check=False)
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                queue = self.run("squeue", "--noheader", check=False)
                if queue.returncode != 0 or not queue.stdout.strip():
                    break
                time.sleep(0.5)
        for process in reversed(self.daemons):  # slurmd, slurmctld, then munged
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
        self.daemons.clear()
        shutil.rmtree(self.root, ignore_errors=True)
