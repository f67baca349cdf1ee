"""Errors that weir reports from Python workers."""


class FunctionError(RuntimeError):
    """A user-defined function raised, or returned a value its type cannot hold.

    The message names the function, the input row and carries the Python
    traceback of the failure; the Go engine shows it to the user.
    """


class FunctionLoadError(RuntimeError):
    """A function named in SQL could not be imported or is not a weir UDF."""
