"""``vaelab tabular fit|resume|sample|report``: synthetic tables in a run directory.

``fit`` is :func:`vaelab.runs.run` on a TabularVAE, the lifecycle of ``vaelab
train``: it reads the table and the rules, checks them, and only then creates
the run directory (bad options, a bad file or a rule no row meets leave nothing
behind), with config.toml first, checkpoints every epoch, history.csv,
train.log, model/ last, plus ``split.json``, the real rows held out for the
report. Its flags are TabularVAE's declared parameters
(:mod:`vaelab.tabular.params`) and the table's and the run's. An interrupted
fit continues with ``vaelab tabular resume RUN``. pandas, torch and
scikit-learn are imported inside the commands.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from vaelab.cli.console import Console, format_table
from vaelab.cli.errors import ConfigError
from vaelab.cli.flags import given_values, spec_from, with_declared_options
from vaelab.cli.options import Debug, Force, Quiet
from vaelab.errors import InputError, ModelFileError
from vaelab.params import OUTPUT
from vaelab.runs.run_dir import RunDir
from vaelab.runs.spec import TABLE_DATA_PARAMS, TABLE_RUN_PARAMS, RunSpec
from vaelab.tabular.params import TABULAR_PARAMS

logger = logging.getLogger(__name__)

app = typer.Typer(
    name="tabular",
    help="Synthetic tables that obey hard constraints: fit, sample, report.",
    no_args_is_help=True,
    rich_markup_mode="markdown",
    context_settings={"help_option_names": ["-h", "--help"]},
)

TableRun = Annotated[Path, typer.Argument(help="A run directory written by `vaelab tabular fit`.", show_default=False)]

FIT_EPILOG = """**Examples**

```
vaelab tabular fit ../shared/data/gbsg2.csv --constraints examples/gbsg2_rules.yaml --out runs/gbsg2
vaelab tabular fit data.csv --metadata columns.yaml --epochs 100 --dp-epsilon 3 --out runs/t-dp
```

