"""Synthetic tables: vaelab's TabularVAE next to SDV's TVAESynthesizer on GBSG2 and UCI Adult.

Every synthetic table is scored by the same code (:mod:`vaelab.tabular.quality`):
quality (column shapes, column-pair trends of related pairs, as SDMetrics'
QualityReport), ML efficacy (HistGradientBoosting trained on synthetic or real
training rows, tested on real holdout rows), validity of the rules file, the
median distance to the closest training record (synthetic and holdout rows)
and the share of exact copies of training rows, with fit and sample times.

SDV runs in its own virtual environment (its licence is not open source and it
pins its own dependencies); this file is also the worker run there
(``--sdv-worker``, which imports SDV and pandas only). SDV gets no constraints
(its defaults); vaelab gets the rules file. Set one up with::

    python3 -m venv ../sdv-venv
    ../sdv-venv/bin/pip install torch==2.13.0   # first, so that SDV keeps this CPU build
    ../sdv-venv/bin/pip install sdv

Then::

    OMP_NUM_THREADS=1 nice -n 10 .venv/bin/python benchmarks/tabular.py --sdv-python ../sdv-venv/bin/python \\
        --datasets gbsg2 adult --adult-rows 5000 --epochs 100

Adult is subsampled (``--adult-rows`` training rows from adult.data, as many
holdout rows from adult.test, seeded) to keep runs short on a shared machine.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ADULT_COLUMNS = [
    "age", "workclass", "fnlwgt", "education", "education-num", "marital-status", "occupation",
    "relationship", "race", "sex", "capital-gain", "capital-loss", "hours-per-week", "native-country", "income",
]  # fmt: skip
ROOT = Path(__file__).resolve().parents[1]
ADULT_RULES = {
    "constraints": [
        {"type": "range", "column": "age", "low": 17, "high": 90},
        {"type": "range", "column": "hours-per-week", "low": 1, "high": 99},
        {"type": "range", "column": "capital-gain", "low": 0},
        {"type": "range", "column": "capital-loss", "low": 0},
        {"type": "fixed_combinations", "columns": ["relationship", "marital-status", "sex"]},
        {"type": "categories", "column": "income", "values": ["<=50K", ">50K"]},
    ]
}
#: conditional-sampling check: (column, values, numeric column whose mean should follow)
CONDITIONS = {"gbsg2": ("menostat", ["Pre", "Post"], "age"), "adult": ("sex", ["Female", "Male"], "hours-per-week")}
SDTYPE = {"numeric": "numerical", "categorical": "categorical", "boolean": "boolean", "datetime": "datetime"}


def sdv_worker(train_csv: str, kinds_json: str, out_csv: str, epochs: int, seed: int, rows: int, threads: int = 1) -> None:
    """In SDV's venv: fit TVAESynthesizer (defaults but ``epochs``), sample, write rows and times."""
    import pandas as pd
    import torch
    from sdv.metadata import Metadata
    from sdv.single_table import TVAESynthesizer

    torch.set_num_threads(threads)
    torch.manual_seed(seed)
    torch.optim.Adam([torch.zeros(1, requires_grad=True)])  # one-off imports out of the fit time, as for vaelab
    train = pd.read_csv(train_csv)
    kinds = json.loads(Path(kinds_json).read_text())
    metadata = Metadata.load_from_dict(
        {"METADATA_SPEC_VERSION": "V1", "tables": {"table": {"columns": {k: {"sdtype": v} for k, v in kinds.items()}}}}
    )
    synthesizer = TVAESynthesizer(metadata, epochs=epochs, enable_gpu=False)
    started = time.perf_counter()
    synthesizer.fit({"table": train})  # SDV 2 takes {table name: DataFrame}
    fit_s = time.perf_counter() - started
    started = time.perf_counter()
    synth = synthesizer.sample(rows)
    synth = synth["table"] if isinstance(synth, dict) else synth
    sample_s = time.perf_counter() - started
    synth.to_csv(out_csv, index=False)
    Path(out_csv + ".json").write_text(json.dumps({"fit_s": fit_s, "sample_s": sample_s}))


def load_gbsg2(data_dir: Path, seed: int):
    import pandas as pd

    df = pd.read_csv(data_dir / "gbsg2.csv")
    holdout = df.sample(frac=0.2, random_state=seed)
    return df.drop(holdout.index).reset_index(drop=True), holdout.reset_index(drop=True), ROOT / "examples/gbsg2_rules.yaml", "cens"


