"""Every path inside the image that the entrypoint and its helpers use, in one place.

The templates name the same paths (rootfs/ mirrors the image); they get these through the
template context wherever a value must agree with the Python side.
"""

from __future__ import annotations

from pathlib import Path

# Templates sit beside their outputs under this root (rootfs/ in the repository).
ROOT = Path("/")
VENV_BIN = Path("/opt/venv/bin")

SUPERVISORD_CONF = Path("/etc/supervisor/supervisord.conf")
SUPERVISORD = [str(VENV_BIN / "supervisord"), "-c", str(SUPERVISORD_CONF)]
# Left by the fatal-exit listener when a program kept dying: the container then exits non-zero.
FATAL_MARKER = Path("/run/ses-relay/fatal")
# There while the appliance drains on purpose (SIGTERM): the health check then says healthy.
DRAINING = Path("/run/ses-relay/draining")

MASTER_CF = Path("/etc/postfix/master.cf")
HOSTS = Path("/etc/hosts")

# On the /var/log volume, so the mail log and the logger's memory outlive the container.
MAIL_LOG = Path("/var/log/mail.log")
EVENTS_STATE_FILE = Path("/var/log/ses-relay/ses-events.sqlite3")
SYSLOG_SOCKET = Path("/dev/log")

# The operator commands' settings (ses-relay rotate, metrics), and what the metrics read.
OPS_CONFIG = Path("/etc/ses-relay/ses-relay.json")
RSYSLOG_PID_FILE = Path("/run/rsyslogd.pid")
# Where the mail log stood when the container started: the metrics count from there.
MAIL_LOG_START_FILE = Path("/run/ses-relay/mail-log-start.json")
PACER_STATUS_FILE = Path("/run/ses-relay/ses-pacer.status.json")
EVENTS_STATUS_FILE = Path("/run/ses-relay/ses-events.status.json")
SES_CHECK_STATUS_FILE = Path("/run/ses-relay/ses-check.status.json")
# Postfix's SES credentials (mode 0600), which the start-up check logs in with too.
SASL_PASSWD = Path("/etc/postfix/sasl_passwd")
