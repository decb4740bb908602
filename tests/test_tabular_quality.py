"""The tabular quality report: its scores against SDMetrics, and its privacy and efficacy parts."""

from __future__ import annotations

import numpy as np
import pytest

pd = pytest.importorskip("pandas")

from vaelab.tabular.quality import closest_distances, quality_scores  # noqa: E402


def tables(seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A real table with related columns, and a 'synthetic' one that distorts it (noise, shuffles, missing)."""
    rng = np.random.default_rng(seed)
    n = 400
    age = rng.normal(50, 12, n).round()
    real = pd.DataFrame(
        {
            "age": age,
            "income": (age * 900 + rng.normal(0, 8000, n)).round(2),
            "sex": rng.choice(["f", "m"], n),
            "grade": np.where(age > 55, "III", rng.choice(["I", "II"], n)),
            "smoker": rng.random(n) < 0.3,
            "seen": pd.Timestamp("2020-01-01") + pd.to_timedelta((age * 5 + rng.integers(0, 50, n)).astype(int), unit="D"),
        }
    )
    real.loc[rng.random(n) < 0.1, "income"] = np.nan
    real.loc[rng.random(n) < 0.05, "sex"] = None
    synth = real.sample(frac=1.0, random_state=seed).reset_index(drop=True)
    synth["age"] = synth["age"] + rng.normal(0, 6, n).round()
    synth["grade"] = rng.permutation(synth["grade"].to_numpy())
    synth.loc[rng.random(n) < 0.2, "income"] = np.nan
    return real, synth


KINDS = {"age": "numeric", "income": "numeric", "sex": "categorical", "grade": "categorical", "smoker": "boolean", "seen": "datetime"}
SDTYPES = {"numeric": "numerical", "categorical": "categorical", "boolean": "boolean", "datetime": "datetime"}


@pytest.mark.filterwarnings("ignore:The single table quality report is deprecated")
@pytest.mark.parametrize("thresholds", [(0.5, 0.3), (0.0, 0.0)])
def test_shapes_and_trends_agree_with_sdmetrics(thresholds):
    reports = pytest.importorskip("sdmetrics.reports.single_table")
    real, synth = tables()
    ours = quality_scores(real, synth, KINDS, correlation_threshold=thresholds[0], association_threshold=thresholds[1])
    report = reports.QualityReport()
    report.real_correlation_threshold, report.real_association_threshold = thresholds
    metadata = {"columns": {k: {"sdtype": SDTYPES[v]} | ({"datetime_format": "%Y-%m-%d"} if v == "datetime" else {}) for k, v in KINDS.items()}}
    report.generate(real, synth, metadata, verbose=False)
    props = report.get_properties().set_index("Property")["Score"]
    assert ours["column_shapes"] == pytest.approx(props["Column Shapes"], abs=0.01)
    assert ours["column_pair_trends"] == pytest.approx(props["Column Pair Trends"], abs=0.01)
    assert ours["score"] == pytest.approx(report.get_score(), abs=0.01)
    assert ours["column_pair_trends"] < 0.99  # the distortions are seen


def test_identical_tables_score_one():
    real, _ = tables()
    scores = quality_scores(real, real.copy(), KINDS, correlation_threshold=0, association_threshold=0)
    assert scores["score"] == pytest.approx(1.0)


def test_closest_distances_against_brute_force():
    rng = np.random.default_rng(0)
    rows = (rng.random((7, 3)), rng.integers(0, 3, (7, 2)))
    ref = (rng.random((11, 3)), rng.integers(0, 3, (11, 2)))
    brute = [min((np.abs(rows[0][i] - ref[0][j]).sum() + (rows[1][i] != ref[1][j]).sum()) / 5 for j in range(11)) for i in range(7)]
    np.testing.assert_allclose(closest_distances(rows, ref, chunk=3), brute)
