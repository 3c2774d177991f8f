"""Whatever SQS hands us, format_sqs_body returns single lines or raises PoisonMessage: nothing else."""

from __future__ import annotations

import copy
import json
import random
from typing import Any

import pytest

from ses_events import PoisonMessage, format_sqs_body, parse_sent_line
from tests.unit.ses_events_fixtures import EVENT_NAMES, FIXTURES

JUNK: list[Any] = [
    None,
    True,
    0,
    -1,
    1.5e308,
    float("nan"),
    "",
    " ",
    "\n",
    "\u2028",
    "\ud800",
    "x" * 3000,
    "2024-05-01T12:00:00Z",
    "5.1.1",
    [],
    {},
    [None, 1, "a@example.net", {"emailAddress": None}],
    {"emailAddress": ["nested"], "status": {"x": 1}},
    [[[[[]]]]],
]


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix] if prefix else []
    children = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else []
    for key, child in children:
        found.extend(_paths(child, (*prefix, key)))
    return found


def _mutate(event: dict[str, Any], generator: random.Random) -> dict[str, Any]:
    mutated = copy.deepcopy(event)
    for _ in range(generator.randint(1, 4)):
        paths = _paths(mutated)
        if not paths:
            break
        path = generator.choice(paths)
        parent = mutated
        for key in path[:-1]:
            parent = parent[key]
        if generator.random() < 0.25:
            del parent[path[-1]]
        else:
            parent[path[-1]] = copy.deepcopy(generator.choice(JUNK))
    return mutated


@pytest.mark.parametrize("name", EVENT_NAMES)
def test_mutated_events_never_crash(name: str) -> None:
    event = json.loads((FIXTURES / "raw" / f"{name}.json").read_text(encoding="utf-8"))
    generator = random.Random(name)
    outcomes = {"lines": 0, "poison": 0}
    for _ in range(400):
        mutated = _mutate(event, generator)
        for body in (
            json.dumps(mutated),
            json.dumps({"Type": "Notification", "Message": json.dumps(mutated)}),
        ):
            try:
                formatted = format_sqs_body(body, lambda _ses_id: None)
            except PoisonMessage as poison:
                assert poison.reason.splitlines() == [poison.reason]
                outcomes["poison"] += 1
                continue
            outcomes["lines"] += 1
            assert formatted.lines
            assert formatted.event_key
            for line in formatted.lines:
                assert line.splitlines() == [line]
                line.encode("utf-8")
                assert parse_sent_line(line) is None
    assert outcomes["lines"] > outcomes["poison"] > 0  # both paths were exercised


@pytest.mark.parametrize("seed", range(5))
def test_random_bytes_never_crash(seed: int) -> None:
    generator = random.Random(seed)
    alphabet = '{}[]":,0123456789.eE+- \n\\utrfalsenl' + "TypeNotificationMessageeventTypemailmessageId"
    for _ in range(2000):
        body = "".join(generator.choices(alphabet, k=generator.randint(0, 80)))
        try:
            formatted = format_sqs_body(body)
        except PoisonMessage as poison:
            assert poison.reason.splitlines() == [poison.reason]
        else:
            assert all(line.splitlines() == [line] for line in formatted.lines)
