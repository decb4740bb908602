"""Train the digit classifier behind vaelab's Fréchet digit distance (FDD).

Trains :class:`vaelab.metrics.features.DigitClassifier` with the library's
:mod:`vaelab.metrics.feature_training` (the code behind ``vaelab features
train``, which trains the same network for other 28x28 data) on the 60,000 MNIST
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

from vaelab.data import load_mnist
from vaelab.metrics.feature_training import accuracy, fit_classifier, floors
from vaelab.metrics.features import ASSET_INFO, ASSET_WEIGHTS, DigitClassifier, DigitClassifierConfig
from vaelab.serialization import save_tensors, write_json

REPO = Path(__file__).resolve().parents[1]


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


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
    seconds = fit_classifier(
        model, xtr, ytr, epochs=args.epochs, batch_size=args.batch_size, lr=args.lr, seed=args.seed, log=log
    )
    xte_bin = torch.bernoulli(xte, generator=torch.Generator().manual_seed(args.seed + 1))
    acc, acc_bin = accuracy(model, xte, yte), accuracy(model, xte_bin, yte)
    log(f"MNIST test accuracy: {acc:.4f} (grey), {acc_bin:.4f} (binarized)")

    measured = floors(model, xtr, xte, seed=args.seed)
    floor, floor_bin = measured["frechet_distance"], measured["frechet_distance_binarized"]
    precision, recall = measured["precision_recall"]
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
