"""The commander against a fake fleet: delivery, retries, expiry, breaker, restarts."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

import pytest

from headway.domain.commands import Command, CommandKind, CommandParams, CommandStatus, StopVisit
from headway.domain.vehicles import VehicleStatus
from headway.network.cch_router import CCHRouter
from headway.network.graph import RoadNetwork
from headway.services.commands.breaker import BreakerPolicy, BreakerState
from headway.services.commands.service import CommandRequest

from .builders import cmd
from .fakes import FAST, Rig

K, S = CommandKind, CommandStatus
PAUSE = CommandRequest(K.PAUSE)
RESUME = CommandRequest(K.RESUME)


@pytest.fixture
async def rig(town: RoadNetwork, town_router: CCHRouter) -> AsyncIterator[Rig]:
    rig = Rig(town, town_router)
    await rig.setup()
    yield rig
    await rig.close()


def statuses(commands: list[Command]) -> list[str]:
    return [f"{c.kind} {c.status}" for c in commands]


async def test_commands_are_delivered_in_order_and_tracked_to_the_end(rig: Rig) -> None:
    rig.commander()
    stop = str(rig.town.stops[7].id)
    requests = [
        CommandRequest(K.DRIVE, CommandParams(stops=(StopVisit(stop),))),
        PAUSE,
        RESUME,
        CommandRequest(K.HOLD, CommandParams(duration_s=20.0)),
        CommandRequest(K.CHARGE, CommandParams(target_pct=80.0)),
    ]
    ids = [(await rig.submit("v1", r)).id for r in requests]
    ended = await rig.settle(ids)
    assert statuses(ended) == [
        "drive done",
        "pause done",
        "resume done",
        "hold done",
        "charge done",
    ]
    vehicle = rig.fleet.vehicles["v1"]
    assert vehicle.applied == [
        f"order:{ids[0]}:0",
        f"action:{ids[1]}",
        f"action:{ids[2]}",
        f"action:{ids[3]}",
        f"order:{ids[4]}:0",
    ]
    assert all(c.attempts == 1 for c in ended)
    assert [t.status for t in ended[0].history] == [
        S.ACCEPTED,
        S.SENT,
        S.ACKNOWLEDGED,
        S.RUNNING,
        S.DONE,
    ]


async def test_a_lost_message_is_sent_again_until_acknowledged(rig: Rig) -> None:
    rig.commander()
    rig.fleet.silent.add("v2")
    command = await rig.submit("v2", PAUSE)
    while len(await rig.store.query(vehicle_id="v2")) and (
        (await rig.store.get(command.id)).attempts < 2  # type: ignore[union-attr]
    ):
        await asyncio.sleep(0.01)
    rig.fleet.silent.clear()
    (ended,) = await rig.settle([command.id])
    assert ended.status is S.DONE
    assert ended.attempts >= 2
    assert rig.fleet.vehicles["v2"].applied == [f"action:{command.id}"]


async def test_a_silent_vehicle_opens_its_breaker_and_commands_expire(rig: Rig) -> None:
    commander, _ = rig.commander()
    rig.fleet.silent.add("v3")
    short = CommandRequest(K.PAUSE, ttl_s=1.0)
    first = await rig.submit("v3", short)
    second = await rig.submit("v3", CommandRequest(K.RESUME, ttl_s=1.0))
    ended = await rig.settle([first.id, second.id])
    assert statuses(ended) == ["pause expired", "resume expired"]
    assert ended[0].reason.startswith("not acknowledged after")
    assert ended[1].reason == "expired before it could be sent"
    assert commander.breakers.state("v3") is not BreakerState.CLOSED
    letters = [d for d in await rig.dead.recent(10) if d.source == "command"]
    assert {(d.reason, d.key) for d in letters} == {("expired", first.id), ("expired", second.id)}
    assert rig.fleet.vehicles["v3"].applied == []


async def test_the_breaker_opens_probes_and_closes_when_the_vehicle_answers(rig: Rig) -> None:
    seen: list[str] = []
    commander, _ = rig.commander()
    rig.fleet.silent.add("v1")
    command = await rig.submit("v1", CommandRequest(K.PAUSE, ttl_s=30.0))
    for _ in range(500):
        seen.append(commander.breakers.state("v1").value)
        if commander.breakers.state("v1") is BreakerState.OPEN:
            break
        await asyncio.sleep(0.01)
    assert commander.breakers.state("v1") is BreakerState.OPEN
    sends_while_open = len(rig.fleet.received)
    rig.fleet.silent.clear()
    (ended,) = await rig.settle([command.id])
    assert ended.status is S.DONE
    for _ in range(200):
        if commander.breakers.state("v1") is BreakerState.CLOSED:
            break
        await asyncio.sleep(0.01)
    assert commander.breakers.state("v1") is BreakerState.CLOSED
    assert len(rig.fleet.received) == sends_while_open + 1, "one probe closed it"
    transitions = rig.metrics.command_breaker_transitions
    assert transitions.labels("open")._value.get() >= 1
    assert transitions.labels("closed")._value.get() >= 1


async def test_a_late_answer_closes_the_breaker_its_wait_opened(rig: Rig) -> None:
    """A slow link: the vehicle answers after the commander stopped waiting and opened
    the breaker. The answer shows the vehicle is reachable: the breaker closes at once,
    not after its cooldown (nothing else was waiting to be sent as a probe)."""
    patient = replace(FAST, breaker=BreakerPolicy(threshold=3, cooldown_s=5.0, max_cooldown_s=5.0))
    commander, _ = rig.commander(patient)
    rig.fleet.slow["v2"] = 1.0
    command = await rig.submit("v2", CommandRequest(K.PAUSE, ttl_s=30.0))
    for _ in range(300):
        if commander.breakers.state("v2") is BreakerState.OPEN:
            break
        await asyncio.sleep(0.01)
    assert commander.breakers.state("v2") is BreakerState.OPEN
    (ended,) = await rig.settle([command.id])
    assert ended.status is S.DONE
    for _ in range(100):
        if commander.breakers.state("v2") is BreakerState.CLOSED:
            break
        await asyncio.sleep(0.01)
    assert commander.breakers.state("v2") is BreakerState.CLOSED


async def test_a_killed_commander_loses_nothing_and_repeats_nothing(rig: Rig) -> None:
    sent: list[str] = []

    def note(serial: str, message: str, body: dict[str, object]) -> None:
        sent.append(serial)

    rig.fleet.on_receive = note
    first, task = rig.commander()
    ids = []
    for round_ in range(10):
        for serial in rig.serials:
            request = PAUSE if round_ % 2 == 0 else RESUME
            ids.append((await rig.submit(serial, request)).id)
    while len(sent) < 5:
        await asyncio.sleep(0.001)
    task.cancel()  # as abrupt as a crash: no clean-up, entries stay pending
    with pytest.raises(asyncio.CancelledError):
        await task
    assert not first.running
    rig.commander(replace(FAST, name="commander-b"))
    ended = await rig.settle(ids)
    assert all(c.status is S.DONE for c in ended)
    for serial in rig.serials:
        applied = rig.fleet.vehicles[serial].applied
        mine = [f"action:{c.id}" for c in ended if c.vehicle_id == serial]
        assert applied == mine, "each once, in submission order"
    assert await rig.queue.pending("commander-a") == []


async def test_a_restart_under_the_same_name_picks_up_its_own_entries(rig: Rig) -> None:
    rig.fleet.up = False
    _, task = rig.commander()
    command = await rig.submit("v1", PAUSE)
    while not await rig.queue.pending("commander-a"):
        await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    rig.fleet.up = True
    rig.commander(replace(FAST, reclaim_idle_s=3600.0))
    (ended,) = await rig.settle([command.id])
    assert ended.status is S.DONE


async def test_a_command_that_cannot_be_built_fails_with_the_reason(rig: Rig) -> None:
    rig.commander()
    base = await rig.submit(
        "v1", CommandRequest(K.DRIVE, CommandParams(stops=(StopVisit(str(rig.town.stops[2].id)),)))
    )
    await rig.settle([base.id])
    update = await rig.submit(
        "v1",
        CommandRequest(
            K.UPDATE,
            CommandParams(stops=(StopVisit(str(rig.town.stops[9].id)),), order_command_id=base.id),
        ),
    )
    (ended,) = await rig.settle([update.id])
    assert ended.status is S.DONE
    assert ended.order_id == base.order_id
    assert ended.order_update_id == 1


async def test_a_record_with_an_invalid_message_fails_and_the_others_go_on(rig: Rig) -> None:
    """A stored pause without an action id (an older writer, a hand edit) cannot become
    a valid instantActions message: it fails with the reason and is never sent; the
    commands around it are carried out."""
    commander, _ = rig.commander()
    broken, _ = await rig.store.create(
        cmd(1, K.PAUSE, id="c-broken", vehicle_id="v2", action_id="", created_at=time.time())
    )
    broken = await rig.store.save(replace(broken, expires_at=time.time() + 60.0))
    await rig.queue.put("v2", broken.id)
    after = await rig.submit("v2", RESUME)
    elsewhere = await rig.submit("v1", PAUSE)
    ended = await rig.settle([broken.id, after.id, elsewhere.id])
    assert statuses(ended) == ["pause failed", "resume done", "pause done"]
    assert ended[0].reason.startswith("invalid instantActions: ")
    assert "actionId" in ended[0].reason
    assert commander.stats.invalid == 1
    assert [m for serial, m, _ in rig.fleet.received if serial == "v2"] == ["instantActions"]


async def test_a_flaky_store_is_waited_out_not_fatal(rig: Rig) -> None:
    from headway.domain.errors import StoreUnavailable

    real_open = rig.store.open_for_vehicles
    failures = {"left": 3}

    async def flaky(vehicle_ids: object) -> object:
        if failures["left"]:
            failures["left"] -= 1
            raise StoreUnavailable("database restarting")
        return await real_open(vehicle_ids)  # type: ignore[arg-type]

    rig.store.open_for_vehicles = flaky  # type: ignore[assignment, method-assign]
    commander, task = rig.commander()
    command = await rig.submit("v1", PAUSE)
    (ended,) = await rig.settle([command.id])
    assert ended.status is S.DONE
    assert commander.stats.loop_errors >= 3
    assert not task.done()


async def test_an_acknowledged_command_of_a_vehicle_gone_silent_fails_with_the_reason(
    rig: Rig,
) -> None:
    """v1 starts a hold and drops off the network; v2 starts one too and stays online,
    its live state merely old (as with a processor that is down): only v1's fails."""

    def start_but_never_finish(serial: str, message: str, body: dict[str, Any]) -> None:
        for action in body.get("actions", ()):
            rig.fleet.vehicles[serial].actions[action["actionId"]] = "RUNNING"

    rig.fleet.on_receive = start_but_never_finish
    commander, _ = rig.commander(replace(FAST, sweep_every_s=0.05, silent_after_s=0.3))
    hold = CommandRequest(K.HOLD, CommandParams(duration_s=600.0))
    gone, online = await rig.submit("v1", hold), await rig.submit("v2", hold)
    for command_id in (gone.id, online.id):
        while (await rig.store.get(command_id)).status is not S.RUNNING:  # type: ignore[union-attr]
            await asyncio.sleep(0.01)
    (state,) = await rig.live.get_many(["v1"])
    assert state is not None
    await rig.live.put_many(
        [replace(state, status=VehicleStatus.OFFLINE, connection="CONNECTIONBROKEN")]
    )
    (ended,) = await rig.settle([gone.id])
    assert ended.status is S.FAILED
    assert ended.reason.startswith("vehicle silent for ")
    assert "after it took the command over" in ended.reason
    assert commander.stats.silenced == 1
    still = await rig.store.get(online.id)
    assert still is not None
    assert still.status is S.RUNNING, "an online vehicle keeps its command"
    letters = [d for d in await rig.dead.recent(10) if d.source == "command"]
    assert [(d.reason, d.key) for d in letters] == [("failed", gone.id)]


