"""``vaelab features train``: a feature classifier for the sample-quality figures of one kind of image.

The Fréchet distance, precision and recall of a VAE's samples are computed in
the features of a classifier trained on images of the same kind. vaelab ships
one for digits (MNIST); ``vaelab features train DATA`` trains the same
network on any labelled 28x28 data set and writes ``config.json`` +
``model.safetensors`` with its name, data, test accuracy and floor (the
Fréchet distance between its own training and test images). ``--features
PATH`` on ``train``, ``evaluate`` and ``report`` then names the figures after
it: ``frechet_distance[NAME]``. Bad options leave nothing behind.

Which classifier a run's figures use is decided by
:func:`vaelab.runs.evaluation.feature_choice`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from vaelab.cli.console import Console, format_table
from vaelab.cli.errors import UsageError
from vaelab.cli.options import Debug, Force, NoVerify, Quiet

TRAIN_EPILOG = """**Examples**

```
vaelab features train fashion-mnist --data-dir ../shared/data --out features/fashion
vaelab train fashion-mnist --data-dir ../shared/data --features features/fashion --out runs/fashion-vae
vaelab evaluate runs/fashion-vae --features features/fashion
```

The folder gets config.json (name, data, test accuracy, floor, training command) and model.safetensors.
"""


def default_name(data: str) -> str:
    return f"{Path(data).stem}-cnn"


def train_command(
    data: Annotated[
        str,
        typer.Argument(
            metavar="DATA",
            show_default=False,
            help="A labelled data set of 28x28 grey images: fashion-mnist, mnist, or a .npz/.csv file with labels.",
        ),
    ],
    data_dir: Annotated[
        Optional[str],
        typer.Option("--data-dir", show_default=False, help="Folder of the built-in data sets' files."),
    ] = None,
    label_column: Annotated[
        Optional[str], typer.Option("--label-column", show_default=False, help="CSV: the label column.")
    ] = None,
    out: Annotated[
        Optional[Path],
        typer.Option("--out", "-o", show_default=False, help="Output folder. [default: features/NAME]"),
    ] = None,
    name: Annotated[
        Optional[str],
        typer.Option(
            "--name", show_default=False, help="Names the figures: frechet_distance[NAME]. [default: DATA-cnn]"
        ),
    ] = None,
    epochs: Annotated[int, typer.Option("--epochs", "-e", min=1, help="Passes over the training images.")] = 3,
    batch_size: Annotated[int, typer.Option("--batch-size", min=1, help="Images per step.")] = 128,
    learning_rate: Annotated[
        float, typer.Option("--learning-rate", "--lr", min=0.0, help="Peak of the one-cycle schedule.")
    ] = 3e-3,
    limit: Annotated[
        int, typer.Option("--limit", min=0, help="Use at most this many training and test images (0: all).")
    ] = 0,
    seed: Annotated[int, typer.Option("--seed", min=0, help="Seeds weights, order and binarization.")] = 0,
    threads: Annotated[int, typer.Option("--threads", min=0, help="CPU threads for torch (0: one per core).")] = 0,
    no_verify: NoVerify = False,
    force: Force = False,
    quiet: Quiet = False,
    debug: Debug = False,
) -> None:
    """Train a feature classifier on labelled 28x28 images, for the sample-quality figures of such data.

    The network is the one behind the shipped digit classifier (three
    convolutions, a 128-d feature layer); half of each batch is binarized so
    that the features suit binary images too. Writes OUT/config.json (name,
    data, test accuracy, the floor: the Fréchet distance between its
    training and test images) and OUT/model.safetensors.
    """
    console = Console(quiet=quiet)
    with console.logging():
        name = name or default_name(data)
        if not name or any(c in name for c in "[]/\\ "):
            raise UsageError(f"--name must be one word without brackets, slashes or spaces, got {name!r}")
        target = out if out is not None else Path("features") / name
        if target.exists() and (not target.is_dir() or any(target.iterdir())) and not force:
            raise FileExistsError(f"{target} already exists; pass --force to replace it or choose another --out")
        x_train, y_train, x_test, y_test, description = _labelled_images(
            data, data_dir, label_column, verify=not no_verify, seed=seed
        )
        if limit:
            x_train, y_train, x_test, y_test = x_train[:limit], y_train[:limit], x_test[:limit], y_test[:limit]
        command = (
            f"vaelab features train {data}" + (f" --data-dir {data_dir}" if data_dir else "")
            + (f" --label-column {label_column}" if label_column else "") + f" --out {target} --name {name} "
            f"--epochs {epochs} --batch-size {batch_size} --lr {learning_rate} --seed {seed}"
            + (f" --limit {limit}" if limit else "")
        )
        classifier = _train(
            x_train, y_train, x_test, y_test, name=name, data=description, epochs=epochs, batch_size=batch_size,
            lr=learning_rate, seed=seed, threads=threads, console=console, command=command,
        )
        from vaelab.metrics.feature_training import save_feature_classifier

        save_feature_classifier(classifier, target, overwrite=force)
        info = classifier.info
        rows = [
            ["name", name],
            ["data", f"{description}: {len(x_train)} train / {len(x_test)} test images"],
            ["test accuracy", info["test_accuracy"]],
            [f"frechet_distance_floor[{name}]", info["floor"]["frechet_distance"]],
            ["... binarized", info["floor"]["frechet_distance_binarized"]],
        ]
        console.result(format_table(["feature classifier", ""], rows))
        console.result(str(target))
        console.note(f"use it: vaelab evaluate RUN --features {target}   (or train/report --features {target})")


def _labelled_images(
    data: str, data_dir: str | None, label_column: str | None, *, verify: bool, seed: int
) -> tuple[Any, Any, Any, Any, str]:
    """(x_train, y_train, x_test, y_test, name) of a labelled data set; a seeded 10 % test split if it has none."""
    from vaelab.runs.data import split_test
    from vaelab.data import load_dataset

    label: int | str | None = None
    if label_column:
        label = int(label_column) if label_column.lstrip("-").isdigit() else label_column
    dataset = load_dataset(data, data_dir=data_dir, label_column=label, verify=verify)
    if dataset.y_train is None:
        raise UsageError(f"{data} has no labels: a feature classifier is trained on labelled images (--label-column)")
    if dataset.x_test is None or dataset.y_test is None:
        dataset = split_test(dataset, 0.1, seed)
    if tuple(dataset.x_train.shape[1:]) not in ((28, 28), (784,), (1, 28, 28)):
        raise UsageError(
            f"{data} holds examples of shape {tuple(dataset.x_train.shape[1:])}; the feature classifier takes "
            "28x28 grey images"
        )
    return dataset.x_train, dataset.y_train, dataset.x_test, dataset.y_test, dataset.name


def _train(
    x_train: Any, y_train: Any, x_test: Any, y_test: Any, *, threads: int, console: Console, **kwargs: Any
) -> Any:
    from vaelab._runtime import torch_threads
    from vaelab.metrics.feature_training import train_feature_classifier

    console.note(f"training the feature classifier {kwargs['name']!r} on {len(x_train)} images ...")
    with torch_threads(threads):
        return train_feature_classifier(x_train, y_train, x_test, y_test, log=console.note, **kwargs)


def features_app() -> typer.Typer:
    """The ``vaelab features`` group."""
    app = typer.Typer(
        help="Feature classifiers for the sample-quality figures (Fréchet distance, precision, recall).",
        no_args_is_help=True,
        rich_markup_mode="markdown",
    )
    app.command("train", epilog=TRAIN_EPILOG)(train_command)
    return app
