"""TabularVAE's network sizes: TVAE's (latent 128, hidden 128-128) against smaller ones, on several tables and seeds.

For each table and each network, ``--seeds`` fits of ``--epochs`` epochs (seeds 0, 1, ...),
each scored by the quality score (column shapes and pair trends, as SDMetrics' QualityReport)
of as many sampled rows as the table has, against the table's rows, with the fit time. The
tables are GBSG2 and a 5,000-row sample of UCI Adult from ``--data-dir`` (with their rules
files, as in ``benchmarks/tabular.py``), and, where plotly is installed (SDMetrics needs it),
three tables that ship inside it and that no test uses: ``tips``, ``gapminder`` and
``experiment`` (no rules). Networks run interleaved within each seed::

    OMP_NUM_THREADS=1 python benchmarks/tabular_sizes.py --threads 1 --data-dir ../shared/data
"""

from __future__ import annotations

import json
import time
import warnings
from pathlib import Path

import _common
import numpy as np
from tabular import load_adult, load_gbsg2

NETWORKS = {
    "TVAE's sizes (latent 128, hidden 128-128)": {"latent_dim": 128,
                                                  "network": {"kind": "mlp", "hidden_dims": [128, 128]}},
    "latent 32, hidden 128-128": {"latent_dim": 32, "network": {"kind": "mlp", "hidden_dims": [128, 128]}},
    "latent 32, hidden 64-64": {"latent_dim": 32, "network": {"kind": "mlp", "hidden_dims": [64, 64]}},
}


def tables(data_dir: Path) -> dict:
    out = {}
    train, _, rules, _ = load_gbsg2(data_dir, 0)
    out["GBSG2 (549 rows)"] = (train, str(rules))
    train, _, rules, _ = load_adult(data_dir, 5000, 0)
    out["Adult (5,000 rows)"] = (train, rules)
    try:
        import plotly.data as bundled
    except ImportError:
        return out
    for name in ("tips", "gapminder", "experiment"):
        df = getattr(bundled, name)()
        out[f"plotly {name} ({len(df)} rows)"] = (df, None)
    return out


def main() -> None:
    p = _common.parser(__doc__.splitlines()[0], repeats=3)
    p.add_argument("--epochs", type=int, default=300)
    p.add_argument("--seeds", type=int, default=3)
    args = p.parse_args()
    _common.setup(args)
    warnings.filterwarnings("ignore")
    import logging

    logging.getLogger("vaelab").setLevel(logging.ERROR)
    from vaelab.tabular import TabularVAE
    from vaelab.tabular.quality import as_schema, column_kinds, quality_scores

    rows = []
    for label, (df, rules) in tables(Path(args.data_dir)).items():
        scores: dict[str, list[float]] = {n: [] for n in NETWORKS}
        times: dict[str, list[float]] = {n: [] for n in NETWORKS}
        for seed in range(args.seeds):
            for name, options in NETWORKS.items():
                started = time.perf_counter()
                model = TabularVAE(constraints=rules, epochs=args.epochs, seed=seed, device="cpu", **options).fit(df)
                times[name].append(time.perf_counter() - started)
                synth = model.sample(len(df), seed=seed)
                schema = model.pipeline_.schema
                kinds = column_kinds(schema, list(synth.columns))
                q = quality_scores(as_schema(df, schema), as_schema(synth, schema), kinds)
                scores[name].append(q["score"])
        for name in NETWORKS:
            rows.append([label, name, f"{np.mean(scores[name]):.3f}", " ".join(f"{s:.3f}" for s in scores[name]),
                         f"{np.mean(times[name]):.2f}"])
        print(f"done: {label}", flush=True)
    print(f"\n## TabularVAE network sizes, {args.epochs} epochs, seeds 0-{args.seeds - 1}\n")
    _common.print_machine({"networks": json.dumps(NETWORKS)})
    print(_common.markdown_table(["table", "network", "quality (mean)", "quality per seed", "fit s (mean)"], rows))


if __name__ == "__main__":
    main()
