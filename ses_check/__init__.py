"""The start-up check: will SES take this relay's mail? Asked once at start, in the background.

Postfix learns that the SMTP password is wrong only when a message is deferred, one line per
message, and that a sender is not verified only when SES bounces its mail. ``ses-check`` asks
SES first, while the relay already takes mail (it never holds anything up), and says what it
found in a few lines of the mail log, program name ``postfix/ses-check``:

1. SES's SMTP endpoint answers, its certificate verifies as Postfix verifies it, and SES accepts
   the login Postfix will use (a wrong password: one line naming the setting and SES's 535).
   Retried with backoff while SES cannot be reached; nothing is ever sent (EHLO, AUTH, QUIT).
2. Where SES's API answers (``ses:GetAccount``, ``ses:GetIdentityVerificationAttributes``):
   every ``RELAY_ALLOWED_SENDERS`` entry is an identity SES has verified in ``SES_REGION``, and
   whether the account is still in the SES sandbox.

Pure, no I/O:

* ``identities`` - which SES identities cover an allowed-senders entry, and the verdicts
* ``report``     - the log lines, one function per finding

I/O:

* ``smtp_login`` - one EHLO/STARTTLS/AUTH/QUIT session with SES, classified
* ``ses_api``    - GetAccount (v2) and GetIdentityVerificationAttributes (v1)
* ``daemon``, ``config``, ``cli`` - ``ses-check run``: the program under supervisord
"""
