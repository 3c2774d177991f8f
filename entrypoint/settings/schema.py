"""The settings schema: the single source of truth for every setting of the appliance.

Validation, defaults, the README's configuration table and the did-you-mean for unknown
variables are all derived from ``SETTINGS``. To add a setting, add it here and nowhere else
(then use it in a template).
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from entrypoint.settings import parsers

# Environment variables with these prefixes belong to us: an unknown one is a typo, and a typo
# must never be silently ignored (a misspelt password variable would send mail unauthenticated).
# LOG_ is not one: platforms set LOG_LEVEL and the like in every container, and refusing them would
# stop the relay for someone else's variable. LOG_FORMAT is ours by name, and a name this close to
# it (LOG_FROMAT, LOGFORMAT) is refused as a typo (NEAR_MISS_CUTOFF).
OWNED_PREFIXES = ("SES_", "RELAY_", "SECRETS_MANAGER_", "METRICS_", "MAIL_LOG_")
NEAR_MISS_CUTOFF = 0.88
FILE_SUFFIX = "_FILE"

DefaultFn = Callable[[Mapping[str, Any]], Any]


@dataclass(frozen=True)
class Setting:
    name: str
    description: str
    parse: Callable[[str], Any]
    # A literal default, a function of the other (already parsed) settings, or None.
    default: Any = None
    default_doc: str = ""
    required: bool = False
    secret: bool = False
    # False for settings that only make sense in the environment (where the secret comes from).
    from_secrets_manager: bool = True

    def default_for(self, parsed: Mapping[str, Any]) -> Any:
        return self.default(parsed) if callable(self.default) else self.default

    @property
    def documented_default(self) -> str:
        if self.default_doc:
            return self.default_doc
        if self.default is None:
            return "required" if self.required else "unset"
        return str(self.default)


def _ses_smtp_host_default(parsed: Mapping[str, Any]) -> str | None:
    region = parsed.get("SES_REGION")
    return f"email-smtp.{region}.amazonaws.com" if region else None


SETTINGS: tuple[Setting, ...] = (
    Setting(
        "SES_REGION",
        "AWS region of the SES account, e.g. `eu-west-1`. Selects the SMTP endpoint and the SMTP password.",
        parsers.aws_region,
        required=True,
    ),
    Setting(
        "SES_SMTP_HOST",
        "SES SMTP endpoint. Set it for a VPC interface endpoint or a test stand-in; "
        "the TLS certificate is verified against this name.",
        parsers.hostname,
        default=_ses_smtp_host_default,
        default_doc="`email-smtp.<SES_REGION>.amazonaws.com`",
    ),
    Setting(
        "SES_SMTP_PORT",
        "SES SMTP port: 587, 25 or 2587 use STARTTLS; 465 or 2465 use implicit TLS.",
        parsers.port,
        default=587,
    ),
    Setting(
        "SES_SMTP_USERNAME",
        "SES SMTP user name (the access key ID of the IAM user that sends).",
        parsers.credential,
        required=True,
    ),
    Setting(
        "SES_SMTP_PASSWORD",
        "SES SMTP password. Set exactly one of this and `SES_SMTP_SECRET_ACCESS_KEY`.",
        parsers.credential,
        secret=True,
    ),
    Setting(
        "SES_SMTP_SECRET_ACCESS_KEY",
        "IAM secret access key; the region's SMTP password is derived from it "
        "(SES's version-4 algorithm). Set exactly one of this and `SES_SMTP_PASSWORD`.",
        parsers.credential,
        secret=True,
    ),
    Setting(
        "SES_TLS_CA_FILE",
        "CA bundle (PEM) used to verify the SES endpoint's certificate.",
        parsers.readable_file,
        default="/etc/ssl/certs/ca-certificates.crt",
    ),
    Setting(
        "SES_CONFIGURATION_SET",
        "SES configuration set. Every relayed message carries `X-SES-CONFIGURATION-SET` with this name "
        "(replacing any the client set) so that SES publishes its events.",
        parsers.configuration_set_name,
    ),
    Setting(
        "RELAY_ALLOWED_SENDERS",
        "Envelope senders allowed to relay, separated by commas or spaces: `app@example.com` "
        "(that address) or `@example.com` (any address of exactly that domain). "
        "Every other sender is refused with 5.7.1.",
        parsers.sender_list,
        required=True,
    ),
    Setting(
        "RELAY_ALLOWED_NETWORKS",
        "Client networks (CIDRs, separated by commas or spaces) allowed to relay. "
        "Public networks wider than /8 (IPv4) or /16 (IPv6), such as `0.0.0.0/0`, are refused: "
        "never an open relay.",
        parsers.network_list,
        default=parsers.network_list("127.0.0.0/8 10.0.0.0/8 172.16.0.0/12 192.168.0.0/16"),
        default_doc="`127.0.0.0/8 10.0.0.0/8 172.16.0.0/12 192.168.0.0/16`",
    ),
    Setting(
        "RELAY_HOSTNAME",
        "Host name the relay uses in its banner, its EHLO to SES and its `Received:` header, where "
        "the event logger also finds queue IDs: give every appliance on one queue the same one.",
        parsers.hostname,
        default=lambda _parsed: parsers.default_hostname(),
        default_doc="the container's host name if fully qualified, else `ses-relay.localdomain`",
    ),
    Setting(
        "RELAY_MESSAGE_SIZE_LIMIT",
        "Largest message accepted, in bytes (SES's own limit is 40 MB after encoding).",
        parsers.message_size,
        default=10240000,
    ),
    Setting(
        "RELAY_LISTEN_PORT",
        "TCP port Postfix listens on for clients. Change it only with `--network host`.",
        parsers.port,
        default=25,
    ),
    Setting(
        "RELAY_MAX_CONNECTIONS",
        "Client connections served at once (Postfix's smtpd processes); more wait for a free one.",
        parsers.bounded_integer(2, 1000, " connections"),
        default=100,
    ),
    Setting(
        "RELAY_MAX_CONNECTIONS_PER_CLIENT",
        "Connections one client address may hold at once, inside the allowed networks too; more get "
        "`421 4.7.0`. Lower than `RELAY_MAX_CONNECTIONS`, so no client can take every connection.",
        parsers.bounded_integer(1, 999, " connections"),
        default=20,
    ),
    Setting(
        "RELAY_MAX_CONNECTION_RATE_PER_CLIENT",
        "New connections one client address may open per minute; more get `421 4.7.0`. 0: no limit.",
        parsers.bounded_integer(0, 1000000, " connections per minute"),
        default=6000,
    ),
    Setting(
        "RELAY_DRAIN_SECONDS",
        "On stop (SIGTERM), how long the relay takes no new mail and hands its queue to SES before "
        "it stops; what is left stays queued and is named in the mail log. 0: stop at once. Keep it "
        "under the orchestrator's stop timeout (ECS `stopTimeout`, `docker stop -t`, compose's "
        "`stop_grace_period`) less about 20 s for the programs to stop.",
        parsers.bounded_integer(0, 3600, " seconds"),
        default=40,
    ),
    Setting(
        "SES_MAX_SEND_RATE",
        "The SES account's maximum send rate, in recipients per second, that the relay paces to; "
        "`auto` reads it from SES (`ses:GetAccount`) at start and every 5 minutes, and adapts to SES's "
        "throttling when the API cannot be reached. Several relays on one account: see README.",
        parsers.send_rate,
        default=None,
        default_doc="`auto`",
    ),
    Setting(
        "SES_EVENTS_QUEUE_URL",
        "SQS queue that SES's configuration-set events reach through SNS. When set, the event logger "
        "writes each event into the mail log; when unset, the appliance is a relay only.",
        parsers.queue_url,
    ),
    Setting(
        "SES_EVENTS_CONCURRENCY",
        "Event logger workers long-polling the queue at once.",
        parsers.bounded_integer(1, 16),
        default=2,
    ),
    Setting(
        "SES_EVENTS_WAIT_SECONDS",
        "Long-poll wait of each SQS receive, in seconds (1-20).",
        parsers.bounded_integer(1, 20, " seconds"),
        default=20,
    ),
    Setting(
        "SES_EVENTS_VISIBILITY_TIMEOUT",
        "Seconds a received event stays hidden from other receivers; an event not logged by then "
        "(syslog down, crash) is received again.",
        parsers.bounded_integer(10, 43200, " seconds"),
        default=60,
    ),
    Setting(
        "SES_EVENTS_VERIFY_SNS_SIGNATURES",
        "`on`: the event logger logs only messages whose SNS signature holds, with the signing "
        "certificate fetched from `https://sns.<region>.amazonaws.com` (reach it on 443); anything else "
        "(forged, altered, unsigned, raw message delivery) gets one `mail.err` line and is left for the "
        "dead-letter queue. `off`: for LocalStack and the local stack only, whose messages AWS never signed.",
        parsers.on_off,
        default=True,
        default_doc="`on`",
    ),
    Setting(
        "LOG_FORMAT",
        "The container's stdout: `classic` (the mail log's own lines) or `json` (one JSON object per "
        "mail-log line: time, program, queue ID, the fields of delivery and event lines, and the line's "
        "text). `/var/log/mail.log` is classic either way.",
        parsers.choice("classic", "json"),
        default="classic",
    ),
    Setting(
        "METRICS_PORT",
        "TCP port of the Prometheus metrics (`/metrics`, every address of the container); unset: no "
        "exporter runs. Publish it only to your monitoring network.",
        parsers.port,
    ),
    Setting(
        "MAIL_LOG_ROTATE_SIZE",
        "Rotate `/var/log/mail.log` when it holds this much: a number of bytes with `k`, `M` or `G` "
        "(1024-based), e.g. `100M`. 0: never by size.",
        parsers.byte_size,
        default=100 * 1024 * 1024,
        default_doc="`100M`",
    ),
    Setting(
        "MAIL_LOG_ROTATE_AGE",
        "Rotate `/var/log/mail.log` when its oldest line is this old: a number with `m`, `h`, `d` or `w`, "
        "e.g. `1d`. 0: never by age.",
        parsers.duration,
        default=86400,
        default_doc="`1d`",
    ),
    Setting(
        "MAIL_LOG_ROTATE_KEEP",
        "Rotated mail logs kept: `mail.log.1`, then `mail.log.2.gz` and up; older ones are deleted.",
        parsers.bounded_integer(1, 1000, " files"),
        default=14,
    ),
    Setting(
        "SECRETS_MANAGER_SECRET_ID",
        "Name or ARN of an AWS Secrets Manager secret: a JSON object whose keys are setting names "
        "(typically `SES_SMTP_USERNAME` and `SES_SMTP_PASSWORD`). Fetched with boto3's default "
        "credential chain; `AWS_ENDPOINT_URL` points it at LocalStack.",
        parsers.secret_id,
        from_secrets_manager=False,
    ),
)

SETTINGS_BY_NAME: dict[str, Setting] = {setting.name: setting for setting in SETTINGS}

# Variables that compose.yaml reads for itself from .env, which Compose also hands to the
# container whole (env_file), so that a misspelt setting in .env is refused rather than ignored.
# The appliance ignores exactly these names; a misspelling of one is refused like any other.
COMPOSE_VARIABLES: dict[str, str] = {
    "SES_RELAY_IMAGE": "The image to run (default the published `ghcr.io/ses-relay/ses-relay:0.1.0`; "
    "the local stack of compose.override.yaml: `ses-relay:latest`, built from this checkout), e.g. your "
    "ECR copy's `…/ses-relay:0.1.0`.",
    "RELAY_PUBLISH": "Where Docker publishes port 25 (default `127.0.0.1:25:25`): the host's private "
    "address for your subnet, e.g. `10.0.1.23:25:25`, or another host port when 25 is taken.",
    "RELAY_LOG_DIR": "The host directory mounted on `/var/log`, which holds the mail log (default `./log`).",
}

SECRET_NAMES = frozenset(setting.name for setting in SETTINGS if setting.secret)


def is_owned_name(name: str) -> bool:
    return name.startswith(OWNED_PREFIXES) or name.removesuffix(FILE_SUFFIX) in UNPREFIXED_NAMES


# Settings outside the owned prefixes (LOG_FORMAT): a variable this close to one is taken for a typo.
UNPREFIXED_NAMES = frozenset(
    setting.name for setting in SETTINGS if not setting.name.startswith(OWNED_PREFIXES)
)


def near_miss(name: str) -> str | None:
    """The unprefixed setting a variable outside the owned prefixes looks like a typo of, if any."""
    if name in UNPREFIXED_NAMES or is_owned_name(name):
        return None
    candidates = sorted(UNPREFIXED_NAMES | {known + FILE_SUFFIX for known in UNPREFIXED_NAMES})
    close = difflib.get_close_matches(name, candidates, n=1, cutoff=NEAR_MISS_CUTOFF)
    return close[0] if close else None
