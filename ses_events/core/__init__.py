"""The event logger's pure core: one SQS message body in, Postfix-style mail log lines out.

Standard library only, and no I/O of any kind (no files, sockets, clocks, threads or AWS SDK):
the same body and the same queue-ID lookup always give the same lines. The daemon
(``ses_events.daemon``) and ``ses-events format`` (``ses_events.cli``) call ``format_sqs_body``;
the daemon feeds mail log lines to ``parse_sent_line`` to answer ``QueueIdLookup``.

Private modules, one job each (only the names below are the API):

* ``_sqs_body``     - an SQS body (SNS envelope or raw delivery) -> SesEvent, non-event or PoisonMessage
* ``_sns_signature`` - what SNS signed in an envelope, and the URLs its certificate may come from
* ``_ses_event``    - ``SesEvent``, the one validated event type, and its de-duplication key
* ``_outcomes``     - what an event means for each recipient (relay, dsn, status, delay, response)
* ``_lines``        - the one place a line is made: body -> FormattedMessage, event -> lines
* ``_queue_ids``    - where a line's queue ID comes from: Postfix's sent line, this relay's Received header
* ``_status_words`` - the table of status words we emit (source of the READMEs' tables)
* ``_sanitize``     - one untrusted value -> safe inside one line
* ``_json``         - reading untrusted JSON without raising; PoisonMessage
"""

from ses_events.core._json import PoisonMessage
from ses_events.core._lines import FormattedMessage, event_to_log_lines, format_sqs_body
from ses_events.core._queue_ids import QueueIdLookup, no_queue_ids, parse_sent_line, relay_queue_id
from ses_events.core._ses_event import SesEvent, event_key, read_ses_event
from ses_events.core._sns_signature import (
    SNS_SIGNATURE_HASHES,
    SignedSnsMessage,
    UnverifiableMessage,
    is_sns_certificate_url,
    read_signed_sns_message,
    sns_string_to_sign,
)
from ses_events.core._sqs_body import SES_VALIDATION_TEXT, MessageKind, UnwrappedBody, unwrap_sqs_body
from ses_events.core._status_words import STATUS_WORDS, StatusWord, status_word, status_words_table

__all__ = [
    "SES_VALIDATION_TEXT",
    "SNS_SIGNATURE_HASHES",
    "STATUS_WORDS",
    "FormattedMessage",
    "MessageKind",
    "PoisonMessage",
    "QueueIdLookup",
    "SesEvent",
    "SignedSnsMessage",
    "StatusWord",
    "UnverifiableMessage",
    "UnwrappedBody",
    "event_key",
    "event_to_log_lines",
    "format_sqs_body",
    "is_sns_certificate_url",
    "no_queue_ids",
    "parse_sent_line",
    "read_ses_event",
    "read_signed_sns_message",
    "relay_queue_id",
    "sns_string_to_sign",
    "status_word",
    "status_words_table",
    "unwrap_sqs_body",
]
