"""Train a model.

    python train.py [-c configs/train.yaml] [key=value ...]
    python train.py trainer.epochs=5 data.batch_size=128 output_dir=runs/try1
{%- if cookiecutter.profile == "full" or cookiecutter.dataset != "digits" %}
    python train.py experiment=mnist_mlp data.root=/data
{%- endif %}
    python train.py resume=runs/try1/checkpoints/last.pt
    python train.py output_dir=runs/try1 resume=auto   # newest checkpoint there, or a new run
{%- if cookiecutter.profile == "full" %}
    torchrun --standalone --nproc_per_node=2 train.py
{%- endif %}

Wiring only: config -> data -> model -> trainer (which calls logger and saver); the
run layer ({{cookiecutter.project_slug}}/run/) resolves resume=, claims the run
directory and writes the test results.
"""
{%- if cookiecutter.profile == "full" %}

from torch.distributed.elastic.multiprocessing.errors import record
{%- endif %}

from {{cookiecutter.project_slug}}.run import build_config, fit, report_stop
from {{cookiecutter.project_slug}}.run.process import run_as_process
from {{cookiecutter.project_slug}}.trainer import TrainingInterrupted
{%- if cookiecutter.profile == "full" %}
from {{cookiecutter.project_slug}}.trainer.cluster_stop import catch_usr1_early
from {{cookiecutter.project_slug}}.utils import dist
{%- endif %}
from {{cookiecutter.project_slug}}.utils.errors import error_boundary


{% if cookiecutter.profile == "full" -%}
# Under torchrun, an uncaught exception's traceback goes to an error file that torchrun
# prints in its failure summary (outside torchrun it only enables faulthandler).
@record
{% endif -%}
@error_boundary
def main(argv: list[str] | None = None) -> int:
{%- if cookiecutter.profile == "full" %}
    catch_usr1_early()  # SLURM's stop signal during start-up: stop after one step, requeue
{%- endif %}
    try:
        config, checkpoint = build_config(argv)
        fit(config, checkpoint)
    except TrainingInterrupted as stop:
        return report_stop(stop)
{%- if cookiecutter.profile == "full" %}
    finally:
        dist.cleanup()  # leave the process group, also after an error
{%- endif %}
    return 0


if __name__ == "__main__":
    run_as_process(main{% if cookiecutter.profile == "full" %}, end=dist.end_process{% endif %})  # gc tuning: see there
