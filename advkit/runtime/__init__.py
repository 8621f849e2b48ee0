"""Runtime services shared by every command: device, seeding, run directories, checkpoints, progress."""

from advkit.runtime.checkpoint import latest_checkpoint, load_checkpoint, save_checkpoint
from advkit.runtime.device import select_device
from advkit.runtime.rundir import RunDir
from advkit.runtime.seeding import seed_everything

__all__ = ["RunDir", "latest_checkpoint", "load_checkpoint", "save_checkpoint", "seed_everything", "select_device"]
