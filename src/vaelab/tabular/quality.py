"""How good and how private synthetic rows are: shapes, pair trends, ML efficacy, validity, privacy.

The two quality parts are those of SDMetrics' ``QualityReport`` (the test
suite checks agreement within 0.01), computed here without it:

* **column shapes**: per column, 1 - the Kolmogorov-Smirnov statistic for
  numbers and dates, 1 - the total variation distance between the label
  frequencies for categories and booleans (missing cells left out);
* **column-pair trends**: per pair, 1 - |r_real - r_synth| / 2 with Pearson's
  r for two numeric columns (rows where both are present), else 1 - the total
  variation distance between the two contingency tables, a numeric column
  being cut into 10 equal-width bins of its own table's range (as SDMetrics
  does; missing cells are a cell of their own).

The quality score is the mean of the two parts' means (pairs or columns
that cannot be scored, such as a constant column's correlation, left out).

Beside them: **ML efficacy** (a scikit-learn ``HistGradientBoosting`` model
of a target column trained on synthetic rows and tested on real holdout rows,
next to one trained on the real training rows; macro F1 for labels, R^2 for
numbers), **constraint validity** (share of rows meeting each constraint) and
**privacy**: the distance to the closest record (DCR, a Gower distance: mean
over columns of |a - b| / range for numbers, mismatch for labels) from each
synthetic row to the training rows, next to the same for real holdout rows
(synthetic rows much closer than holdout rows would mean memorization), and
the share of synthetic rows that exactly copy a training row.
"""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING, Any

import numpy as np

from vaelab.errors import InputError
from vaelab.report.html import Section

if TYPE_CHECKING:
    import pandas as pd

CONTINUOUS = ("numeric", "datetime")
DISCRETE = ("categorical", "boolean")
DCR_TRAIN_ROWS = 10_000  # the DCR compares against at most this many training rows (seeded subsample)


def _as_numbers(s: pd.Series) -> np.ndarray:
    import pandas as pd

    if pd.api.types.is_datetime64_any_dtype(s):
        out = s.to_numpy(dtype="datetime64[ns]").astype("int64").astype(float)
        out[s.isna().to_numpy()] = np.nan
        return out
    return pd.to_numeric(s, errors="coerce").to_numpy(dtype=float)


def ks_complement(real: pd.Series, synth: pd.Series) -> float:
    """1 - the two-sample KS statistic of the present values."""
    from scipy.stats import ks_2samp

    a, b = _as_numbers(real), _as_numbers(synth)
    a, b = a[~np.isnan(a)], b[~np.isnan(b)]
    if a.size == 0 or b.size == 0:
        return float("nan")
    return 1.0 - float(ks_2samp(a, b).statistic)


def _frequencies(values: pd.Series | pd.DataFrame) -> pd.Series:
    """Share of each value (of each row, for a frame), missing included."""
    counts = values.value_counts(dropna=False)
    return counts / counts.sum()


def _tv_complement(p: pd.Series, q: pd.Series) -> float:
    p, q = p.align(q, fill_value=0.0)
    return 1.0 - 0.5 * float(np.abs(p.to_numpy() - q.to_numpy()).sum())


def tv_complement(real: pd.Series, synth: pd.Series) -> float:
    """1 - the total variation distance between the frequencies of the present labels."""
    real, synth = real.dropna().astype(str), synth.dropna().astype(str)
    if real.empty or synth.empty:
        return float("nan")
    return _tv_complement(_frequencies(real), _frequencies(synth))


def correlation_similarity(real: pd.DataFrame, synth: pd.DataFrame) -> float:
    """1 - |Pearson r (real) - Pearson r (synthetic)| / 2 of two numeric columns."""
    return 1.0 - abs(pearson(real) - pearson(synth)) / 2.0


def _binned(s: pd.Series) -> np.ndarray:
    x = _as_numbers(s)
    present = x[~np.isnan(x)]
    if present.size == 0:
        return np.full(x.shape, -1)
    return np.digitize(x, np.histogram_bin_edges(present))  # NaN lands past the last edge


