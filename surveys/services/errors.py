"""Refusals of the surveys app's operations."""


class TransitionNotAllowed(Exception):
    """A move the state machine does not allow (answers 409 in the API)."""
