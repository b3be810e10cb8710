"""Errors that the command line reports as one line, without a traceback."""


class SuiteError(Exception):
    """An expected failure caused by the user's input or environment (bad file, bad value)."""

    exit_code = 2


class DivergenceError(SuiteError):
    """Training produced non-finite values; the last good checkpoint is kept."""

    exit_code = 3
