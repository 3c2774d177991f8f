"""Each message's timeline in the mail log: the lines of one queue ID (and the event logger's
lines for its SES message IDs), named as steps. Pure: lines in, journeys out.

A query is a queue ID, an SES message ID (also as SES's Message-ID header,
``<ID@email.amazonses.com>``), an address (sender or recipient) or a Message-ID. Finding its
journeys reads the lines up to three times (``lines`` is called again for each pass), so a
month of compressed logs is searched without holding it in memory: which queue IDs and SES IDs
match; which queue IDs sent the matching SES IDs; every line of those.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from ses_relay_ops.fields import EVENT_LOGGER
from ses_relay_ops.line import LogLine

_QUEUE_ID = re.compile(r"^[0-9A-F]{6,}$")
_SES_ID = re.compile(r"^[0-9a-f]{8,}(-[0-9a-f]+)+$")
_REJECT_PREFIX = re.compile(r"^reject: [A-Z]+ from [^ ]+: ")
_SES_MESSAGE_ID_HEADER = re.compile(r"^<?(?P<id>[0-9a-f]{8,}(-[0-9a-f]+)+)@[a-z0-9.-]*amazonses\.com>?$")


@dataclass(frozen=True)
class Query:
    text: str

    @property
    def _bare(self) -> str:
        return self.text.strip().strip("<>")

    def matches(self, line: LogLine) -> bool:
        fields = line.fields
        text = self.text.strip()
        if _QUEUE_ID.match(text):
            return fields.get("queue_id") == text
        ses_id = self.ses_id
        if ses_id:
            return fields.get("ses_id") == ses_id
        bare = self._bare
        if fields.get("message_id", "").strip("<>") == bare:
            return True
        if "@" in bare and not text.startswith("<"):
            address = bare.lower()
            return fields.get("to", "").lower() == address or fields.get("from", "").lower() == address
        return False

    @property
    def ses_id(self) -> str | None:
        text = self.text.strip()
        if _SES_ID.match(text):
            return text
        header = _SES_MESSAGE_ID_HEADER.match(text)
        return header["id"] if header else None


@dataclass(frozen=True)
class Step:
    name: str  # accepted, held, queued, sent, deferred, delivered, bounced, ...
    summary: str
    line: LogLine


@dataclass
class Journey:
    queue_id: str  # "" for a refused recipient, or an SES message whose queue ID is unknown
    steps: list[Step] = field(default_factory=list)

    @property
    def ses_ids(self) -> list[str]:
        return _unique(step.line.fields["ses_id"] for step in self.steps if step.line.fields.get("ses_id"))

    @property
    def recipients(self) -> list[str]:
        return _unique(
            step.line.fields["to"]
            for step in self.steps
            if "to" in step.line.fields and step.name not in ("notice", "discarded")
        )

    def _first(self, name: str) -> str:
        return next((step.line.fields[name] for step in self.steps if step.line.fields.get(name)), "")

    @property
    def sender(self) -> str:
        for step in self.steps:
            if "from" in step.line.fields:
                return step.line.fields["from"]
        return ""

    @property
    def client(self) -> str:
        return self._first("client")

    @property
    def message_id(self) -> str:
        return self._first("message_id")

    @property
    def ended(self) -> bool:
        return any(step.name == "removed" for step in self.steps)


def _unique(values: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(values))


def _ses_step(line: LogLine) -> Step:
    fields = line.fields
    status = fields.get("status", "")
    detail = f" ({fields['detail']})" if fields.get("detail") else ""
    name = {"accepted": "SES accepted", "deferred": "SES deferred"}.get(status, status)
    parts = [f"<{fields.get('to', '')}>"]
    if status not in ("accepted",):
        parts.append(f"relay {fields.get('relay', '')}, dsn {fields.get('dsn', '')}")
    if fields.get("delay"):
        parts.append(f"{fields['delay']} after SES took it")
    if fields.get("response"):
        parts.append(fields["response"])
    return Step(name + detail, ", ".join(parts), line)


def _delivery_step(line: LogLine) -> Step:
    fields = line.fields
    status = fields.get("status", "")
    recipient = f"<{fields.get('to', '')}>"
    timing = f"{fields['delay']} s after it arrived" if fields.get("delay") else ""
    if status == "sent" and fields.get("relay") == "none":
        return Step("discarded", f"{recipient}: {fields.get('detail', '')}", line)
    if status == "sent":
        ses = f"SES message {fields['ses_id']}" if fields.get("ses_id") else fields.get("detail", "")
        return Step("sent to SES", ", ".join(part for part in (recipient, ses, timing) if part), line)
    name = {"bounced": "bounced by Postfix"}.get(status, status)
    reason = fields.get("detail", "")
    return Step(name, f"{recipient}: {reason}" if reason else recipient, line)


def step_of(line: LogLine) -> Step:
    """What one line of a message's timeline says."""
    fields, message = line.fields, line.message
    after_id = message.split(": ", 1)[1] if ": " in message else message
    if line.program == EVENT_LOGGER:
        return _ses_step(line)
    if "status" in fields and "to" in fields and line.program != "postfix/smtpd":
        return _delivery_step(line)
    if message.startswith("NOQUEUE: reject: "):
        reply = _REJECT_PREFIX.sub("", after_id).split("; from=<", 1)[0]
        return Step("refused", reply, line)
    if "client" in fields:
        return Step("accepted", f"from {fields['client']}", line)
    if after_id.startswith("hold: "):
        return Step("held", "waiting for its turn at SES's send rate", line)
    if "message_id" in fields:
        return Step("message-id", fields["message_id"], line)
    if after_id == "released from hold":
        return Step("released", "from hold, to SES", line)
    if after_id == "placed on hold":
        return Step("held again", "SES throttled it: sent again in seconds", line)
    if "from" in fields and "nrcpt" in fields:
        count = int(fields["nrcpt"])
        recipients = f"{count} recipient{'s' if count != 1 else ''}"
        return Step(
            "queued", f"sender <{fields['from']}>, {fields.get('size', '?')} bytes, {recipients}", line
        )
    if after_id.startswith("sender non-delivery notification: "):
        return Step("notice", f"bounce notice to the sender: {after_id.rsplit(' ', 1)[-1]}", line)
    if after_id == "removed":
        return Step("removed", "from the queue", line)
    return Step("note", after_id, line)


