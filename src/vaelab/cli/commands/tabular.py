"""``vaelab tabular fit|resume|sample|report``: synthetic tables in a run directory.

``fit`` reads the table and the rules, checks them, and only then creates the
run directory (bad options, a bad file or a rule no row meets leave nothing
behind). The directory is the one of ``vaelab train`` (config.toml first,
checkpoints every epoch, history.csv, train.log, model/ last) plus
``split.json``, the real rows held out for the report. An interrupted fit
continues with ``vaelab tabular resume RUN``. pandas, torch and scikit-learn
are imported inside the commands.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from vaelab.cli.console import Console, format_table
from vaelab.cli.errors import ConfigError
from vaelab.cli.options import Debug, Force, Quiet, RunArg
from vaelab.cli.run_dir import RunDir
from vaelab.errors import InputError, ModelFileError

logger = logging.getLogger(__name__)

app = typer.Typer(
    name="tabular",
    help="Synthetic tables that obey hard constraints: fit, sample, report.",
    no_args_is_help=True,
    rich_markup_mode="markdown",
    context_settings={"help_option_names": ["-h", "--help"]},
)

FIT_EPILOG = """**Examples**

```
vaelab tabular fit ../shared/data/gbsg2.csv --constraints examples/gbsg2_rules.yaml --out runs/gbsg2
vaelab tabular fit data.csv --metadata columns.yaml --epochs 100 --dp-epsilon 3 --out runs/t-dp
```