def _joint(df: pd.DataFrame, continuous: list[bool]) -> pd.DataFrame:
    """Two columns as labels: numbers binned, missing a label of its own."""
    import pandas as pd

    cols = {}
    for i in range(2):
        s = df.iloc[:, i]
        cols[str(i)] = _binned(s) if continuous[i] else s.astype(object).where(s.notna(), "<NA>").astype(str)
    return pd.DataFrame(cols)


def contingency_similarity(real: pd.DataFrame, synth: pd.DataFrame, continuous: list[bool]) -> float:
    """1 - the total variation distance between the joint frequencies of two columns (numbers binned)."""
    return _tv_complement(_frequencies(_joint(real, continuous)), _frequencies(_joint(synth, continuous)))


def cramers_v(real: pd.DataFrame, continuous: list[bool]) -> float:
    """Cramer's V of two columns of the real table (numbers binned); NaN for a single row or column."""
    from scipy.stats.contingency import association

    counts = _joint(real, continuous).value_counts().unstack(fill_value=0)
    if counts.to_numpy().sum() == 0 or min(counts.shape) < 2:
        return float("nan")
    return float(association(counts.to_numpy(), method="cramer"))


def pearson(df: pd.DataFrame) -> float:
    """Pearson's r of two numeric (or date) columns over the rows where both are present."""
    a, b = _as_numbers(df.iloc[:, 0]), _as_numbers(df.iloc[:, 1])
    keep = ~(np.isnan(a) | np.isnan(b))
    a, b = a[keep], b[keep]
    if a.size < 2 or a.std() == 0 or b.std() == 0:
        return float("nan")
    return float(np.corrcoef(a, b)[0, 1])


def column_kinds(schema: Any, columns: list[str]) -> dict[str, str]:
    """The columns the quality scores cover, by kind (constant and empty columns are left out)."""
    return {c.name: c.kind for c in schema.columns if c.name in columns and c.kind in CONTINUOUS + DISCRETE}


def quality_scores(
    real: pd.DataFrame,
    synth: pd.DataFrame,
    kinds: dict[str, str],
    *,
    correlation_threshold: float = 0.5,
    association_threshold: float = 0.3,
) -> dict[str, Any]:
    """Column shapes, column-pair trends and their mean, with the per-column and per-pair scores.

    As in SDMetrics (0.2x and later), the trends score averages the pairs that are related in
    the real table: |r| above ``correlation_threshold`` for two numeric columns, Cramer's V
    above ``association_threshold`` otherwise (0 and 0 count every pair; their mean over all
    pairs is ``column_pair_trends_all``).
    """
    shapes = {}
    for name, kind in kinds.items():
        metric = ks_complement if kind in CONTINUOUS else tv_complement
        shapes[name] = {"metric": metric.__name__, "score": metric(real[name], synth[name])}
    pairs = []
    for a, b in itertools.combinations(kinds, 2):
        cont = [kinds[a] in CONTINUOUS, kinds[b] in CONTINUOUS]
        if all(cont):
            metric, score = "correlation_similarity", correlation_similarity(real[[a, b]], synth[[a, b]])
            related = abs(pearson(real[[a, b]])) > correlation_threshold if correlation_threshold > 0 else True
        else:
            metric, score = "contingency_similarity", contingency_similarity(real[[a, b]], synth[[a, b]], cont)
            related = cramers_v(real[[a, b]], cont) > association_threshold if association_threshold > 0 else True
        pairs.append({"columns": [a, b], "metric": metric, "score": score, "related": bool(related)})
    shape = _mean([v["score"] for v in shapes.values()])
    trend = _mean([p["score"] for p in pairs if p["related"]])
    return {
        "score": _mean([shape, trend]),
        "column_shapes": shape,
        "column_pair_trends": trend,
        "column_pair_trends_all": _mean([p["score"] for p in pairs]),
        "related_pairs": sum(p["related"] for p in pairs),
        "columns": shapes,
        "pairs": pairs,
    }


