"""``vaelab sample``, ``reconstruct``, ``interpolate`` and ``traverse``: decoded examples to files.

Each writes an image grid (.png) for image data, or the decoded array (.npy /
.csv) for any data; the default file is ``<run>/figures/<command>.png`` (or
``.npy`` for data that are not images). Existing files need ``--force``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Optional

import typer

from vaelab.cli.console import Console
from vaelab.cli.errors import UsageError
from vaelab.cli.options import Debug, Force, NoVerify, OutFile, Quiet, RunArg, Seed, Split, labels_of, parse_ints
from vaelab.runs.loaded import LoadedRun
from vaelab.errors import InputError

if TYPE_CHECKING:  # numpy and the report's helpers are imported when a command runs
    import numpy as np

    from vaelab.report.images import ImageLayout

#: --span's default, the same as the report's traversals (``vaelab.latent.TRAVERSAL_SPAN``, checked by a test)
DEFAULT_SPAN = 3.0
#: vaelab sample --sampler's choices
SAMPLERS = ("prior", "mixture")
#: --components' default (10, as in Ghosh et al. 2020)
MIXTURE_COMPONENTS = 10


def _is_index(spec: str) -> bool:
    return str(spec).strip().lstrip("-").isdigit()


def _chosen_label(estimator: Any, label: str | None) -> Any:
    """The class named by ``--label`` (None without one); an error for an unconditional or attribute model."""
    if label is None:
        return None
    if not getattr(estimator, "conditional", False):
        raise UsageError("--label applies to conditional models; this run holds an unconditional one")
    from vaelab.report.conditional import class_labels

    classes = class_labels(estimator)
    if not classes:
        raise UsageError("--label names a class, but this model is conditioned on numeric attributes")
    match = [c for c in classes if str(c) == label.strip()]
    if not match:
        raise UsageError(f"--label {label} is not a class of this model; its {len(classes)} classes are {classes}")
    return match[0]


def _example_label(spec: str, labels: np.ndarray | None, fallback: Any, option: str) -> Any:
    """The label of the example ``spec`` names: its split label for an index, else ``fallback`` (--label)."""
    if _is_index(spec) and labels is not None:
        i = int(str(spec).strip())
        if -len(labels) <= i < len(labels):
            value = labels[i]
            return value.item() if hasattr(value, "item") else value
    if fallback is None:
        raise UsageError(f"{option} {spec}: a conditional model encodes an example with its label; give --label")
    return fallback


SAMPLE_EPILOG = """**Examples**

