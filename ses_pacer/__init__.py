"""The send-rate pacer: hands Postfix's mail to SES no faster than the account allows.

Postfix stays the MTA and the queue. smtpd puts every accepted message on hold (main.cf), and
the pacer releases held messages into Postfix's active queue at the SES account's maximum send
rate, counted in recipients per second as SES counts it. Postfix's smtp client then delivers
them over reused TLS sessions and logs ``status=sent (250 Ok <ses-id>)`` as always.

A message SES throttles anyway (``454 Throttling failure``) is put back on hold and released
again within seconds, never left to Postfix's minutes-long backoff; the rate then adapts. The
daily quota holds mail until SES takes it again.

Pure, no I/O:

* ``rate``   - the token bucket and the adaptive rate (slow start, AIMD, ceiling)
* ``queue``  - Postfix's queue as ``postqueue -j`` lists it, and what each SES reply means
* ``pacer``  - one step: the queue as it is now in, the releases and re-holds to make out

I/O:

* ``postfix`` - ``postqueue -j``, ``postsuper -h/-H``, ``postqueue -i``
* ``send_quota`` - the account's rate from SES (v2 GetAccount), read in the background
* ``daemon``, ``config``, ``cli`` - ``ses-pacer run``: the loop under supervisord
"""
