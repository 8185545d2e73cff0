"""Domain services: the rules, with explicit arguments and no request globals.

A service adds and flushes; it never commits. The caller (a view or a CLI command)
commits once the whole action has succeeded, so one action is one transaction.
"""


class ServiceError(Exception):
    """An action the rules refuse; the message is written for the person who asked."""