```
vaelab sample runs/mnist-vae -n 64 --seed 0 --out samples.png
vaelab sample runs/mnist-vae -n 1000 --out samples.npy
vaelab sample runs/mnist-cvae --label 7 -n 16
vaelab sample runs/mnist-cvae -n 100     # conditional model: a row per class
vaelab sample runs/mnist-vae --sampler mixture -n 64     # codes from a mixture fitted to the training codes
vaelab sample runs/mnist-ae -n 64        # an autoencoder: the mixture is the default
```
"""


def sample_command(
    run: RunArg,
    n: Annotated[int, typer.Option("-n", "--n", min=1, help="How many samples.")] = 64,
    seed: Seed = 0,
    cols: Annotated[
        Optional[int], typer.Option("--cols", min=1, help="Columns of the image grid [default: about square].")
    ] = None,
    draw: Annotated[bool, typer.Option("--draw", help="Draw x ~ p(x|z) instead of the decoded mean E[x|z].")] = False,
    label: Annotated[
        Optional[str],
        typer.Option(
            "--label",
            help="Conditional models: samples of this class [default: n/classes of each class, a row per class].",
            show_default=False,
        ),
    ] = None,
    sampler: Annotated[
        str,
        typer.Option(
            "--sampler",
            help="Where the codes come from: 'prior' (a VAE's p(z)) or 'mixture' (a Gaussian mixture fitted to the "
            "codes of the run's training examples: fewer holes, and works for autoencoders and PCA too) "
            "[default: prior for a VAE, else mixture].",
            show_default=False,
        ),
    ] = "",
    components: Annotated[
        int, typer.Option("--components", min=1, help="--sampler mixture: components of the mixture.")
    ] = MIXTURE_COMPONENTS,
    out: OutFile = None,
    force: Force = False,
    quiet: Quiet = False,
    debug: Debug = False,
) -> None:
    """Draw new examples: codes from a VAE's prior p(z), or from a mixture fitted to the training codes, decoded.

    A conditional VAE draws them given a class. --sampler mixture fits
    scikit-learn's GaussianMixture to the codes of the run's training
    examples (Ghosh et al. 2020) on first use and keeps it in
    RUN/samplers/mixture-K/ (config.json + safetensors) for later calls.
    """
    import numpy as np

    from vaelab.cli.outputs import write_examples
    from vaelab import latent
    from vaelab.report.images import image_grid, image_rows

    console = Console(quiet=quiet)
    with console.logging():
        loaded = LoadedRun.open(run)
        has_prior = latent.has_prior(loaded.estimator)
        sampler = sampler.strip().lower() or ("prior" if has_prior else "mixture")
        if sampler not in SAMPLERS:
            raise UsageError(f"--sampler must be one of {', '.join(SAMPLERS)}, got {sampler!r}")
        if sampler == "prior" and not has_prior:
            raise InputError(
                f"--sampler prior needs a model with a prior p(z) (a VAE); {loaded.run.root} holds a model of class "
                f"{type(loaded.estimator).__name__}. Use --sampler mixture (a mixture fitted to its codes), "
                "or `vaelab reconstruct` / `vaelab interpolate`"
            )
        if sampler == "mixture":
            if getattr(loaded.estimator, "conditional", False) or label is not None:
                raise UsageError("--sampler mixture draws unconditional codes; a conditional model samples "
                                 "from its prior given --label")
            path = loaded.output(out, "samples-mixture", force)
            x = mixture_sampler(loaded, components, console).sample(n, seed=seed)
            write_examples(path, x, loaded.layout, lambda: image_grid(x, loaded.layout, cols=cols))
            console.result(str(path))
            return
        if getattr(loaded.estimator, "conditional", False):
            x, rows = conditional_samples(loaded.estimator, n, label, seed=seed, mean=not draw)
            path = loaded.output(out, "samples" if label is None else f"samples-{label}", force)
            if rows is not None:
                write_examples(path, x, loaded.layout, lambda: image_rows(list(rows), loaded.layout))
            else:
                write_examples(path, x, loaded.layout, lambda: image_grid(x, loaded.layout, cols=cols))
            console.result(str(path))
            return
        if label is not None:
            raise UsageError(f"--label applies to conditional models; {loaded.run.root} holds an unconditional one")
        path = loaded.output(out, "samples", force)
        x = np.asarray(loaded.estimator.sample(n, seed=seed, mean=not draw))
        write_examples(path, x, loaded.layout, lambda: image_grid(x, loaded.layout, cols=cols))
        console.result(str(path))


def mixture_sampler(loaded: LoadedRun, components: int, console: Console) -> Any:
    """The run's posterior-mixture sampler with ``components`` components: loaded from RUN/samplers/, or fitted and kept.

    Fitted (seed 0) to the posterior means of the run's training examples; a
    kept one is reused only if the model file has not changed since.
    """
    from vaelab.sampling import PosteriorMixtureSampler
    from vaelab.serialization import read_json

    folder = loaded.run.root / "samplers" / f"mixture-{components}"
    stamp = _model_stamp(loaded)
    if (folder / "config.json").exists() and (folder / "model-stamp.json").exists():
        if read_json(folder / "model-stamp.json", "sampler stamp") == stamp:
            return PosteriorMixtureSampler.load(folder, loaded.estimator)
    x, _ = loaded.examples("train")
    if len(x) < components:
        raise UsageError(f"--components {components} needs at least as many training examples; the run has {len(x)}")
    console.note(f"fitting a {components}-component Gaussian mixture to the codes of {len(x)} training examples")
    sampler = PosteriorMixtureSampler(components, seed=0).fit(loaded.estimator, x)
    _keep(sampler, folder, stamp)
    console.note(f"kept the mixture in {folder} for later calls")
    return sampler


def _model_stamp(loaded: LoadedRun) -> dict[str, Any]:
    """Size and modification time of the run's model weights: a kept sampler belongs to these weights."""
    files = sorted((loaded.run.root / "model").glob("*.safetensors"))
    return {f.name: [f.stat().st_size, f.stat().st_mtime_ns] for f in files}


def _keep(sampler: Any, folder: Path, stamp: dict[str, Any]) -> None:
    """Save the sampler (atomically), then the stamp of the weights it belongs to: without a stamp it is refitted."""
    from vaelab.serialization import write_json

    sampler.save(folder, overwrite=True)
    write_json(folder / "model-stamp.json", stamp)


