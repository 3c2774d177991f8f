"""SNS signatures, the I/O half: fetch the signing certificate over HTTPS, keep it, verify with it.

``SnsVerifier.verify(body)`` returns quietly when SNS signed the body, and otherwise raises
``UnverifiableMessage``, a PoisonMessage: the batch reports it once (``mail.err``) and leaves the
message for the dead-letter queue, and no line of it is logged as an outcome. Its failure paths:

- no SNS envelope (raw message delivery), an unsigned envelope (LocalStack), a SignatureVersion
  other than 1 or 2: refused by the core (``read_signed_sns_message``), nothing fetched;
- a ``SigningCertURL`` the rule refuses (AWS's rule: ``https://sns.<region>.amazonaws.com[.cn]/….pem``):
  refused by the core, nothing fetched;
- a certificate that cannot be fetched (network, HTTP status, a redirect, not a PEM certificate,
  no RSA key): ``CertificateUnavailable``; the message comes back after the visibility timeout
  and is checked again, and the URL is not fetched again for ``retry_after`` seconds, so a batch
  waits for at most one timeout;
- a signature that does not hold with the certificate: the message was forged or altered.

Certificates are fetched with urllib over HTTPS only, verified against the system's CA bundle
(or the ``ssl_context`` given), with a timeout, no redirects and a size limit; each URL's key is
kept in a bounded cache (SNS signs with one certificate per region for months).
"""

from __future__ import annotations

import http.client
import ssl
import threading
import time
import urllib.error
import urllib.request
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from ses_events.core import (
    SignedSnsMessage,
    UnverifiableMessage,
    is_sns_certificate_url,
    read_signed_sns_message,
)

CertificateUrlRule = Callable[[str], bool]

FETCH_TIMEOUT_SECONDS = 5.0
RETRY_FETCH_AFTER_SECONDS = 30.0
# An SNS signing certificate is about 2 KB; anything far larger is not one.
MAX_CERTIFICATE_BYTES = 64 * 1024
# Certificates kept, by URL: SNS has one per region at a time, and rotates them rarely.
CACHE_SIZE = 32

_HASHES: dict[str, Callable[[], hashes.HashAlgorithm]] = {"sha1": hashes.SHA1, "sha256": hashes.SHA256}


class CertificateUnavailable(UnverifiableMessage):
    """The signing certificate could not be had just now; the message is checked again later."""


@dataclass(frozen=True)
class _Failure:
    at: float
    reason: str


class _RefuseRedirects(urllib.request.HTTPRedirectHandler):
    """The certificate comes from the URL that passed the rule, not from wherever it redirects."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None  # urllib then raises HTTPError for the 3xx


def check_signature(public_key: rsa.RSAPublicKey, signed: SignedSnsMessage) -> None:
    """Raise UnverifiableMessage unless ``signed.signature`` is the key's signature of what SNS signs."""
    try:
        public_key.verify(
            signed.signature, signed.string_to_sign, padding.PKCS1v15(), _HASHES[signed.hash_name]()
        )
    except (InvalidSignature, UnsupportedAlgorithm):
        raise UnverifiableMessage(
            f"SNS signature (SignatureVersion {signed.signature_version}) does not verify with the "
            f"certificate at {signed.signing_cert_url!r}: the message was forged or altered"
        ) from None


def rsa_key_of_certificate(pem: bytes, url: str) -> rsa.RSAPublicKey:
    """The RSA public key of the PEM certificate fetched from ``url``."""
    try:
        certificate = x509.load_pem_x509_certificate(pem)
    except ValueError:
        raise CertificateUnavailable(f"{url!r} did not return a PEM certificate") from None
    key = certificate.public_key()
    if not isinstance(key, rsa.RSAPublicKey):
        raise CertificateUnavailable(f"the certificate at {url!r} holds no RSA key")
    return key


class SnsVerifier:
    """Checks the SNS signature of SQS bodies; thread-safe, one per daemon."""

    def __init__(
        self,
        certificate_url_allowed: CertificateUrlRule = is_sns_certificate_url,
        ssl_context: ssl.SSLContext | None = None,
        timeout: float = FETCH_TIMEOUT_SECONDS,
        retry_after: float = RETRY_FETCH_AFTER_SECONDS,
        cache_size: int = CACHE_SIZE,
        clock: Callable[[], float] = time.monotonic,
    ):
        self._allowed = certificate_url_allowed
        context = ssl_context if ssl_context is not None else ssl.create_default_context()
        self._opener = urllib.request.build_opener(
            urllib.request.HTTPSHandler(context=context), _RefuseRedirects
        )
        self._timeout = timeout
        self._retry_after = retry_after
        self._cache_size = cache_size
        self._clock = clock
        self._keys: OrderedDict[str, rsa.RSAPublicKey | _Failure] = OrderedDict()
        self._lock = threading.Lock()
        # One fetch at a time: workers that need the same certificate wait for it, not fetch it again.
        self._fetching = threading.Lock()

    def verify(self, body: str) -> None:
        """Return when SNS signed ``body``; raise UnverifiableMessage (or PoisonMessage) otherwise."""
        signed = read_signed_sns_message(body, self._allowed)
        check_signature(self._public_key(signed.signing_cert_url), signed)

    def _cached(self, url: str) -> rsa.RSAPublicKey | None:
        with self._lock:
            entry = self._keys.get(url)
            if entry is None:
                return None
            self._keys.move_to_end(url)
        if isinstance(entry, _Failure):
            if self._clock() - entry.at < self._retry_after:
                raise CertificateUnavailable(entry.reason)
            return None
        return entry

    def _remember(self, url: str, entry: rsa.RSAPublicKey | _Failure) -> None:
        with self._lock:
            self._keys[url] = entry
            self._keys.move_to_end(url)
            while len(self._keys) > self._cache_size:
                self._keys.popitem(last=False)

    def _public_key(self, url: str) -> rsa.RSAPublicKey:
        key = self._cached(url)
        if key is not None:
            return key
        with self._fetching:
            key = self._cached(url)  # another worker may have fetched it meanwhile
            if key is not None:
                return key
            try:
                key = rsa_key_of_certificate(self._fetch(url), url)
            except CertificateUnavailable as error:
                self._remember(url, _Failure(self._clock(), error.reason))
                raise
            self._remember(url, key)
            return key

    def _fetch(self, url: str) -> bytes:
        if not url.startswith("https://"):  # whatever the rule: a certificate over plain HTTP proves nothing
            raise CertificateUnavailable(f"signing certificate {url!r} is not on HTTPS; not fetched")
        request = urllib.request.Request(url, headers={"User-Agent": "ses-relay-ses-events"})  # noqa: S310
        try:
            with self._opener.open(request, timeout=self._timeout) as response:
                pem = response.read(MAX_CERTIFICATE_BYTES + 1)
        except (OSError, http.client.HTTPException, ValueError) as error:
            raise CertificateUnavailable(
                f"signing certificate {url!r} could not be fetched ({_describe(error)}); the message is "
                "checked again when it comes back"
            ) from None
        if len(pem) > MAX_CERTIFICATE_BYTES:
            raise CertificateUnavailable(f"{url!r} returned more than {MAX_CERTIFICATE_BYTES} bytes")
        return pem


def _describe(error: BaseException) -> str:
    if isinstance(error, urllib.error.HTTPError):
        text = f"HTTP {error.code}"
    elif isinstance(error, urllib.error.URLError):
        text = str(error.reason)  # the socket or TLS error underneath
    else:
        text = str(error) or type(error).__name__
    return " ".join(text.split())[:200]
