"""Turn Amazon SES events (from SNS via SQS) into Postfix-style mail log lines.

A pure, I/O-free library at the core; the daemon that polls SQS and writes to syslog, and the
``ses-events`` command line, are thin layers over it.

Modules, one job each:

* ``sqs_body``      - an SQS body (SNS envelope or raw delivery) -> SES event, non-event or PoisonMessage
* ``ses_event``     - what makes a JSON object a usable SES event, for both SES producers
* ``event_outcomes``- what an event means for each recipient (relay, dsn, status, delay, response)
* ``line_format``   - one recipient's outcome -> one sanitised log line
* ``event_lines``   - one SES event -> its log lines
* ``status_words``  - the table of status words we emit (source of the README's table)
* ``event_identity``- a de-duplication key per SES event
* ``postfix_log``   - Postfix's "status=sent (250 Ok <id>)" line -> (queue ID, SES message ID)
* ``formatting``    - one SQS body -> FormattedMessage (lines, key, kind): what CLI and daemon call
* ``sanitize``, ``timestamps``, ``json_fields`` - small helpers for untrusted input
* ``cli``           - ``ses-events format`` and ``ses-events run``

The daemon (I/O, each failure path explicit):

* ``daemon``        - workers long-polling SQS, backoff, deletion, SIGTERM
* ``batch``         - one batch: format, de-duplicate, record, write, decide what may be deleted
* ``state``         - the SQLite memory on the log volume: queue IDs, handled events, poison, cursor
* ``mail_log_follower`` - learns queue IDs from Postfix's status=sent lines in the mail log
* ``syslog_writer`` - writes to /dev/log and raises when a line was not taken
* ``config``, ``backoff``
"""

from ses_events.errors import PoisonMessage
from ses_events.event_identity import event_key
from ses_events.event_lines import QueueIdLookup, event_to_log_lines, no_queue_ids
from ses_events.formatting import FormattedMessage, format_sqs_body
from ses_events.postfix_log import parse_sent_line
from ses_events.sqs_body import MessageKind, UnwrappedBody, unwrap_sqs_body
from ses_events.status_words import STATUS_WORDS, StatusWord

__all__ = [
    "STATUS_WORDS",
    "FormattedMessage",
    "MessageKind",
    "PoisonMessage",
    "QueueIdLookup",
    "StatusWord",
    "UnwrappedBody",
    "event_key",
    "event_to_log_lines",
    "format_sqs_body",
    "no_queue_ids",
    "parse_sent_line",
    "unwrap_sqs_body",
]
