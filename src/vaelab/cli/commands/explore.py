"""``vaelab explore``: a local web page to play with a run's latent space.

FastAPI, uvicorn and python-multipart come with the ``explore`` extra and are
imported inside the command, so ``vaelab --help`` does not load them.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from vaelab.cli.console import Console
from vaelab.cli.errors import UsageError
from vaelab.cli.options import Debug, Quiet, RunArg, Seed

EPILOG = """**Examples**

```
vaelab explore runs/mnist-vae
vaelab explore runs/mnist-vae --port 8800 --no-browser
vaelab explore runs/mnist-vae --host 0.0.0.0   # other machines: needs the printed token
```

Stop it with Ctrl+C. Needs the explore extra: pip install 'vaelab[explore]'.
"""

EXTRA_MODULES = ("fastapi", "uvicorn", "multipart")


def require_extra() -> None:
    """Fail with one line naming the extra when FastAPI, uvicorn or python-multipart is missing."""
    import importlib.util

    missing = [m for m in EXTRA_MODULES if importlib.util.find_spec(m) is None]
    if missing:
        raise UsageError(
            f"vaelab explore needs {', '.join(missing)}: install the explore extra, pip install 'vaelab[explore]'"
        )


def column_names(estimator: Any, dataset: Any) -> list[str] | None:
    """Column names of a model of table rows: from the estimator, else from the data set, if either has them."""
    for owner, attribute in (
        (estimator, "feature_names_in_"),
        (estimator, "columns_"),
        (dataset, "columns"),
        (dataset, "feature_names"),
    ):
        names = getattr(owner, attribute, None)
        if names is not None and len(names):
            return [str(n) for n in names]
    return None


def explore_command(
    run: RunArg,
    host: Annotated[
        str, typer.Option("--host", help="Address to listen on; anything but loopback warns and requires a token.")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=0, max=65535, help="Port (0: a free one).")] = 8765,
    no_browser: Annotated[bool, typer.Option("--no-browser", help="Do not open the page in a browser.")] = False,
    max_test: Annotated[
        int, typer.Option("--max-test", min=1, max=20000, help="Test examples on the latent map (a seeded subset).")
    ] = 2000,
    max_train: Annotated[
        int, typer.Option("--max-train", min=1, help="Training examples searched for neighbours (a seeded subset).")
    ] = 60000,
    queue: Annotated[
        int, typer.Option("--queue", min=1, max=1024, help="Requests that may wait for the decoder.")
    ] = 16,
    seed: Seed = 0,
    quiet: Quiet = False,
    debug: Debug = False,
) -> None:
    """Start a local web page to explore a run's latent space: sliders, samples, interpolations, attributes, map.

    It listens on 127.0.0.1 (loopback) unless --host says otherwise, prints the URL and opens it in the default
    browser unless --no-browser.
    """
    require_extra()
    import webbrowser

    import numpy as np

    from vaelab.runs.loaded import LoadedRun
    from vaelab.runs.data import load_run_data, pick_split
    from vaelab.explore.app import create_app
    from vaelab.explore.server import prepare
    from vaelab.explore.session import Explorer

    console = Console(quiet=quiet)
    with console.logging():
        loaded = LoadedRun.open(run)
        dataset = load_run_data(loaded.config)
        x_test, y_test = pick_split(dataset, "test")
        x_train, y_train = pick_split(dataset, "train")
        if len(x_train) > max_train:
            keep = np.sort(np.random.default_rng(seed).choice(len(x_train), max_train, replace=False))
            x_train, y_train = x_train[keep], None if y_train is None else y_train[keep]
        console.note(f"encoding {min(len(x_test), max_test)} test and {len(x_train)} training examples ...")
        explorer = Explorer(
            loaded.estimator,
            x_test,
            y_test,
            x_train,
            y_train,
            columns=column_names(loaded.estimator, dataset),
            max_test=max_test,
            seed=seed,
        )
        figures = loaded.run.figures
        title = f"vaelab explore: {loaded.run.root.name}"
        server, url = prepare(
            lambda token: create_app(explorer, token=token, figures=figures, title=title, max_queue=queue),
            host,
            port,
            warn=lambda text: typer.echo(f"warning: {text}", err=True),
        )
        typer.echo(f"vaelab explore: serving {loaded.run.root} at {url} (Ctrl+C to stop)")
        if not no_browser:
            webbrowser.open(url)
        try:
            server.run()
        except KeyboardInterrupt:
            pass
        finally:
            server.sock.close()
