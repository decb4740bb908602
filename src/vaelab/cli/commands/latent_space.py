"""``vaelab attribute`` and ``vaelab neighbours``: attribute arithmetic and memorization checks, to files.

Both go through :mod:`vaelab.latent`; heavy modules (NumPy, torch, Pillow)
are imported inside the commands so that ``vaelab --help`` stays fast.
Bad options are refused before anything is written.
"""

from __future__ import annotations

from typing import Annotated, Any, Optional

import typer

from vaelab.cli.console import Console
from vaelab.cli.errors import UsageError
from vaelab.cli.options import Debug, Force, OutFile, Quiet, RunArg, Seed, Split

ATTRIBUTE_EPILOG = """**Examples**

```
vaelab attribute runs/mnist-vae --from 3 --to 8 --strength 0..2 --steps 9 --examples 0,1,2
vaelab attribute runs/mnist-vae --from-examples 4,9,12 --to-examples 7,30 --strength -1..1
```

Each row of the grid: an example, then its code plus each strength times the attribute vector (mean code
of the --to class minus that of the --from class, measured on --vector-split), decoded.
"""

NEIGHBOURS_EPILOG = """**Examples**

```
vaelab neighbours runs/mnist-vae --samples 16
vaelab neighbours runs/mnist-ae --examples 0,1,2 --k 3
```

Each row of the grid: a prior sample (or a --split example), then its k nearest training examples in
latent space (Euclidean distance between codes). A sample that sits on top of a training example was
memorized.
"""


def parse_range(text: str) -> tuple[float, float]:
    """``"0..2"`` -> (0.0, 2.0); a single number ``"1.5"`` -> (1.5, 1.5)."""
    parts = text.split("..")
    try:
        values = [float(p) for p in parts]
    except ValueError:
        values = []
    if len(values) not in (1, 2) or not all(abs(v) < 1e6 for v in values):
        raise UsageError(f"--strength must be a number or a range such as 0..2, got {text!r}")
    return values[0], values[-1]


def parse_label(text: str, y: Any) -> Any:
    """A label given on the command line, as the labels' dtype."""
    if y.dtype.kind in "iu":
        try:
            return int(text)
        except ValueError:
            raise UsageError(f"the labels are integers; got {text!r}") from None
    if y.dtype.kind == "f":
        return float(text)
    return text


def attribute_command(
    run: RunArg,
    source: Annotated[Optional[str], typer.Option("--from", help="Source class label.", show_default=False)] = None,
    target: Annotated[Optional[str], typer.Option("--to", help="Target class label.", show_default=False)] = None,
    from_examples: Annotated[
        Optional[str],
        typer.Option(
            "--from-examples", help="Instead of --from: comma-separated indices (in --split) of a source set."
        ),
    ] = None,
    to_examples: Annotated[
        Optional[str],
        typer.Option("--to-examples", help="Instead of --to: comma-separated indices (in --split) of a target set."),
    ] = None,
    strength: Annotated[str, typer.Option("--strength", help="Strengths: a range lo..hi or one number.")] = "0..2",
    steps: Annotated[int, typer.Option("--steps", min=1, max=64, help="Strengths in the range, ends included.")] = 9,
    examples: Annotated[
        Optional[str],
        typer.Option(
            "--examples",
            help="Comma-separated indices (in --split) of the examples to move [default: 4 of the source].",
        ),
    ] = None,
    vector_split: Annotated[
        str, typer.Option("--vector-split", help="Split whose labelled codes give the class means.")
    ] = "train",
    split: Split = "test",
    out: OutFile = None,
    force: Force = False,
    quiet: Quiet = False,
    debug: Debug = False,
) -> None:
    """Move examples along an attribute vector (target minus source mean code) and decode, one row each."""
    import numpy as np

    from vaelab import latent
    from vaelab.runs.loaded import LoadedRun
    from vaelab.cli.options import parse_ints
    from vaelab.runs.data import load_run_data, pick_split
    from vaelab.cli.outputs import write_examples
    from vaelab.report.images import image_rows

    lo, hi = parse_range(strength)
    by_labels = source is not None or target is not None
    by_sets = from_examples is not None or to_examples is not None
    if (
        by_labels == by_sets
        or (by_labels and (source is None or target is None))
        or (by_sets and (from_examples is None or to_examples is None))
    ):
        raise UsageError("give either --from and --to (class labels) or --from-examples and --to-examples (indices)")
    console = Console(quiet=quiet)
    with console.logging():
        loaded = LoadedRun.open(run)
        est = loaded.estimator
        x, y = loaded.examples(split)
        strengths = np.linspace(lo, hi, steps)
        if by_labels:
            xv, yv = pick_split(load_run_data(loaded.config), vector_split)
            if yv is None:
                raise UsageError(f"the run's {vector_split} split has no labels; use --from-examples/--to-examples")
            src, tgt = parse_label(source, yv), parse_label(target, yv)  # type: ignore[arg-type]
            vector = latent.attribute_from_labels(est, xv, yv, src, tgt)
        else:
            vector = latent.attribute_from_examples(
                est,
                _pick(x, parse_ints(from_examples, "--from-examples")),
                _pick(x, parse_ints(to_examples, "--to-examples")),
            )
        chosen = parse_ints(examples, "--examples")
        if chosen is None:
            pool = np.flatnonzero(y == src) if by_labels and y is not None else np.arange(len(x))
            chosen = [int(i) for i in pool[:4]]
        base = _pick(x, chosen)
        z = latent.codes(est, base)
        moved = latent.decode(est, vector.apply(z, strengths).reshape(-1, z.shape[1]))
        grid = moved.reshape(len(z), steps, *moved.shape[1:])  # (examples, strengths, *shape)
        path = loaded.output(out, f"attribute-{vector.source}-{vector.target}".replace(" ", "_"), force)
        write_examples(
            path,
            grid,
            loaded.layout,
            lambda: image_rows([np.concatenate([b[None], g]) for b, g in zip(base, grid)], loaded.layout),
        )
        info = vector.summary()
        console.note(
            f"vector {info['source']} -> {info['target']}: |v| = {info['norm']:.3f} from {info['source_count']} and "
            f"{info['target_count']} examples (spread {info['source_spread']:.3f} and {info['target_spread']:.3f}); "
            f"rows: examples {', '.join(map(str, chosen))}; columns: the example, then strengths "
            f"{', '.join(f'{s:g}' for s in strengths)}"
        )
        console.result(str(path))


