"""The estimators' parameters, each declared once (see :mod:`vaelab.params`).

``__init__``, ``get_params``, the checks before ``fit``, ``config.json``,
``config.toml``, the command line's flags and the docs all come from these
sets. A set is composed from shared declarations: the autoencoder's is the
network and the training; the VAE's adds its objective and prior; the
VAE-GAN's is the VAE's without the objective options its three losses do not
use, plus the discriminator's. This module is pure Python, so the command
line reads it without torch.
"""

from __future__ import annotations

from vaelab.params import (
    MODEL,
    TRAINING,
    VAE_PANEL,
    Bool,
    Choice,
    Float,
    Int,
    IntList,
    OrNone,
    Param,
    ParamSet,
    Spec,
    Struct,
    Text,
)

#: the largest seed torch's generators take (and NumPy's)
MAX_SEED = 2**63 - 1

LATENT_DIM = Param("latent_dim", 16, "Size of the latent code.", Int(low=1), aliases=("-z",))

NETWORK = Param(
    "network",
    "mlp",
    "The encoder and decoder: 'mlp', or 'conv' for images (stride-2 convolutions); the decoder mirrors the "
    "encoder. A dict sets the options below: {'kind': 'conv', 'hidden_dims': [32, 64]}.",
    Spec(key="kind"),
    fields=(
        Param(
            "hidden_dims",
            None,
            "Hidden widths (mlp) or channels (conv), input side first; empty for none. [default: 512 for mlp, "
            "32,64 for conv]",
            OrNone(IntList(empty=True)),
        ),
        Param("activation", "relu", "relu, tanh, elu, gelu, silu, leaky_relu or softplus.",
              Choice(("relu", "tanh", "elu", "gelu", "silu", "leaky_relu", "softplus"))),
        Param("norm", "none", "conv: none, batch or group normalization after each hidden convolution.",
              Choice(("none", "batch", "group"))),
    ),
    doc="str, dict or NetworkConfig",
)

LIKELIHOOD = Param(
    "likelihood",
    "auto",
    "p(x|z): 'bernoulli', 'continuous_bernoulli', 'gaussian' ({'name': 'gaussian', 'learn_scale': True} learns "
    "the noise scale), or 'auto': bernoulli for binary data (or binarize='dynamic'), the model's own choice for "
    "data in [0, 1] (bernoulli for the VAE, gaussian for the autoencoder), gaussian for other data.",
    Spec(key="name", open=True),
    doc="str or dict",
)

BINARIZE = Param(
    "binarize",
    "none",
    "'dynamic': resample binary pixels from the grey levels at every batch (Bernoulli likelihood; recommended "
    "for a VAE on MNIST), or 'none'.",
    Choice(("none", "dynamic"), legacy={False: "none", True: "dynamic"}),
)

EPOCHS = Param("epochs", 30, "Passes over the training data.", Int(low=1), aliases=("-e",), panel=TRAINING)
BATCH_SIZE = Param("batch_size", 128, "Examples per step.", Int(low=1), panel=TRAINING)
LEARNING_RATE = Param("learning_rate", 1e-3, "Adam's step size.", Float(low=0.0, open_low=True),
                      aliases=("--lr",), panel=TRAINING)
LR_SCHEDULE = Param(
    "lr_schedule",
    "constant",
    "'constant', or 'cosine': the step size falls along a half cosine to 0 at the last epoch.",
    Choice(("constant", "cosine")),
    panel=TRAINING,
)
VALIDATION_FRACTION = Param(
    "validation_fraction", 0.1, "Share of the training data held out (seeded) for validation and early stopping.",
    Float(low=0.0, high=1.0, open_high=True), panel=TRAINING,
)
PATIENCE = Param("patience", None, "Stop after this many epochs without validation improvement. [default: off]",
                 OrNone(Int(low=1)), panel=TRAINING)
SEED = Param("seed", 0, "Seeds the weights, the splits, the data order and the noise.",
             Int(low=0, high=MAX_SEED), panel=TRAINING)
DEVICE = Param("device", "auto", "auto (CUDA, then MPS, then CPU), cpu, cuda, cuda:N or mps.", Text(), panel=TRAINING)
VERBOSE = Param("verbose", False, "Show a progress bar (a line per epoch when not on a terminal).", Bool(),
                cli=False, panel=TRAINING)
TRAINER_OPTIONS = Param(
    "trainer_options",
    None,
    "Further settings of the trainer, each also a flag of its own:",
    OrNone(Struct()),
    panel=TRAINING,
    fields=(
        Param("optimizer", "adam", "adam or adamw.", Choice(("adam", "adamw"))),
        Param("weight_decay", 0.0, "The optimizer's weight decay.", Float(low=0.0)),
        Param("grad_clip", None, "Clip the gradient norm to this value. [default: off]",
              OrNone(Float(low=0.0, open_low=True))),
        Param("amp", True, "Mixed precision on CUDA (bfloat16 where supported); ignored elsewhere.", Bool()),
        Param("restore_best", True, "At the end, keep the weights of the best validation epoch.", Bool()),
        Param("checkpoint_every_steps", None, "Also checkpoint every this many steps. [default: every epoch]",
              OrNone(Int(low=1))),
    ),
    doc="dict or None",
)

#: what every trained (neural) estimator takes: the network, the likelihood and the training
NEURAL = ParamSet([
    LATENT_DIM, NETWORK, LIKELIHOOD, BINARIZE, EPOCHS, BATCH_SIZE, LEARNING_RATE, LR_SCHEDULE,
    VALIDATION_FRACTION, PATIENCE, SEED, DEVICE, VERBOSE, TRAINER_OPTIONS,
])

