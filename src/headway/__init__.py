"""Headway: run a fleet of autonomous electric transit vehicles."""

__version__ = "0.1.0"
