"""The status words our log lines use: the single source of truth.

Every ``status=<word>`` this library writes is one of the rows below (the code refers to the row
objects, never to a bare string), the READMEs' tables are generated from ``STATUS_WORDS`` with
``status_words_table()``, and a unit test checks that every word emitted is in the table.

Words are deliberately different from Postfix's own (``sent``, ``deferred``, ``bounced``, ...)
where the meaning differs: ``sent`` in a Postfix line means SES accepted the message, which is
what our ``accepted`` reports, whereas ``delivered`` means the recipient's server took it.
``deferred`` and ``bounced`` keep Postfix's words because they mean the same thing one hop later.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class StatusWord:
    """One row of the table."""

    word: str
    ses_event_type: str
    #: ``dsn=`` used when the event itself carries no enhanced status code.
    default_dsn: str
    meaning: str

    def __str__(self) -> str:
        return self.word


ACCEPTED = StatusWord(
    "accepted",
    "Send",
    "2.0.0",
    "SES accepted the message and will try to deliver it (nothing has reached the recipient yet).",
)
DELIVERED = StatusWord(
    "delivered",
    "Delivery",
    "2.0.0",
    "The recipient's mail server accepted the message; dsn= is the enhanced code of its reply if it "
    "gave one, response= is that reply.",
)
DEFERRED = StatusWord(
    "deferred",
    "DeliveryDelay",
    "4.0.0",
    "Delivery is delayed and SES keeps retrying until it gives up (detail: the delay type, e.g. "
    "MailboxFull); a later line says delivered or bounced.",
)
BOUNCED = StatusWord(
    "bounced",
    "Bounce",
    "5.0.0",
    "SES gave up on this recipient (detail: bounceType/bounceSubType). Permanent = hard bounce, "
    "Transient = soft bounce after SES stopped retrying (dsn 4.0.0 when the bounce has no status), "
    "Undetermined = unclassified.",
)
COMPLAINED = StatusWord(
    "complained",
    "Complaint",
    "2.0.0",
    "The message was delivered and the recipient (or their provider) reported it as unwanted "
    "(detail: the feedback type such as abuse, when the report has one).",
)
REJECTED = StatusWord(
    "rejected",
    "Reject",
    "5.0.0",
    "SES refused to send the message after accepting it (detail: the reason, e.g. Bad content = a "
    "virus); nothing was delivered.",
)
FAILED = StatusWord(
    "failed",
    "Rendering Failure",
    "5.0.0",
    "SES could not render the email template (detail: the template name); nothing was sent. Only "
    "templated API sends produce this, never mail relayed over SMTP.",
)
OPENED = StatusWord(
    "opened",
    "Open",
    "2.0.0",
    "Someone opened the message (open tracking; detail: the reader's IP address, response: their user "
    "agent). SES cannot tell which recipient, so every recipient gets the line.",
)
CLICKED = StatusWord(
    "clicked",
    "Click",
    "2.0.0",
    "Someone clicked a tracked link (detail: the reader's IP address, response: the link). SES cannot "
    "tell which recipient, so every recipient gets the line.",
)
UNSUBSCRIBED = StatusWord(
    "unsubscribed",
    "Subscription",
    "2.0.0",
    "A recipient unsubscribed from every topic of the contact list (SES list management; detail: the "
    "contact list).",
)
SUBSCRIPTION_CHANGED = StatusWord(
    "subscription",
    "Subscription",
    "2.0.0",
    "A recipient changed their topic preferences without unsubscribing from everything (SES list "
    "management; detail: the contact list, response: the new preferences).",
)

#: The table, in the order a message usually travels through it.
STATUS_WORDS: tuple[StatusWord, ...] = (
    ACCEPTED,
    DELIVERED,
    DEFERRED,
    BOUNCED,
    COMPLAINED,
    REJECTED,
    FAILED,
    OPENED,
    CLICKED,
    UNSUBSCRIBED,
    SUBSCRIPTION_CHANGED,
)


def status_word(word: str) -> StatusWord | None:
    """The row for ``word``, or None when we never emit it."""
    return next((row for row in STATUS_WORDS if row.word == word), None)


def status_words_table() -> str:
    """The table as Markdown, for the READMEs (``make docs`` and ses_events/README.md)."""
    lines = [
        "| status | SES event | dsn (default) | meaning |",
        "| --- | --- | --- | --- |",
    ]
    lines.extend(
        f"| `{row.word}` | {row.ses_event_type} | {row.default_dsn} | {row.meaning} |" for row in STATUS_WORDS
    )
    return "\n".join(lines) + "\n"
