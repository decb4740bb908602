"""KL weight schedules: trainer callbacks that set ``model.beta`` (and ``model.capacity``) at each step.

Each schedule is a pure function of the global optimizer step (and, for the
cyclical one, of the run's total number of steps), so that a resumed run,
whose trainer restores the step from its checkpoint, follows exactly the
curve of an uninterrupted one. They act on any model with a ``beta``
attribute (the weight of its KL term); ``capacity`` sets ``model.capacity``,
which the ELBO objective reads as Burgess et al.'s target C.

- ``constant``: beta (Higgins et al. 2017).
- ``warmup:N``: beta * min(1, t / N), a linear warm-up over N steps
  (Bowman et al. 2016; Sonderby et al. 2016).
- ``cyclical:M:R``: M cycles over the run; in each, the weight rises linearly
  from 0 to beta during the first fraction R, then stays at beta (Fu et al. 2019, eq. 6).
- ``capacity:C:N:G``: loss = recon + G * |KL - C(t)| with C(t) = C * min(1, t / N)
  nats, rising over N steps (Burgess et al. 2018, eq. 8).

References
----------
Bowman et al. 2016, "Generating Sentences from a Continuous Space", CoNLL, arXiv:1511.06349.
Fu et al. 2019, "Cyclical Annealing Schedule: A Simple Approach to Mitigating KL Vanishing", NAACL, arXiv:1903.10145.
Burgess et al. 2018, "Understanding disentangling in beta-VAE", arXiv:1804.03599.
"""

from __future__ import annotations

from dataclasses import dataclass
from vaelab.errors import InputError
from vaelab.training.callbacks import Callback, TrainerView

KINDS = ("constant", "warmup", "cyclical", "capacity")
FORMS = "'constant', 'warmup:STEPS', 'cyclical:CYCLES:RATIO' or 'capacity:C_MAX:STEPS:GAMMA'"


def linear_warmup(step: int, steps: int) -> float:
    """min(1, step / steps): 0 at the first step, 1 from step ``steps`` on."""
    return min(1.0, step / steps)


def cyclical(step: int, total_steps: int, cycles: int, ratio: float) -> float:
    """Fu et al. 2019, eq. 6: within each of ``cycles`` equal periods, min(1, tau / ratio) with tau in [0, 1)."""
    period = max(1.0, total_steps / cycles)
    tau = (step % period) / period
    return min(1.0, tau / ratio)


def capacity(step: int, c_max: float, steps: int) -> float:
    """The capacity target C(t) = c_max * min(1, step / steps), in nats."""
    return c_max * min(1.0, step / steps)


@dataclass(frozen=True)
class KLSchedule:
    """A parsed schedule; ``weights(step, total_steps, beta)`` gives (beta_t, C_t or None).

    Build it with :func:`parse_kl_schedule`.
    """

    kind: str = "constant"
    steps: int = 0
    cycles: int = 0
    ratio: float = 0.0
    c_max: float = 0.0
    gamma: float = 0.0

    def weights(self, step: int, total_steps: int, beta: float) -> tuple[float, float | None]:
        """The KL weight and the capacity target at global step ``step`` (0-based) of ``total_steps``."""
        if self.kind == "warmup":
            return beta * linear_warmup(step, self.steps), None
        if self.kind == "cyclical":
            return beta * cyclical(step, total_steps, self.cycles, self.ratio), None
        if self.kind == "capacity":
            return self.gamma, capacity(step, self.c_max, self.steps)
        return beta, None

    def __str__(self) -> str:
        return {
            "constant": "constant",
            "warmup": f"warmup:{self.steps}",
            "cyclical": f"cyclical:{self.cycles}:{self.ratio:g}",
            "capacity": f"capacity:{self.c_max:g}:{self.steps}:{self.gamma:g}",
        }[self.kind]


def _number(text: str, kind: type, what: str, spec: str) -> float:
    try:
        return kind(text)
    except ValueError:
        raise InputError(f"kl_schedule {spec!r}: {what} must be {'an integer' if kind is int else 'a number'}, "
                         f"got {text!r}; valid forms: {FORMS}") from None


def parse_kl_schedule(spec: str | KLSchedule | None) -> KLSchedule:
    """Parse ``"warmup:10000"``, ``"cyclical:4:0.5"``, ``"capacity:25:100000:1000"`` or ``"constant"``.

    None and ``""`` mean constant.

    >>> schedule = parse_kl_schedule("cyclical:4:0.5")   # 4 cycles; the weight rises over the first half of each
    >>> [schedule.weights(step, 1000, 1.0)[0] for step in (0, 50, 125, 250)]
    [0.0, 0.4, 1.0, 0.0]

    Raises
    ------
    InputError
        Naming the option, the valid forms and what was received.
    """
    if isinstance(spec, KLSchedule):
        return spec
    if spec is None or spec == "":
        return KLSchedule()
    if not isinstance(spec, str):
        raise InputError(f"kl_schedule must be a string such as 'warmup:10000' ({FORMS}), got {spec!r}")
    kind, *args = spec.strip().split(":")
    arity = {"constant": 0, "warmup": 1, "cyclical": 2, "capacity": 3}
    if kind not in arity:
        raise InputError(f"kl_schedule {spec!r}: unknown kind {kind!r}; valid forms: {FORMS}")
    if len(args) != arity[kind]:
        raise InputError(f"kl_schedule {spec!r}: {kind} takes {arity[kind]} value(s) after ':'; valid forms: {FORMS}")
    if kind == "warmup":
        steps = int(_number(args[0], int, "STEPS", spec))
        if steps < 1:
            raise InputError(f"kl_schedule {spec!r}: STEPS must be >= 1")
        return KLSchedule(kind, steps=steps)
    if kind == "cyclical":
        cycles, ratio = int(_number(args[0], int, "CYCLES", spec)), _number(args[1], float, "RATIO", spec)
        if cycles < 1 or not 0.0 < ratio <= 1.0:
            raise InputError(f"kl_schedule {spec!r}: CYCLES must be >= 1 and RATIO in (0, 1]")
        return KLSchedule(kind, cycles=cycles, ratio=ratio)
    if kind == "capacity":
        c_max, steps = _number(args[0], float, "C_MAX", spec), int(_number(args[1], int, "STEPS", spec))
        gamma = _number(args[2], float, "GAMMA", spec)
        if not c_max >= 0 or steps < 1 or not gamma >= 0:
            raise InputError(f"kl_schedule {spec!r}: C_MAX must be >= 0 nats, STEPS >= 1 and GAMMA >= 0")
        return KLSchedule(kind, steps=steps, c_max=c_max, gamma=gamma)
    return KLSchedule()


class KLScheduleCallback(Callback):
    """Sets ``module.beta`` (and ``module.capacity``) before every step from the global step.

    Parameters
    ----------
    schedule : KLSchedule or str
    beta : float
        The target weight (the model's configured beta).

    At the end of training the module gets back its configured ``beta`` and no
    capacity target, so that the fitted model scores as a saved and reloaded one.
    """

    def __init__(self, schedule: KLSchedule | str, beta: float = 1.0) -> None:
        self.schedule = parse_kl_schedule(schedule)
        self.beta = float(beta)

    def on_step_start(self, trainer: TrainerView) -> None:
        total = trainer.config.epochs * trainer.batches_per_epoch
        beta, target = self.schedule.weights(trainer.state.step, total, self.beta)
        trainer.module.beta = beta
        trainer.module.capacity = target

    def on_fit_end(self, trainer: TrainerView) -> None:
        trainer.module.beta = self.beta
        trainer.module.capacity = None
