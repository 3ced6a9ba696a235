"""The simulator's exceptions.

SimError
 └── LinkError (also a ConnectionError): the MQTT broker cannot be reached or
     refused a vehicle
"""

from __future__ import annotations


class SimError(Exception):
    """Base of every error the simulator raises on purpose."""


class LinkError(SimError, ConnectionError):
    """The MQTT broker could not be reached or refused the vehicle."""
