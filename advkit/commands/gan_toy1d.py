"""``advkit gan toy1d``: Goodfellow et al. 2014, figure 1, live: data density, G's density and D(x) over training
(a PNG strip and a GIF).

    >>> from advkit.commands.gan_toy1d import run
    >>> from advkit.gan.toy1d_config import Toy1DConfig
    >>> run(Toy1DConfig(steps=500))["final"]["d_gap"]
"""

from __future__ import annotations

from advkit.gan.toy1d_config import Toy1DConfig
from advkit.runtime.session import Session, session_for

RUN_DIR = True
CONFIG = Toy1DConfig


def run(config: Toy1DConfig, session: Session | None = None, **session_options) -> dict:
    from advkit.gan.toy1d import run_toy1d

    with session_for("gan-toy1d", config, session, **session_options) as session:
        results = run_toy1d(config, session)
        session.echo(f"D(x) at the end: mean |D - 1/2| over the data's mass = {results['final']['d_gap']:.3f}; "
                     f"strip {results['strip']}, animation {results['gif']}")
        return results
