"""The one exception type that the CLI turns into a clean message instead of a traceback."""


class ExecrlError(Exception):
    """A user-facing error: bad input, bad config or missing data. The message says what to do."""
