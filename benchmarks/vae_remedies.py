"""Beyond the vanilla VAE on dynamically binarized MNIST: four tables built one row at a time.

Each row is its own command; it trains (or loads) one model, scores it and
writes ``<results>/<table>/<row>.json``. A row whose file exists is skipped
(``--force`` redoes it), so a table is built over several sittings and an
interrupted run loses only its own row. ``table`` prints a table from the
files written so far.

    python benchmarks/vae_remedies.py rows burda                      # the rows of a table
    python benchmarks/vae_remedies.py run burda 1l-vae --minutes 30   # one row
    python benchmarks/vae_remedies.py run burda all --minutes 30      # every row not done yet
    python benchmarks/vae_remedies.py run best best --minutes 60      # the --recipe best of `vaelab train`
    python benchmarks/vae_remedies.py run collapse all --minutes 5 --k 1000 --n-test 2000
    python benchmarks/vae_remedies.py run holes all --n-test 2000     # on the collapse table's saved models
    python benchmarks/vae_remedies.py table burda

Protocol (Burda et al. 2016, Section 5): the 60,000 training images binarized
again at every batch (``binarize="dynamic"``), the 10,000 test images
binarized once with a fixed seed, the test NLL is -L_k with k = 5000.
Training stops at the first epoch end past ``--minutes`` of wall-clock time.
Models are kept in ``runs/vae_remedies/<table>/<row>`` (the holes table reads
the collapse table's).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import _common
import torch

import vaelab
from vaelab import VAE
from vaelab.runs.recipes import RECIPES
from vaelab.metrics import elbo_terms, importance_sampled_log_likelihood, latent
from vaelab.serialization import atomic_write_text
from vaelab.training import Callback

BURDA_NET = {"kind": "mlp", "hidden_dims": [200, 200], "activation": "tanh"}
BASE = dict(latent_dim=32, network={"kind": "mlp", "hidden_dims": [512]}, lr_schedule="cosine", epochs=1000)
TABLES: dict[str, dict[str, dict[str, Any]]] = {
    "burda": {
        "1l-vae": dict(latent_dim=50, network=BURDA_NET),
        "1l-iwae5": dict(latent_dim=50, network=BURDA_NET, objective="iwae", k=5),
        "1l-iwae50": dict(latent_dim=50, network=BURDA_NET, objective="iwae", k=50),
        "2l-vae": dict(latent_dim=100, network=BURDA_NET, stochastic_layers=2),
        "2l-iwae5": dict(latent_dim=100, network=BURDA_NET, stochastic_layers=2, objective="iwae", k=5),
        "2l-iwae50": dict(latent_dim=100, network=BURDA_NET, stochastic_layers=2, objective="iwae", k=50),
        # With Burda's tanh network the VampPrior row stays at the data's marginal (a training loss of 206.7
        # nats, the KL near 0; measured 2026-12-02, with or without a KL warm-up; benchmarks/tanh_plateau.py):
        # the KL of the standard normal prior is what pulls that network out, and the VampPrior's, built from
        # the same encoder, falls to 0 instead. So this row uses Tomczak & Welling's sizes (two hidden layers
        # of 300, a 40-d latent, 500 pseudo-inputs) with ReLU; their gated layers are not built in vaelab.
        "1l-vamp": dict(latent_dim=40, network={"kind": "mlp", "hidden_dims": [300, 300], "activation": "relu"},
                        prior={"name": "vamp", "components": 500}),
    },
    # "best" is RECIPES["best"] (turned into estimator options in estimator_options()); the others are the
    # candidates it was chosen from: the 60-minute recipe of the README's time-to-quality table ("base"),
    # plus one remedy each
    "best": {
        "best": {},
        "base": dict(BASE),
        "base+iwae5-dreg": dict(BASE, objective="iwae", k=5, gradient="dreg"),
        "base+mog": dict(BASE, prior={"name": "mog", "components": 10}),
        "base+vamp100-warmup": dict(BASE, prior={"name": "vamp", "components": 100}, kl_schedule="warmup:10000"),
    },
    "collapse": {
        f"z{d}-{name}": dict(latent_dim=d, **options)
        for d in (32, 64, 128)
        for name, options in {
            "vanilla": {},
            # a 5-minute row on one thread makes about 10,000-12,000 steps (20-25 epochs of 469): a warm-up
            # over 10,000 steps would end with the run; 3,000 steps (6-7 epochs) leaves most of it at beta = 1
            "warmup": {"kl_schedule": "warmup:3000"},
            # the cyclical period is a fraction of epochs x steps per epoch; with --epochs 10,000 (a run
            # stopped by the clock) its first cycle would never end, so the row sets 24 epochs (the vanilla
            # z64 row made 27 in 5 minutes): 4 cycles of 6 epochs, the weight at 1 over the second half of
            # each (Fu et al. 2019)
            "cyclical": {"kl_schedule": "cyclical:4:0.5", "epochs": 24},
            "freebits": {"free_bits": 0.25},
            "iwae5": {"objective": "iwae", "k": 5},
            "vamp": {"prior": {"name": "vamp", "components": 500}},
        }.items()
    },
}
TABLES["holes"] = {row: {} for row in TABLES["collapse"]}
#: published test NLLs (nats), Burda et al. 2016 Table 1 and Tomczak & Welling 2018 Table 2
PAPER = {"1l-vae": 86.76, "1l-iwae5": 85.54, "1l-iwae50": 84.78, "2l-vae": 85.33, "2l-iwae5": 83.89,
         "2l-iwae50": 82.90, "1l-vamp": 85.57, "best": 86.76}


class StopAfter(Callback):
    """Stops training at the first epoch end past ``seconds``; counts epochs."""

    def __init__(self, seconds: float) -> None:
        self.seconds, self.epochs = seconds, 0

    def on_fit_start(self, trainer) -> None:
        self.start = time.perf_counter()

    def on_epoch_end(self, trainer, row) -> None:
        self.epochs = row["epoch"]
        self.elapsed = time.perf_counter() - self.start
        print(f"[{self.elapsed / 60:5.1f} min] epoch {row['epoch']} train loss {row['train_loss']:.2f}",
              file=sys.stderr)
        if self.elapsed >= self.seconds:
            trainer.state.stopped_early = True


def estimator_options(table: str, row: str, args: argparse.Namespace) -> dict[str, Any]:
    """The VAE's options of a row (the best recipe's from the CLI's RECIPES, so both run the same)."""
    if table == "best" and row == "best":
        r = RECIPES["best"]
        prior = {"name": r["prior"], "components": r["components"]} if r.get("components") else r["prior"]
        options = dict(latent_dim=r["latent_dim"], network={"kind": "mlp", "hidden_dims": list(r["hidden_dims"])},
                       prior=prior, lr_schedule=r["lr_schedule"], epochs=r["epochs"])
        options.update({k: r[k] for k in ("kl_schedule", "free_bits", "objective", "k", "tc_beta") if k in r})
    else:
        options = dict({"epochs": args.epochs}, **TABLES[table][row])
        if table == "burda":
            options["batch_size"] = 100  # as benchmarks/mnist_likelihood.py's one-layer reproduction
    return dict(options, binarize="dynamic", validation_fraction=0.0, seed=args.seed, device="cpu")


