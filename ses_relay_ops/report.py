"""``ses-relay report``: a pflogsumm for SES. Counts per outcome, bounce and complaint rates against
SES's thresholds, the domains that bounce most, deferred mail by reason. Pure: lines in, a report
out, rendered as text or JSON.

SES judges an account on its hard-bounce rate and its complaint rate over recent mail
(deploy/README.md §1.6): it places the account under review at 5 % bounces or 0.1 % complaints
and may pause sending at 10 % or 0.5 %. Both rates here are of the recipients Postfix handed to
SES (``status=sent``) in the same period; SES's own figures, over its own window, are the
``Reputation.BounceRate`` and ``Reputation.ComplaintRate`` metrics in CloudWatch.
"""

from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ses_relay_ops.outcomes import Kind, classify


@dataclass(frozen=True)
class Threshold:
    rate: str
    review: float  # fractions: 0.05 is 5 %
    pause: float


BOUNCE = Threshold("bounce", 0.05, 0.10)
COMPLAINT = Threshold("complaint", 0.001, 0.005)
TOP_DOMAINS = 10
TOP_REASONS = 10
REASON_LENGTH = 120

_HOST_SAID = re.compile(r"^host [^ ]+ said: ")
_IN_REPLY_TO = re.compile(r" [(]in reply to [^)]*[)]$")


def deferral_reason(detail: str) -> str:
    """Postfix's reason, without what differs between alike deferrals (the host, the command)."""
    reason = _IN_REPLY_TO.sub("", _HOST_SAID.sub("", detail.strip()))
    return reason if len(reason) <= REASON_LENGTH else reason[: REASON_LENGTH - 1] + "…"


@dataclass
class Report:
    start: datetime | None
    end: datetime | None
    files: int = 0
    first_line: datetime | None = None
    last_line: datetime | None = None
    accepted: int = 0
    refused: int = 0
    sent: int = 0
    deferred: int = 0
    bounced_by_postfix: int = 0
    throttled: Counter[str] = field(default_factory=Counter)
    # SES's outcomes by (status, type, subtype): ("bounced", "Permanent", "General"), ...
    ses: Counter[tuple[str, str, str]] = field(default_factory=Counter)
    bounce_domains: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    deferral_attempts: Counter[str] = field(default_factory=Counter)
    deferral_messages: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))

    def ses_total(self, status: str, type_: str | None = None) -> int:
        return sum(
            count for (s, t, _sub), count in self.ses.items() if s == status and (type_ is None or t == type_)
        )

    @property
    def hard_bounces(self) -> int:
        return self.ses_total("bounced", "Permanent")

    @property
    def complaints(self) -> int:
        return self.ses_total("complained")

    def rate(self, count: int) -> float | None:
        return count / self.sent if self.sent else None


def build_report(lines: Iterable, start: datetime | None, end: datetime | None = None) -> Report:
    report = Report(start, end)
    for line in lines:
        if (start is not None and line.time < start) or (end is not None and line.time > end):
            continue
        report.first_line = min(report.first_line or line.time, line.time)
        report.last_line = max(report.last_line or line.time, line.time)
        outcome = classify(line)
        if outcome is None:
            continue
        if outcome.kind is Kind.ACCEPTED:
            report.accepted += 1
        elif outcome.kind is Kind.REFUSED:
            report.refused += 1
        elif outcome.kind is Kind.SENT:
            report.sent += 1
        elif outcome.kind is Kind.BOUNCED:
            report.bounced_by_postfix += 1
        elif outcome.kind is Kind.DEFERRED:
            report.deferred += 1
            reason = deferral_reason(outcome.reason)
            report.deferral_attempts[reason] += 1
            report.deferral_messages[reason].add(line.queue_id)
            if outcome.throttle is not None:
                report.throttled[outcome.throttle.name.lower()] += 1
        elif outcome.kind is Kind.SES:
            report.ses[(outcome.status, outcome.type, outcome.subtype)] += 1
            if outcome.status == "bounced":
                domain = outcome.recipient.rpartition("@")[2].lower() or "(none)"
                report.bounce_domains[domain][outcome.type] += 1
    return report


def verdict(rate: float | None, threshold: Threshold) -> str:
    if rate is None:
        return "nothing sent"
    if rate >= threshold.pause:
        return "at or above the pause threshold"
    if rate >= threshold.review:
        return "at or above the review threshold"
    return "below the review threshold"


def _percent(rate: float | None) -> str:
    return "-" if rate is None else f"{rate * 100:.2f} %"


def _threshold_percent(value: float) -> str:
    return f"{value * 100:g} %"


