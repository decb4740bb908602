"""Reports of runs: a run's recorded test figures, and several runs compared side by side."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from vaelab.errors import InputError
from vaelab.runs.evaluation import feature_choice, run_metrics
from vaelab.runs.loaded import LoadedRun
from vaelab.runs.pipeline import LogReporter
from vaelab.runs.run_dir import RunDir


def recorded_test_metrics(
    run: RunDir, estimator: Any, x: Any, seed: int, features: Path | None = None, config: Any = None, y: Any = None
) -> dict[str, Any]:
    """The run's recorded test metrics, computing (and saving) them if there are none.

    ``features`` (a ``--features`` folder) recomputes them with that feature classifier; ``y`` are the
    labels of ``x`` (a conditional model is measured given them).
    """
    recorded = run.metrics().get("test")
    if recorded and features is None:
        return recorded
    config = config if config is not None else run.config()
    classifier = feature_choice(config, features, tuple(estimator.input_shape_))
    return run.update_metrics("test", run_metrics(estimator, x, y=y, seed=seed, features=classifier))["test"]


def history_of(estimator: Any) -> list[dict[str, Any]]:
    """The fitted estimator's per-epoch history (none for PCA)."""
    return list(getattr(estimator, "history_", None) or [])


def unique_names(runs: list[RunDir]) -> list[str]:
    """Folder names, prefixed by their parents' where two runs share one."""
    names = [r.root.name for r in runs]
    if len(set(names)) == len(names):
        return names
    return [str(Path(r.root.parent.name) / r.root.name) for r in runs]


def compare_runs(
    paths: list[Path], out: Path | None, *, force: bool, seed: int, reporter: Any = None, no_verify: bool = False
) -> Path:
    """Write the comparison report of the runs at ``paths``; returns the HTML file.

    ``no_verify`` skips the checksums of the runs' built-in data set.
    """
    from vaelab.runs.data import load_run_data, pick_split
    from vaelab.report import ComparedModel, build_comparison_report

    if not paths:
        raise InputError("give at least one run directory to compare")
    loaded = [LoadedRun.open(p, no_verify=no_verify) for p in paths]
    target = Path(out) if out is not None else loaded[0].run.root.parent / "comparison"
    if target.exists() and not force:
        raise FileExistsError(f"{target} already exists; pass --force to rebuild it or choose another --out")
    first = loaded[0].config
    for other in loaded[1:]:
        where = (other.config.value("data"), other.config.value("data_dir"))
        if where != (first.value("data"), first.value("data_dir")):
            raise InputError(
                f"{other.run.root} was trained on {where[0]!r} but {loaded[0].run.root} on {first.value('data')!r}; "
                "compare runs on the same data"
            )
    dataset = load_run_data(first)
    x, y = pick_split(dataset, "test")
    names = unique_names([lr.run for lr in loaded])
    models = []
    for name, lr in zip(names, loaded, strict=True):
        metrics = dict(recorded_test_metrics(lr.run, lr.estimator, x, first.seed, y=y))
        training = lr.run.metrics().get("training", {})
        if "seconds" in training:
            metrics["fit_seconds"] = training["seconds"]
        models.append(ComparedModel(name, lr.estimator, metrics))
    (reporter or LogReporter()).note(f"comparing {', '.join(names)} on {len(x)} test examples ...")
    return build_comparison_report(
        models,
        x,
        out_dir=target,
        title="vaelab comparison",
        description=dataset.description,
        seed=seed,
        overwrite=force,
        y=y,
    )
