"""What a mail-log line counts as: the one definition that the metrics and ``report`` share.

- ``accepted``: smtpd's ``QUEUEID: client=...``, a message accepted from a client;
- ``refused``: smtpd's ``NOQUEUE: reject: ...``, a recipient refused before anything was queued;
- ``sent``: Postfix's ``status=sent`` to a relay (SES's ``250 Ok <id>``); Postfix's own
  notices, discarded with ``relay=none``, are not;
- ``deferred``: Postfix's ``status=deferred``, SES answered 4xx (throttling included) or could
  not be reached;
- ``bounced``: Postfix's ``status=bounced`` or ``status=expired``, SES refused the message
  (5xx), or it expired in the queue;
- ``ses``: the event logger's ``status=WORD`` lines, what SES did after accepting it.

Every one but ``accepted`` and ``refused`` is a line per recipient, as Postfix logs them.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from ses_events.core import STATUS_WORDS
from ses_pacer.queue import Throttle, throttle_in
from ses_relay_ops.fields import EVENT_LOGGER, split_detail
from ses_relay_ops.line import LogLine


class Kind(enum.Enum):
    ACCEPTED = "accepted"
    REFUSED = "refused"
    SENT = "sent"
    DEFERRED = "deferred"
    BOUNCED = "bounced"
    SES = "ses"


# SES's own vocabularies (SES Developer Guide, "Contents of event data"). A label takes only these,
# so text from the network can never create a new time series; anything else is "other".
BOUNCE_TYPES = frozenset({"Undetermined", "Permanent", "Transient"})
BOUNCE_SUBTYPES = frozenset(
    {
        "Undetermined", "General", "NoEmail", "Suppressed", "OnAccountSuppressionList",
        "MailboxFull", "MessageTooLarge", "ContentRejected", "AttachmentRejected",
    }
)  # fmt: skip
FEEDBACK_TYPES = frozenset({"abuse", "auth-failure", "fraud", "not-spam", "other", "virus"})
DELAY_TYPES = frozenset(
    {
        "InternalFailure", "General", "MailboxFull", "SpamDetected", "RecipientServerError",
        "IPFailure", "TransientCommunicationFailure", "BYOIPHostNameLookupUnavailable",
        "Undetermined", "SendingDeferral",
    }
)  # fmt: skip
STATUS_WORD_NAMES = frozenset(str(word) for word in STATUS_WORDS)
OTHER = "other"


@dataclass(frozen=True)
class Outcome:
    kind: Kind
    line: LogLine
    # ses: the status word and, where SES gives one from a known list, its type and subtype
    # (bounced: Permanent/General; complained: the feedback type; deferred: the delay type).
    status: str = ""
    type: str = ""
    subtype: str = ""
    # deferred: SES's throttling reply, if it was one.
    throttle: Throttle | None = None

    @property
    def recipient(self) -> str:
        return self.line.fields.get("to", "")

    @property
    def reason(self) -> str:
        return self.line.fields.get("detail", "")


def _known(value: str, known: frozenset[str]) -> str:
    return value if value in known else OTHER


def _ses_outcome(line: LogLine, status: str) -> Outcome:
    status = _known(status, STATUS_WORD_NAMES)
    kind, subtype = split_detail(line.fields.get("detail", ""))
    if status == "bounced":
        return Outcome(Kind.SES, line, status, _known(kind, BOUNCE_TYPES), _known(subtype, BOUNCE_SUBTYPES))
    if status == "complained":
        return Outcome(Kind.SES, line, status, _known(kind, FEEDBACK_TYPES) if kind else "")
    if status == "deferred":
        return Outcome(Kind.SES, line, status, _known(kind, DELAY_TYPES) if kind else "")
    return Outcome(Kind.SES, line, status)


def classify(line: LogLine) -> Outcome | None:
    """What the line counts as, or None for a line that counts as nothing."""
    message = line.message
    if line.program == EVENT_LOGGER:
        status = line.fields.get("status")
        return _ses_outcome(line, status) if status else None
    if not line.program.startswith("postfix/"):
        return None
    if line.program == "postfix/smtpd":
        if message.startswith("NOQUEUE: reject: "):
            return Outcome(Kind.REFUSED, line)
        if line.fields.get("client") is not None and line.queue_id:
            return Outcome(Kind.ACCEPTED, line)
        return None
    status = line.fields.get("status")
    if status is None or "to" not in line.fields:
        return None
    if status == "sent":
        return Outcome(Kind.SENT, line) if line.fields.get("relay") != "none" else None
    if status == "deferred":
        return Outcome(Kind.DEFERRED, line, throttle=throttle_in(line.fields.get("detail", "")))
    if status in ("bounced", "expired"):
        return Outcome(Kind.BOUNCED, line, status)
    return None
