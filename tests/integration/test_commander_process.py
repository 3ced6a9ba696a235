"""A ``headway run commander`` process on the stack (PostgreSQL records, a Redis Stream
queue, Kafka states, Mosquitto) is killed with SIGKILL while it holds commands in
flight to simulated vehicles over a lossy link, then restarted under the same name,
with a second commander beside it for the rest of the day.

Afterwards every command has ended, none is lost, none took effect twice on its
vehicle (read from the simulated vehicles, not from the records) and every vehicle
applied its commands in order. The bridge and processor run in the test process under
this test's own names (``commands_stack.StackParts``); the commanders find them through
the same names in their settings.
"""

from __future__ import annotations

import asyncio
import functools
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest

from headway.adapters.postgres.commands import PostgresCommandStore
from headway.domain.commands import INSTANT_KINDS, Command, CommandStatus, Lane
from headway.network.cch_router import CCHRouter
from headway.services.commands.service import CommandRequest
from headway.sim.fleet import LinkFaults
from tests.integration.commands_stack import StackParts, schema_url
from tests.integration.conftest import ROOT, Stack
from tests.unit.commands.scenario import Plan, nearby_stops, requests_for, town, waiting_fleet

pytestmark = [pytest.mark.integration, pytest.mark.slow]

FLEET = 60
SPEEDUP = 20.0
KILL_AFTER_S = 1.5
LOSSY = LinkFaults(drop_in=0.15, drop_out=0.15, duplicate=0.05, delay=0.05, delay_s=(0.05, 0.3))
S = CommandStatus


@dataclass
class Outcome:
    submitted: int
    commands: list[Command]
    """Every command submitted, as stored at the end, in submission order."""
    applied: dict[str, list[str]]
    held_at_kill: int
    """Queue entries pending with the killed commander when it was killed."""
    pending_at_end: int
    """Queue entries pending with either commander once every command had ended."""
    killed_at: float
    exit_code: int | None
    logs: Path

    def of(self, serial: str) -> list[Command]:
        return [c for c in self.commands if c.vehicle_id == serial]

    def tail(self) -> str:
        return "\n".join(
            f"--- {log.name}\n{log.read_text()[-2000:]}" for log in sorted(self.logs.glob("*.log"))
        )


class Commanders:
    """``headway run commander`` subprocesses under one test's names."""

    def __init__(self, stack: Stack, unique: str, database_url: str, network: Path, logs: Path):
        self.env = stack.headway_env(
            unique,
            HEADWAY_NETWORK_FILE=str(network),
            HEADWAY_COMMANDER_ACK_TIMEOUT_S="0.5",
            HEADWAY_COMMANDER_RECLAIM_IDLE_S="2",
        )
        self.env["HEADWAY_DATABASE_URL"] = database_url
        self.unique = unique
        self.logs = logs
        self.running: dict[str, subprocess.Popen[bytes]] = {}
        self._starts: Counter[str] = Counter()

    def name(self, n: int) -> str:
        return f"{self.unique}-commander-{n}"

    def start(self, n: int) -> None:
        name = self.name(n)
        self._starts[name] += 1
        log = self.logs / f"{name}.{self._starts[name]}.log"
        with log.open("wb") as out:
            self.running[name] = subprocess.Popen(
                [sys.executable, "-m", "headway.entrypoints.cli", "run", "commander"],
                env=dict(self.env, HEADWAY_INSTANCE=name),
                cwd=ROOT,
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    async def wait_ready(self, n: int, timeout_s: float = 300.0) -> None:
        name = self.name(n)
        log = self.logs / f"{name}.{self._starts[name]}.log"
        deadline = time.monotonic() + timeout_s
        while f"commander {name}: postgres records" not in log.read_text():
            code = self.running[name].poll()
            assert code is None, f"{name} exited with {code}:\n{log.read_text()[-3000:]}"
            assert time.monotonic() < deadline, f"{name} not ready:\n{log.read_text()[-3000:]}"
            await asyncio.sleep(0.2)

    def stop_all(self) -> None:
        for process in self.running.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.running.values():
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


async def play(stack: Stack, unique: str, logs: Path) -> Outcome:
    city = town()
    network_file = city.save(logs / "town.npz")
    database_url = schema_url(stack.database_url)
    store = PostgresCommandStore(database_url)
    await store.open()
    manufacturer = f"sim-{unique}"
    parts = StackParts(stack, unique, manufacturer, city, command_store=store, commander=False)
    commanders = Commanders(stack, unique, database_url, network_file, logs)
    sim = waiting_fleet(city, parts.mqtt(), manufacturer, FLEET, SPEEDUP, 11, parts.registry)
    router = CCHRouter(city)
    await parts.start()
    try:
        commanders.start(1)
        await sim.start()
        while parts.known_vehicles < FLEET:
            await asyncio.sleep(0.05)
        await commanders.wait_ready(1)
        await asyncio.sleep(1.0)
        sim.impair(LOSSY)
        plans: dict[str, list[Plan]] = {}
        first_ids: dict[str, str] = {}
        for index, serial in enumerate(sim.vehicle_ids):
            near = nearby_stops(city, sim.model.vehicles[index].last_node, router.travel_times_from)
            plans[serial] = requests_for(
                serial, near, functools.partial(first_ids.__getitem__, serial)
            )
        ids: list[str] = []
        for wave in (0, 1):
            for step in range(5):
                for serial in sim.vehicle_ids:
                    todo = plans[serial][wave]
                    if step < len(todo):
                        item = todo[step]
                        request: CommandRequest = item() if callable(item) else item
                        command, _ = await parts.commands.submit(serial, request, "test")
                        first_ids.setdefault(serial, command.id)
                        ids.append(command.id)
            if wave == 0:
                await asyncio.sleep(KILL_AFTER_S)
                victim = commanders.name(1)
                held = await parts.command_queue.pending(victim)
                killed_at = time.time()
                commanders.running[victim].send_signal(signal.SIGKILL)
                exit_code = commanders.running[victim].wait(timeout=30)
                commanders.start(1)  # the same name: it picks up its own pending entries
                commanders.start(2)
                await commanders.wait_ready(1)
                await commanders.wait_ready(2)
        deadline = time.monotonic() + 240.0
        while True:
            commands = [c for c in [await store.get(i) for i in ids] if c is not None]
            if len(commands) == len(ids) and all(c.final for c in commands):
                break
            if time.monotonic() > deadline:
                break
            await asyncio.sleep(0.5)
        names = [commanders.name(1), commanders.name(2)]
        while True:
            pending = [e for n in names for e in await parts.command_queue.pending(n)]
            if not pending or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.5)
        for name, process in commanders.running.items():
            assert process.poll() is None, f"{name} died; logs in {logs}"
        return Outcome(
            submitted=len(ids),
            commands=commands,
            applied={s: sim.applied(s) for s in sim.vehicle_ids},
            held_at_kill=len(held),
            pending_at_end=len(pending),
            killed_at=killed_at,
            exit_code=exit_code,
            logs=logs,
        )
    finally:
        commanders.stop_all()
        await sim.stop()
        await parts.stop()
        await store.close()


