"""The table of runs: every run directory under the given folders, read only.

    python runs.py [runs/ ...]                     # name, date, status, epochs, best, test, config
    python runs.py runs/sweeps/lr_width --sort test_accuracy --desc
    python runs.py --csv runs.csv                   # the same table as CSV (--csv - prints it)
    python runs.py --plot val_accuracy [--out val_accuracy.png]

Status: running (a process holds the run's lock), finished (test metrics written) or
stopped (killed, interrupted or crashed; resume it with resume=<run>/checkpoints/last.pt).
Config columns: only the keys whose value differs between the runs listed.
"""

import argparse
import sys
from pathlib import Path

from {{cookiecutter.project_slug}}.experiments.runs_report import plot, sort_rows
from {{cookiecutter.project_slug}}.experiments.runs_table import (
    find_runs,
    read_run,
    table_rows,
)
from {{cookiecutter.project_slug}}.experiments.table import format_table
from {{cookiecutter.project_slug}}.utils.csv_output import dicts_text
from {{cookiecutter.project_slug}}.utils.errors import ConfigError, error_boundary


def parse(argv):
    parser = argparse.ArgumentParser(description="List the runs under the given folders.")
    parser.add_argument("roots", nargs="*", type=Path, default=[Path("runs")])
    parser.add_argument("--sort", help="sort by this column (e.g. best, date, test_accuracy)")
    parser.add_argument("--desc", action="store_true", help="sort in descending order")
    parser.add_argument("--csv", help="write the table as CSV to this file ('-': print it)")
    parser.add_argument("--plot", metavar="METRIC", help="plot a metrics.csv column per epoch")
    parser.add_argument("--out", type=Path, help="the plot's PNG file (default: runs_<METRIC>.png)")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing --csv/--out")
    return parser.parse_args(argv)


def check_new_file(path: Path, overwrite: bool, option: str) -> None:
    if path.exists() and not overwrite:
        raise ConfigError(f"{option} {path} already exists; choose another name or add --overwrite")


@error_boundary
def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    for root in args.roots:
        if not root.is_dir():
            raise ConfigError(f"{root} is not a folder of runs")
    out = args.out or Path(f"runs_{args.plot}.png")
    if args.plot:
        check_new_file(out, args.overwrite, "--out")
    if args.csv and args.csv != "-":
        check_new_file(Path(args.csv), args.overwrite, "--csv")
    paths = find_runs(args.roots)
    if not paths:
        print(f"no runs in {', '.join(map(str, args.roots))}")
        return 0
    runs = [read_run(p) for p in paths]
    root = args.roots[0] if len(args.roots) == 1 else None
    rows = table_rows(runs, root)
    order = list(range(len(rows)))
    if args.sort:
        sorted_rows = sort_rows(rows, args.sort, args.desc)
        order = [next(i for i, r in enumerate(rows) if r is s) for s in sorted_rows]
        rows = sorted_rows
    columns = list(dict.fromkeys(key for row in rows for key in row))
    if args.csv:
        text = dicts_text(columns, rows)
        if args.csv == "-":
            sys.stdout.write(text)
        else:
            Path(args.csv).write_text(text, encoding="utf-8", newline="")
    if args.csv != "-":
        for line in format_table(rows, columns):
            print(line)
    if args.plot:
        plot([runs[i] for i in order], [r["run"] for r in rows], args.plot, out)
        print(f"plot: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