def load_adult(data_dir: Path, rows: int, seed: int):
    import pandas as pd

    def read(name: str, skip: int) -> pd.DataFrame:
        df = pd.read_csv(data_dir / "adult" / name, header=None, names=ADULT_COLUMNS, skiprows=skip,
                         skipinitialspace=True, na_values=["?"], compression="gzip")
        df["income"] = df["income"].str.rstrip(".")
        return df.dropna(how="all")

    train = read("adult.data.gz", 0).sample(n=rows, random_state=seed).reset_index(drop=True)
    holdout = read("adult.test.gz", 1).sample(n=min(rows, 16281), random_state=seed).reset_index(drop=True)
    return train, holdout, ADULT_RULES, "income"


def evaluate(train, holdout, synth, rules, target: str, schema) -> dict:
    from vaelab.tabular.rules import parse_constraints
    from vaelab.tabular.quality import as_schema, column_kinds, ml_efficacy, privacy, quality_scores

    train, holdout, synth = as_schema(train, schema), as_schema(holdout, schema), as_schema(synth, schema)
    kinds = column_kinds(schema, list(train.columns))
    constraints = parse_constraints(rules)
    for c in constraints:
        c.fit(train, False)  # fixed combinations learn the combinations of the training rows
    valid = [c.is_valid(synth) for c in constraints]
    q = quality_scores(train, synth, kinds)
    ml = ml_efficacy(train, holdout, synth, target, kinds)
    p = privacy(train, holdout, synth, kinds)
    import numpy as np

    return {
        "quality": q["score"], "shapes": q["column_shapes"], "trends": q["column_pair_trends"],
        "ml_real": ml["train_real_test_real"], "ml_synth": ml["train_synthetic_test_real"], "ml_metric": ml["metric"],
        "validity": float(np.mean(np.all(valid, axis=0))) if valid else 1.0,
        "dcr_synth": p["dcr_synthetic_median"], "dcr_holdout": p["dcr_holdout_median"], "copies": p["exact_copy_share"],
    }  # fmt: skip


def run_vaelab(train, rules, epochs: int, seed: int, dp_epsilon: float | None, conditional: bool = True,
               options: dict | None = None):
    from vaelab.tabular import TabularVAE

    model = TabularVAE(constraints=rules if not isinstance(rules, Path) else str(rules), epochs=epochs, seed=seed,
                       device="cpu", dp_epsilon=dp_epsilon, conditional=conditional, **(options or {}))
    started = time.perf_counter()
    model.fit(train)
    fit_s = time.perf_counter() - started
    started = time.perf_counter()
    synth = model.sample(len(train), seed=seed)
    return model, synth, fit_s, time.perf_counter() - started