A rules file is YAML or JSON: `constraints: [{type: range, column: age, low: 18, high: 90}, ...]`.
Every option is a parameter of TabularVAE (or of the table or the run), declared once: `TabularVAE(epochs=100, ...)`
in Python; `--config` takes a TOML file of them, or a run's config.toml.
"""


#: the flags of `vaelab tabular fit`
FIT_SETS = {"tabular": TABULAR_PARAMS, "data": TABLE_DATA_PARAMS, "run": TABLE_RUN_PARAMS}


@app.command("fit", epilog=FIT_EPILOG)
def fit_command(
    data: Annotated[Path, typer.Argument(help="A CSV file with a header line.", show_default=False)],
    config_file: Annotated[
        Optional[Path],
        typer.Option("--config", rich_help_panel=OUTPUT, show_default=False,
                     help="A TOML file of options (same names, e.g. epochs = 100), or a run's config.toml; "
                          "command-line options override it."),
    ] = None,
    out: Annotated[
        Optional[Path],
        typer.Option("--out", "-o", rich_help_panel=OUTPUT, show_default=False,
                     help="The run directory. [default: runs/FILE-tabular, FILE the CSV file's name]"),
    ] = None,
    force: Force = False,
    quiet: Quiet = False,
    debug: Debug = False,
    **declared: Any,
) -> None:
    """Fit a TabularVAE to a CSV table, with hard constraints, into a run directory."""
    from vaelab.runs.pipeline import run

    given = given_values(declared, list(FIT_SETS.values()))
    given["data"] = str(data)
    console = Console(quiet=quiet)
    with console.logging():
        for name in ("constraints", "metadata"):
            if name in given and not Path(given[name]).is_file():
                raise ConfigError(f"--{name} {given[name]}: no such file")
        spec = spec_from(given, config_file=config_file, estimator="TabularVAE")
        if not spec.is_table:
            raise ConfigError(f"{config_file} describes a {spec.estimator} run; `vaelab tabular fit` fits tables "
                              "(use `vaelab train --config` for it)")
        run(spec, out, force=force, reporter=console)


with_declared_options(fit_command, FIT_SETS, exclude=("data",))


@app.command("resume")
def resume_command(run: TableRun, quiet: Quiet = False, debug: Debug = False) -> None:
    """Continue an interrupted `vaelab tabular fit` from its last checkpoint."""
    from vaelab.runs.pipeline import resume

    console = Console(quiet=quiet)
    with console.logging():
        resume(run, reporter=console, table=True)


def _conditions(items: list[str]) -> dict[str, str]:
    out = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise ConfigError(f"--condition must be COLUMN=VALUE, got {item!r}")
        out[name.strip()] = value.strip()
    return out


def _load(run: Path) -> tuple[RunDir, RunSpec, Any]:
    from vaelab.estimators import load

    run_dir = RunDir.open(run, made_by="vaelab tabular fit")
    spec = run_dir.config()
    if not spec.is_table:
        raise InputError(f"{run_dir.root} holds a {spec.estimator} run, not a table's; `vaelab tabular` commands "
                         "take runs of `vaelab tabular fit`")
    if not run_dir.complete:
        raise ModelFileError(f"{run_dir.root} has no model yet: continue it with `vaelab tabular resume {run_dir.root}`")
    return run_dir, spec, load(run_dir.model_dir)


@app.command("sample", epilog="**Example**\n\n```\nvaelab tabular sample runs/gbsg2 -n 1000 --out synth.csv --condition horTh=yes\n```\n")
def sample_command(
    run: TableRun,
    n: Annotated[int, typer.Option("-n", "--rows", min=1, help="Rows to draw.")] = 1000,
    out: Annotated[Optional[Path], typer.Option("--out", "-o", help="CSV file. [default: RUN/synthetic.csv]")] = None,
    condition: Annotated[Optional[list[str]], typer.Option("--condition", help="COLUMN=VALUE; repeat for several.")] = None,
    seed: Annotated[int, typer.Option("--seed", min=0, help="Seed of the draw.")] = 0,
    force: Force = False,
    quiet: Quiet = False,
    debug: Debug = False,
) -> None:
    """Draw synthetic rows that meet every rule, as a CSV file."""
    from vaelab.serialization import atomic_write_text

    console = Console(quiet=quiet)
    with console.logging():
        run_dir, _, model = _load(run)
        path = run_dir.output_path(out, "synthetic.csv", force=force, folder=".")
        rows = model.sample(n, seed=seed, conditions=_conditions(condition or []) or None)
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(path, rows.to_csv(index=False))
        console.result(f"wrote {len(rows)} rows to {path}")


@app.command("report", epilog="**Example**\n\n```\nvaelab tabular report runs/gbsg2 --target cens\n```\n")
def report_command(
    run: TableRun,
    target: Annotated[Optional[str], typer.Option("--target", help="ML-efficacy target column. [default: the last]")] = None,
    n: Annotated[Optional[int], typer.Option("-n", "--rows", min=1, help="Synthetic rows. [default: as many as training rows]")] = None,
    seed: Annotated[int, typer.Option("--seed", min=0, help="Seed of the synthetic draw.")] = 0,
    force: Force = False,
    quiet: Quiet = False,
    debug: Debug = False,
) -> None:
    """Quality (shapes, pair trends), ML efficacy, constraint validity and privacy: RUN/report/report.html + .json."""
    from vaelab.report.html import write_page
    from vaelab.runs.pipeline import load_data
    from vaelab.serialization import jsonable
    from vaelab.serialization import write_json
    from vaelab.tabular.quality import quality_report, report_sections

    console = Console(quiet=quiet)
    with console.logging():
        run_dir, config, model = _load(run)
        if run_dir.report_dir.exists() and not force:
            raise FileExistsError(f"{run_dir.report_dir} already exists; pass --force to rebuild the report")
        table = load_data(config, run_dir)
        train, holdout = table.train, table.holdout
        synth = model.sample(n or len(train), seed=seed)
        report = jsonable(quality_report(model, train, holdout, synth, target=target, seed=seed))
        page = write_page(run_dir.report_dir, f"Synthetic table report: {Path(config.value('data')).name}",
                          f"TabularVAE, {config.value('epochs')} epochs", report_sections(report), overwrite=force)
        write_json(run_dir.report_dir / "report.json", report)
        run_dir.update_metrics("quality", {k: report["quality"][k] for k in ("score", "column_shapes", "column_pair_trends")})
        q = report["quality"]
        rows = [["quality score", q["score"]], ["column shapes", q["column_shapes"]],
                ["column-pair trends", q["column_pair_trends"]], ["constraint validity", report["validity"]["all"]]]
        if "ml_efficacy" in report:
            m = report["ml_efficacy"]
            rows += [[f"ML efficacy, real ({m['metric']})", m["train_real_test_real"]],
                     [f"ML efficacy, synthetic ({m['metric']})", m["train_synthetic_test_real"]]]
        if "privacy" in report:
            rows += [["DCR median, synthetic", report["privacy"]["dcr_synthetic_median"]],
                     ["DCR median, holdout", report["privacy"]["dcr_holdout_median"]],
                     ["exact copies", report["privacy"]["exact_copy_share"]]]
        console.result(format_table(["measure", "value"], rows))
        console.result(f"report: {page}")
