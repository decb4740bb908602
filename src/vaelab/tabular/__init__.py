"""Synthetic tables: a mixed-type VAE with hard constraints, a quality and privacy report, DP-SGD.

=================  =================================================================
module             holds
=================  =================================================================
``io``             reading a CSV file or DataFrame, with one clear error per bad file
``schema``         column kinds (inferred, or from a metadata file) and finishing rows
``constraints``    range, positive, inequality, fixed combinations, increments,
                   categories, predicates
``rules``          reading rules (Python, dicts, YAML/JSON) and checking the real rows
``transformer``    mode-specific normalization and one-hots (Xu et al. 2019)
``likelihood``     the ``mixed`` likelihood (Gaussian and categorical heads)
``pipeline``       schema + constraints + transformer, fitted and saved together
``estimator``      :class:`TabularVAE`
``dp``             DP-SGD through Opacus, as a trainer callback
``quality``        column shapes, pair trends, ML efficacy, validity, privacy
=================  =================================================================

Needs the ``tabular`` extra (pandas, PyYAML, Opacus): ``pip install 'vaelab[tabular]'``.
Importing this package imports neither pandas nor Opacus; they load when a table is read.
"""

from __future__ import annotations

from typing import Any

from vaelab.tabular.constraints import (
    Categories,
    FixedCombinations,
    Increment,
    Inequality,
    Positive,
    Predicate,
    Range,
)
from vaelab.tabular.estimator import ConstraintError, TabularVAE
from vaelab.tabular.rules import parse_constraints
from vaelab.tabular.transformer import TableTransformer

__all__ = [
    "Categories",
    "ConstraintError",
    "FixedCombinations",
    "Increment",
    "Inequality",
    "Positive",
    "Predicate",
    "Range",
    "TableTransformer",
    "TabularVAE",
    "parse_constraints",
    "quality_report",
]


def __getattr__(name: str) -> Any:
    if name == "quality_report":
        from vaelab.tabular.quality import quality_report

        return quality_report
    raise AttributeError(f"module 'vaelab.tabular' has no attribute {name!r}")
