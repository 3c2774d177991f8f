"""The SES SMTP password: given, or derived from an IAM secret access key (SES's version-4 algorithm).

The SMTP interface does not take the secret key itself: it takes this region-specific
derivative. See the AWS guide "Obtaining Amazon SES SMTP credentials".
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping
from typing import Any

# Fixed inputs of the algorithm, as AWS documents them.
_DATE = "11111111"
_SERVICE = "ses"
_TERMINAL = "aws4_request"
_MESSAGE = "SendRawEmail"
_VERSION = 0x04


def _sign(key: bytes, message: str) -> bytes:
    return hmac.new(key, message.encode("utf-8"), hashlib.sha256).digest()


def ses_smtp_password(secret_access_key: str, region: str) -> str:
    signature = _sign(("AWS4" + secret_access_key).encode("utf-8"), _DATE)
    for part in (region, _SERVICE, _TERMINAL, _MESSAGE):
        signature = _sign(signature, part)
    return base64.b64encode(bytes([_VERSION]) + signature).decode("ascii")


def smtp_password(settings: Mapping[str, Any]) -> str:
    """The password Postfix presents to SES, derived from the secret key when that is what was given."""
    if settings.get("SES_SMTP_PASSWORD"):
        return settings["SES_SMTP_PASSWORD"]
    return ses_smtp_password(settings["SES_SMTP_SECRET_ACCESS_KEY"], settings["SES_REGION"])
