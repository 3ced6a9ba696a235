"""A command's status only moves forward, and its history tells the whole story."""

from __future__ import annotations

import pytest

from headway.domain.commands import CommandKind, CommandStatus, IllegalTransition, transition

from .builders import T0, cmd

S = CommandStatus


def story(steps: list[tuple[CommandStatus, float]]) -> str:
    return " > ".join(f"{s.value}@{at - T0:g}" for s, at in steps)


def test_a_command_walks_its_states_forward() -> None:
    command = cmd(1, CommandKind.HOLD)
    command = transition(command, S.SENT, T0 + 1, attempts=1)
    command = transition(command, S.SENT, T0 + 3, attempts=2)
    command = transition(command, S.ACKNOWLEDGED, T0 + 3.2)
    command = transition(command, S.RUNNING, T0 + 10)
    command = transition(command, S.DONE, T0 + 40)
    assert story([(t.status, t.at) for t in command.history]) == (
        "accepted@0 > sent@1 > acknowledged@3.2 > running@10 > done@40"
    )
    assert command.final
    assert command.attempts == 2
    assert command.at(S.ACKNOWLEDGED) == T0 + 3.2


def test_a_report_that_skips_steps_fills_them_in() -> None:
    sent = transition(cmd(1, CommandKind.PAUSE), S.SENT, T0 + 1)
    done = transition(sent, S.DONE, T0 + 2)
    assert [t.status for t in done.history] == [
        S.ACCEPTED,
        S.SENT,
        S.ACKNOWLEDGED,
        S.RUNNING,
        S.DONE,
    ]
    failed = transition(sent, S.FAILED, T0 + 2, "action c1 failed")
    assert [t.status for t in failed.history][-2:] == [S.ACKNOWLEDGED, S.FAILED]
    assert failed.reason == "action c1 failed"


@pytest.mark.parametrize(
    ("start", "wanted"),
    [
        (S.ACKNOWLEDGED, S.SENT),
        (S.RUNNING, S.ACKNOWLEDGED),
        (S.DONE, S.RUNNING),
        (S.EXPIRED, S.SENT),
        (S.ACCEPTED, S.ACKNOWLEDGED),
        (S.ACKNOWLEDGED, S.EXPIRED),
        (S.REJECTED, S.DONE),
    ],
)
def test_no_move_backwards_or_out_of_an_end(start: CommandStatus, wanted: CommandStatus) -> None:
    with pytest.raises(IllegalTransition, match=f"from {start} to {wanted}"):
        transition(cmd(1, CommandKind.DRIVE, start), wanted, T0 + 5)


def test_lanes() -> None:
    assert cmd(1, CommandKind.PAUSE).lane.value == "control"
    assert cmd(1, CommandKind.CANCEL).lane.value == "control"
    assert cmd(1, CommandKind.HOLD).lane.value == "trip"
    assert cmd(1, CommandKind.CHARGE).new_order
    assert not cmd(1, CommandKind.UPDATE).new_order
    assert cmd(1, CommandKind.UPDATE).is_order
