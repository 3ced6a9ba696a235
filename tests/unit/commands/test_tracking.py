"""Acknowledgement and progress read from the vehicle's state, one report at a time."""

from __future__ import annotations

from headway.contracts.events import ActionProgress, ErrorReport, Progress
from headway.domain.commands import Command, CommandKind, CommandStatus
from headway.services.commands.tracking import VehicleReport, observe

from .builders import T0, cmd, order_cmd

K, S = CommandKind, CommandStatus


class Vehicle:
    """Feeds reports to ``observe`` and keeps the commands as the store would."""

    def __init__(self, *commands: Command) -> None:
        self.commands = {c.id: c for c in commands}
        self.at = T0 + 1

    def report(
        self,
        order_id: str = "",
        update_id: int = 0,
        last_seq: int = 0,
        next_seq: int = -1,
        driving: bool = False,
        actions: dict[str, str] | None = None,
        errors: tuple[ErrorReport, ...] = (),
    ) -> str:
        self.at += 1
        progress = Progress(
            order_update_id=update_id,
            last_node_sequence_id=last_seq,
            next_node_sequence_id=next_seq,
            actions=tuple(ActionProgress(k, v) for k, v in (actions or {}).items()),
            errors=errors,
        )
        open_ = sorted((c for c in self.commands.values() if not c.final), key=lambda c: c.seq)
        for moved in observe(open_, VehicleReport("v1", self.at, order_id, driving, progress)):
            self.commands[moved.id] = moved
        return self.summary()

    def summary(self) -> str:
        return ", ".join(f"{c.id} {c.status}" for c in self.commands.values())


def test_an_order_is_acknowledged_runs_and_ends_when_its_nodes_and_actions_are_done() -> None:
    v = Vehicle(order_cmd(1, S.SENT))
    assert v.report(order_id="other") == "c1 sent"
    assert v.report(order_id="c1", next_seq=2) == "c1 acknowledged"
    assert v.report(order_id="c1", next_seq=2, driving=True) == "c1 running"
    actions = {"c1.11.pick": "FINISHED", "c1.12.drop": "RUNNING"}
    assert v.report(order_id="c1", last_seq=6, actions=actions) == "c1 running"
    actions["c1.12.drop"] = "FINISHED"
    assert v.report(order_id="c1", last_seq=6, actions=actions) == "c1 done"
    history = [t.status for t in v.commands["c1"].history]
    assert history == [S.ACCEPTED, S.ACKNOWLEDGED, S.RUNNING, S.DONE]


def test_a_lost_state_is_made_up_by_the_next() -> None:
    v = Vehicle(order_cmd(1, S.SENT))
    done = {"c1.11.pick": "FINISHED", "c1.12.drop": "FINISHED"}
    assert v.report(order_id="c1", last_seq=6, actions=done) == "c1 done"
    assert [t.status for t in v.commands["c1"].history][-3:] == [
        S.ACKNOWLEDGED,
        S.RUNNING,
        S.DONE,
    ]


def test_a_refusal_naming_the_order_rejects_it() -> None:
    error = ErrorReport(
        "noRouteError",
        "WARNING",
        (("orderId", "c1"), ("orderUpdateId", "0")),
        "the first node n4 is not where the vehicle is",
    )
    other = ErrorReport("orderUpdateError", "WARNING", (("orderId", "c1"), ("orderUpdateId", "3")))
    v = Vehicle(order_cmd(1, S.SENT))
    assert v.report(errors=(other,)) == "c1 sent"
    assert v.report(errors=(error,)) == "c1 rejected"
    assert v.commands["c1"].reason == "noRouteError: the first node n4 is not where the vehicle is"


def test_a_failed_action_fails_the_order() -> None:
    v = Vehicle(order_cmd(1, S.RUNNING))
    report = v.report(order_id="c1", actions={"c1.11.pick": "FAILED", "c1.12.drop": "WAITING"})
    assert report == "c1 failed"
    assert v.commands["c1"].reason == "action c1.11.pick failed"


def test_a_cancel_ends_the_order_it_cancels_as_cancelled_not_failed() -> None:
    v = Vehicle(order_cmd(1, S.RUNNING), cmd(2, K.CANCEL, S.SENT))
    cancelled = {"c1.11.pick": "FAILED", "c1.12.drop": "FAILED"}
    assert v.report(order_id="c1", actions={**cancelled, "c2": "RUNNING"}) == (
        "c1 running, c2 running"
    )
    assert v.report(order_id="c1", actions={**cancelled, "c2": "FINISHED"}) == (
        "c1 cancelled, c2 done"
    )
    assert v.commands["c1"].reason == "cancelled by c2"


def test_a_cancel_without_an_order_fails_with_the_vehicles_reason() -> None:
    error = ErrorReport(
        "noOrderToCancel", "WARNING", (("actionId", "c1"),), "the vehicle has no order to cancel"
    )
    v = Vehicle(cmd(1, K.CANCEL, S.SENT))
    assert v.report(actions={"c1": "FAILED"}, errors=(error,)) == "c1 failed"
    assert v.commands["c1"].reason == "noOrderToCancel: the vehicle has no order to cancel"


def test_instant_actions_follow_their_action_state() -> None:
    v = Vehicle(cmd(1, K.HOLD, S.SENT), cmd(2, K.PAUSE, S.SENT))
    assert v.report(actions={"c1": "WAITING"}) == "c1 acknowledged, c2 sent"
    assert v.report(actions={"c1": "RUNNING", "c2": "FINISHED"}) == "c1 running, c2 done"
    assert v.report(actions={"c1": "WAITING"}) == "c1 running, c2 done", "never backwards"
    assert v.report(actions={"c1": "FINISHED"}) == "c1 done, c2 done"


def test_an_accepted_command_is_never_acknowledged_by_a_coincidence() -> None:
    v = Vehicle(cmd(1, K.PAUSE))
    assert v.report(actions={"c1": "FINISHED"}) == "c1 accepted"


def test_an_update_is_acknowledged_by_its_update_id() -> None:
    base = order_cmd(1, S.RUNNING)
    update = order_cmd(2, S.SENT, kind=K.UPDATE, order_id="c1", order_update_id=1)
    v = Vehicle(base, update)
    assert v.report(order_id="c1", update_id=0, next_seq=4) == "c1 running, c2 sent"
    assert v.report(order_id="c1", update_id=1, next_seq=4) == "c1 running, c2 acknowledged"
