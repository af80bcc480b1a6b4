"""The run layer, between the scripts and the parts they wire: resume resolution, the
run directory's claim, ``fit`` (what train.py runs), the test results' one writer, and
what happens after a graceful stop."""
{% if cookiecutter.profile == "full" %}
from . import requeue, start_checks  # noqa: F401  full's start checks and stop handling register
{%- endif %}
from .baseline import split_baselines
from .claim import RunDirClaim
from .fit import fit
from .results import (
    confusion_path,
    metrics_destination,
    print_baselines,
    print_metrics,
    report,
    write_test_metrics,
    write_test_results,
)
from .resume import AUTO, build_config
from .stop import report_stop

__all__ = [
    "AUTO",
    "RunDirClaim",
    "build_config",
    "confusion_path",
    "fit",
    "metrics_destination",
    "print_baselines",
    "print_metrics",
    "report",
    "report_stop",
    "split_baselines",
    "write_test_metrics",
    "write_test_results",
]