A rules file is YAML or JSON: `constraints: [{type: range, column: age, low: 18, high: 90}, ...]`.
"""


@dataclasses.dataclass(frozen=True)
class TabularRunConfig:
    """The options of a ``vaelab tabular fit`` run, as written to its ``config.toml``."""

    data: str
    constraints: str = ""
    metadata: str = ""
    encoding: str = "utf-8"
    epochs: int = 300
    batch_size: int = 500
    latent_dim: int = 32  # TabularVAE's DEFAULT_LATENT_DIM
    hidden_dims: list[int] = dataclasses.field(default_factory=lambda: [128, 128])  # and its DEFAULT_HIDDEN_DIMS
    learning_rate: float = 1e-3
    dp_epsilon: float = 0.0  # 0: no differential privacy
    dp_delta: float = 0.0  # 0: 1 / (10 n)
    holdout: float = 0.2
    seed: int = 0
    device: str = "cpu"
    threads: int = 0  # torch CPU threads while fitting (0: torch's default, one per core)
    kind: str = "tabular"

    def to_toml(self) -> str:
        import tomli_w

        header = "# vaelab tabular run; `vaelab tabular resume <run>` continues it.\n"
        return header + tomli_w.dumps(dataclasses.asdict(self))

    @classmethod
    def load(cls, run: RunDir) -> TabularRunConfig:
        from vaelab.cli.config import RunConfig

        values = RunConfig.read_toml(run.config_file)
        if values.get("kind") != "tabular":
            raise ConfigError(f"{run.root} is not a tabular run (its config.toml has no kind = 'tabular'); "
                              "give a folder written by `vaelab tabular fit`")
        names = {f.name for f in dataclasses.fields(cls)}
        values.setdefault("hidden_dims", [128, 128])  # a run from before the key: the default then (and now)
        unknown = set(values) - names
        if unknown:
            raise ConfigError(f"{run.config_file}: unknown keys {sorted(unknown)}")
        return cls(**values)

    def estimator(self) -> Any:
        from vaelab.tabular import TabularVAE

        return TabularVAE(
            constraints=self.constraints or None,
            metadata=self.metadata or None,
            encoding=self.encoding,
            epochs=self.epochs,
            batch_size=self.batch_size,
            latent_dim=self.latent_dim,
            network={"kind": "mlp", "hidden_dims": list(self.hidden_dims)},
            learning_rate=self.learning_rate,
            dp_epsilon=self.dp_epsilon or None,
            dp_delta=self.dp_delta or None,
            seed=self.seed,
            device=self.device,
        )


def _hidden_dims(text: str) -> list[int]:
    from vaelab.cli.train_options import parse_dims

    dims = parse_dims(text)
    if not dims or min(dims) < 1:
        raise ConfigError(f"--hidden-dims must be positive widths separated by commas, such as 64,64; got {text!r}")
    return list(dims)


def _split(n: int, holdout: float, seed: int) -> list[int]:
    """Row numbers held out for the report (seeded)."""
    import numpy as np

    k = int(round(n * holdout))
    return sorted(int(i) for i in np.random.default_rng(seed).permutation(n)[:k])


def _read(config: TabularRunConfig) -> Any:
    from vaelab.tabular.io import read_table

    return read_table(config.data, encoding=config.encoding, name="DATA")


def _train_rows(df: Any, held: list[int]) -> tuple[Any, Any]:
    mask = df.index.isin(held)
    return df[~mask].reset_index(drop=True), df[mask].reset_index(drop=True)


def _fit(run: RunDir, config: TabularRunConfig, df: Any, *, resume: bool, console: Console) -> None:
    from vaelab._runtime import flush_denormals_in_process, torch_threads
    from vaelab.cli.callbacks import EpochLogger, HistoryWriter
    from vaelab.serialization import read_json, write_json
    from vaelab.training import ProgressBar, has_checkpoint

    flush_denormals_in_process()  # before torch starts its worker threads, which inherit it

    split_file = run.root / "split.json"
    if resume and split_file.is_file():
        held = read_json(split_file, "split file")["holdout_rows"]
    else:
        held = _split(len(df), config.holdout, config.seed)
        write_json(split_file, {"holdout_rows": held, "rows": len(df)})
    train, _ = _train_rows(df, held)
    model = config.estimator()
    callbacks: list[Any] = [HistoryWriter(run), EpochLogger()]
    callbacks += [] if console.quiet else [ProgressBar(stream=console.stderr)]
    with run.logging_to_file():
        console.note(f"fitting TabularVAE on {len(train)} rows x {train.shape[1]} columns ({len(held)} held out) -> {run.root}")
        started = time.perf_counter()
        try:
            with torch_threads(config.threads):
                model.fit(train, checkpoint_dir=run.checkpoints, resume=resume and has_checkpoint(run.checkpoints),
                          callbacks=callbacks)
        except KeyboardInterrupt:
            console.note(f"interrupted: continue with `vaelab tabular resume {run.root}`")
            raise
        seconds = time.perf_counter() - started
        model.save(run.model_dir)
        run.write_history(model.history_)
        run.update_metrics("training", {"seconds": seconds, "epochs": len(model.history_), "rows": len(train)})
        if model.privacy_:
            run.update_metrics("differential_privacy", model.privacy_)
    for v in model.pipeline_.violations:
        console.note(f"left out {v.count} rows violating {v.constraint} (rows {v.rows})")
    console.result(f"run directory: {run.root}")
    if model.privacy_:
        console.result(f"differential privacy: epsilon {model.privacy_['epsilon']:.3g} at delta {model.privacy_['delta']:.3g}")
    console.note(f"next: vaelab tabular sample {run.root} -n 1000 --out synth.csv")
    console.note(f"      vaelab tabular report {run.root}")


@app.command("fit", epilog=FIT_EPILOG)
def fit_command(
    data: Annotated[Path, typer.Argument(help="A CSV file with a header line.", show_default=False)],
    constraints: Annotated[Optional[Path], typer.Option("--constraints", "-c", help="Rules file (YAML or JSON).")] = None,
    metadata: Annotated[Optional[Path], typer.Option("--metadata", help="Column types file (YAML or JSON).")] = None,
    out: Annotated[Optional[Path], typer.Option("--out", "-o", help="The run directory. [default: runs/<file>-tabular]")] = None,
    epochs: Annotated[int, typer.Option("--epochs", min=1, help="Training epochs.")] = 300,
    batch_size: Annotated[int, typer.Option("--batch-size", min=1, help="Rows per batch.")] = 500,
    latent_dim: Annotated[int, typer.Option("--latent-dim", min=1, help="Size of the latent code.")] = 32,
    hidden_dims: Annotated[
        str, typer.Option("--hidden-dims", help="Comma-separated widths of the hidden layers (64,64 fits faster, "
                                                "with a somewhat lower quality on most tables).")
    ] = "128,128",
    dp_epsilon: Annotated[Optional[float], typer.Option("--dp-epsilon", min=0.0, help="Train with DP-SGD to this epsilon.")] = None,
    dp_delta: Annotated[Optional[float], typer.Option("--dp-delta", help="DP delta. [default: 1/(10 n)]")] = None,
    holdout: Annotated[float, typer.Option("--holdout", min=0.0, max=0.9, help="Share of rows held out for the report.")] = 0.2,
    encoding: Annotated[str, typer.Option("--encoding", help="Text encoding of the CSV file.")] = "utf-8",
    seed: Annotated[int, typer.Option("--seed", min=0, help="Seed of the split, the weights and the noise.")] = 0,
    device: Annotated[str, typer.Option("--device", help="auto, cpu, cuda or mps.")] = "cpu",
    threads: Annotated[
        int,
        typer.Option(
            "--threads",
            min=0,
            help="CPU threads for torch (0: one per core). A small table on a busy machine fits fastest with 1.",
        ),
    ] = 0,
    force: Force = False,
    quiet: Quiet = False,
    debug: Debug = False,
) -> None:
    """Fit a TabularVAE to a CSV table, with hard constraints, into a run directory."""
    console = Console(quiet=quiet)
    with console.logging():
        for path, what in ((constraints, "--constraints"), (metadata, "--metadata")):
            if path is not None and not path.is_file():
                raise ConfigError(f"{what} {path}: no such file")
        config = TabularRunConfig(
            data=str(data.resolve()),
            constraints=str(constraints.resolve()) if constraints else "",
            metadata=str(metadata.resolve()) if metadata else "",
            encoding=encoding,
            epochs=epochs,
            batch_size=batch_size,
            latent_dim=latent_dim,
            hidden_dims=_hidden_dims(hidden_dims),
            dp_epsilon=dp_epsilon or 0.0,
            dp_delta=dp_delta or 0.0,
            holdout=holdout,
            seed=seed,
            device=device,
            threads=threads,
        )
        run = RunDir.check_new(out if out is not None else Path("runs") / f"{data.stem}-tabular", force=force)
        df = _read(config)
        model = config.estimator()  # the rules and column types are checked before the folder exists
        from vaelab.tabular.rules import check_table
        from vaelab.tabular.schema import Schema

        _, coerced = Schema.infer(df, model._parsed_metadata())
        check_table(coerced, model._parsed_constraints())
        run.create(config)
        try:
            _fit(run, config, df, resume=False, console=console)
        except Exception:
            from vaelab.cli.commands.train import discard_if_unstarted

            discard_if_unstarted(run)
            raise


@app.command("resume")
def resume_command(run: RunArg, quiet: Quiet = False, debug: Debug = False) -> None:
    """Continue an interrupted `vaelab tabular fit` from its last checkpoint."""
    console = Console(quiet=quiet)
    with console.logging():
        run_dir = RunDir.open(run, made_by="vaelab tabular fit")
        config = TabularRunConfig.load(run_dir)
        if run_dir.complete:
            raise InputError(f"{run_dir.root} is complete (its model/ is saved): nothing to resume")
        _fit(run_dir, config, _read(config), resume=True, console=console)


def _conditions(items: list[str]) -> dict[str, str]:
    out = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise ConfigError(f"--condition must be COLUMN=VALUE, got {item!r}")
        out[name.strip()] = value.strip()
    return out


def _load(run: Path) -> tuple[RunDir, TabularRunConfig, Any]:
    from vaelab.estimators import load

    run_dir = RunDir.open(run, made_by="vaelab tabular fit")
    config = TabularRunConfig.load(run_dir)
    if not run_dir.complete:
        raise ModelFileError(f"{run_dir.root} has no model yet: continue it with `vaelab tabular resume {run_dir.root}`")
    return run_dir, config, load(run_dir.model_dir)


@app.command("sample", epilog="**Example**\n\n```\nvaelab tabular sample runs/gbsg2 -n 1000 --out synth.csv --condition horTh=yes\n```\n")
def sample_command(
    run: RunArg,
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
    run: RunArg,
    target: Annotated[Optional[str], typer.Option("--target", help="ML-efficacy target column. [default: the last]")] = None,
    n: Annotated[Optional[int], typer.Option("-n", "--rows", min=1, help="Synthetic rows. [default: as many as training rows]")] = None,
    seed: Annotated[int, typer.Option("--seed", min=0, help="Seed of the synthetic draw.")] = 0,
    force: Force = False,
    quiet: Quiet = False,
    debug: Debug = False,
) -> None:
    """Quality (shapes, pair trends), ML efficacy, constraint validity and privacy: RUN/report/report.html + .json."""
    from vaelab.cli.run_dir import jsonable
    from vaelab.report.html import write_page
    from vaelab.serialization import read_json, write_json
    from vaelab.tabular.quality import quality_report, report_sections

    console = Console(quiet=quiet)
    with console.logging():
        run_dir, config, model = _load(run)
        if run_dir.report_dir.exists() and not force:
            raise FileExistsError(f"{run_dir.report_dir} already exists; pass --force to rebuild the report")
        df = _read(config)
        split = read_json(run_dir.root / "split.json", "split file")
        train, holdout = _train_rows(df, split["holdout_rows"])
        synth = model.sample(n or len(train), seed=seed)
        report = jsonable(quality_report(model, train, holdout, synth, target=target, seed=seed))
        page = write_page(run_dir.report_dir, f"Synthetic table report: {Path(config.data).name}",
                          f"TabularVAE, {config.epochs} epochs", report_sections(report), overwrite=force)
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
