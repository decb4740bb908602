"""TabularVAE's parameters, declared once (see :mod:`vaelab.params`).

The VAE's own declarations, reused: TabularVAE takes the VAE's network,
objective and training parameters with the defaults of TVAE (Xu et al. 2019;
two hidden layers of 128, batch 500, 300 epochs, no validation split, weight
decay 1e-5) but for the latent, 32 instead of 128, which scored a higher
quality on four of five tables and the same on the fifth in 63-86% of the fit
time (``benchmarks/tabular_sizes.py``). It leaves out what has no meaning for
a table (``likelihood``: the ``mixed`` likelihood of its columns;
``binarize``; ``stochastic_layers``) and adds the table's own. Pure Python.
"""

from __future__ import annotations

import os

from vaelab.estimators.params import CONDITIONAL, TRAINER_OPTIONS, VAE_PARAMS
from vaelab.params import DATA, MODEL, VAE_PANEL, Bool, Float, Int, OrNone, Param, ParamSet, Text

TABLE = "Table"

#: TVAE's network with a latent of 32 (see the module docstring)
DEFAULT_LATENT_DIM, DEFAULT_HIDDEN_DIMS = 32, (128, 128)

_TRAINER = TRAINER_OPTIONS.replace(
    help="Further settings of the trainer, each also a flag of its own (weight_decay is TVAE's 1e-5 here):",
    fields=tuple(f.replace(default=1e-5) if f.name == "weight_decay" else f for f in TRAINER_OPTIONS.fields),
)

_VAE_PART = VAE_PARAMS.without("likelihood", "binarize", "stochastic_layers", "conditional", "trainer_options")
_VAE_PART = _VAE_PART.with_defaults(
    latent_dim=DEFAULT_LATENT_DIM,
    network={"kind": "mlp", "hidden_dims": DEFAULT_HIDDEN_DIMS},
    beta=0.5,
    epochs=300,
    batch_size=500,
    validation_fraction=0.0,
)

TABLE_OWN = ParamSet([
    Param("constraints", None, "Rules the rows obey: constraint dicts ({'type': 'range', 'column': 'age', 'low': "
          "18}), a {'constraints': [...]} mapping, or the path of a YAML/JSON rules file.",
          OrNone(Text("a rules file's path (or, in Python, a list or dict of rules)",
                      (str, os.PathLike, list, tuple, dict), "PATH")), aliases=("-c",), panel=TABLE,
          doc="str, list or dict"),
    Param("metadata", None, "Column kind overrides, or the path of a YAML/JSON file: {columns: {tgrade: {type: "
          "categorical}}}.", OrNone(Text("a metadata file's path (or, in Python, a dict)", (str, os.PathLike, dict), "PATH")),
          panel=TABLE,
          doc="str or dict"),
    Param("encoding", "utf-8", "Text encoding of a CSV file.", Text(), panel=DATA),
    Param("n_modes", 10, "Mixture modes per numeric column (mode-specific normalization).", Int(low=1), panel=TABLE),
    Param("max_categories", 100, "One-hot levels per categorical column; rarer levels share one '<other>'.",
          Int(low=2), panel=TABLE),
    Param("learn_scale", True, "Learn the Gaussian heads' sigma per continuous span (off under DP).", Bool(),
          panel=MODEL),
    CONDITIONAL.replace(
        default=True,
        help="Train on CTGAN-style conditional vectors of the table's own categorical columns, so that "
             "sample(n, conditions={...}) can fix categorical or boolean values (not labels y).",
    ),
    Param("dp_epsilon", None, "Train with DP-SGD (Opacus) to spend this epsilon at dp_delta. [default: no DP]",
          OrNone(Float(low=0.0, open_low=True)), panel="Differential privacy"),
    Param("dp_delta", None, "DP delta. [default: 1/(10 n)]", OrNone(Float(low=0.0, high=1.0, open_low=True,
          open_high=True)), panel="Differential privacy"),
    Param("dp_max_grad_norm", 1.0, "Per-example gradient clipping norm under DP.", Float(low=0.0, open_low=True),
          panel="Differential privacy"),
    Param("max_tries", 10, "Sampling rounds allowed to meet predicates before a ConstraintError.", Int(low=1),
          panel=VAE_PANEL),
])

_ALL = ParamSet([*TABLE_OWN, *_VAE_PART, _TRAINER])

#: in the order of the constructor of earlier versions
TABULAR_PARAMS = ParamSet(_ALL[name] for name in (
    "constraints", "metadata", "latent_dim", "network", "prior", "beta", "kl_schedule", "free_bits", "objective",
    "k", "gradient", "tc_beta", "learn_scale", "conditional", "n_modes", "max_categories", "epochs", "batch_size",
    "learning_rate", "lr_schedule", "validation_fraction", "patience", "dp_epsilon", "dp_delta",
    "dp_max_grad_norm", "max_tries", "encoding", "seed", "device", "verbose", "trainer_options",
))
