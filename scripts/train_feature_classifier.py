"""Train the digit classifier behind vaelab's Fréchet digit distance (FDD).

Trains :class:`vaelab.metrics.features.DigitClassifier` on the 60,000 MNIST
training images (Adam, cross-entropy; each image is binarized by sampling
with probability 1/2, so that the features suit grey-level and binary digits
alike), measures its accuracy on the 10,000 test images (grey and binarized),
and computes the floors of the metric: the FDD and precision/recall between
MNIST train and test. It writes

    <out-dir>/digit_classifier.safetensors   the weights (float32, ~0.4 MB)
    <out-dir>/digit_classifier.json          config, command, accuracy, floors

Usage (a few minutes on 2 CPU cores)::

    python scripts/train_feature_classifier.py --data-dir ../shared/data/mnist
"""

from __future__ import annotations

import argparse
import platform
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from vaelab.data import load_mnist
from vaelab.metrics.features import ASSET_INFO, ASSET_WEIGHTS, DigitClassifier, DigitClassifierConfig, digit_features
from vaelab.metrics.fid import frechet_distance, precision_recall
from vaelab.serialization import save_tensors, write_json

REPO = Path(__file__).resolve().parents[1]


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


@torch.no_grad()
def accuracy(model: DigitClassifier, x: torch.Tensor, y: torch.Tensor) -> float:
    model.eval()
    correct = sum(int((model(x[i : i + 2000]).argmax(1) == y[i : i + 2000]).sum()) for i in range(0, len(x), 2000))
    return correct / len(x)


def train(model: DigitClassifier, x: torch.Tensor, y: torch.Tensor, args: argparse.Namespace) -> None:
    g = torch.Generator().manual_seed(args.seed)
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
    steps_per_epoch = (len(x) + args.batch_size - 1) // args.batch_size
    total_steps = args.epochs * steps_per_epoch
    scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=args.lr, total_steps=total_steps)
    for epoch in range(args.epochs):
        model.train()
        order = torch.randperm(len(x), generator=g)
        total, started = 0.0, time.perf_counter()
        for i in range(0, len(x), args.batch_size):
            idx = order[i : i + args.batch_size]
            xb = x[idx]
            binarize = torch.rand(len(xb), 1, 1, generator=g) < 0.5  # half the batch binarized by sampling
            xb = torch.where(binarize, torch.bernoulli(xb, generator=g), xb)
            loss = F.cross_entropy(model(xb), y[idx])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            scheduler.step()
            total += loss.item() * len(idx)
        log(f"epoch {epoch + 1}/{args.epochs}: loss {total / len(x):.4f} ({time.perf_counter() - started:.0f} s)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", default=str(REPO.parent / "shared" / "data" / "mnist"), help="MNIST IDX files")
    parser.add_argument("--out-dir", default=str(REPO / "src" / "vaelab" / "assets"))
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)

    x_train, y_train = load_mnist(args.data_dir, "train")
    x_test, y_test = load_mnist(args.data_dir, "test")
    to_t = lambda a: torch.from_numpy(a.astype(np.float32) / 255.0)  # noqa: E731
    xtr, xte = to_t(x_train), to_t(x_test)
    ytr, yte = torch.from_numpy(y_train), torch.from_numpy(y_test)

    config = DigitClassifierConfig()
    model = DigitClassifier(config)
    started = time.perf_counter()
    train(model, xtr, ytr, args)
    seconds = time.perf_counter() - started
    model.eval()
    g = torch.Generator().manual_seed(args.seed + 1)
    xtr_bin, xte_bin = torch.bernoulli(xtr, generator=g), torch.bernoulli(xte, generator=g)
    acc, acc_bin = accuracy(model, xte, yte), accuracy(model, xte_bin, yte)
    log(f"MNIST test accuracy: {acc:.4f} (grey), {acc_bin:.4f} (binarized)")

    f_train, f_test = digit_features(xtr, model=model), digit_features(xte, model=model)
    fb_train, fb_test = digit_features(xtr_bin, model=model), digit_features(xte_bin, model=model)
    floor, floor_bin = frechet_distance(f_train, f_test), frechet_distance(fb_train, fb_test)
    pr_gen = torch.Generator().manual_seed(args.seed)
    precision, recall = precision_recall(f_train, f_test, generator=pr_gen)
    print(f"FDD floor (MNIST train vs test): {floor:.4f} grey, {floor_bin:.4f} binarized")
    print(f"precision/recall (train vs test, 5000 each, k=3): {precision:.4f} / {recall:.4f}")
    print(f"test accuracy: {acc:.4f} grey, {acc_bin:.4f} binarized; trained in {seconds:.0f} s")

    out = Path(args.out_dir)
    n_params = sum(p.numel() for p in model.parameters())
    info = {
        "name": "vaelab digit classifier (features for the Fréchet digit distance, FDD; not Inception FID)",
        "config": config.to_dict(),
        "feature_layer": "ReLU output of the hidden fully connected layer",
        "parameters": n_params,
        "training": {
            "command": "python scripts/train_feature_classifier.py " + " ".join(sys.argv[1:] if argv is None else argv),
            "data": "MNIST train (60,000), half of each batch binarized by sampling",
            "epochs": args.epochs,
            "batch_size": args.batch_size,
            "optimizer": f"Adam, one-cycle learning rate up to {args.lr}",
            "seed": args.seed,
            "seconds": round(seconds, 1),
            "machine": f"{platform.machine()}, {torch.get_num_threads()} torch threads, torch {torch.__version__}",
        },
        "mnist_test_accuracy": round(acc, 4),
        "mnist_test_accuracy_binarized": round(acc_bin, 4),
        "fdd_floor_train_vs_test": round(floor, 4),
        "fdd_floor_train_vs_test_binarized": round(floor_bin, 4),
        "precision_recall_train_vs_test": [round(precision, 4), round(recall, 4)],
    }
    save_tensors(out / ASSET_WEIGHTS, model.state_dict(), metadata={"format": "vaelab.digit_classifier"})
    write_json(out / ASSET_INFO, info)
    for name in (ASSET_WEIGHTS, ASSET_INFO):
        (out / name).chmod(0o644)  # package data: readable by every user of an installation
    log(f"wrote {out / ASSET_WEIGHTS} ({(out / ASSET_WEIGHTS).stat().st_size / 1e6:.2f} MB) and {out / ASSET_INFO}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