async def test_a_command_taken_over_after_it_expired_stays_expired_and_says_so(
    rig: Rig,
) -> None:
    commander, _ = rig.commander()
    rig.fleet.silent.add("v3")
    command = await rig.submit("v3", CommandRequest(K.PAUSE, ttl_s=0.3))
    (expired,) = await rig.settle([command.id])
    assert expired.status is S.EXPIRED
    # Its message was on its way after all: the vehicle reports the action, twice.
    rig.fleet.vehicles["v3"].actions[command.id] = "FINISHED"
    rig.fleet.report("v3")
    rig.fleet.report("v3")
    for _ in range(500):
        if commander.stats.late:
            break
        await asyncio.sleep(0.01)
    late = await rig.store.get(command.id)
    assert late is not None
    assert late.status is S.EXPIRED
    assert "the vehicle took it over after it expired" in late.reason
    assert late.reason.startswith("not acknowledged after")
    letters = [d for d in await rig.dead.recent(10) if d.reason == "taken_over_after_expiry"]
    assert [d.key for d in letters] == [command.id]
    rig.fleet.report("v3")
    await asyncio.sleep(0.2)
    assert commander.stats.late == 1, "noted once"


async def test_states_that_repeat_one_that_moved_nothing_are_not_looked_up(rig: Rig) -> None:
    commander, _ = rig.commander()
    command = await rig.submit("v1", PAUSE)
    await rig.settle([command.id])
    for _ in range(20):  # the vehicle goes on reporting the finished pause, one by one
        before = commander.stats.reports
        rig.fleet.report("v1")
        while commander.stats.reports == before:
            await asyncio.sleep(0.005)
    assert commander.stats.quiet_reports >= 10
    other = await rig.submit("v1", RESUME)  # what it reports next is new again
    (ended,) = await rig.settle([other.id])
    assert ended.status is S.DONE
