"""The local SES stack that `docker compose up` runs beside the appliance (compose.override.yaml).

Never part of the appliance image; built into the devtools image by devstack/Dockerfile.

- ``ses_simulator``: Amazon SES's SMTP interface, mailbox simulator and event publishing
  (``python -m devstack.ses_simulator``); ``ses_smtp`` is its SMTP protocol part (STARTTLS, AUTH,
  SES's replies and limits), ``event_json`` the SES event JSON it publishes, ``sns_publisher`` the
  publishing to SNS, ``ses_api`` the account API (v2 GetAccount, v1 GetSendQuota) that the relay's
  SES_MAX_SEND_RATE=auto reads.
- ``mailhog``: a MailHog stand-in and a client for MailHog's API (``python -m devstack.mailhog``).
- ``tls``: the simulator's certificate authority; ``net``: loopback ports and SMTP banners.
"""
