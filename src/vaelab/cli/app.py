"""The ``vaelab`` command: one entry point, one subcommand per task.

Subcommands live in :mod:`vaelab.cli.commands`, one module per concern; this
module only registers them with their help examples.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

import typer

from vaelab.cli import version_text
from vaelab.cli.commands import demo, embed, evaluate, explore, features, generate, latent_space, report, tabular, train
from vaelab.cli.options import Debug

HELP = """PCA, autoencoders and variational autoencoders from the command line.

Start with `vaelab demo` (no download, a few minutes), then train on your data
and look at the report:

```
vaelab demo
vaelab train mnist --data-dir ../shared/data --binarize dynamic --epochs 30 --out runs/mnist-vae
vaelab report runs/mnist-vae
```

Every command has --help with examples. Errors print one line (exit code 1,
or 2 for wrong usage); --debug shows the traceback.
"""


def _version(value: bool) -> None:
    if value:
        typer.echo(version_text())
        raise typer.Exit()


def _root(
    version: Annotated[
        bool, typer.Option("--version", help="Print the version and exit.", is_eager=True, callback=_version)
    ] = False,
    debug: Debug = False,
) -> None:
    """PCA, autoencoders and variational autoencoders from the command line."""


COMMANDS: list[tuple[str, Any, str | None]] = [
    ("demo", demo.demo_command, demo.EPILOG),
    ("train", train.train_command, train.TRAIN_EPILOG),
    ("resume", train.resume_command, train.RESUME_EPILOG),
    ("evaluate", evaluate.evaluate_command, evaluate.EPILOG),
    ("sample", generate.sample_command, generate.SAMPLE_EPILOG),
    (
        "reconstruct",
        generate.reconstruct_command,
        "**Example**\n\n```\nvaelab reconstruct runs/mnist-vae -n 32 --out recon.png\n```\n",
    ),
    ("interpolate", generate.interpolate_command, generate.INTERPOLATE_EPILOG),
    ("traverse", generate.traverse_command, generate.TRAVERSE_EPILOG),
    ("attribute", latent_space.attribute_command, latent_space.ATTRIBUTE_EPILOG),
    ("neighbours", latent_space.neighbours_command, latent_space.NEIGHBOURS_EPILOG),
    ("embed", embed.embed_command, embed.EPILOG),
    ("report", report.report_command, report.REPORT_EPILOG),
    ("explore", explore.explore_command, explore.EPILOG),
    ("compare", report.compare_command, report.COMPARE_EPILOG),
]

#: Groups of subcommands (``vaelab features train``): name -> a function building the group's Typer app.
GROUPS: list[tuple[str, Callable[[], typer.Typer]]] = [
    ("features", features.features_app),
    ("tabular", lambda: tabular.app),
]


def build_app() -> typer.Typer:
    """The Typer application with every subcommand registered."""
    app = typer.Typer(
        name="vaelab",
        help=HELP,
        rich_markup_mode="markdown",
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
        context_settings={"help_option_names": ["-h", "--help"]},
    )
    app.callback()(_root)
    for name, function, epilog in COMMANDS:
        app.command(name=name, epilog=epilog)(function)
    for name, make_group in GROUPS:
        app.add_typer(make_group(), name=name)
    return app