def _mean(values: list[float]) -> float:
    """Mean of the finite values; NaN when there are none."""
    finite = [v for v in values if v == v]
    return float(np.mean(finite)) if finite else float("nan")


def _features(frames: list[pd.DataFrame], kinds: dict[str, str]) -> list[pd.DataFrame]:
    """Numbers as floats, labels as pandas categories shared by all frames (codes if > 250 labels)."""
    import pandas as pd

    out = [pd.DataFrame(index=f.index) for f in frames]
    for name, kind in kinds.items():
        if kind in CONTINUOUS:
            for f, o in zip(frames, out):
                o[name] = _as_numbers(f[name])
        else:
            texts = [f[name].astype(object).where(f[name].notna(), "<NA>").astype(str) for f in frames]
            levels = sorted(set().union(*[set(t) for t in texts]))
            for t, o in zip(texts, out):
                cat = pd.Categorical(t, categories=levels)
                o[name] = cat if len(levels) <= 250 else cat.codes.astype(float)
    return out


def ml_efficacy(train: pd.DataFrame, holdout: pd.DataFrame, synth: pd.DataFrame, target: str, kinds: dict[str, str], seed: int = 0) -> dict[str, Any]:
    """Train-synthetic/test-real next to train-real/test-real, with ``HistGradientBoosting``."""
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
    from sklearn.metrics import f1_score, r2_score

    features = {k: v for k, v in kinds.items() if k != target}
    classify = kinds[target] in DISCRETE or train[target].nunique() <= 10
    Xs = _features([train, holdout, synth], features)
    if classify:
        ys = [f[target].astype(str).to_numpy() for f in (train, holdout, synth)]
        model_cls, metric, name = HistGradientBoostingClassifier, lambda y, p: f1_score(y, p, average="macro"), "macro F1"
    else:
        ys = [_as_numbers(f[target]) for f in (train, holdout, synth)]
        model_cls, metric, name = HistGradientBoostingRegressor, r2_score, "R^2"
    scores = {}
    for label, X, y in (("real", Xs[0], ys[0]), ("synthetic", Xs[2], ys[2])):
        keep = ~_missing(y)
        if classify and len(set(y[keep])) < 2:
            scores[label] = float("nan")
            continue
        model = model_cls(random_state=seed, categorical_features="from_dtype", max_iter=100)
        model.fit(X[keep], y[keep])
        test = ~_missing(ys[1])
        scores[label] = float(metric(ys[1][test], model.predict(Xs[1][test])))
    return {"target": target, "task": "classification" if classify else "regression", "metric": name,
            "train_real_test_real": scores["real"], "train_synthetic_test_real": scores["synthetic"]}


def _missing(y: np.ndarray) -> np.ndarray:
    return np.array([v is None or v != v or v == "nan" or v == "<NA>" for v in y], dtype=bool) if y.dtype == object or y.dtype.kind == "U" else np.isnan(y)


def _gower_matrix(frames: list[pd.DataFrame], kinds: dict[str, str], reference: pd.DataFrame) -> list[tuple[np.ndarray, np.ndarray]]:
    """Per frame: numbers scaled by the reference's range (missing -> -1) and label codes (missing a code)."""
    nums = [n for n, k in kinds.items() if k in CONTINUOUS]
    cats = [n for n, k in kinds.items() if k in DISCRETE]
    out = []
    lows = {n: np.nanmin(_as_numbers(reference[n])) for n in nums}
    spans = {n: (np.nanmax(_as_numbers(reference[n])) - lows[n]) or 1.0 for n in nums}
    codebooks = {n: {v: i for i, v in enumerate(sorted(set().union(*[set(f[n].astype(str)) for f in frames])))} for n in cats}
    for f in frames:
        num = np.stack([np.nan_to_num((_as_numbers(f[n]) - lows[n]) / spans[n], nan=-1.0) for n in nums], 1) if nums else np.zeros((len(f), 0))
        cat = np.stack([f[n].astype(str).map(codebooks[n]).to_numpy() for n in cats], 1) if cats else np.zeros((len(f), 0), int)
        out.append((num, cat))
    return out


