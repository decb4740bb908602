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
``params``         TabularVAE's parameters, declared once
``estimator``      :class:`TabularVAE`
``dp``             DP-SGD through Opacus, as a trainer callback
``quality``        column shapes, pair trends, ML efficacy, validity, privacy
=================  =================================================================

Needs the ``tabular`` extra (pandas, PyYAML, Opacus): ``pip install 'vaelab[tabular]'``.
Importing this package imports nothing heavy (PEP 562): each name loads its module on first use, and
pandas and Opacus load when a table is read; ``params`` (the declarations) is pure Python.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from vaelab._lazy import lazy_exports

_WHERE = {
    "Categories": "constraints",
    "FixedCombinations": "constraints",
    "Increment": "constraints",
    "Inequality": "constraints",
    "Positive": "constraints",
    "Predicate": "constraints",
    "Range": "constraints",
    "ConstraintError": "estimator",
    "TabularVAE": "estimator",
    "parse_constraints": "rules",
    "TableTransformer": "transformer",
    "quality_report": "quality",
}
__all__ = sorted(_WHERE)

if TYPE_CHECKING:  # for type checkers and IDEs: the names are real
    from vaelab.tabular.constraints import Categories, FixedCombinations, Increment, Inequality, Positive, Predicate, Range
    from vaelab.tabular.estimator import ConstraintError, TabularVAE
    from vaelab.tabular.quality import quality_report
    from vaelab.tabular.rules import parse_constraints
    from vaelab.tabular.transformer import TableTransformer

__getattr__, __dir__ = lazy_exports(__name__, _WHERE)
