"""The tabular VAE: transformer, mixed likelihood, constraints, estimator, save/load."""

from __future__ import annotations

import math
import subprocess
import sys

import numpy as np
import pytest
import torch

pd = pytest.importorskip("pandas")
pytest.importorskip("yaml")

from vaelab import load  # noqa: E402
from vaelab.errors import DataFileError, InputError  # noqa: E402
from vaelab.likelihoods import build_likelihood  # noqa: E402
from vaelab.tabular import (  # noqa: E402
    ConstraintError,
    FixedCombinations,
    Predicate,
    Range,
    TableTransformer,
    TabularVAE,
)
from vaelab.tabular.schema import Schema  # noqa: E402

TINY = {"kind": "mlp", "hidden_dims": [32]}


def small_table(n: int = 300, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    age = rng.integers(20, 80, n)
    admitted = pd.Timestamp("2020-01-01") + pd.to_timedelta(rng.integers(0, 300, n), unit="D")
    stay = rng.integers(0, 20, n)
    sex = rng.choice(["female", "male"], n)
    income = np.where(rng.random(n) < 0.5, rng.normal(30_000, 2_000, n), rng.normal(80_000, 5_000, n)).round(2)
    income[rng.random(n) < 0.1] = np.nan
    return pd.DataFrame(
        {
            "age": age,
            "sex": sex,
            "smoker": rng.random(n) < 0.3,
            "income": income,
            "admitted": admitted,
            "discharged": admitted + pd.to_timedelta(stay, unit="D"),
            "ward": rng.choice(["A", "B", "C"], n),
            "plan": rng.choice(["basic", "plus"], n),
        }
    )


def tiny_model(**kwargs) -> TabularVAE:
    options = dict(epochs=3, latent_dim=4, network=TINY, batch_size=64, device="cpu", seed=0)
    options.update(kwargs)
    return TabularVAE(**options)


# ------------------------------------------------------------------ transformer


def test_transformer_round_trip_and_modes():
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.normal(-10, 1, 500), rng.normal(10, 1, 500)])
    df = pd.DataFrame({"x": x, "c": rng.choice(["a", "b", None], 1000)})
    t = TableTransformer(seed=0).fit(df, {"x": "continuous", "c": "discrete"})
    col = t.columns[0]
    assert len(col.means) >= 2  # two modes found by the variational mixture
    assert sorted(np.round(np.sort(col.means)[[0, -1]])) == [-10, 10]
    X = t.transform(df)
    assert X.shape == (1000, t.output_dim) and np.all(np.abs(X[:, 0]) < 1)
    back = t.inverse_transform(X)
    np.testing.assert_allclose(back["x"], x, atol=1e-6)
    assert list(back["c"]) == list(df["c"].where(df["c"].notna(), None))


def test_transformer_caps_categories_with_other_bucket():
    df = pd.DataFrame({"c": [f"id{i}" for i in range(50)] + ["common"] * 50})
    t = TableTransformer(max_categories=5).fit(df, {"c": "discrete"})
    assert t.columns[0].categories[0] == "common" and t.columns[0].categories[-1] == "<other>"
    assert t.output_dim == 5
    back = t.inverse_transform(t.transform(df))
    assert set(back["c"]) == set(t.columns[0].categories)  # "common", 3 ids and the bucket
    assert (back["c"] == "<other>").sum() == 47


def test_schema_infers_kinds_and_notes():
    df = small_table(100)
    df["const"] = 7
    df["empty"] = np.nan
    df["dates_text"] = ["2020-01-0%d" % (i % 9 + 1) if i % 2 else "03/0%d/2021" % (i % 9 + 1) for i in range(100)]
    df["numbers_text"] = [str(i) for i in range(99)] + ["n/a?"]
    schema, coerced = Schema.infer(df)
    kinds = {c.name: c.kind for c in schema.columns}
    assert kinds == {
        "age": "numeric", "sex": "categorical", "smoker": "boolean", "income": "numeric", "admitted": "datetime",
        "discharged": "datetime", "ward": "categorical", "plan": "categorical", "const": "constant",
        "empty": "empty", "dates_text": "datetime", "numbers_text": "numeric",
    }
    assert schema["age"].integer and not schema["income"].integer and schema["income"].decimals == 2
    assert math.isnan(coerced["numbers_text"].iloc[-1])
    assert any("numbers_text" in n and "text" in n for n in schema.notes)
    schema2, _ = Schema.infer(df, {"columns": {"age": {"type": "categorical"}}})
    assert schema2["age"].kind == "categorical"