PRIOR = Param(
    "prior",
    "standard_normal",
    "p(z): 'standard_normal', 'mog' (a learned mixture of Gaussians) or 'vamp' (the VampPrior, Tomczak & "
    "Welling 2018); {'name': 'vamp', 'components': 500} sets its size.",
    Spec(key="name"),
    panel=VAE_PANEL,
    fields=(
        Param("components", None, "Components of the mog or vamp prior. [default: 10 for mog, 500 for vamp]",
              OrNone(Int(low=1))),
    ),
    doc="str or dict",
)
BETA = Param("beta", 1.0, "Weight of the KL term (1: the ELBO; Higgins et al. 2017 for beta > 1).",
             Float(low=0.0), panel=VAE_PANEL)
KL_SCHEDULE = Param(
    "kl_schedule",
    None,
    "The KL weight over the steps: warmup:STEPS (linear from 0 to beta), cyclical:CYCLES:RATIO (Fu et al. 2019) "
    "or capacity:C_MAX:STEPS:GAMMA (Burgess et al. 2018). [default: constant]",
    OrNone(Text(what="a schedule such as 'warmup:10000'")),
    panel=VAE_PANEL,
)
FREE_BITS = Param("free_bits", 0.0, "KL floor per latent dimension in nats (Kingma et al. 2016); 0 is off.",
                  Float(low=0.0), panel=VAE_PANEL)
OBJECTIVE = Param("objective", "elbo", "'elbo', or 'iwae': the importance-weighted bound with k samples "
                  "(Burda et al. 2016).", Choice(("elbo", "iwae")), panel=VAE_PANEL)
K = Param("k", 5, "Importance samples of objective 'iwae'.", Int(low=1), panel=VAE_PANEL)
GRADIENT = Param("gradient", "standard", "The IWAE's gradient: 'standard', or 'dreg', the doubly-reparameterized "
                 "gradient (Tucker et al. 2019).", Choice(("standard", "dreg")), panel=VAE_PANEL)
TC_BETA = Param("tc_beta", 1.0, "Weight of the total correlation (beta-TCVAE, Chen et al. 2018); 1 is the ELBO.",
                Float(low=0.0), panel=VAE_PANEL)
STOCHASTIC_LAYERS = Param("stochastic_layers", 1, "1, or 2: Burda et al.'s two-layer VAE (z2 has latent_dim // 2 "
                          "units).", Int(low=1, high=2), panel=VAE_PANEL)
CONDITIONAL = Param(
    "conditional",
    False,
    "A conditional VAE (Sohn et al. 2015): fit(X, y) with class labels, one-hot rows or attributes y; the encoder "
    "and the decoder see the label (the command line: the data's labels).",
    Bool(),
)


AUTOENCODER_PARAMS = NEURAL

VAE_PARAMS = ParamSet([
    LATENT_DIM, NETWORK, LIKELIHOOD, PRIOR, BETA, KL_SCHEDULE, FREE_BITS, OBJECTIVE, K, GRADIENT, TC_BETA,
    STOCHASTIC_LAYERS, CONDITIONAL, *NEURAL.without("latent_dim", "network", "likelihood"),
])

#: the VAE's objective options that the VAE-GAN's three losses do not use: not its parameters
VAEGAN_FIXED = {"free_bits": 0.0, "objective": "elbo", "k": 5, "gradient": "standard", "tc_beta": 1.0,
                "stochastic_layers": 1, "conditional": False}

DISCRIMINATOR = "VAE-GAN"
VAEGAN_PARAMS = VAE_PARAMS.without(*VAEGAN_FIXED).with_defaults(validation_fraction=0.0) + [
    Param("discriminator_dims", (32, 64), "Channels of the discriminator's stride-2 convolutions (hidden widths "
          "for vectors).", IntList(), panel=DISCRIMINATOR),
    Param("feature_dim", 256, "Width of the discriminator's feature layer, where reconstructions are compared.",
          Int(low=1), panel=DISCRIMINATOR),
    Param("gamma", 1.0, "Weight of the feature reconstruction against the GAN loss in the decoder's loss.",
          Float(low=0.0), panel=DISCRIMINATOR),
    Param("adversarial_weight", 1.0, "Weight of the GAN term in the decoder's loss (1 in Larsen et al.).",
          Float(low=0.0), panel=DISCRIMINATOR),
    Param("pixel_weight", 1.0, "Weight of a pixel -log p(x|z) term beside the feature reconstruction (0: Larsen "
          "et al.).", Float(low=0.0), panel=DISCRIMINATOR),
    Param("discriminator_lr_scale", 1.0, "The discriminator's learning rate relative to learning_rate.",
          Float(low=0.0, open_low=True), panel=DISCRIMINATOR),
    Param("balance", True, "Pause the discriminator while it wins and the decoder's GAN term while it loses "
          "(Larsen et al.'s update rule).", Bool(), panel=DISCRIMINATOR),
    Param("critic_input", "auto", "What the discriminator sees of a decoded batch: 'mean' (Larsen et al.), "
          "'draw' (x ~ p(x|z), straight-through), or 'auto': draw on binary data, mean otherwise.",
          Choice(("auto", "mean", "draw")), panel=DISCRIMINATOR),
]

PCA_PARAMS = ParamSet([
    LATENT_DIM.replace(default=2, help="Number of components, 1 <= latent_dim <= min(n_samples, n_features)."),
])
