"""What a sweep leaves next to its trials: the best trial's config (a file ``train.py -c``
accepts), a CSV of every trial, and Optuna's matplotlib plots."""

import warnings
from pathlib import Path

import optuna
from omegaconf import OmegaConf

from ..utils.csv_output import write_dicts
from ..utils.errors import first_line
from ..utils.run_dir import RunFiles
from .search_space import SweepSpec
from .table import format_table


def trial_rows(study: optuna.Study, spec: SweepSpec) -> list[dict]:
    rows = []
    trials = study.get_trials(deepcopy=False)
    tests = sorted({key for t in trials for key in t.user_attrs if key.startswith("test_")})
    for trial in trials:
        row = {"trial": trial.number, "state": trial.state.name.lower()}
        row[spec.monitor] = trial.value if trial.value is not None else ""
        for param in spec.params:
            value = trial.params.get(param.key, "")
            row[param.key] = param.decode(value) if value != "" else ""
        for key in ("epochs", "pruned_at_epoch", "retry_of"):
            row[key] = trial.user_attrs.get(key, "")
        for key in tests:
            row[key] = trial.user_attrs.get(key, "")
        duration = trial.duration.total_seconds() if trial.duration else ""
        row["seconds"] = round(duration, 1) if duration != "" else ""
        row["run_dir"] = trial.user_attrs.get("run_dir", "")
        rows.append(row)
    return rows


def write_reports(study: optuna.Study, spec: SweepSpec, sweep_dir: Path) -> list[str]:
    """Write the reports; return the lines to print (a table of the trials, the files)."""
    rows = trial_rows(study, spec)
    columns = list(dict.fromkeys(key for row in rows for key in row))
    with (sweep_dir / "trials.csv").open("w", newline="", encoding="utf-8") as handle:
        write_dicts(handle, columns, rows)
    lines = format_table(rows, [c for c in columns if c != "run_dir"])
    done = [
        t for t in study.get_trials(deepcopy=False) if t.state == optuna.trial.TrialState.COMPLETE
    ]
    if not done:
        return [*lines, f"no completed trial yet; trials: {sweep_dir / 'trials.csv'}"]
    best = study.best_trial
    best_file = sweep_dir / "best_config.yaml"
    config = OmegaConf.load(RunFiles(best.user_attrs["run_dir"]).config)
    # A config for a new run: its own output_dir, nothing to resume, the experiment
    # already merged in.
    config.output_dir, config.resume, config.overwrite, config.experiment = None, None, False, None
    header = (
        f"# best trial {best.number} of study {spec.study}: {spec.monitor}={best.value:.6g}\n"
        f"# train it again: python train.py -c {best_file}\n"
    )
    best_file.write_text(header + OmegaConf.to_yaml(config), encoding="utf-8")
    lines += [
        f"best: trial {best.number} ({spec.monitor} {best.value:.4f}) "
        + " ".join(f"{p.key}={p.decode(best.params[p.key])}" for p in spec.params),
        f"best config: {best_file}",
        f"trials: {sweep_dir / 'trials.csv'}",
    ]
    lines += plot(study, sweep_dir)
    return lines


def plot(study: optuna.Study, sweep_dir: Path) -> list[str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from optuna.visualization import matplotlib as optuna_plots

    lines = []
    complete = study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))
    drawings = {
        "optimization_history.png": optuna_plots.plot_optimization_history,
        "param_importances.png": optuna_plots.plot_param_importances,
    }
    for name, draw in drawings.items():
        if name == "param_importances.png" and len(complete) < 2:
            lines.append(f"{name} not drawn: importances need 2 completed trials or more")
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            try:
                axes = draw(study)
            except (ValueError, RuntimeError) as error:  # e.g. importances need 2+ trials
                lines.append(f"{name} not drawn: {first_line(error)}")
                continue
        axes.figure.savefig(sweep_dir / name, dpi=100, bbox_inches="tight")
        plt.close(axes.figure)
        lines.append(f"plot: {sweep_dir / name}")
    return lines
