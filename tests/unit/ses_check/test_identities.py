"""Which identities cover an allowed-senders entry, and the verdicts from SES's answer."""

from __future__ import annotations

from ses_check.identities import candidate_identities, identities_to_ask, verdicts


def test_an_address_is_covered_by_itself_its_domain_and_the_parent_domains():
    assert candidate_identities("App@Mail.Example.com") == (
        "app@mail.example.com",
        "mail.example.com",
        "example.com",
    )


def test_a_domain_entry_is_covered_by_the_domain_and_its_parents_never_a_public_suffix():
    assert candidate_identities("@example.com") == ("example.com",)
    assert candidate_identities("@apps.example.co.uk") == ("apps.example.co.uk", "example.co.uk", "co.uk")


def test_each_identity_is_asked_once():
    assert identities_to_ask(["app@example.com", "@example.com", "ops@example.com"]) == [
        "app@example.com",
        "example.com",
        "ops@example.com",
    ]


def test_an_entry_is_verified_when_any_identity_covering_it_is():
    found = verdicts(
        ["app@example.com", "@apps.example.org", "billing@example.net", "@new.example"],
        {
            "example.com": "Success",
            "apps.example.org": "Pending",
            "billing@example.net": "Failed",
            "example.net": "Success",
        },
    )
    assert [(verdict.entry, verdict.verified_by) for verdict in found] == [
        ("app@example.com", "example.com"),
        ("@apps.example.org", None),
        ("billing@example.net", "example.net"),  # the domain covers an address whose own check failed
        ("@new.example", None),
    ]
    assert found[1].statuses == (("apps.example.org", "Pending"),)
    assert found[3].statuses == ()  # SES has no such identity at all
