"""A faithful local fake of the Vector Stores and Files API. No UI here."""

from .account import Account, SimError
from .clock import FROZEN_EPOCH, Clock, FrozenClock, RealClock
from .flavors import FLAVORS, Flavor
from .http import Fault, SimConfig, Simulator
from .scenarios import SCENARIOS, make_account
from .server import AppServer, SimServer

__all__ = [
    "FLAVORS",
    "FROZEN_EPOCH",
    "SCENARIOS",
    "Account",
    "AppServer",
    "Clock",
    "Fault",
    "Flavor",
    "FrozenClock",
    "RealClock",
    "SimConfig",
    "SimError",
    "SimServer",
    "Simulator",
    "make_account",
]
