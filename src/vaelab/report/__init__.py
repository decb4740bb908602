"""Visual reports of fitted models, as self-contained HTML pages with their PNGs.

=================  ===========================================================
module             holds
=================  ===========================================================
``images``         which examples are images; image grids as exact-size PNGs
``figures``        matplotlib plots (training curves, scatter, feature plots)
``html``           the page: sections, tables, base64-embedded images
``run_report``     :func:`build_run_report`, the report of one model
``compare``        :func:`build_comparison_report`, several models side by side
=================  ===========================================================

The latent-space pictures come from :mod:`vaelab.latent`. matplotlib and Pillow
are imported only when a figure is drawn, and each name here loads its module on
first use (PEP 562), so that ``html``'s table helpers stay light.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from vaelab._lazy import lazy_exports

_WHERE = {"ComparedModel": "compare", "build_comparison_report": "compare", "build_run_report": "run_report"}
__all__ = sorted(_WHERE)

if TYPE_CHECKING:
    from vaelab.report.compare import ComparedModel, build_comparison_report
    from vaelab.report.run_report import build_run_report

__getattr__, __dir__ = lazy_exports(__name__, _WHERE)
