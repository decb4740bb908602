"""Differentially private training: DP-SGD (Abadi et al. 2016) through Opacus, as a trainer callback.

The trainer stays as it is. At the start of training the callback attaches
Opacus' per-example gradient hooks to the model's layers (``GradSampleModule``;
the hooks fire whether the trainer calls the wrapper or the model) and wraps
the trainer's optimizer, fused Adam included, in Opacus' ``DPOptimizer``:
every step clips each example's gradient to ``max_grad_norm`` and adds
Gaussian noise of standard deviation ``noise_multiplier * max_grad_norm``
before the usual Adam update. At the end it removes the hooks, so the saved
model is a plain one.

The noise multiplier is chosen so that ``epochs`` epochs at sampling rate
``batch_size / n`` spend the target epsilon at ``delta`` under the RDP
accountant; the spent epsilon is computed from the steps actually taken.
The accountant assumes Poisson sampling of each batch; the trainer uses
shuffled batches of fixed size, the usual practice, so the figure is the
standard approximation rather than a proof for this sampler.
"""

from __future__ import annotations

import logging
import warnings
from typing import TYPE_CHECKING, Any

from vaelab.errors import InputError
from vaelab.training.callbacks import Callback

if TYPE_CHECKING:
    from vaelab.training.trainer import Trainer

logger = logging.getLogger(__name__)


def _opacus() -> Any:
    """Import Opacus, undoing the root log handler its import installs (``logging.basicConfig``)."""
    root = logging.getLogger()
    before = list(root.handlers)
    try:
        import opacus
        import opacus.utils.module_utils  # noqa: F401  (the module that calls basicConfig)
    except ImportError:
        raise InputError("differential privacy needs Opacus: pip install 'vaelab[tabular]'") from None
    finally:
        for handler in [h for h in root.handlers if h not in before]:
            root.removeHandler(handler)
    return opacus


def noise_for_epsilon(epsilon: float, delta: float, sample_rate: float, steps: int) -> float:
    """The noise multiplier that spends ``epsilon`` at ``delta`` in ``steps`` steps of ``sample_rate`` (RDP)."""
    _opacus()
    from opacus.accountants.utils import get_noise_multiplier

    if not epsilon > 0:
        raise InputError(f"dp_epsilon must be > 0, got {epsilon!r}")
    if not 0 < delta < 1:
        raise InputError(f"dp_delta must be in (0, 1), got {delta!r}")
    with warnings.catch_warnings():  # "optimal order is the largest alpha": a looser bound, still a bound
        warnings.simplefilter("ignore", UserWarning)
        return float(get_noise_multiplier(
            target_epsilon=epsilon, target_delta=delta, sample_rate=sample_rate, steps=steps, accountant="rdp"
        ))


def spent_epsilon(noise_multiplier: float, sample_rate: float, steps: int, delta: float) -> float:
    """Epsilon spent by ``steps`` DP-SGD steps at ``noise_multiplier`` and ``sample_rate``, at ``delta`` (RDP)."""
    _opacus()
    from opacus.accountants import RDPAccountant

    if steps == 0:
        return 0.0
    accountant = RDPAccountant()
    accountant.history = [(noise_multiplier, sample_rate, steps)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return float(accountant.get_epsilon(delta))


class DPSGD(Callback):
    """Train with DP-SGD: per-example clipping and Gaussian noise on every step.

    Parameters
    ----------
    noise_multiplier : float
        Noise standard deviation over ``max_grad_norm``.
    max_grad_norm : float
        Each example's gradient is clipped to this L2 norm.
    batch_size : int
        The expected batch size (the mean-reduced loss is scaled by it).
    """

    def __init__(self, noise_multiplier: float, max_grad_norm: float, batch_size: int) -> None:
        self.noise_multiplier = float(noise_multiplier)
        self.max_grad_norm = float(max_grad_norm)
        self.batch_size = int(batch_size)
        self._hooks: Any = None
        self.steps = 0

    def on_fit_start(self, trainer: Trainer) -> None:
        _opacus()
        from opacus import GradSampleModule
        from opacus.optimizers import DPOptimizer

        # the first layer's input needs no gradient, which torch's full backward hooks warn about
        self._warnings = warnings.catch_warnings()
        self._warnings.__enter__()
        warnings.filterwarnings("ignore", message="Full backward hook is firing")
        self._hooks = GradSampleModule(trainer.module, loss_reduction="mean", strict=True)
        trainer.optimizer = DPOptimizer(
            trainer.optimizer,
            noise_multiplier=self.noise_multiplier,
            max_grad_norm=self.max_grad_norm,
            expected_batch_size=self.batch_size,
            loss_reduction="mean",
        )

    def on_fit_end(self, trainer: Trainer) -> None:
        self.steps = trainer.state.step
        if self._hooks is not None:
            self._hooks._close()  # removes the hooks and the per-example gradients
            self._hooks = None
        if getattr(self, "_warnings", None) is not None:
            self._warnings.__exit__(None, None, None)
            self._warnings = None
        trainer.optimizer = getattr(trainer.optimizer, "original_optimizer", trainer.optimizer)
