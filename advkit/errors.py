"""One kind of error for bad input: the CLI prints its message on one line and exits with code 2.

Library code raises :class:`AdvkitError` with a message that says what is wrong *and* what to do,
e.g. ``AdvkitError("--eps must be in [0, 1] (inputs are images in [0, 1]); got -0.1")``.
"""

from __future__ import annotations


class AdvkitError(Exception):
    """Bad input or missing resource. The CLI shows ``Error: <message>`` and exits 2, never a traceback.

        >>> import advkit
        >>> try:
        ...     advkit.load_data("no-such-data")
        ... except advkit.AdvkitError as e:
        ...     print(e.message[:30])
        --data 'no-such-data' is neither
    """

    exit_code = 2

    def __init__(self, message: str):
        # One line: a multi-line message would read like a traceback to the user.
        self.message = " ".join(str(message).split())
        super().__init__(self.message)


class TrainingInterrupted(Exception):
    """Raised inside a training loop after SIGINT, once the checkpoint has been written (exit code 130)."""


class NonFiniteLoss(AdvkitError):
    """A loss became NaN/inf: training stops, the last good checkpoint is kept."""
