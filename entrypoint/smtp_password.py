"""Derive the SES SMTP password from an IAM secret access key (SES's version-4 algorithm).

The SMTP interface does not take the secret key itself: it takes this region-specific
derivative. See the AWS guide "Obtaining Amazon SES SMTP credentials".
"""

from __future__ import annotations

import base64
import hashlib
import hmac

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