@pytest.fixture(scope="module")
def outcome(stack: Stack, tmp_path_factory: pytest.TempPathFactory) -> Outcome:
    unique = f"t{os.urandom(6).hex()}"
    outcome = asyncio.run(play(stack, unique, tmp_path_factory.mktemp("commanders")))
    ended = Counter(c.status.value for c in outcome.commands)
    print(
        f"{outcome.submitted} commands, {outcome.held_at_kill} held by the killed commander, "
        f"ended {dict(ended)}; logs in {outcome.logs}",
        file=sys.stderr,
    )
    return outcome


def effect(command: Command) -> str:
    if command.kind in INSTANT_KINDS:
        return f"action:{command.action_id}"
    return f"order:{command.order_id}:{command.order_update_id}"


def test_the_commander_was_killed_holding_commands_in_flight(outcome: Outcome) -> None:
    assert outcome.exit_code == -signal.SIGKILL
    assert outcome.held_at_kill > 0, "the killed commander held nothing: no test"
    in_flight = [
        c
        for c in outcome.commands
        if c.created_at < outcome.killed_at
        and (c.at(S.ACKNOWLEDGED) or c.at(S.REJECTED) or 1e18) > outcome.killed_at
    ]
    assert len(in_flight) > 10


def test_the_queue_holds_nothing_once_every_command_ended(outcome: Outcome) -> None:
    assert outcome.pending_at_end == 0


def test_every_command_reached_a_final_state_and_none_was_lost(outcome: Outcome) -> None:
    assert outcome.submitted == len(outcome.commands) == len({c.id for c in outcome.commands})
    open_ = [f"{c.vehicle_id} {c.kind} {c.status}" for c in outcome.commands if not c.final]
    assert open_ == [], outcome.tail()
    outcomes = Counter(c.status.value for c in outcome.commands)
    assert outcomes["done"] >= 0.85 * len(outcome.commands), outcomes


def test_each_command_took_effect_once_or_not_at_all(outcome: Outcome) -> None:
    for serial, applied in outcome.applied.items():
        assert len(applied) == len(set(applied)), f"{serial} applied twice: {applied}"
        mine = {effect(c): c for c in outcome.of(serial)}
        for key in applied:
            assert key in mine, f"{serial} applied {key}, which no command asked for"
        for key, command in mine.items():
            expected = 1 if command.at(S.ACKNOWLEDGED) is not None else 0
            got = applied.count(key)
            assert got == expected, f"{serial}: {command.kind} {command.status} applied {got}x"


def test_each_vehicle_applied_its_commands_in_order(outcome: Outcome) -> None:
    """Submission order, except that a control command may overtake a trip command
    still waiting to be sent (docs/commands.md)."""
    for serial, applied in outcome.applied.items():
        position = {key: k for k, key in enumerate(applied)}
        done = [c for c in outcome.of(serial) if effect(c) in position]
        for a in done:
            for b in done:
                if a.seq < b.seq and not (a.lane is Lane.TRIP and b.lane is Lane.CONTROL):
                    assert position[effect(a)] < position[effect(b)], (
                        f"{serial}: {a.kind} (seq {a.seq}) applied after {b.kind} (seq {b.seq})"
                    )
