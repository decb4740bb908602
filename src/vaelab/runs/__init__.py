"""Runs: one lifecycle for every model, from the command line and from Python.

=================  ================================================================
module             holds
=================  ================================================================
``spec``           :class:`RunSpec`: data, estimator and parameters, run settings;
                   ``config.toml`` read and written
``pipeline``       :func:`run`, :func:`resume`: create, fit, checkpoint, save, evaluate
``run_dir``        :class:`RunDir`, the layout of a run directory
``data``           a run's data splits, and examples named by index or file
``loaded``         :class:`LoadedRun`: a finished run's model and examples
``evaluation``     :func:`run_metrics` and the feature classifier of a run's figures
``callbacks``      trainer callbacks of a run: history, log, TensorBoard
``recipes``        named sets of options
=================  ================================================================

>>> from vaelab.runs import RunSpec, run        # doctest: +SKIP
>>> run(RunSpec.from_layers([{"data": "digits", "model": "vae", "epochs": 5}]), "runs/digits-vae")  # doctest: +SKIP

Importing this package loads nothing heavy: each name loads its module on first use (PEP 562).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from vaelab._lazy import lazy_exports

_WHERE = {
    "RunSpec": "spec",
    "run": "pipeline",
    "resume": "pipeline",
    "RunDir": "run_dir",
    "LoadedRun": "loaded",
    "run_metrics": "evaluation",
    "RECIPES": "recipes",
}
__all__ = sorted(_WHERE)

if TYPE_CHECKING:
    from vaelab.runs.evaluation import run_metrics
    from vaelab.runs.loaded import LoadedRun
    from vaelab.runs.pipeline import resume, run
    from vaelab.runs.recipes import RECIPES
    from vaelab.runs.run_dir import RunDir
    from vaelab.runs.spec import RunSpec

__getattr__, __dir__ = lazy_exports(__name__, _WHERE)
