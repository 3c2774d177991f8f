"""The one place a line is made: format_sqs_body (the entry point of the CLI and the daemon),
event_to_log_lines (the line's prefix) and render_line (every value made safe and bounded)."""

from __future__ import annotations

import copy
import json
import random
import re
from typing import Any

import pytest

import ses_events.core._sqs_body as sqs_body
from ses_events.core import (
    FormattedMessage,
    MessageKind,
    PoisonMessage,
    SesEvent,
    event_key,
    event_to_log_lines,
    format_sqs_body,
    parse_sent_line,
    read_ses_event,
)
from tests.unit.ses_events.fixtures import (
    EVENT_NAMES,
    NON_EVENT_FIXTURES,
    QUEUE_ID,
    SES_ID,
    fixture_text,
    lines_for,
    load_event,
)
from tests.unit.ses_events.fixtures import scenario_queue_ids as queue_ids


def test_sns_wrapped_bounce() -> None:
    formatted = format_sqs_body(fixture_text("sns/event_bounce.json"), queue_ids)

    assert formatted == FormattedMessage(
        kind=MessageKind.SES_EVENT,
        lines=(
            "4F1A22C0D3E: to=<alice@example.net>, "
            "relay=a8-30.smtp-out.amazonses.com[203.0.113.20], dsn=5.1.1, "
            f"status=bounced (Permanent/NoEmail), delay=1389ms, ses_id={SES_ID}, response=(smtp; 550 5.1.1 "
            "<alice@example.net>: Recipient address rejected: User unknown)",
        ),
        event_key="Bounce:86aac91ac31510e60e752aa54627aa7eaea07ac01e57ba40e40354318281eafb",
        event_type="Bounce",
        ses_message_id=SES_ID,
    )


@pytest.mark.parametrize("name", EVENT_NAMES)
@pytest.mark.parametrize("folder", ["raw", "sns"])
def test_body_gives_the_lines_and_key_of_its_event(name: str, folder: str) -> None:
    event = read_ses_event(load_event(name))

    formatted = format_sqs_body(fixture_text(f"{folder}/{name}.json"), queue_ids)

    assert formatted.kind is MessageKind.SES_EVENT
    assert formatted.lines == tuple(event_to_log_lines(event, queue_ids))
    assert formatted.event_key == event_key(event)
    assert formatted.event_type == event.event_type
    assert formatted.ses_message_id == event.message_id


def test_raw_delivery_and_sns_envelope_of_the_reference_give_the_same_result() -> None:
    raw = format_sqs_body(fixture_text("sns_examples/raw_event_delivery.txt"), queue_ids)
    wrapped = format_sqs_body(fixture_text("sns_examples/sns_event_delivery.json"), queue_ids)
    identity = format_sqs_body(fixture_text("sns_examples/sns_identity_delivery.json"), queue_ids)

    assert raw == wrapped
    assert identity.lines == wrapped.lines
    assert identity.event_key == wrapped.event_key
    assert wrapped.lines == (
        "4F1A22C0D3E: to=<bob@example.org>, relay=a8-30.smtp-out.amazonses.com[203.0.113.45], dsn=2.0.0, "
        f"status=delivered, delay=1081ms, ses_id={SES_ID}, response=(250 2.0.0 Ok: queued as 4VTrq21mQmz9sQ)",
    )


def test_localstack_events() -> None:
    """The minimal events the integration harness will see (reference §10)."""
    ses_id = "rvkiwgrngqfhgnci-cxjfuxhs-oqjv-dcmb-qyjd-lqvrmyowtgyq-qdcxly"

    send = format_sqs_body(fixture_text("sns_examples/localstack_send.json"))
    delivery = format_sqs_body(
        fixture_text("sns_examples/localstack_delivery.json"), {ses_id: "9AB12C3D4E"}.get
    )

    assert send.lines == tuple(
        f"{ses_id}: to=<{rcpt}>, relay=amazonses.com, dsn=2.0.0, status=accepted, ses_id={ses_id}, "
        "response=()"
        for rcpt in ("alice@example.net", "bob@example.org")
    )
    assert delivery.lines == tuple(
        f"9AB12C3D4E: to=<{rcpt}>, relay=amazonses.com, dsn=2.0.0, status=delivered, delay=333ms, "
        f"ses_id={ses_id}, response=()"
        for rcpt in ("alice@example.net", "bob@example.org")
    )