def _pick(x: Any, indices: list[int] | None) -> Any:
    if not indices:
        raise UsageError("give at least one example index")
    bad = [i for i in indices if not -len(x) <= i < len(x)]
    if bad:
        raise UsageError(f"example indices {bad} out of range: the split has {len(x)} examples (0-{len(x) - 1})")
    return x[indices]


def neighbours_command(
    run: RunArg,
    samples: Annotated[
        int, typer.Option("--samples", min=1, max=1024, help="Prior samples to look up (models with a prior).")
    ] = 16,
    examples: Annotated[
        Optional[str],
        typer.Option("--examples", help="Instead of samples: comma-separated indices of --split examples."),
    ] = None,
    k: Annotated[int, typer.Option("--k", min=1, max=64, help="Nearest training examples per row.")] = 5,
    seed: Seed = 0,
    split: Split = "test",
    out: OutFile = None,
    force: Force = False,
    quiet: Quiet = False,
    debug: Debug = False,
) -> None:
    """Show generated samples (or examples) next to their nearest training examples in latent space."""
    import numpy as np

    from vaelab import latent
    from vaelab.runs.loaded import LoadedRun
    from vaelab.cli.options import parse_ints
    from vaelab.runs.data import load_run_data, pick_split
    from vaelab.cli.outputs import write_examples
    from vaelab.report.images import image_rows
    from vaelab.report.run_report import unit_float

    console = Console(quiet=quiet)
    with console.logging():
        loaded = LoadedRun.open(run)
        est = loaded.estimator
        chosen = parse_ints(examples, "--examples")
        if chosen is not None:
            queries = _pick(loaded.examples(split)[0], chosen)
        elif latent.has_prior(est):
            queries = np.asarray(est.sample(samples, seed=seed))
        else:
            raise UsageError(
                f"{loaded.run.root} holds a {type(est).__name__}, which has no prior to sample from; "
                "give --examples 0,1,2 to look up examples instead"
            )
        train, _ = pick_split(load_run_data(loaded.config), "train")
        if tuple(train.shape[1:]) != tuple(est.input_shape_):
            raise UsageError(f"the run's training examples have shape {train.shape[1:]}, not {est.input_shape_}")
        path = loaded.output(out, "neighbours", force)
        index = latent.LatentIndex(latent.codes(est, train))
        found, distances = index.query(latent.codes(est, queries), min(k, len(train)))
        rows = np.stack([np.concatenate([q[None], unit_float(train[i])]) for q, i in zip(queries, found)])
        write_examples(path, rows, loaded.layout, lambda: image_rows(list(rows), loaded.layout))
        what = f"examples {', '.join(map(str, chosen))}" if chosen else f"{len(queries)} prior samples (seed {seed})"
        console.note(
            f"rows: {what}"
            f", each followed by its {found.shape[1]} nearest of {len(train)} training examples; median distance "
            f"to the nearest: {float(np.median(distances[:, 0])):.3f}"
        )
        console.result(str(path))