def conditional_samples(
    estimator: Any, n: int, label: str | None, *, seed: int, mean: bool
) -> tuple[np.ndarray, np.ndarray | None]:
    """Samples of a class-conditional model: n of class ``label``, or (with no label) n // classes of each.

    Returns the samples (m, *input_shape) and, without a label, the same as rows (classes, per class, ...).
    """
    import numpy as np

    from vaelab.report.conditional import class_labels, samples_per_class

    classes = class_labels(estimator)
    if not classes:
        raise UsageError(
            "vaelab sample draws from class-conditional models; this one is conditioned on numeric attributes: "
            "use VAE.sample(n, y=attributes) from Python"
        )
    if label is None:
        rows = samples_per_class(estimator, max(1, n // len(classes)), seed=seed, mean=mean)
        return rows.reshape(-1, *rows.shape[2:]), rows
    return np.asarray(estimator.sample(n, y=_chosen_label(estimator, label), seed=seed, mean=mean)), None


def reconstruct_command(
    run: RunArg,
    n: Annotated[int, typer.Option("-n", "--n", min=1, help="How many examples (the first n of the split).")] = 16,
    split: Split = "test",
    input_path: Annotated[
        Optional[Path],
        typer.Option(
            "--input", help=("Reconstruct the examples of this .npy/.npz/.csv file or image folder instead of a split.")
        ),
    ] = None,
    cols: Annotated[int, typer.Option("--cols", min=1, help="Examples per row pair in the image grid.")] = 16,
    out: OutFile = None,
    force: Force = False,
    no_verify: NoVerify = False,
    quiet: Quiet = False,
    debug: Debug = False,
) -> None:
    """Encode and decode examples; the PNG shows each original above its reconstruction.

    .npy / .csv output holds the reconstructions only.
    """
    import numpy as np

    from vaelab.cli.outputs import write_examples
    from vaelab.report.images import arrange, tile

    console = Console(quiet=quiet)
    with console.logging():
        loaded = LoadedRun.open(run, no_verify=no_verify)
        path = loaded.output(out, "reconstructions", force)
        x, y = loaded.examples(split, input_path)
        x = x[:n]
        if getattr(loaded.estimator, "conditional", False):  # reconstructed given the examples' labels
            recon = np.asarray(loaded.estimator.reconstruct(x, labels_of(x, y)))
        else:
            recon = np.asarray(loaded.estimator.reconstruct(x))

        def canvas() -> np.ndarray:
            layout = loaded.layout
            originals, recons = arrange(layout.pictures(x), cols), arrange(layout.pictures(recon), cols)
            interleaved = np.stack([originals, recons], axis=1).reshape(
                -1, *originals.shape[1:]
            )  # orig row, recon row, ...
            return tile(interleaved, layout)

        write_examples(path, recon, loaded.layout, canvas)
        console.result(str(path))


INTERPOLATE_EPILOG = """**Examples**

```
vaelab interpolate runs/mnist-vae --from 3 --to 7 --steps 10
vaelab interpolate runs/mnist-vae --from a.png --to b.png --out a-to-b.png
vaelab interpolate runs/mnist-vae --from 3 --to 7 --method slerp
```

--from and --to take an index into the split (default: test) or a .npy / image file.
"""


def interpolate_command(
    run: RunArg,
    start: Annotated[str, typer.Option("--from", help="Start: an example index, or a .npy / image file.")] = "0",
    end: Annotated[str, typer.Option("--to", help="End: an example index, or a .npy / image file.")] = "1",
    steps: Annotated[int, typer.Option("--steps", min=2, help="Decoded points on the line, ends included.")] = 10,
    method: Annotated[
        str,
        typer.Option(
            "--method",
            help="lerp (the straight line) or slerp (spherical: keeps the norm, for a Gaussian prior).",
        ),
    ] = "lerp",
    label: Annotated[
        Optional[str],
        typer.Option(
            "--label",
            help="Conditional models: decode the path under this class [default: the start example's], and the "
            "label of an endpoint given as a file.",
            show_default=False,
        ),
    ] = None,
    split: Split = "test",
    out: OutFile = None,
    force: Force = False,
    no_verify: NoVerify = False,
    quiet: Quiet = False,
    debug: Debug = False,
) -> None:
    """Decode the path in latent space between two examples, in one batch.

    The PNG shows the start example, the decoded steps and the end example.
    A conditional model encodes each example with its label (from the split,
    or --label for a file) and decodes the whole path under one class.
    """
    import numpy as np

    from vaelab.runs.data import read_example
    from vaelab.cli.outputs import write_examples
    from vaelab import latent
    from vaelab.report.images import image_rows

    if method not in latent.METHODS:
        raise UsageError(f"--method must be one of {', '.join(latent.METHODS)}, got {method!r}")
    console = Console(quiet=quiet)
    with console.logging():
        loaded = LoadedRun.open(run, no_verify=no_verify)
        suffix = "" if method == "lerp" else f"-{method}"
        path = loaded.output(out, f"interpolate-{Path(start).stem}-{Path(end).stem}{suffix}", force)
        est = loaded.estimator
        shape = tuple(est.input_shape_)
        needs_data = _is_index(start) or _is_index(end)
        pool, pool_y = loaded.examples(split) if needs_data else (np.empty((0, *shape), dtype=np.float32), None)
        a, b = read_example(start, pool, shape), read_example(end, pool, shape)
        chosen = _chosen_label(est, label)
        if getattr(est, "conditional", False):
            ya, yb = (_example_label(spec, pool_y, chosen, name) for spec, name in ((start, "--from"), (end, "--to")))
            decoded = latent.interpolate(est, a, b, steps, method, labels=(ya, yb), label=chosen)
        else:
            decoded = latent.interpolate(est, a, b, steps, method)
        write_examples(
            path,
            decoded,
            loaded.layout,
            lambda: image_rows([np.concatenate([a[None], decoded, b[None]])], loaded.layout),
        )
        console.result(str(path))


TRAVERSE_EPILOG = """**Examples**

```
vaelab traverse runs/mnist-vae
vaelab traverse runs/mnist-vae --dims 0,1,2 --steps 11 --span 2.5 --index 7
```
"""


def traverse_command(
    run: RunArg,
    dims: Annotated[
        Optional[str],
        typer.Option(
            "--dims",
            help=(
                "Comma-separated latent dimensions [default: the 10 most informative: highest mean KL for a "
                "VAE, largest code variance otherwise]."
            ),
        ),
    ] = None,
    steps: Annotated[int, typer.Option("--steps", min=2, help="Values per dimension.")] = 9,
    span: Annotated[
        float,
        typer.Option(
            "--span",
            min=0.0,
            help=("Range: +- this many standard deviations (of the prior for a VAE, of the codes otherwise)."),
        ),
    ] = DEFAULT_SPAN,
    index: Annotated[
        Optional[str],
        typer.Option(
            "--index",
            help=("Traverse around this example's code (an index or a .npy / image file) [default: the centre]."),
        ),
    ] = None,
    label: Annotated[
        Optional[str],
        typer.Option(
            "--label",
            help="Conditional models: decode under this class [default: the --index example's; needed without it].",
            show_default=False,
        ),
    ] = None,
    split: Split = "test",
    out: OutFile = None,
    force: Force = False,
    no_verify: NoVerify = False,
    quiet: Quiet = False,
    debug: Debug = False,
) -> None:
    """Vary one latent dimension at a time and decode: one row per dimension.

    A conditional model decodes every row under one class, and ranks the
    dimensions by the variance of the split's codes (given their labels).
    """
    from vaelab.runs.data import read_example
    from vaelab.cli.outputs import write_examples
    from vaelab import latent
    from vaelab.report.images import image_rows

    console = Console(quiet=quiet)
    with console.logging():
        loaded = LoadedRun.open(run, no_verify=no_verify)
        path = loaded.output(out, "traversals", force)
        est = loaded.estimator
        x, y = loaded.examples(split)
        conditional = bool(getattr(est, "conditional", False))
        row_label = _chosen_label(est, label)
        if conditional:
            y = labels_of(x, y)
            if index is None and row_label is None:
                raise UsageError("a conditional model decodes under a label: give --label (a class) or --index")
            if index is not None:
                row_label = row_label if row_label is not None else _example_label(index, y, None, "--index")
        z = latent.codes(est, x, y=y if conditional else None)
        centre, scale = latent.spread(est, z)
        ranking = latent.rank_dims(est, z=z) if conditional else latent.rank_dims(est, x)
        chosen = parse_ints(dims, "--dims") or ranking.top(10)
        bad = [d for d in chosen if not 0 <= d < z.shape[1]]
        if bad:
            raise UsageError(f"--dims {bad} out of range: the latent space has dimensions 0-{z.shape[1] - 1}")
        if index is None:
            base = centre.copy()
        else:
            example = read_example(index, x, tuple(est.input_shape_))[None]
            base = latent.codes(est, example, y=[row_label] if conditional else None)[0]
        grid = latent.traverse(
            est, base, chosen, steps, centre=base if index is not None else centre, scale=scale, span=span,
            label=row_label if conditional else None,
        )
        flat = grid.reshape(-1, *grid.shape[2:]) if path.suffix.lower() == ".csv" else grid  # CSV: a row per example
        write_examples(path, flat, loaded.layout, lambda: image_rows(list(grid), loaded.layout))
        console.note(f"rows: latent dimensions {', '.join(map(str, chosen))}")
        console.result(str(path))
