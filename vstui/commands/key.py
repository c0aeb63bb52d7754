"""``vstui key set|show|delete [--profile NAME]``: the API key in the OS keyring.

The key itself is never printed: ``show`` prints it masked (``sk-…abcd``) on stdout, and
that is all stdout ever carries. Everything else goes to stderr. Exit codes: 0 done,
1 there is no key for the profile, 2 it cannot be done (no usable keyring, an empty or
unusable key).
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from .. import accounts

NO_KEY = 1


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "key",
        help="store, show or delete an API key in the OS keyring",
        description="Keep a profile's API key in the OS keyring (service 'vstui'). "
        "OPENAI_API_KEY, when set, wins over the keyring.",
        epilog="Exit codes: 0 done, 1 no key for the profile, 2 no usable keyring or an "
        "unusable key.",
    )
    p.add_argument(
        "key_command",
        metavar="set|show|delete",
        choices=["set", "show", "delete"],
        help="set: read a key (hidden prompt, or one line of stdin) and store it; "
        "show: the key masked, and where it comes from; delete: remove it from the keyring",
    )
    p.add_argument(
        "--profile",
        dest="key_profile",
        default=None,
        metavar="NAME",
        help="the profile whose key it is (default: the global --profile, else 'default')",
    )
    p.set_defaults(run=run, doing="running `vstui key {key_command}`")


def run(args: argparse.Namespace) -> int:
    from .. import keys  # the keyring loads only for this command (and when a key is read)

    profile = args.key_profile or args.profile or "default"
    try:
        if args.key_command == "set":
            return _set(profile)
        if args.key_command == "show":
            return _show(profile)
        return _delete(profile)
    except (keys.KeyringUnavailable, accounts.LaunchError) as exc:
        return accounts.fail(exc)


def _set(profile: str) -> int:
    import getpass

    from .. import keys
    from ..api import mask_key

    if sys.stdin.isatty():
        key = getpass.getpass(f"API key for profile {profile!r} (input hidden): ")
    else:
        key = sys.stdin.readline()
    key = key.strip()
    if not key:
        print("vstui: no key given; nothing was stored.", file=sys.stderr)
        return 2
    accounts.check_key(key, "the input")
    keys.store(profile, key)
    print(f"Stored the key for profile {profile!r} in the keyring ({mask_key(key)}).")
    return 0


def _show(profile: str) -> int:
    from .. import keys

    resolved = keys.resolve(profile)
    if resolved.note:  # no usable keyring: the note names the alternatives
        return accounts.fail(resolved.note)
    if resolved.key is None:
        print(f"vstui: {keys.how_to_provide(profile)}", file=sys.stderr)
        return NO_KEY
    where = (
        "the environment (OPENAI_API_KEY)"
        if resolved.source == "environment"
        else f"the keyring (service 'vstui', profile {profile!r})"
    )
    print(f"{resolved.masked} from {where}")
    return 0


def _delete(profile: str) -> int:
    from .. import keys

    if keys.delete(profile):
        print(f"Deleted the key for profile {profile!r} from the keyring.")
        return 0
    print(f"vstui: there was no key for profile {profile!r} in the keyring.", file=sys.stderr)
    return NO_KEY
