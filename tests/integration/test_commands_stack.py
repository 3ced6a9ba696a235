"""The commander's scenario (``tests/unit/commands/test_scenario.py``) on the stack's
real services: the same checks, on Mosquitto, Kafka, Redis (work queue and live state)
and PostgreSQL (command records)."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from headway.network.graph import RoadNetwork
from tests.integration.commands_stack import StackParts, schema_url
from tests.integration.conftest import Stack
from tests.unit.commands.scenario import Day, play
from tests.unit.commands.test_scenario import (
    test_an_offline_vehicle_gets_its_waiting_commands_when_it_returns,
    test_each_command_took_effect_once_or_not_at_all,
    test_each_vehicle_applied_its_commands_in_order,
    test_every_command_reached_a_final_state_and_none_was_lost,
    test_every_message_to_a_vehicle_validates_against_the_official_schemas,
    test_the_breaker_of_an_offline_vehicle_opens_probes_and_closes,
    test_the_killed_commander_was_replaced_mid_flight,
    test_the_link_really_was_bad,
)

pytestmark = [pytest.mark.integration, pytest.mark.slow]

__all__ = [
    "test_an_offline_vehicle_gets_its_waiting_commands_when_it_returns",
    "test_each_command_took_effect_once_or_not_at_all",
    "test_each_vehicle_applied_its_commands_in_order",
    "test_every_command_reached_a_final_state_and_none_was_lost",
    "test_every_message_to_a_vehicle_validates_against_the_official_schemas",
    "test_the_breaker_of_an_offline_vehicle_opens_probes_and_closes",
    "test_the_killed_commander_was_replaced_mid_flight",
    "test_the_link_really_was_bad",
]


@pytest.fixture(scope="module")
def day(stack: Stack) -> Day:
    unique = f"t{uuid.uuid4().hex[:12]}"
    manufacturer = f"sim-{unique}"
    database_url = schema_url(stack.database_url)

    def parts(city: RoadNetwork) -> StackParts:
        return StackParts(stack, unique, manufacturer, city, database_url=database_url)

    return asyncio.run(play(parts=parts, manufacturer=manufacturer))
