"""Errors raised by the dial-a-ride package.

    DarpError
     ├── InvalidProblemError    requests, vehicles or travel times that do not describe a problem
     ├── InvalidInstanceError   a benchmark file that cannot be read (the message names the line)
     └── InvalidSolutionError   a solution file that cannot be read

Each also derives from ValueError, so callers that already catch it keep working.
"""

from __future__ import annotations


class DarpError(Exception):
    """Base class for every error of headway.optimizer.darp."""


class InvalidProblemError(DarpError, ValueError):
    """The problem handed to the solver is inconsistent."""


class InvalidInstanceError(DarpError, ValueError):
    """A Cordeau-format instance file that is missing, unreadable or malformed."""


class InvalidSolutionError(DarpError, ValueError):
    """A solution file that is missing, unreadable or not a list of routes."""