# ------------------------------------------------------------------- likelihood


def test_mixed_likelihood_matches_torch_distributions():
    spans = [["gaussian", 1], ["categorical", 3], ["gaussian", 1], ["categorical", 2], ["categorical", 3]]
    lik = build_likelihood({"name": "mixed", "spans": spans, "scale": 0.2})
    g = torch.Generator().manual_seed(0)
    params = torch.randn(5, 10, generator=g)
    x = lik.sample(params, generator=g)
    expected = torch.zeros(5)
    start = 0
    for kind, width in spans:
        p = params[:, start : start + width]
        if kind == "gaussian":
            expected += torch.distributions.Normal(torch.tanh(p[:, 0]), 0.2).log_prob(x[:, start])
        else:
            expected += torch.distributions.Categorical(logits=p).log_prob(x[:, start : start + width].argmax(1))
        start += width
    torch.testing.assert_close(lik.log_prob(x, params), expected)
    assert lik.config()["spans"] == spans
    with pytest.raises(InputError, match="spans"):
        build_likelihood({"name": "mixed", "spans": [["poisson", 1]]})


def _mixed_log_prob_per_span(spans, scale, x, params):
    """The mixed likelihood one span at a time (the plain loop the vectorized log_prob replaces)."""
    total, start = torch.zeros(x.shape[0], dtype=params.dtype), 0
    for kind, width in spans:
        p, target = params[:, start : start + width], x[:, start : start + width]
        if kind == "gaussian":
            total = total + torch.distributions.Normal(torch.tanh(p[:, 0]), scale).log_prob(target[:, 0])
        else:
            total = total + (target * torch.nn.functional.log_softmax(p, dim=-1)).sum(1)
        start += width
    return total


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_vectorized_mixed_log_prob_equals_the_per_span_loop(dtype):
    g = torch.Generator().manual_seed(1)
    for trial in range(5):
        widths = torch.randint(1, 12, (8,), generator=g).tolist() + [47]  # Adult's widest span too
        spans = [["gaussian", 1] if w == 1 else ["categorical", w] for w in widths]
        lik = build_likelihood({"name": "mixed", "spans": spans, "scale": 0.3}).to(dtype)
        # logits far apart between spans (a shared shift would underflow), soft targets in some rows
        params = (torch.randn(64, lik.dim, generator=g, dtype=dtype) * 5 + torch.randint(-60, 60, (1, lik.dim), generator=g)).requires_grad_()
        x = lik.sample(params.detach(), generator=g)
        x[:8] = torch.rand(8, lik.dim, generator=g, dtype=dtype)
        got = lik.log_prob(x, params)
        want = _mixed_log_prob_per_span(spans, 0.3, x, params)
        torch.testing.assert_close(got, want, rtol=1e-6, atol=1e-6 * want.abs().max().item())
        grad_got, = torch.autograd.grad(got.sum(), params)
        grad_want, = torch.autograd.grad(want.sum(), params)
        torch.testing.assert_close(grad_got, grad_want, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("where", ["categorical", "gaussian"])
def test_mixed_log_prob_is_finite_and_exact_where_exponentials_overflow(where):
    """Parameters whose exponentials overflow float32 (a categorical logit, or a Gaussian column's raw mean,
    which never enters a softmax) give the per-span loop's values and gradients, not inf or NaN."""
    spans = [["gaussian", 1], ["categorical", 3], ["categorical", 2], ["gaussian", 1]]
    lik = build_likelihood({"name": "mixed", "spans": spans, "scale": 0.3})
    g = torch.Generator().manual_seed(4)
    params = torch.randn(16, lik.dim, generator=g)
    params[:4, 1 if where == "categorical" else 0] = 120.0  # exp(120) is inf in float32
    params.requires_grad_()
    x = lik.sample(params.detach(), generator=g)
    got = lik.log_prob(x, params)
    want = _mixed_log_prob_per_span(spans, 0.3, x, params)
    assert torch.isfinite(got).all()
    torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-4)
    grad_got, = torch.autograd.grad(got.sum(), params)
    grad_want, = torch.autograd.grad(want.sum(), params)
    assert torch.isfinite(grad_got).all()
    torch.testing.assert_close(grad_got, grad_want, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("learn_scale", [False, True])
@pytest.mark.parametrize("spans", [[["gaussian", 1], ["categorical", 3], ["gaussian", 1], ["categorical", 2]],
                                   [["categorical", 4], ["categorical", 1]], [["gaussian", 1], ["gaussian", 1]]],
                         ids=["mixed", "categorical only", "gaussian only"])
def test_mixed_log_prob_gradient_passes_gradcheck(spans, learn_scale):
    """The closed-form backward of the mixed likelihood against finite differences, in float64."""
    lik = build_likelihood({"name": "mixed", "spans": spans, "scale": 0.3, "learn_scale": learn_scale}).double()
    g = torch.Generator().manual_seed(3)
    params = torch.randn(6, lik.dim, generator=g, dtype=torch.float64, requires_grad=True)
    x = lik.sample(params.detach(), generator=g)
    x[:2] = torch.rand(2, lik.dim, generator=g, dtype=torch.float64)  # soft targets: the gradient is linear in x
    x.requires_grad_()  # the gradient in the data too (for tools that differentiate the likelihood in x)
    if learn_scale:
        lik.log_scale.data += torch.linspace(-0.5, 0.5, len(lik.log_scale), dtype=torch.float64)
        assert torch.autograd.gradcheck(lambda x, p, s: _with_log_scale(lik, s).log_prob(x, p),
                                        (x, params, lik.log_scale.detach().clone().requires_grad_()))
    else:
        assert torch.autograd.gradcheck(lambda x, p: lik.log_prob(x, p), (x, params))


def _with_log_scale(lik, log_scale):
    """``lik`` with its learned log-scale parameter replaced by ``log_scale`` (a leaf gradcheck can vary)."""
    del lik.log_scale
    lik.log_scale = log_scale
    return lik


def test_the_mixtures_fit_alike_when_the_process_flushes_denormals():
    """The CLI flushes denormal floats for its whole process; the transformer's mixtures keep them
    (flushed, a log-gap column's fit met a NaN lower bound and warned)."""
    import warnings

    from vaelab.tabular.pipeline import TablePipeline
    from vaelab.tabular.rules import parse_constraints

    df = small_table(300)
    rules = [{"type": "inequality", "low": "admitted", "high": "discharged"}]
    plain = TablePipeline(parse_constraints(rules), seed=0).fit_transform(df)
    if not torch.set_flush_denormal(True):
        pytest.skip("this CPU cannot flush denormals")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", RuntimeWarning)
            flushed = TablePipeline(parse_constraints(rules), seed=0).fit_transform(df)
        assert float(torch.tensor(1e-39) * 1.0) == 0.0  # still flushing after the fit
    finally:
        torch.set_flush_denormal(False)
    np.testing.assert_array_equal(flushed, plain)


# ------------------------------------------------------------------ constraints


def test_constraints_hold_on_every_sampled_row_and_model_round_trips(tmp_path):
    df = small_table()
    rules = [
        {"type": "range", "column": "age", "low": 18, "high": 90},
        {"type": "positive", "column": "income"},
        {"type": "inequality", "low": "admitted", "high": "discharged"},
        {"type": "fixed_combinations", "columns": ["ward", "plan"]},
        {"type": "increment", "column": "age", "step": 2},
    ]
    df["age"] = df["age"] // 2 * 2
    df = df[~((df.ward == "C") & (df.plan == "plus"))]  # a combination that never occurs
    model = tiny_model(epochs=40, constraints=rules).fit(df)
    synth = model.sample(500, seed=1)
    assert list(synth.columns) == list(df.columns) and len(synth) == 500
    assert synth["age"].between(18, 90).all() and (synth["age"] % 2 == 0).all()
    assert (synth["income"].dropna() > 0).all()
    assert (synth["discharged"] >= synth["admitted"]).all()
    assert not ((synth.ward == "C") & (synth.plan == "plus")).any()
    assert synth["smoker"].dropna().map(type).eq(bool).all()
    assert 0.0 < synth["income"].isna().mean() < 0.3  # the missing rate is reproduced, roughly 10%
    model.save(tmp_path / "m")
    again = load(tmp_path / "m")
    pd.testing.assert_frame_equal(again.sample(50, seed=3), model.sample(50, seed=3))


def test_an_increment_grid_with_an_offset_holds_for_every_row_and_is_suggested_when_missing(tmp_path):
    """Census years 1952, 1957, ...: a grid of step 5 that starts off the multiples of 5."""
    df = small_table(300)
    df["year"] = 1952 + 5 * np.random.default_rng(1).integers(0, 12, len(df))
    rule = {"type": "increment", "column": "year", "step": 5}
    with pytest.raises(InputError, match=r"row 0: \{'year': 19\d\d(\.0)?\}\); all its values lie 2 above the "
                                         r"rule's grid: set offset: 19\d\d in the rule"):
        tiny_model(constraints=[rule]).fit(df)
    model = tiny_model(epochs=20, constraints=[{**rule, "offset": 1952},
                                               {"type": "range", "column": "year", "low": 1952, "high": 2007}]).fit(df)
    synth = model.sample(400, seed=0)
    assert ((synth["year"] - 1952) % 5 == 0).all() and synth["year"].between(1952, 2007).all()
    assert synth["year"].nunique() > 3  # spread over the grid, not collapsed onto one year
    model.save(tmp_path / "m")
    assert {"type": "increment", "column": "year", "step": 5, "offset": 1952} in [
        c.to_dict() for c in load(tmp_path / "m").pipeline_.constraints]
    with pytest.raises(InputError, match="offset must be a finite number"):
        tiny_model(constraints=[{**rule, "offset": "1952"}]).fit(df)


def test_codes_of_rows_and_rows_of_codes(tmp_path):
    df = small_table(300)
    rules = [{"type": "range", "column": "age", "low": 18, "high": 90},
             {"type": "inequality", "low": "admitted", "high": "discharged"}]
    model = tiny_model(epochs=30, constraints=rules).fit(df)
    codes = model.transform(df)
    assert codes.shape == (300, 4) and np.isfinite(codes).all()
    np.testing.assert_allclose(model.transform(df.iloc[::-1].head(7)), codes[::-1][:7], rtol=1e-5, atol=1e-6)
    path = tmp_path / "t.csv"
    df.to_csv(path, index=False)
    np.testing.assert_allclose(model.transform(str(path)), codes, rtol=1e-4, atol=1e-5)  # a CSV reads the same
    back = model.inverse_transform(codes)
    assert list(back.columns) == list(df.columns) and len(back) == 300
    assert back["age"].between(18, 90).all() and (back["discharged"] >= back["admitted"]).all()
    pd.testing.assert_frame_equal(model.reconstruct(df), back)
    assert codes.std(0).max() > 1e-3  # rows get different codes (this table's columns are independent noise,
    # so how much of a row its code keeps is not tested here)
    with pytest.raises(InputError, match=r"lacks the column\(s\) \['income'\]"):
        model.transform(df.drop(columns="income"))
    with pytest.raises(InputError, match="a label not seen in fit"):
        model.transform(df.assign(sex="other"))
    with pytest.raises(InputError, match=r"column 'age' of X has a missing or unreadable cell \(row 3\), and it had "
                                         "none when the model was fitted"):
        model.transform(df.assign(age=[40, 41, 42, "old"] + [40] * 296))
    assert np.isfinite(model.transform(df.assign(income=np.nan))).all()  # income had missing cells in fit
    with pytest.raises(InputError, match=r"2 rows of X break the model's constraints \(rows \[0, 1\]\)"):
        model.transform(df.assign(age=[5, 6] + [40] * 298))
    with pytest.raises(InputError, match="no likelihood score for rows"):
        model.score(df)


def test_a_table_of_few_rows_fits_with_a_warning(caplog):
    tiny_model(epochs=1).fit(small_table(40))
    assert "only 40 rows to learn from" in caplog.text
    caplog.clear()
    tiny_model(epochs=1).fit(small_table(150))
    assert "rows to learn from" not in caplog.text


def test_violating_rows_are_reported_and_dropped(caplog):
    df = small_table(200)
    df.loc[:4, "age"] = 5
    model = tiny_model(epochs=1, constraints=[Range("age", low=18)]).fit(df)
    (violation,) = model.pipeline_.violations
    assert violation.count == 5 and violation.rows == [0, 1, 2, 3, 4]
    assert model.pipeline_.n_rows == 195
    assert "5 rows violate" in caplog.text


def test_constraint_errors_name_the_problem():
    df = small_table(100)
    with pytest.raises(InputError, match="'weight', which the table does not have"):
        tiny_model(constraints=[{"type": "range", "column": "weight", "low": 0}]).fit(df)
    with pytest.raises(InputError, match="no row of the data satisfies"):
        tiny_model(constraints=[Range("age", low=100)]).fit(df)
    with pytest.raises(InputError, match="unknown constraint type 'ranges'"):
        tiny_model(constraints=[{"type": "ranges", "column": "age"}]).fit(df)
    with pytest.raises(InputError, match="low 5 must be below high 1"):
        Range("age", low=5, high=1)


def test_predicate_by_rejection_and_bounded_failure():
    df = small_table(200)
    model = tiny_model(epochs=1).fit(df)
    older = Predicate(lambda d: d["age"] > 40, name="older")
    assert (model.sample(100, seed=0, predicates=[older])["age"] > 40).all()
    never = Predicate(lambda d: np.zeros(len(d), bool), name="never")
    with pytest.raises(ConstraintError, match="max_tries=10"):
        model.sample(20, seed=0, predicates=[never])


# ---------------------------------------------------------------- bad inputs


@pytest.mark.parametrize(
    "content, error, match",
    [
        (b"", DataFileError, "is empty"),
        (b"a,b\n", DataFileError, "no rows"),
        (b"a,b\n1,2\n3,4,5\n", DataFileError, "line 3 has 3 fields but the header has 2"),
        ("a,b\n1,caf\xe9\n".encode("latin-1"), DataFileError, "not valid utf-8"),
    ],
)
def test_bad_files_get_one_clear_error(tmp_path, content, error, match):
    path = tmp_path / "bad.csv"
    path.write_bytes(content)
    with pytest.raises(error, match=match):
        tiny_model().fit(path)


def test_odd_columns_are_handled(tmp_path):
    n = 120
    rng = np.random.default_rng(0)
    df = pd.DataFrame(
        {
            "x": rng.normal(size=n),
            "empty": [None] * n,
            "const": ["same"] * n,
            "ids": [f"id{i}" for i in range(n)],
            "mixed_dates": ["2021-03-04", "04/05/2021", "March 6, 2021", "2021/03/07"] * (n // 4),
            "num_text": [str(v) for v in rng.integers(0, 9, n - 2)] + ["unknown", "?x"],
        }
    )
    path = tmp_path / "odd.csv"
    df.to_csv(path, index=False)
    model = tiny_model(epochs=1, max_categories=10).fit(path)
    synth = model.sample(30, seed=0)
    assert synth["empty"].isna().all() and (synth["const"] == "same").all()
    assert synth["ids"].nunique() <= 10
    assert pd.api.types.is_datetime64_any_dtype(synth["mixed_dates"])
    assert pd.api.types.is_numeric_dtype(synth["num_text"])


def test_a_saved_table_model_loads_in_a_fresh_process(tmp_path):
    """vaelab.load finds TabularVAE (and the "mixed" likelihood) by name without the caller importing vaelab.tabular."""
    tiny_model(epochs=1).fit(small_table(120)).save(tmp_path / "t")
    code = ("import sys, vaelab; assert 'vaelab.tabular.estimator' not in sys.modules; "
            f"m = vaelab.load({str(tmp_path / 't')!r}); print(type(m).__name__, len(m.sample(5, seed=0)))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["TabularVAE", "5"]


def test_import_vaelab_works_without_pandas():
    code = "import sys; sys.modules['pandas'] = None; import vaelab, vaelab.tabular; print(vaelab.TabularVAE.__name__)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "TabularVAE"


# ------------------------------------------------------------------ privacy


def test_dp_sgd_spends_the_target_epsilon_and_leaves_a_plain_model(tmp_path):
    pytest.importorskip("opacus")
    df = small_table(200)
    model = tiny_model(epochs=2, dp_epsilon=5.0, dp_delta=1e-4).fit(df)
    p = model.privacy_
    assert p["delta"] == 1e-4 and p["steps"] == 2 * 4
    assert 4.5 < p["epsilon"] <= 5.0 + 1e-6 and p["noise_multiplier"] > 0.3
    assert not any(m._forward_hooks or m._backward_hooks for m in model.module_.modules())  # Opacus' hooks removed
    assert not model.module_.likelihood.learn_scale  # no per-example gradient for a free scale
    model.save(tmp_path / "dp")
    assert load(tmp_path / "dp").privacy_ == p
    assert len(model.sample(20, seed=0)) == 20


def test_an_interrupted_dp_fit_resumes_to_the_same_weights_and_privacy(tmp_path):
    """DP-SGD's noise comes from the RNG the checkpoint restores, and the accountant counts every step, resumed ones too."""
    pytest.importorskip("opacus")
    from vaelab.training import Callback

    class Crash(Callback):
        def on_step_end(self, trainer, output):  # noqa: ANN001
            if trainer.state.step == 6:  # epoch 1 ended at step 4 (a checkpoint); crash in epoch 2
                raise RuntimeError("simulated crash")

    df = small_table(200)
    full = tiny_model(epochs=3, dp_epsilon=5.0, dp_delta=1e-4).fit(df)
    with pytest.raises(RuntimeError, match="simulated"):
        tiny_model(epochs=3, dp_epsilon=5.0, dp_delta=1e-4).fit(df, checkpoint_dir=tmp_path, callbacks=[Crash()])
    resumed = tiny_model(epochs=3, dp_epsilon=5.0, dp_delta=1e-4).fit(df, checkpoint_dir=tmp_path, resume=True)
    a, b = full.module_.state_dict(), resumed.module_.state_dict()
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    assert resumed.privacy_ == full.privacy_ and full.privacy_["steps"] == 3 * 4


def test_dp_noise_is_calibrated_by_the_accountant():
    pytest.importorskip("opacus")
    from vaelab.tabular.dp import noise_for_epsilon, spent_epsilon

    noise = noise_for_epsilon(1.0, 1e-5, 0.01, 1000)
    assert spent_epsilon(noise, 0.01, 1000, 1e-5) == pytest.approx(1.0, abs=0.05)
    assert spent_epsilon(noise, 0.01, 2000, 1e-5) > 1.0  # more steps spend more


# --------------------------------------------------------------- conditioning


def test_conditional_sampling_sets_the_value_and_follows_it():
    rng = np.random.default_rng(0)
    n = 400
    ward = rng.choice(["A", "B"], n)
    df = pd.DataFrame({
        "ward": ward,
        "cost": np.where(ward == "A", rng.normal(100, 5, n), rng.normal(300, 5, n)).round(1),
        "plan": rng.choice(["basic", "plus"], n),
        "urgent": rng.random(n) < 0.3,
        "kind": rng.choice(["x", "y"], n),
    })
    model = tiny_model(epochs=80, constraints=[FixedCombinations(["plan", "kind"])]).fit(df)
    a = model.sample(200, seed=0, conditions={"ward": "A"})
    b = model.sample(200, seed=0, conditions={"ward": "B"})
    assert (a["ward"] == "A").all() and (b["ward"] == "B").all()
    assert a["cost"].mean() < 200 < b["cost"].mean()  # the other columns follow the condition
    both = model.sample(50, seed=0, conditions={"urgent": "true", "plan": "plus"})
    assert both["urgent"].all() and (both["plan"] == "plus").all()  # a merged fixed-combination column too
    with pytest.raises(InputError, match="never holds"):
        model.sample(5, conditions={"ward": "Z"})
    with pytest.raises(InputError, match="'cost' is numeric"):
        model.sample(5, conditions={"cost": 100})
    with pytest.raises(InputError, match="conditional=True"):
        tiny_model(epochs=1, conditional=False).fit(df).sample(5, conditions={"ward": "A"})


def test_a_table_of_numbers_only_fits_and_samples():
    df = pd.DataFrame({"x": np.arange(60.0), "y": np.arange(60) % 7})
    synth = tiny_model(epochs=1).fit(df).sample(10, seed=0)
    assert synth.shape == (10, 2) and synth["y"].between(0, 6).all()


def test_fifty_thousand_levels_are_capped(tmp_path):
    n = 50_000
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"patient": [f"p{i:05d}" for i in range(n)], "dose": rng.integers(1, 5, n)})
    model = tiny_model(epochs=1, batch_size=5000, max_categories=20).fit(df)
    assert model.input_shape_[0] < 40  # 20 one-hot levels, not 50,000
    synth = model.sample(100, seed=0)
    assert set(synth["patient"]) <= set(model.pipeline_.transformer.columns[0].categories)
