"""The training loop, its callbacks and checkpoints."""

from vaelab.training.callbacks import Callback, ProgressBar
from vaelab.training.checkpoint import has_checkpoint, load_checkpoint, save_checkpoint
from vaelab.training.schedules import KLSchedule, KLScheduleCallback, parse_kl_schedule
from vaelab.training.config import OPTIMIZERS, TrainerConfig, TrainState
from vaelab.training.trainer import Trainer, TrainingDiverged

__all__ = [
    "OPTIMIZERS",
    "Callback",
    "KLSchedule",
    "KLScheduleCallback",
    "ProgressBar",
    "TrainState",
    "Trainer",
    "TrainerConfig",
    "TrainingDiverged",
    "has_checkpoint",
    "load_checkpoint",
    "parse_kl_schedule",
    "save_checkpoint",
]