def _ses_label(status: str, type_: str, subtype: str) -> str:
    detail = "/".join(part for part in (type_, subtype) if part)
    return f"{status} ({detail})" if detail else status


def _top_domains(report: Report) -> list[tuple[str, Counter[str]]]:
    ranked = sorted(report.bounce_domains.items(), key=lambda item: (-sum(item[1].values()), item[0]))
    return ranked[:TOP_DOMAINS]


def _top_reasons(report: Report) -> list[tuple[str, int]]:
    return sorted(report.deferral_attempts.items(), key=lambda item: (-item[1], item[0]))[:TOP_REASONS]


def _stamp(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S") if moment else "-"


def render_text(report: Report) -> str:
    period = f"from {_stamp(report.start)}" if report.start else "the whole log"
    lines = [
        f"ses-relay report: {period} to {_stamp(report.end)}, {report.files} file(s), "
        f"lines from {_stamp(report.first_line)} to {_stamp(report.last_line)}",
        "",
        "Postfix",
        f"  {'messages accepted from clients':<44}{report.accepted:>8}",
        f"  {'recipients refused at SMTP':<44}{report.refused:>8}",
        f"  {'recipients sent to SES':<44}{report.sent:>8}",
        f"  {'deferrals (tries that will be retried)':<44}{report.deferred:>8}",
        f"  {'  of which SES throttling':<44}{sum(report.throttled.values()):>8}",
        f"  {'recipients bounced by Postfix':<44}{report.bounced_by_postfix:>8}",
        "",
        "SES (one line per recipient)",
    ]
    for key in sorted(report.ses):
        lines.append(f"  {_ses_label(*key):<44}{report.ses[key]:>8}")
    if not report.ses:
        lines.append("  (no SES events in this period)")
    lines += ["", f"  {'rate (of recipients sent to SES)':<34}{'':>10}  review at  pause at"]
    for name, count, threshold in (
        ("hard-bounce rate", report.hard_bounces, BOUNCE),
        ("complaint rate", report.complaints, COMPLAINT),
    ):
        rate = report.rate(count)
        lines.append(
            f"  {name:<34}{_percent(rate):>10}  {_threshold_percent(threshold.review):>9}"
            f"  {_threshold_percent(threshold.pause):>8}  {verdict(rate, threshold)}"
        )
    lines += ["", "Top bouncing recipient domains (SES bounces)"]
    for domain, types in _top_domains(report):
        split = ", ".join(f"{kind} {count}" for kind, count in sorted(types.items()))
        lines.append(f"  {domain:<44}{sum(types.values()):>8}  ({split})")
    if not report.bounce_domains:
        lines.append("  (none)")
    lines += ["", "Deferred mail by reason (tries, messages)"]
    for reason, attempts in _top_reasons(report):
        lines.append(f"  {attempts:>6} {len(report.deferral_messages[reason]):>6}  {reason}")
    if not report.deferral_attempts:
        lines.append("  (none)")
    return "\n".join(lines) + "\n"


def report_json(report: Report) -> dict[str, Any]:
    def iso(moment: datetime | None) -> str | None:
        return moment.astimezone().isoformat() if moment else None

    rates = {}
    for name, count, threshold in (
        ("bounce", report.hard_bounces, BOUNCE),
        ("complaint", report.complaints, COMPLAINT),
    ):
        rates[name] = {
            "count": count,
            "rate": report.rate(count),
            "review_threshold": threshold.review,
            "pause_threshold": threshold.pause,
            "verdict": verdict(report.rate(count), threshold),
        }
    return {
        "start": iso(report.start),
        "end": iso(report.end),
        "files": report.files,
        "first_line": iso(report.first_line),
        "last_line": iso(report.last_line),
        "postfix": {
            "accepted": report.accepted,
            "refused": report.refused,
            "sent": report.sent,
            "deferred": report.deferred,
            "throttled": dict(report.throttled),
            "bounced": report.bounced_by_postfix,
        },
        "ses": [
            {"status": status, "type": type_, "subtype": subtype, "count": count}
            for (status, type_, subtype), count in sorted(report.ses.items())
        ],
        "rates": rates,
        "bouncing_domains": [
            {"domain": domain, "count": sum(types.values()), "by_type": dict(types)}
            for domain, types in _top_domains(report)
        ],
        "deferred_by_reason": [
            {"reason": reason, "attempts": attempts, "messages": len(report.deferral_messages[reason])}
            for reason, attempts in _top_reasons(report)
        ],
    }


def render_json(report: Report) -> str:
    return json.dumps(report_json(report), indent=2, ensure_ascii=False) + "\n"