def train_row(table: str, row: str, args: argparse.Namespace) -> tuple[VAE, dict[str, Any]]:
    x = _common.load_mnist_float(args.data_dir, "train")
    if args.train_examples:
        x = x[: args.train_examples]
    options = estimator_options(table, row, args)
    stop = StopAfter(60 * args.minutes)
    started = time.perf_counter()
    vae = VAE(**options).fit(x, callbacks=[stop])
    seconds = time.perf_counter() - started
    vae.save(model_dir(table, row, args), overwrite=True)
    return vae, {"options": {k: v for k, v in options.items() if k != "device"}, "epochs": stop.epochs,
                 "train_minutes": seconds / 60, "train_examples": int(x.shape[0])}


def model_dir(table: str, row: str, args: argparse.Namespace) -> Path:
    return Path(args.runs) / table / row


def test_images(args: argparse.Namespace) -> torch.Tensor:
    x = _common.binarized_mnist_test(args.data_dir)
    return x.reshape(x.shape[0], -1)[: args.n_test]


def score(vae: VAE, x: torch.Tensor, args: argparse.Namespace) -> dict[str, Any]:
    module = vae.module_.eval()
    started = time.perf_counter()
    with torch.no_grad():
        g = torch.Generator().manual_seed(args.seed)
        ll = importance_sampled_log_likelihood(module, x, args.k, generator=g).double()
        terms = elbo_terms(module, x, generator=g)
        q = module.encode(x)
    out = {"nll": float(-ll.mean()), "elbo": float(terms.elbo.double().mean()), "kl": float(terms.kl.double().mean()),
           "k": args.k, "n_test": int(x.shape[0]), "score_minutes": (time.perf_counter() - started) / 60}
    out["active_units"] = int(latent.active_units(q.mean.double()).sum())
    if module.prior.name == "standard_normal" and module.prior_latent_dim == module.latent_dim:
        kl_dims = latent.kl_per_dim(q.mean.double(), q.log_var.double())
        out["dims_with_kl_over_0.01"] = int((kl_dims > 0.01).sum())
        out["kl_per_dim"] = [round(float(v), 4) for v in kl_dims]
    return out


