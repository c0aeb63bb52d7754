"""A faithful local fake of the Vector Stores and Files API. No UI here."""

from .account import Account, SimError
from .app import Fault, SimConfig, Simulator
from .clock import FROZEN_EPOCH, Clock, FrozenClock, RealClock
from .scenarios import SCENARIOS, make_account
from .server import SimServer

__all__ = [
    "FROZEN_EPOCH",
    "SCENARIOS",
    "Account",
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
