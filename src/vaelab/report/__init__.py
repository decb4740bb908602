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
are imported only when a figure is drawn.
"""

from vaelab.report.compare import ComparedModel, build_comparison_report
from vaelab.report.run_report import build_run_report

__all__ = ["ComparedModel", "build_comparison_report", "build_run_report"]
