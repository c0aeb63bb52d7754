"""Process start → the first store ID visible in a real terminal, vstui against a 3-line
openai-SDK script printing the first store (the baseline), both run in tmux against the
same simulator (``large`` scenario, 50 ms a request, its own process), interleaved.

The clock starts just before ``tmux new-session`` launches the command and stops at the
first ``capture-pane`` that shows a store ID (``vs_…``); both sides pay the same tmux
cost. Needs tmux and the ``openai`` package (the ``test`` extra).

    python benchmarks/first_paint.py [--rounds 7] [--latency-ms 50]
"""

from __future__ import annotations

import argparse
import os
import re
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

KEY = "sk-bench-000000000000000000000000"
STORE_ID = re.compile(r"\bvs_[A-Za-z0-9]{8,}")
SDK_SCRIPT = (
    "from openai import OpenAI\n"
    "client = OpenAI()\n"
    "print(client.vector_stores.list(limit=20).data[0].id)\n"
)


def start_simulator(port: int, latency_ms: float) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        [
            *(sys.executable, "-m", "vstui", "sim", "--scenario", "large"),
            *("--port", str(port), "--latency-ms", str(latency_ms)),
        ],
        stdout=subprocess.PIPE,
    )
    assert process.stdout is not None
    process.stdout.readline()  # "serving http://…" once it is up
    time.sleep(0.5)
    return process


def time_to_id(command: str, env: dict[str, str], size: tuple[int, int], timeout: float) -> float:
    """Seconds from launching ``command`` in a fresh tmux session to a store ID on screen."""
    name = f"fp{os.getpid()}"
    exports = " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items())
    shell = f"env {exports} {command}; sleep 30"
    width, height = size
    start = time.perf_counter()
    subprocess.run(
        ["tmux", "new-session", "-d", "-s", name, "-x", str(width), "-y", str(height), shell],
        check=True,
    )
    try:
        while time.perf_counter() - start < timeout:
            screen = subprocess.run(
                ["tmux", "capture-pane", "-p", "-t", name], capture_output=True, text=True
            ).stdout
            if STORE_ID.search(screen):
                return time.perf_counter() - start
            time.sleep(0.005)
        return float("nan")
    finally:
        subprocess.run(["tmux", "kill-session", "-t", name], capture_output=True)


def spread(values: list[float]) -> str:
    ok = [v for v in values if v == v]
    if not ok:
        return "n/a"
    return f"{statistics.median(ok):6.3f}  [{min(ok):.3f}–{max(ok):.3f}]"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--latency-ms", type=float, default=50.0)
    options = parser.parse_args()
    from vstui.sim.server import free_port

    port = free_port()
    sim = start_simulator(port, options.latency_ms)
    home = tempfile.mkdtemp(prefix="vstui-fp-")
    script = Path(home) / "first_store.py"
    script.write_text(SDK_SCRIPT)
    env = {
        "OPENAI_API_KEY": KEY,
        "OPENAI_BASE_URL": f"http://127.0.0.1:{port}/v1",
        "HOME": home,
        "XDG_CONFIG_HOME": f"{home}/config",
        "XDG_STATE_HOME": f"{home}/state",
        "XDG_DATA_HOME": f"{home}/data",
        "PATH": os.environ.get("PATH", ""),
        "TERM": "xterm-256color",
    }
    vstui = shlex.quote(str(Path(sys.executable).with_name("vstui")))
    sides = {
        "vstui": f"{vstui}",
        "SDK script": f"{shlex.quote(sys.executable)} {shlex.quote(str(script))}",
    }
    results: dict[str, list[float]] = {side: [] for side in sides}
    try:
        for round_ in range(options.rounds + 1):
            order = list(sides) if round_ % 2 else list(reversed(sides))
            for side in order:
                value = time_to_id(sides[side], env, (120, 40), timeout=30)
                if round_:  # the first round warms the disk cache: not counted
                    results[side].append(value)
    finally:
        sim.terminate()
        sim.wait()
    ours, base = results["vstui"], results["SDK script"]
    ratios = [a / b for a, b in zip(ours, base, strict=True) if a == a and b == b]
    load = os.getloadavg()
    print(
        f"first store ID visible in a 120x40 tmux terminal; simulator 'large', "
        f"{options.latency_ms:g} ms a request; {options.rounds} interleaved rounds"
    )
    print(f"{'':12} {'median (s)':>10}  [min–max]")
    print(f"{'vstui':12} {spread(ours)}")
    print(f"{'SDK script':12} {spread(base)}   (baseline)")
    if ratios:
        print(
            f"ratio vstui/SDK: median {statistics.median(ratios):.2f}x "
            f"[{min(ratios):.2f}–{max(ratios):.2f}] (target ≤ 0.6x)"
        )
    print(f"load average during the run: {load[0]:.2f} {load[1]:.2f} ({os.cpu_count()} cores)")


if __name__ == "__main__":
    main()
