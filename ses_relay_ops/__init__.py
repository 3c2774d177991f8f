"""ses-relay's operator commands: see what the relay does.

``ses-relay trace``, ``report``, ``rotate`` and ``metrics`` (``cli.py``), over one reading of the
mail log that they all share.

Pure, no I/O:

* ``fields``   - the fields of a line, by rules that rsyslog applies too (``LOG_FORMAT=json``)
* ``line``     - one classic syslog line: time (its year inferred), host, program, message
* ``outcomes`` - what a line counts as (accepted, sent, deferred, bounced, SES's outcomes)
* ``timeline`` - a query's messages and each one's steps
* ``trace``, ``report`` - the two commands' output, as text or JSON

I/O:

* ``log_files`` - the mail log and its rotations, plain and gzip, oldest first
* ``follower``  - the mail log as it grows, across rotation (for the exporter)
* ``rotation``  - rename, have rsyslog reopen, compress, keep N (``ses-relay rotate``)
* ``metrics``   - the Prometheus exporter (``ses-relay metrics``)
* ``config``, ``cli``
"""
