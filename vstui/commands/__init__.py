"""One module per ``vstui`` subcommand.

Each module has ``add_parser(subparsers)``, which adds its parser and registers
``set_defaults(run=run, doing=...)``, and ``run(args) -> int``, the exit code. ``cli.py``
calls every ``add_parser`` and then ``args.run(args)``; ``doing`` names the work in the
crash sentence (its ``{fields}`` come from the parsed options). Commands that talk to an
account get it from ``vstui.accounts`` (``connect`` for headless ones) and keep the work
itself in a UI-free module (``vstui/cleanup.py``, ``sync.py``, ``watch.py``, ``serve.py``).
Command modules never import each other; what they share is in ``console.py``.

A new subcommand: a module here, and its name in ``COMMANDS`` in ``cli.py``.
"""
