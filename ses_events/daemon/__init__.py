"""The event logger's daemon: everything that does I/O around ``ses_events.core``.

``ses-events run`` (``ses_events.cli``) loads ``DaemonConfig`` and runs ``Daemon``. Each failure
path is explicit in the module that meets it:

* ``sqs_loop``          - ``Daemon``: workers long-polling SQS, backoff, deletion, SIGTERM
* ``batch``             - ``BatchProcessor``: one batch through the core, the store and syslog, and
  which messages may be deleted; ``InFlight``, the events other workers are writing
* ``store``             - ``LoggerStore``: the SQLite memory on the log volume (queue IDs, handled
  events, poison, the mail log cursor), each table bounded
* ``mail_log_follower`` - ``MailLogFollower``: learns queue IDs from Postfix's status=sent lines
* ``sns_verifier``      - ``SnsVerifier``: fetches SNS's signing certificate, checks each signature
* ``syslog_writer``     - ``SyslogWriter``: writes to /dev/log and raises when a line was not taken
* ``config``            - ``DaemonConfig``: the JSON settings the entrypoint renders
"""
