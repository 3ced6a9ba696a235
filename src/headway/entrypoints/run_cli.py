"""``headway run PROCESS`` (one process of the stack profile) and ``headway up`` (all of
them on this machine, restarted when they crash)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import secrets
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from headway.config import Settings
from headway.entrypoints.arguments import positive_int

ROOT = Path(__file__).resolve().parents[3]
PROCESS_NAMES = ("bridge", "processor", "api", "commander", "dispatcher")
RESTART_FIRST_S = 0.5
RESTART_MAX_S = 15.0


def register(commands: Any) -> None:
    run = commands.add_parser("run", help="run one process of the stack profile")
    run.add_argument("process", choices=PROCESS_NAMES)
    run.set_defaults(handler=run_one)

    up = commands.add_parser("up", help="run the whole stack profile on this machine")
    up.add_argument("--bridges", type=positive_int, default=1)
    up.add_argument("--processors", type=positive_int, default=2)
    up.add_argument("--apis", type=positive_int, default=1)
    up.add_argument("--commanders", type=positive_int, default=1)
    up.add_argument(
        "--dispatchers",
        type=positive_int,
        default=1,
        help="one is active, any others stand by to take over (rides are single-writer)",
    )
    up.add_argument("--no-services", action="store_true", help="do not run scripts/stack up first")
    up.set_defaults(handler=run_all)


def run_one(args: argparse.Namespace, settings: Settings) -> int:
    from headway.entrypoints.processes import PROCESSES

    logging.basicConfig(level=logging.INFO, format=f"%(asctime)s {args.process} %(message)s")
    try:
        asyncio.run(PROCESSES[args.process](settings))
    except Exception as exc:  # one clear line, not a traceback, for whoever runs it
        print(
            f"headway run {args.process}: {type(exc).__name__}: {exc}\n"
            '  (stack settings: eval "$(scripts/stack env)"; is it up? scripts/stack status)',
            file=sys.stderr,
        )
        return 1
    return 0


@dataclass
class _Child:
    name: str
    argv: list[str]
    env: dict[str, str]
    process: subprocess.Popen[bytes] | None = None
    restarts: int = 0
    next_start: float = 0.0
    backoff: float = RESTART_FIRST_S
    started_at: float = field(default=0.0)

    def start(self) -> None:
        self.process = subprocess.Popen(self.argv, env=self.env)
        self.started_at = time.monotonic()


def run_all(args: argparse.Namespace, settings: Settings) -> int:
    stack = ROOT / "scripts" / "stack"
    if not args.no_services and stack.exists():
        subprocess.run([str(stack), "up"], check=True)
    env = dict(os.environ)
    env.setdefault("HEADWAY_JWT_SECRET", secrets.token_urlsafe(32))
    password = env.setdefault("HEADWAY_ADMIN_PASSWORD", secrets.token_urlsafe(12))
    children: list[_Child] = []
    for name, count in (
        ("bridge", args.bridges),
        ("processor", args.processors),
        ("api", args.apis),
        ("commander", args.commanders),
        ("dispatcher", args.dispatchers),
    ):
        for i in range(count):
            child_env = dict(env, HEADWAY_INSTANCE=f"{name}-{i + 1}")
            if name == "api":
                child_env["HEADWAY_HTTP_PORT"] = str(settings.http_port + i)
            argv = [sys.executable, "-m", "headway.entrypoints.cli", "run", name]
            children.append(_Child(f"{name}-{i + 1}", argv, child_env))
    for child in children:
        child.start()
    print(f"Headway stack profile: {len(children)} processes", flush=True)
    for i in range(args.apis):
        print(f"  api {i + 1}: http://{settings.http_host}:{settings.http_port + i}", flush=True)
    print(f"  log in as {settings.admin_user} / {password}", flush=True)
    print(
        f"  vehicles connect to mqtt://{settings.mqtt_host}:{settings.stack_mqtt_port}", flush=True
    )
    print(
        f"  rides: {args.dispatchers} dispatcher(s), one active, passengers' calls on redis "
        f"{settings.redis_prefix}rides:calls",
        flush=True,
    )
    print(f"  kafka {settings.kafka_bootstrap}  redis {settings.redis_url}", flush=True)
    stopping = False

    def stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    while not stopping:
        time.sleep(0.2)
        now = time.monotonic()
        for child in children:
            if child.process is None:
                if now >= child.next_start:
                    child.restarts += 1
                    print(f"restarting {child.name} (restart {child.restarts})", flush=True)
                    child.start()
                continue
            code = child.process.poll()
            if code is None:
                if now - child.started_at > 30:
                    child.backoff = RESTART_FIRST_S
                continue
            print(
                f"{child.name} exited with {code}; restarting in {child.backoff:.1f} s", flush=True
            )
            child.process = None
            child.next_start = now + child.backoff
            child.backoff = min(child.backoff * 2, RESTART_MAX_S)
    for child in children:
        if child.process is not None:
            child.process.terminate()
    for child in children:
        if child.process is not None:
            try:
                child.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                child.process.kill()
    return 0
