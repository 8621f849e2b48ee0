"""Runtime services shared by every command: session (device, seed, run directory, progress), device selection,
seeding, run directories, atomic checkpoints, AMP, torchrun. Import the submodule you need
(``from advkit.runtime.session import open_session``): this package imports nothing itself, so reading a
command's options (``--help``) never waits for torch.
"""
