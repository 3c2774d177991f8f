"""Turn Amazon SES events (from SNS via SQS) into Postfix-style mail log lines.

Two halves, one folder each:

* ``ses_events.core``   - pure: one SQS body in, log lines out; standard library only, no I/O.
* ``ses_events.daemon`` - the I/O around it: long-polls SQS, remembers events and queue IDs in
  SQLite, follows the mail log, writes to syslog.

``ses_events.cli`` is the ``ses-events`` command (``format`` uses the core, ``run`` the daemon).
This package's own namespace is the core's API, so ``from ses_events import format_sqs_body``
works and imports nothing that does I/O.
"""

from ses_events import core
from ses_events.core import *  # noqa: F403 - the package's API is the core's, named in core.__all__

__all__ = core.__all__
