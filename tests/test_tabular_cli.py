"""`vaelab tabular fit|resume|sample|report` end to end on a tiny table."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

pd = pytest.importorskip("pandas")
pytest.importorskip("typer")

from vaelab.cli import main  # noqa: E402


def vaelab(*argv: object) -> int:
    return main([str(a) for a in argv])


@pytest.fixture()
def table(tmp_path):
    rng = np.random.default_rng(0)
    n = 150
    age = rng.integers(20, 90, n)
    df = pd.DataFrame({
        "age": age,
        "sex": rng.choice(["female", "male"], n),
        "nodes": rng.integers(1, 10, n),
        "grade": rng.choice(["I", "II", "III"], n),
        "event": (rng.random(n) < 0.4).astype(int),
    })
    path = tmp_path / "t.csv"
    df.to_csv(path, index=False)
    rules = tmp_path / "rules.yaml"
    rules.write_text(
        "constraints:\n"
        "  - {type: range, column: age, low: 18, high: 90}\n"
        "  - {type: range, column: nodes, low: 1}\n"
        "  - {type: fixed_combinations, columns: [sex, grade]}\n"
    )
    return path, rules


SMALL = ["--epochs", 2, "--latent-dim", 4, "--batch-size", 64, "--quiet"]


def test_fit_sample_report(tmp_path, table, capsys):
    data, rules = table
    run = tmp_path / "run"
    assert vaelab("tabular", "fit", data, "--constraints", rules, "--out", run, "--threads", 1, *SMALL) == 0
    assert {p.name for p in run.iterdir()} >= {"config.toml", "model", "history.csv", "split.json", "train.log", "metrics.json"}
    assert "threads = 1" in (run / "config.toml").read_text()  # resume fits with the same number of threads
    assert vaelab("tabular", "sample", run, "-n", 200, "--out", tmp_path / "s.csv", "--quiet") == 0
    synth = pd.read_csv(tmp_path / "s.csv")
    assert len(synth) == 200 and list(synth.columns) == ["age", "sex", "nodes", "grade", "event"]
    assert synth["age"].between(18, 90).all() and (synth["nodes"] >= 1).all()
    assert vaelab("tabular", "sample", run, "-n", 20, "--out", tmp_path / "f.csv", "--condition", "sex=female", "--quiet") == 0
    assert (pd.read_csv(tmp_path / "f.csv")["sex"] == "female").all()
    assert vaelab("tabular", "sample", run, "--out", tmp_path / "g.csv", "--condition", "sex") == 2
    assert "COLUMN=VALUE" in capsys.readouterr().err
    assert vaelab("tabular", "report", run, "--target", "event", "--quiet") == 0
    report = json.loads((run / "report" / "report.json").read_text())
    assert report["validity"]["all"] == 1.0
    assert 0 < report["quality"]["score"] <= 1 and report["ml_efficacy"]["target"] == "event"
    assert (run / "report" / "report.html").read_text().count("Column shapes") >= 1
    out = capsys.readouterr().out
    assert "quality score" in out and "constraint validity" in out
    # an existing run is not replaced without --force
    assert vaelab("tabular", "fit", data, "--out", run, *SMALL) == 1
    assert "already holds a run" in capsys.readouterr().err


def test_resume_continues_an_interrupted_fit(tmp_path, table):
    data, rules = table
    run = tmp_path / "run"
    assert vaelab("tabular", "fit", data, "--out", run, *SMALL) == 0
    shutil.rmtree(run / "model")  # as if interrupted after the last checkpoint
    assert vaelab("tabular", "resume", run, "--quiet") == 0
    assert (run / "model" / "config.json").is_file()


def test_the_cli_network_defaults_are_the_estimators_and_hidden_dims_are_recorded(tmp_path, table, capsys):
    from vaelab import TabularVAE, load
    from vaelab.tabular.estimator import DEFAULT_HIDDEN_DIMS, DEFAULT_LATENT_DIM

    defaults = TabularVAE().get_params()  # the command line's defaults are the estimator's declaration
    assert (defaults["latent_dim"], defaults["network"]["hidden_dims"]) == (DEFAULT_LATENT_DIM, DEFAULT_HIDDEN_DIMS)
    data, _ = table
    run = tmp_path / "run"
    assert vaelab("tabular", "fit", data, "--out", run, "--hidden-dims", "16,8", *SMALL) == 0
    assert "hidden_dims = [\n    16,\n    8,\n]" in (run / "config.toml").read_text()
    assert load(run / "model").module_.config.network.hidden_dims == (16, 8)
    assert vaelab("tabular", "fit", data, "--out", tmp_path / "bad", "--hidden-dims", "16,x", *SMALL) == 2
    assert "--hidden-dims must be comma-separated integers" in capsys.readouterr().err


def test_a_run_from_before_hidden_dims_resumes_with_the_sizes_of_then(tmp_path, table):
    """A flat config.toml of format 1 written before the key existed: TabularVAE's default network (128-128)."""
    from vaelab import load

    data, _ = table
    run = tmp_path / "run"
    run.mkdir()
    (run / "config.toml").write_text(
        f'data = "{data}"\nconstraints = ""\nmetadata = ""\nencoding = "utf-8"\nepochs = 2\nbatch_size = 500\n'
        'latent_dim = 4\nlearning_rate = 0.001\ndp_epsilon = 0.0\ndp_delta = 0.0\nholdout = 0.2\nseed = 0\n'
        'device = "cpu"\nthreads = 1\nkind = "tabular"\n'
    )
    assert vaelab("tabular", "resume", run, "--quiet") == 0
    assert load(run / "model").module_.config.network.hidden_dims == (128, 128)


@pytest.mark.parametrize(
    "rules, message",
    [
        ("constraints:\n  - {type: range, column: weight, low: 0}\n", "names column 'weight', which the table does not have"),
        ("constraints:\n  - {type: range, column: age, low: 95}\n", "no row of the data satisfies"),
        ("constraints: [oops", "is not valid YAML"),
    ],
)
def test_bad_rules_leave_nothing_behind(tmp_path, table, capsys, rules, message):
    data, _ = table
    path = tmp_path / "bad.yaml"
    path.write_text(rules)
    run = tmp_path / "run"
    assert vaelab("tabular", "fit", data, "--constraints", path, "--out", run, *SMALL) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and message in err and len(err.splitlines()) == 1
    assert not run.exists()


@pytest.mark.parametrize("command", [("sample", "--out", "x.csv"), ("report",), ("resume",)])
def test_a_missing_run_points_to_the_tabular_fit(tmp_path, capsys, command):
    assert vaelab("tabular", command[0], tmp_path / "nothing", *command[1:]) == 1
    err = capsys.readouterr().err.strip()
    assert err == f"error: run directory {tmp_path / 'nothing'} does not exist; create one with `vaelab tabular fit`"


def test_bad_file_is_one_line(tmp_path, capsys):
    path = tmp_path / "empty.csv"
    path.write_text("")
    assert vaelab("tabular", "fit", path, "--out", tmp_path / "run", *SMALL) == 1
    assert "is empty" in capsys.readouterr().err
    assert not (tmp_path / "run").exists()
