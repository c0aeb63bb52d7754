"""A faithful local fake of the Vector Stores and Files API. No UI here."""

from .account import Account, SimError
from .clock import FROZEN_EPOCH, Clock, FrozenClock, RealClock
from .http import Fault, SimConfig, Simulator
from .scenarios import SCENARIOS, make_account
from .server import AppServer, SimServer

__all__ = [
    "FROZEN_EPOCH",
    "SCENARIOS",
    "Account",
    "AppServer",
    "Clock",
    "Fault",
    "FrozenClock",
    "RealClock",
    "SimConfig",
    "SimError",
    "SimServer",
    "Simulator",
    "make_account",
]