def holes_row(row: str, args: argparse.Namespace) -> dict[str, Any]:
    """Aggregate-posterior KL, and the FDD of prior samples and of post-hoc mixture samples against test images."""
    from vaelab.metrics import fid
    from vaelab.metrics.features import digit_features
    from vaelab.sampling import PosteriorMixtureSampler

    path = model_dir("collapse", row, args)
    if not path.is_dir():
        raise SystemExit(f"holes/{row} needs the collapse model {path}: run `vae_remedies.py run collapse {row}` first")
    vae = vaelab.load(path)
    module = vae.module_
    x = test_images(args)
    with torch.no_grad():
        q = module.encode(x)
        est = latent.aggregate_posterior_terms(q.mean.double(), q.log_var.double(), module.code_log_prior,
                                               max_draw_examples=min(1000, x.shape[0]), n_samples=4,
                                               generator=torch.Generator().manual_seed(args.seed))
    train = _common.load_mnist_float(args.data_dir, "train")[:10_000]
    train = torch.bernoulli(train, generator=torch.Generator().manual_seed(args.seed))
    sampler = PosteriorMixtureSampler(n_components=10, seed=args.seed).fit(vae, train)
    n = x.shape[0]
    g = torch.Generator().manual_seed(args.seed + 1)
    prior_x = torch.from_numpy(vae.sample(n, seed=args.seed, mean=False))
    mixture_x = torch.bernoulli(torch.from_numpy(sampler.sample(n, seed=args.seed)).clamp(0, 1), generator=g)
    real = digit_features(x)
    return {"aggregate_kl": est.aggregate_kl, "mutual_information": est.mutual_information, "n_test": n,
            "fdd_prior": fid.frechet_distance(real, digit_features(prior_x)),
            "fdd_posterior_mixture": fid.frechet_distance(real, digit_features(mixture_x))}


def run(table: str, row: str, args: argparse.Namespace) -> None:
    out = Path(args.results) / table / f"{row}.json"
    if out.exists() and not args.force:
        print(f"{table}/{row}: done already ({out}); --force redoes it", file=sys.stderr)
        return
    print(f"{table}/{row}: running", file=sys.stderr)
    if table == "holes":
        result = holes_row(row, args)
    else:
        vae, result = train_row(table, row, args)
        result.update(score(vae, test_images(args), args))
    result.update({"row": row, "command": " ".join(["python", *sys.argv]), "machine": _common.machine_info()})
    out.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out, json.dumps(result, indent=1))
    print(f"{table}/{row}: {({k: v for k, v in result.items() if isinstance(v, (int, float))})}", file=sys.stderr)


def table(name: str, args: argparse.Namespace) -> None:
    rows = []
    for row in TABLES[name]:
        path = Path(args.results) / name / f"{row}.json"
        if not path.exists():
            continue
        r = json.loads(path.read_text())
        if name == "holes":
            rows.append([row, r["aggregate_kl"], r["mutual_information"], r["fdd_prior"], r["fdd_posterior_mixture"]])
        elif name == "collapse":
            rows.append([row, r["active_units"], r.get("dims_with_kl_over_0.01", "n/a"), r["kl"], r["nll"], r["epochs"],
                         f"{r['train_minutes']:.1f}", r["k"], r["n_test"]])
        else:
            rows.append([row, r["nll"], PAPER.get(row, "-"), r["epochs"], f"{r['train_minutes']:.1f}",
                         r["train_examples"], r["options"].get("batch_size", 128), r["k"], r["n_test"]])
    headers = {
        "holes": ["row", "aggregate KL (nats)", "I(x;z)", "FDD prior samples", "FDD post-hoc mixture samples"],
        "collapse": ["row", "active units", "dims with KL > 0.01", "KL (nats)", "test NLL", "epochs", "train minutes",
                     "k", "test images"],
    }.get(name, ["row", "test NLL (nats)", "paper", "epochs", "train minutes", "train images", "batch", "k",
                 "test images"])
    print(f"Table `{name}` from {args.results}/{name}/ ({len(rows)} of {len(TABLES[name])} rows done)\n")
    print(_common.markdown_table(headers, rows))


def main() -> None:
    p = _common.parser(__doc__.splitlines()[0], repeats=1)
    p.add_argument("action", choices=["run", "table", "rows"])
    p.add_argument("table", choices=sorted(TABLES))
    p.add_argument("row", nargs="?", default="all", help="a row of the table, or all (the rows not done yet)")
    p.add_argument("--minutes", type=float, default=30.0, help="training budget per row (wall-clock)")
    p.add_argument("--epochs", type=int, default=10_000,
                   help="epochs of rows that set none (the budget stops training first)")
    p.add_argument("--k", type=int, default=5000, help="importance samples of the test NLL")
    p.add_argument("--n-test", type=int, default=10_000, help="test images scored (the first n)")
    p.add_argument("--train-examples", type=int, default=0, help="train on the first n images only (0: all 60,000)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--results", default=str(_common.ROOT / "benchmarks" / "results" / "vae_remedies"))
    p.add_argument("--runs", default="runs/vae_remedies", help="where the trained models are kept")
    p.add_argument("--force", action="store_true", help="redo rows whose result file exists")
    args = p.parse_args()
    _common.setup(args)
    if args.action == "rows":
        print("\n".join(TABLES[args.table]))
    elif args.action == "table":
        table(args.table, args)
    else:
        rows = list(TABLES[args.table]) if args.row == "all" else [args.row]
        unknown = [r for r in rows if r not in TABLES[args.table]]
        if unknown:
            raise SystemExit(f"unknown row {unknown[0]!r} of {args.table}; rows: {', '.join(TABLES[args.table])}")
        for row in rows:
            run(args.table, row, args)


if __name__ == "__main__":
    main()
