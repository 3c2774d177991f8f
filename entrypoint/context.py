"""The values the templates see, computed from validated settings."""

from __future__ import annotations

import ipaddress
import secrets
import socket
from pathlib import Path
from typing import Any

from entrypoint import paths
from entrypoint.settings import Settings
from entrypoint.settings.smtp_password import smtp_password
from ses_relay_ops.fields import EVENT_LOGGER, FIELD_RULES

# SES's implicit-TLS ports; every other port speaks STARTTLS.
SES_TLS_WRAPPER_PORTS = frozenset({465, 2465})


def ipv6_available() -> bool:
    """Docker disables IPv6 inside containers unless the network enables it."""
    flag = Path("/proc/sys/net/ipv6/conf/all/disable_ipv6")
    if not socket.has_ipv6 or (flag.exists() and flag.read_text().strip() != "0"):
        return False
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as probe:
            probe.bind(("::1", 0))
    except OSError:
        return False
    return True


def postfix_network(network: ipaddress.IPv4Network | ipaddress.IPv6Network) -> str:
    """Postfix writes IPv6 networks as [addr]/len."""
    if network.version == 6:
        return f"[{network.network_address}]/{network.prefixlen}"
    return str(network)


def rsyslog_field_rules() -> list[dict[str, str]]:
    """ses_relay_ops.fields's rules as rsyslog.conf applies them for LOG_FORMAT=json: the
    condition on the program, and a later rule for a field only while it is still empty."""
    rules, seen = [], set()
    for rule in FIELD_RULES:
        condition = ""
        if rule.event_logger is not None:
            condition += f" and $programname {'==' if rule.event_logger else '!='} '{EVENT_LOGGER}'"
        if rule.name in seen:
            condition += f' and $!{rule.name} == ""'
        seen.add(rule.name)
        rules.append(
            {"name": rule.name, "pattern": rule.pattern, "requires": rule.requires, "condition": condition}
        )
    return rules


def template_context(settings: Settings, *, ipv6: bool | None = None) -> dict[str, Any]:
    if ipv6 is None:
        ipv6 = ipv6_available()
    networks = settings["RELAY_ALLOWED_NETWORKS"]
    if not ipv6:
        networks = tuple(network for network in networks if network.version == 4)
    return {
        "relay_hostname": settings["RELAY_HOSTNAME"],
        "listen_port": settings["RELAY_LISTEN_PORT"],
        "inet_protocols": "all" if ipv6 else "ipv4",
        "mynetworks": [postfix_network(network) for network in networks],
        "allowed_senders": settings["RELAY_ALLOWED_SENDERS"],
        "message_size_limit": settings["RELAY_MESSAGE_SIZE_LIMIT"],
        "max_connections": settings["RELAY_MAX_CONNECTIONS"],
        "max_connections_per_client": settings["RELAY_MAX_CONNECTIONS_PER_CLIENT"],
        "max_connection_rate_per_client": settings["RELAY_MAX_CONNECTION_RATE_PER_CLIENT"],
        "ses_smtp_host": settings["SES_SMTP_HOST"],
        "ses_smtp_port": settings["SES_SMTP_PORT"],
        "tls_wrappermode": settings["SES_SMTP_PORT"] in SES_TLS_WRAPPER_PORTS,
        "ca_file": settings["SES_TLS_CA_FILE"],
        "configuration_set": settings["SES_CONFIGURATION_SET"],
        # A header name no client can guess: see header_checks.j2.
        "configuration_set_marker": f"X-SES-Relay-Configuration-Set-{secrets.token_hex(16)}",
        "sasl_username": settings["SES_SMTP_USERNAME"],
        "sasl_password": smtp_password(settings),
        "mail_log_file": str(paths.MAIL_LOG),
        "events": {
            "queue_url": settings["SES_EVENTS_QUEUE_URL"],
            "region": settings["SES_REGION"],
            "concurrency": settings["SES_EVENTS_CONCURRENCY"],
            "wait_seconds": settings["SES_EVENTS_WAIT_SECONDS"],
            "visibility_timeout": settings["SES_EVENTS_VISIBILITY_TIMEOUT"],
            "syslog_socket": str(paths.SYSLOG_SOCKET),
            "mail_log": str(paths.MAIL_LOG),
            "state_file": str(paths.EVENTS_STATE_FILE),
            "relay_hostname": settings["RELAY_HOSTNAME"],
            "status_file": str(paths.EVENTS_STATUS_FILE),
            "verify_sns_signatures": settings["SES_EVENTS_VERIFY_SNS_SIGNATURES"],
        },
        "pacer": {
            "max_send_rate": settings["SES_MAX_SEND_RATE"],
            "region": settings["SES_REGION"],
            "status_file": str(paths.PACER_STATUS_FILE),
        },
        # The start-up check (ses-check): the endpoint as Postfix dials it, and the senders as written.
        "check": {
            "smtp_host": settings["SES_SMTP_HOST"],
            "smtp_port": settings["SES_SMTP_PORT"],
            "implicit_tls": settings["SES_SMTP_PORT"] in SES_TLS_WRAPPER_PORTS,
            "ca_file": settings["SES_TLS_CA_FILE"],
            "helo_name": settings["RELAY_HOSTNAME"],
            "region": settings["SES_REGION"],
            "allowed_senders": [
                sender.address or f"@{sender.domain}" for sender in settings["RELAY_ALLOWED_SENDERS"]
            ],
            "password_setting": "SES_SMTP_SECRET_ACCESS_KEY"
            if settings["SES_SMTP_SECRET_ACCESS_KEY"]
            else "SES_SMTP_PASSWORD",
            "credentials_file": str(paths.SASL_PASSWD),
            "syslog_socket": str(paths.SYSLOG_SOCKET),
            "status_file": str(paths.SES_CHECK_STATUS_FILE),
        },
        "log_format": settings["LOG_FORMAT"],
        "field_rules": rsyslog_field_rules(),
        "rsyslog_pid_file": str(paths.RSYSLOG_PID_FILE),
        "rotation_on": bool(settings["MAIL_LOG_ROTATE_SIZE"] or settings["MAIL_LOG_ROTATE_AGE"]),
        "metrics_port": settings["METRICS_PORT"],
        "ops_config_file": str(paths.OPS_CONFIG),
        "ops": {
            "mail_log": str(paths.MAIL_LOG),
            "rotate_size": settings["MAIL_LOG_ROTATE_SIZE"],
            "rotate_age_seconds": settings["MAIL_LOG_ROTATE_AGE"],
            "rotate_keep": settings["MAIL_LOG_ROTATE_KEEP"],
            "rsyslog_pid_file": str(paths.RSYSLOG_PID_FILE),
            "metrics_port": settings["METRICS_PORT"],
            "mail_log_start_file": str(paths.MAIL_LOG_START_FILE),
            "pacer_status_file": str(paths.PACER_STATUS_FILE),
            "events_status_file": str(paths.EVENTS_STATUS_FILE),
            "check_status_file": str(paths.SES_CHECK_STATUS_FILE),
            "events_queue_url": settings["SES_EVENTS_QUEUE_URL"],
            "events_region": settings["SES_REGION"],
        },
        "venv_bin": str(paths.VENV_BIN),
        # Only root can reach supervisord's socket; the password keeps supervisord from warning
        # about an unauthenticated server, and nothing hard-coded is ever shipped.
        "supervisor_password": secrets.token_urlsafe(24),
    }