def run_sdv(python: str, train, schema, epochs: int, seed: int, threads: int = 1):
    import pandas as pd

    kinds = {c.name: SDTYPE.get(c.kind, "categorical") for c in schema.columns}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        train.to_csv(tmp / "train.csv", index=False)
        (tmp / "kinds.json").write_text(json.dumps(kinds))
        out = tmp / "synth.csv"
        cmd = [python, __file__, "--sdv-worker", str(tmp / "train.csv"), str(tmp / "kinds.json"), str(out),
               str(epochs), str(seed), str(len(train)), str(threads)]
        subprocess.run(cmd, check=True, env={**os.environ, "OMP_NUM_THREADS": str(threads)}, cwd=tmp)
        times = json.loads(Path(str(out) + ".json").read_text())
        return pd.read_csv(out), times["fit_s"], times["sample_s"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=Path(os.environ.get("VAELAB_DATA", ROOT.parent / "shared/data")))
    parser.add_argument("--datasets", nargs="+", default=["gbsg2", "adult"], choices=["gbsg2", "adult"])
    parser.add_argument("--adult-rows", type=int, default=5000)
    parser.add_argument("--epochs", type=int, default=100, help="vaelab's epochs, and SDV's in the 'equal epochs' row")
    parser.add_argument("--sdv-python", help="Python of a venv with SDV; without it, no SDV rows")
    parser.add_argument("--sdv-default-epochs", type=int, default=300, help="TVAESynthesizer's default")
    parser.add_argument("--dp", type=float, nargs="*", default=[1.0, 10.0], help="DP epsilons for extra vaelab rows")
    parser.add_argument("--methods", nargs="+", default=["vaelab", "dp", "sdv-default", "sdv-equal"],
                        choices=["vaelab", "vaelab-unconditional", "dp", "sdv-default", "sdv-equal"],
                        help="which rows to run (runs stay short); vaelab-unconditional: "
                             "TabularVAE(conditional=False), what the conditional vectors cost in fit time")
    parser.add_argument("--vaelab-options", type=json.loads, default={},
                        help='TabularVAE options for the vaelab rows, as JSON, e.g. \'{"latent_dim": 32}\' '
                             "(default: none, the estimator's defaults)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1,
                        help="torch threads for both vaelab and SDV (default 1: robust to other jobs on the machine)")
    parser.add_argument("--sdv-worker", nargs=7, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.sdv_worker:
        a = args.sdv_worker
        sdv_worker(a[0], a[1], a[2], int(a[3]), int(a[4]), int(a[5]), int(a[6]))
        return
    if args.sdv_python:  # absolute (the worker runs elsewhere), but not resolved: a venv's python is a symlink
        args.sdv_python = os.path.abspath(args.sdv_python)

    import warnings

    import torch
    import torch._dynamo  # noqa: F401  (imported by the first fused Adam: a one-off, kept out of the fit times)

    from vaelab.tabular.schema import Schema

    warnings.filterwarnings("ignore")
    torch.set_num_threads(args.threads)
    header = ["data", "method", "epochs", "quality", "shapes", "trends", "ML real", "ML synth", "validity",
              "DCR synth", "DCR holdout", "copies", "fit s", "sample s"]  # fmt: skip
    print("Command: " + " ".join(["python", *sys.argv]), flush=True)
    print("| " + " | ".join(header) + " |\n|" + "---|" * len(header), flush=True)
    conditional = []
    for name in args.datasets:
        if name == "gbsg2":
            train, holdout, rules, target = load_gbsg2(args.data_dir, args.seed)
        else:
            train, holdout, rules, target = load_adult(args.data_dir, args.adult_rows, args.seed)
        label = f"{name} ({len(train)} rows)"
        given = f" {json.dumps(args.vaelab_options)}" if args.vaelab_options else ""
        runs = [(f"vaelab TabularVAE{given}", args.epochs, None, "vaelab")]
        runs += [(f"vaelab TabularVAE{given}, conditional=False", args.epochs, "unconditional", "vaelab-unconditional")]
        runs += [(f"vaelab, DP eps={e:g}", args.epochs, e, "dp") for e in args.dp]
        if args.sdv_python:
            runs += [("SDV TVAE (defaults)", args.sdv_default_epochs, "sdv", "sdv-default")]
            if args.epochs != args.sdv_default_epochs:
                runs += [("SDV TVAE (equal epochs)", args.epochs, "sdv", "sdv-equal")]
        schema = Schema.infer(train)[0]
        for method, epochs, how, key in runs:
            if key not in args.methods:
                continue
            if how == "sdv":
                synth, fit_s, sample_s = run_sdv(args.sdv_python, train, schema, epochs, args.seed, args.threads)
            elif how == "unconditional":
                model, synth, fit_s, sample_s = run_vaelab(train, rules, epochs, args.seed, None, conditional=False,
                                                           options=args.vaelab_options)
            else:
                model, synth, fit_s, sample_s = run_vaelab(train, rules, epochs, args.seed, how,
                                                           options=args.vaelab_options)
                if how is not None:
                    method += f" (spent {model.privacy_['epsilon']:.2g} at delta {model.privacy_['delta']:.0e})"
            m = evaluate(train, holdout, synth, rules, target, schema)
            row = [label, method, epochs, m["quality"], m["shapes"], m["trends"], m["ml_real"], m["ml_synth"],
                   m["validity"], m["dcr_synth"], m["dcr_holdout"], m["copies"], fit_s, sample_s]  # fmt: skip
            print("| " + " | ".join(f"{v:.3g}" if isinstance(v, float) else str(v) for v in row) + " |", flush=True)
            if key == "vaelab" and name in CONDITIONS:
                conditional.append((label, model, train, *CONDITIONS[name]))
    for label, model, train, column, values, numeric in conditional:
        print(f"\nConditional sampling ({label}, 1000 rows per value, seed 0): mean {numeric} given {column}")
        print(f"| {column} | share with that value | mean {numeric}, synthetic | mean {numeric}, real training rows |\n|---|---|---|---|")
        for value in values:
            rows = model.sample(1000, seed=0, conditions={column: value})
            real = train[train[column] == value][numeric].mean()
            share = float((rows[column] == value).mean())
            print(f"| {value} | {share:.3g} | {rows[numeric].mean():.3g} | {real:.3g} |", flush=True)


if __name__ == "__main__":
    main()
