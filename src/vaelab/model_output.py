"""What a model's ``forward`` returns: the loss to minimize and its named terms.

It sits below the objectives, the models and the trainer, which all speak it:
an objective builds one, a model's ``forward`` returns it, and the trainer
reads only ``.loss`` and ``.terms()``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from torch import Tensor


@dataclass
class ModelOutput:
    """What ``forward`` returns; every loss term is a mean over the batch, in nats per example.

    Attributes
    ----------
    loss : Tensor, scalar
        The objective to minimize.
    reconstruction : Tensor, scalar
        -log p(x|z), the reconstruction term.
    kl : Tensor or None
        KL(q(z|x) || p(z)) (VAE only).
    z : Tensor of shape (B, D) or None
        The codes the decoder was run on.
    params : Tensor of shape (B, *param_shape) or None
        The decoder's output.
    extra : dict of str to Tensor
        Further named scalar terms a model may report (logged with the others).
    """

    loss: Tensor
    reconstruction: Tensor
    kl: Tensor | None = None
    z: Tensor | None = None
    params: Tensor | None = None
    extra: dict[str, Tensor] = field(default_factory=dict)

    def terms(self) -> dict[str, Tensor]:
        """The named scalar terms to log, ``loss`` first."""
        out = {"loss": self.loss, "reconstruction": self.reconstruction}
        if self.kl is not None:
            out["kl"] = self.kl
        out.update(self.extra)
        return out