def closest_distances(rows: tuple[np.ndarray, np.ndarray], reference: tuple[np.ndarray, np.ndarray], chunk: int = 256) -> np.ndarray:
    """Gower distance from each row to its closest reference row, shape (n_rows,)."""
    (num, cat), (rnum, rcat) = rows, reference
    width = num.shape[1] + cat.shape[1]
    out = np.empty(num.shape[0])
    for start in range(0, num.shape[0], chunk):
        stop = min(start + chunk, num.shape[0])
        d = np.zeros((stop - start, rnum.shape[0]))
        for j in range(num.shape[1]):  # column by column: memory (chunk, n_reference)
            d += np.abs(num[start:stop, j, None] - rnum[None, :, j])
        for j in range(cat.shape[1]):
            d += cat[start:stop, j, None] != rcat[None, :, j]
        out[start:stop] = d.min(1) / max(width, 1)
    return out


def privacy(train: pd.DataFrame, holdout: pd.DataFrame, synth: pd.DataFrame, kinds: dict[str, str], seed: int = 0) -> dict[str, Any]:
    """DCR of synthetic rows and of real holdout rows to the training rows, and the exact-copy share."""
    rng = np.random.default_rng(seed)
    reference = train if len(train) <= DCR_TRAIN_ROWS else train.iloc[np.sort(rng.choice(len(train), DCR_TRAIN_ROWS, replace=False))]
    synth_m, hold_m, ref_m = _gower_matrix([synth, holdout, reference], kinds, train)
    dcr_synth = closest_distances(synth_m, ref_m)
    dcr_hold = closest_distances(hold_m, ref_m)
    cols = list(kinds)
    train_keys = set(map(tuple, train[cols].astype(str).to_numpy()))
    copies = float(np.mean([tuple(r) in train_keys for r in synth[cols].astype(str).to_numpy()]))
    return {
        "dcr_synthetic_median": float(np.median(dcr_synth)),
        "dcr_holdout_median": float(np.median(dcr_hold)),
        "dcr_synthetic_5th_percentile": float(np.percentile(dcr_synth, 5)),
        "dcr_holdout_5th_percentile": float(np.percentile(dcr_hold, 5)),
        "synthetic_closer_than_holdout_median": float(np.mean(dcr_synth < np.median(dcr_hold))),
        "exact_copy_share": copies,
        "train_rows_compared": int(len(reference)),
    }


def validity(pipeline: Any, synth: pd.DataFrame) -> dict[str, Any]:
    """Share of synthetic rows meeting each constraint and all of them."""
    rows = [
        {"constraint": c.describe(), "constructive": c.constructive, "valid_share": float(np.mean(c.is_valid(synth)))}
        for c in pipeline.constraints
    ]
    return {"all": float(np.mean(pipeline.valid(synth))) if len(synth) else float("nan"), "constraints": rows}


def as_schema(df: pd.DataFrame, schema: Any) -> pd.DataFrame:
    """Real rows read as the model's schema reads them: the same kinds, dtypes and rounding."""
    return schema.finalize(schema.read(df))