@pytest.mark.parametrize(
    ("fixture", "kind"),
    NON_EVENT_FIXTURES,
)
def test_non_events_give_nothing_to_log(fixture: str, kind: MessageKind) -> None:
    def must_not_be_called(ses_message_id: str) -> str | None:
        raise AssertionError("a non-event has no message to look up")

    assert format_sqs_body(fixture_text(fixture), must_not_be_called) == FormattedMessage(kind=kind)


@pytest.mark.parametrize(
    "body",
    [
        "",
        "{",
        '{"Type": "Notification", "Message": "nope"}',
        fixture_text("sns_examples/sns_foreign_message.json"),
    ],
)
def test_poison_is_raised(body: str) -> None:
    with pytest.raises(PoisonMessage):
        format_sqs_body(body)


@pytest.mark.parametrize("folder", ["raw", "sns"])
def test_the_event_is_validated_once_per_body(folder: str, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[object] = []

    def counting(document: object) -> SesEvent:
        calls.append(document)
        return read_ses_event(document)

    monkeypatch.setattr(sqs_body, "read_ses_event", counting)
    format_sqs_body(fixture_text(f"{folder}/event_bounce.json"), queue_ids, "relay.example.com")

    assert len(calls) == 1


def test_lookup_errors_are_not_swallowed() -> None:
    def broken(ses_message_id: str) -> str | None:
        raise RuntimeError("queue-ID store unavailable")

    with pytest.raises(RuntimeError, match="queue-ID store unavailable"):
        format_sqs_body(fixture_text("sns/event_send.json"), broken)


# --- The prefix: the Postfix queue ID when known, else the SES message ID ---


def test_unknown_queue_id_starts_the_line_with_the_ses_message_id() -> None:
    lines = event_to_log_lines(read_ses_event(load_event("event_delivery")), lambda _ses_id: None)

    assert lines == [
        f"{SES_ID}: to=<bob@example.org>, relay=a8-30.smtp-out.amazonses.com[203.0.113.45], dsn=2.0.0, "
        f"status=delivered, delay=1081ms, ses_id={SES_ID}, response=(250 2.0.0 Ok: queued as 4VTrq21mQmz9sQ)"
    ]


def test_default_lookup_knows_no_queue_ids() -> None:
    (line,) = event_to_log_lines(read_ses_event(load_event("event_bounce")))

    assert line.startswith(f"{SES_ID}: to=<alice@example.net>")


def test_lookup_is_asked_for_the_exact_mail_message_id() -> None:
    asked: list[str] = []

    def record(ses_message_id: str) -> str | None:
        asked.append(ses_message_id)
        return None

    event_to_log_lines(read_ses_event(load_event("event_send")), record)

    assert asked == [SES_ID]


def test_empty_queue_id_from_lookup_falls_back_to_ses_message_id() -> None:
    line = event_to_log_lines(read_ses_event(load_event("event_bounce")), lambda _ses_id: "")[0]

    assert line.startswith(f"{SES_ID}: ")


def test_the_mail_logs_queue_id_wins_and_the_header_fills_in_when_the_log_has_none():
    event = read_ses_event(load_event("event_delivery"))
    from_header = event_to_log_lines(event, relay_hostname="relay.example.com")
    assert all(line.startswith("4F1A22C0D3E: ") for line in from_header)
    from_log = event_to_log_lines(event, {SES_ID: "1A2B3C4D5E6"}.get, relay_hostname="relay.example.com")
    assert all(line.startswith("1A2B3C4D5E6: ") for line in from_log)
    assert all(line.startswith(f"{SES_ID}: ") for line in event_to_log_lines(event))


# --- Non-ASCII addresses and display names pass through intact ---


@pytest.mark.parametrize(
    "address",
    [
        "jörg.müller@bücher.example",
        "用户@例子.广告",
        "\u0434\u0436\u0443\u043c\u043b\u0430@\u0434\u0436\u043f\u0440\u0438\u043c\u0435\u0440.\u0440\u0444",
        '"Jörg Müller" <jorg@example.de>',
        "Zoë 📧 <zoe@example.com>",
    ],
)
def test_non_ascii_recipient_passes_through_as_utf8(address: str) -> None:
    event = load_event("event_delivery")
    event["delivery"]["recipients"] = [address]

    (line,) = lines_for(event)

    assert line.startswith(f"4F1A22C0D3E: to=<{address}>, relay=")
    assert address.encode("utf-8") in line.encode("utf-8")


def test_non_ascii_diagnostic_passes_through() -> None:
    event = load_event("event_bounce")
    event["bounce"]["bouncedRecipients"][0]["diagnosticCode"] = (
        "smtp; 550 5.1.1 Benutzer unbekannt: Empfänger ✉ (Postfach)"
    )

    assert lines_for(event)[0].endswith(
        "response=(smtp; 550 5.1.1 Benutzer unbekannt: Empfänger ✉ (Postfach))"
    )


# --- Log injection: no value can forge a line or break the line's structure ---

FORGED = "\nMay  1 12:00:00 relay postfix/smtp[1]: FAKE1: to=<x@example.net>, status=sent (250 Ok FAKE)"
LINE_BREAKERS = ["\n", "\r", "\r\n", "\v", "\f", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029"]


def _inject_everywhere(text: str) -> dict[str, Any]:
    event = load_event("event_bounce")
    bounce = event["bounce"]
    bounce["bounceType"] = "Permanent" + text
    bounce["bounceSubType"] = "General" + text
    bounce["reportingMTA"] = "dsn; mta" + text
    bounce["remoteMtaIp"] = "203.0.113.20" + text
    bounce["bouncedRecipients"][0].update(
        emailAddress="alice@example.net" + text, diagnosticCode="550" + text
    )
    event["mail"]["messageId"] = SES_ID + text
    return event


@pytest.mark.parametrize("breaker", LINE_BREAKERS)
def test_no_field_can_break_the_line(breaker: str) -> None:
    event = _inject_everywhere(FORGED.replace("\n", breaker))

    lines = lines_for(event, lambda _ses_id: QUEUE_ID + breaker + "FAKE2: to=<y>")

    assert len(lines) == 1
    assert lines[0].splitlines() == lines[0:1]
    assert not any(character in lines[0] for character in "".join(LINE_BREAKERS))


def test_forged_line_becomes_visible_text_on_the_same_line() -> None:
    event = load_event("event_bounce")
    event["bounce"]["bouncedRecipients"][0]["diagnosticCode"] = "smtp; 550 unknown" + FORGED

    assert lines_for(event)[0].endswith(
        "response=(smtp; 550 unknown May  1 12:00:00 relay postfix/smtp[1]: FAKE1: to=<x@example.net>, "
        "status=sent (250 Ok FAKE))"
    )


def test_terminal_escapes_and_other_controls_are_neutralised() -> None:
    event = load_event("event_delivery")
    event["delivery"]["smtpResponse"] = "250 ok \x1b[2J\x1b[31mred\x00\x07\x7f\u202egnp.exe\ud800"

    assert lines_for(event)[0].endswith("response=(250 ok ?[2J?[31mred????gnp.exe?)")
    lines_for(event)[0].encode("utf-8")  # a lone surrogate would make the syslog write fail


def test_every_field_is_bounded() -> None:
    event = _inject_everywhere("x" * 5000)
    event["bounce"]["bouncedRecipients"][0]["diagnosticCode"] = "d" * 5000

    (line,) = lines_for(event, lambda _ses_id: "Q" * 5000)

    values = re.fullmatch(
        r"(?P<prefix>Q+…): to=<(?P<to>[^>]+)>, relay=(?P<relay>[^,]+), dsn=(?P<dsn>[^,]+), "
        r"status=bounced \((?P<detail>[^)]+)\), delay=1389ms, ses_id=(?P<ses_id>[^,]+), "
        r"response=\((?P<response>d+…)\)",
        line,
    )
    assert values is not None
    assert {name: len(value) for name, value in values.groupdict().items()} == {
        "prefix": 1000,
        "to": 1000,
        "relay": 1000,
        "dsn": len("5.1.1"),
        "detail": 1000,
        "ses_id": 1000,
        "response": 1000,
    }
    assert all(value.endswith("…") for name, value in values.groupdict().items() if name != "dsn")


# --- Whatever SQS hands us, format_sqs_body returns single lines or raises PoisonMessage ---

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
    event = load_event(name)
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
