"""Which SES identities let a RELAY_ALLOWED_SENDERS entry send, and whether SES has verified one.

SES takes mail from an address when that address is a verified identity, or its domain, or a
parent domain of it (a verified ``example.com`` covers ``app@mail.example.com``). So an entry
``app@mail.example.com`` is covered by ``app@mail.example.com``, ``mail.example.com`` or
``example.com``, and a domain entry ``@mail.example.com`` by the domain or a parent of it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

VERIFIED = "Success"


def candidate_identities(entry: str) -> tuple[str, ...]:
    """The identities that would cover ``entry`` (``app@example.com`` or ``@example.com``), the
    most specific first. Parent domains stop at two labels: no one verifies a public suffix."""
    local, _, domain = entry.lower().rpartition("@")
    labels = domain.split(".")
    domains = [".".join(labels[start:]) for start in range(max(1, len(labels) - 1))]
    return ((entry.lower(),) if local else ()) + tuple(domains)


def identities_to_ask(entries: Iterable[str]) -> list[str]:
    """Every candidate of every entry, each once, in a stable order."""
    return list(dict.fromkeys(identity for entry in entries for identity in candidate_identities(entry)))


@dataclass(frozen=True)
class Verdict:
    entry: str
    # The identity that covers the entry (verified), or None.
    verified_by: str | None
    # What SES said of each candidate it knows ("Pending", "Failed", ...); unknown ones are absent.
    statuses: tuple[tuple[str, str], ...] = ()

    @property
    def verified(self) -> bool:
        return self.verified_by is not None


def verdicts(entries: Iterable[str], statuses: Mapping[str, str]) -> list[Verdict]:
    """One verdict per entry from GetIdentityVerificationAttributes' answer (identity -> status).
    SES leaves out identities the account does not have."""
    found = []
    for entry in entries:
        candidates = candidate_identities(entry)
        known = tuple((identity, statuses[identity]) for identity in candidates if identity in statuses)
        verified_by = next((identity for identity, status in known if status == VERIFIED), None)
        found.append(Verdict(entry, verified_by, known))
    return found