def quality_report(
    model: Any, train: pd.DataFrame, holdout: pd.DataFrame, synth: pd.DataFrame, *, target: str | None = None, seed: int = 0
) -> dict[str, Any]:
    """All of the above for a fitted :class:`TabularVAE`, as one JSON-able dict.

    Parameters
    ----------
    model : TabularVAE
        Fitted on ``train``.
    train, holdout : DataFrame
        The real rows the model saw, and real rows it did not.
    synth : DataFrame
        Rows sampled from the model.
    target : str, optional
        The ML-efficacy target; default the last modelled column.
    """
    pipeline = model.pipeline_
    schema = pipeline.schema
    train = as_schema(train, schema)
    holdout = as_schema(holdout, schema) if len(holdout) else holdout
    kinds = column_kinds(schema, list(synth.columns))
    target = target if target is not None else list(kinds)[-1]
    if target not in kinds:
        raise InputError(f"target must be one of the modelled columns {list(kinds)}, got {target!r}")
    report: dict[str, Any] = {"rows": {"train": len(train), "holdout": len(holdout), "synthetic": len(synth)}}
    report["quality"] = quality_scores(train, synth, kinds)
    report["validity"] = validity(pipeline, synth)
    if len(holdout):
        report["ml_efficacy"] = ml_efficacy(train, holdout, synth, target, kinds, seed)
        report["privacy"] = privacy(train, holdout, synth, kinds, seed)
    report["differential_privacy"] = getattr(model, "privacy_", None)
    return report


def report_sections(report: dict[str, Any]) -> list[Any]:
    """The report as :class:`vaelab.report.html.Section` objects for the HTML page."""
    q = report["quality"]
    rows = report["rows"]
    overview = Section(
        "Overview",
        [f"{rows['train']} training rows, {rows['holdout']} real holdout rows, {rows['synthetic']} synthetic rows."],
        tables=[(["measure", "value"], [
            ["quality score", q["score"]],
            ["column shapes", q["column_shapes"]],
            ["column-pair trends (related pairs)", q["column_pair_trends"]],
            ["column-pair trends (all pairs)", q["column_pair_trends_all"]],
            ["rows meeting every constraint", report["validity"]["all"]],
        ])],
    )
    sections = [overview]
    sections.append(Section("Column shapes", ["1 - KS statistic for numbers and dates, 1 - total variation for labels."],
                            tables=[(["column", "metric", "score"], [[k, v["metric"], v["score"]] for k, v in q["columns"].items()])]))
    sections.append(Section(
        "Column-pair trends",
        ["Correlation similarity for two numeric columns, contingency similarity otherwise; "
         "'related' pairs (|r| > 0.5 or Cramer's V > 0.3 in the real table) make the trends score."],
        tables=[(["columns", "metric", "score", "related"], [[" / ".join(p["columns"]), p["metric"], p["score"], p["related"]] for p in q["pairs"]])],
    ))
    v = report["validity"]
    sections.append(Section("Constraint validity", tables=[(["constraint", "by construction", "valid share"],
                                                              [[c["constraint"], c["constructive"], c["valid_share"]] for c in v["constraints"]])]))
    if "ml_efficacy" in report:
        m = report["ml_efficacy"]
        sections.append(Section(
            "Machine-learning efficacy",
            [f"HistGradientBoosting {m['task']} of {m['target']!r}, tested on the real holdout rows ({m['metric']})."],
            tables=[(["trained on", m["metric"]], [["real training rows", m["train_real_test_real"]], ["synthetic rows", m["train_synthetic_test_real"]]])],
        ))
    if "privacy" in report:
        p = report["privacy"]
        sections.append(Section(
            "Privacy",
            ["Distance to the closest training record (Gower: mean over columns of |a - b| / range, or label mismatch). "
             "Synthetic rows should be no closer to the training rows than real holdout rows are."],
            tables=[(["measure", "value"], [[k.replace("_", " "), val] for k, val in p.items()])],
        ))
    dp = report.get("differential_privacy")
    sections.append(Section("Differential privacy", [
        "Trained without differential privacy." if not dp else
        f"DP-SGD: epsilon {dp['epsilon']:.3g} spent at delta {dp['delta']:.3g} "
        f"(noise multiplier {dp['noise_multiplier']:.3g}, clipping norm {dp['max_grad_norm']}, {dp['steps']} steps)."
    ]))
    return sections