_STARTS = ("accepted", "message-id")


def _is_sent_with_ses_id(line: LogLine) -> bool:
    return line.program != EVENT_LOGGER and bool(line.fields.get("ses_id"))


def find_journeys(lines: Callable[[], Iterable[LogLine]], query: Query) -> list[Journey]:
    """Every message the query matches, in log order, each with its steps in log order."""
    queue_ids: set[str] = set()
    ses_ids: set[str] = set()
    refused: list[LogLine] = []
    for line in lines():
        if not query.matches(line):
            continue
        if line.queue_id:
            queue_ids.add(line.queue_id)
        elif line.fields.get("ses_id"):
            ses_ids.add(line.fields["ses_id"])
        elif line.message.startswith("NOQUEUE: "):
            refused.append(line)
    if ses_ids:
        for line in lines():
            if _is_sent_with_ses_id(line) and line.fields["ses_id"] in ses_ids:
                queue_ids.add(line.queue_id)
    if not queue_ids and not ses_ids:
        return [Journey("", [step_of(line)]) for line in refused]

    journeys: list[Journey] = []
    current: dict[str, Journey] = {}  # the latest journey of each queue ID (Postfix reuses them)
    ses_owner: dict[str, Journey] = {}
    for line in lines():
        queue_id, ses_id = line.queue_id, line.fields.get("ses_id", "")
        if queue_id in queue_ids:
            step = step_of(line)
            journey = current.get(queue_id)
            if journey is None or (journey.ended and step.name in _STARTS):
                journey = current[queue_id] = Journey(queue_id)
                journeys.append(journey)
            journey.steps.append(step)
            if ses_id and line.program != EVENT_LOGGER:
                ses_owner[ses_id] = journey
        elif line.program == EVENT_LOGGER and ses_id and (ses_id in ses_ids or ses_id in ses_owner):
            # The event logger did not know the queue ID: the line starts with the SES ID.
            journey = ses_owner.get(ses_id)
            if journey is None:
                journey = ses_owner[ses_id] = Journey("")
                journeys.append(journey)
            journey.steps.append(step_of(line))
    for line in refused:
        journeys.append(Journey("", [step_of(line)]))
    for journey in journeys:
        _name_the_sender(journey)
    return sorted(journeys, key=lambda journey: journey.steps[0].line.time)


def _name_the_sender(journey: Journey) -> None:
    """smtpd logs the client before the sender is known: say both at the step that accepted it."""
    for index, step in enumerate(journey.steps):
        if step.name == "accepted" and any("from" in s.line.fields for s in journey.steps):
            journey.steps[index] = Step(step.name, f"{step.summary}, sender <{journey.sender}>", step.line)
