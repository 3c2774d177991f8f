"""One SMTP session with SES, as Postfix's would start: TLS verified, AUTH, then QUIT. No mail.

The TLS checks are Postfix's (main.cf): the certificate must chain to ``SES_TLS_CA_FILE`` and
match the host name dialled (``smtp_tls_security_level = secure``, ``nexthop``), TLS 1.2 or
later. The credentials are the ones Postfix sends, read from its ``sasl_passwd``. Nothing here
ever puts the password into a message: smtplib's errors carry SES's replies only.
"""

from __future__ import annotations

import enum
import smtplib
import socket
import ssl
from dataclasses import dataclass
from pathlib import Path

TIMEOUT_SECONDS = 30.0
# Postfix's smtp_sasl_mechanism_filter, in its order.
MECHANISMS = ("PLAIN", "LOGIN")


class Outcome(enum.Enum):
    ACCEPTED = "accepted"  # SES took the login
    REFUSED = "refused"  # SES answered the login with a permanent refusal (535)
    UNTRUSTED = "untrusted"  # the certificate does not verify: Postfix would not talk to it either
    UNREACHABLE = "unreachable"  # no answer, a temporary refusal, a dropped connection: try again


@dataclass(frozen=True)
class LoginResult:
    outcome: Outcome
    # SES's reply ("535 Authentication Credentials Invalid") or what went wrong, without secrets.
    detail: str


@dataclass(frozen=True)
class Endpoint:
    host: str
    port: int
    implicit_tls: bool
    ca_file: str
    helo_name: str

    def __str__(self) -> str:
        return f"[{self.host}]:{self.port}"


def read_credentials(sasl_passwd: Path) -> tuple[str, str]:
    """(username, password) from Postfix's ``[host]:port username:password`` line."""
    for line in sasl_passwd.read_text(encoding="utf-8").splitlines():
        fields = line.split(None, 1)
        if len(fields) == 2 and not line.startswith("#"):
            username, _, password = fields[1].strip().partition(":")
            return username, password
    raise ValueError(f"{sasl_passwd} holds no credentials")


def _tls_context(ca_file: str) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=ca_file)  # chain and host name, as Postfix checks
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context


def _reply(code: int, message: bytes | str) -> str:
    text = message.decode("utf-8", "replace") if isinstance(message, bytes) else message
    return f"{code} {' '.join(text.split())}"


def _describe(error: BaseException) -> str:
    if isinstance(error, TimeoutError):
        return "timed out"
    if isinstance(error, socket.gaierror):
        return f"host name lookup failed: {error.strerror}"
    if isinstance(error, smtplib.SMTPServerDisconnected):
        return "SES closed the connection"
    if isinstance(error, ssl.SSLError):
        return f"TLS handshake failed: {error.reason or error}"
    if isinstance(error, OSError) and error.strerror:
        return error.strerror.lower()
    return str(error) or type(error).__name__


def _open(endpoint: Endpoint, context: ssl.SSLContext, timeout: float) -> smtplib.SMTP:
    if endpoint.implicit_tls:
        return smtplib.SMTP_SSL(
            endpoint.host, endpoint.port, local_hostname=endpoint.helo_name, timeout=timeout, context=context
        )
    client = smtplib.SMTP(endpoint.host, endpoint.port, local_hostname=endpoint.helo_name, timeout=timeout)
    try:
        client.ehlo()
        if not client.has_extn("starttls"):
            raise smtplib.SMTPNotSupportedError("SES offered no STARTTLS")
        client.starttls(context=context)
    except BaseException:
        client.close()
        raise
    return client


def try_login(
    endpoint: Endpoint, username: str, password: str, timeout: float = TIMEOUT_SECONDS
) -> LoginResult:
    try:
        client = _open(endpoint, _tls_context(endpoint.ca_file), timeout)
    except ssl.SSLCertVerificationError as error:
        return LoginResult(Outcome.UNTRUSTED, error.verify_message or str(error))
    except smtplib.SMTPNotSupportedError as error:
        return LoginResult(Outcome.UNTRUSTED, str(error))
    except smtplib.SMTPResponseException as error:  # e.g. a 421 greeting while SES is busy
        return LoginResult(Outcome.UNREACHABLE, _reply(error.smtp_code, error.smtp_error))
    except (OSError, smtplib.SMTPException) as error:
        return LoginResult(Outcome.UNREACHABLE, _describe(error))
    try:
        client.ehlo()
        offered = (client.esmtp_features.get("auth") or "").upper().split()
        mechanism = next((name for name in MECHANISMS if name in offered), None)
        if mechanism is None:
            return LoginResult(Outcome.REFUSED, f"SES offered no AUTH {' or '.join(MECHANISMS)}")
        client.user, client.password = username, password
        authenticate = client.auth_plain if mechanism == "PLAIN" else client.auth_login
        code, message = client.auth(mechanism, authenticate, initial_response_ok=True)
        return LoginResult(Outcome.ACCEPTED, _reply(code, message))
    except smtplib.SMTPAuthenticationError as error:
        # 535: the credentials are wrong; 454 and other 4xx: SES cannot check them just now.
        outcome = Outcome.UNREACHABLE if 400 <= error.smtp_code < 500 else Outcome.REFUSED
        return LoginResult(outcome, _reply(error.smtp_code, error.smtp_error))
    except smtplib.SMTPResponseException as error:
        outcome = Outcome.UNREACHABLE if 400 <= error.smtp_code < 500 else Outcome.REFUSED
        return LoginResult(outcome, _reply(error.smtp_code, error.smtp_error))
    except (OSError, smtplib.SMTPException) as error:
        return LoginResult(Outcome.UNREACHABLE, _describe(error))
    finally:
        client.user = client.password = ""
        try:
            client.quit()
        except (OSError, smtplib.SMTPException):
            client.close()
