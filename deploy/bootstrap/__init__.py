"""Create (or check) everything on AWS that ses-relay's event logging needs; safe to run again.

    python -m deploy.bootstrap --name ses-relay --region eu-west-1 --identity example.com \\
        --smtp-username AKIA... --smtp-password-file ./ses-password  > relay.env

Resources, all named after ``--name`` (``NAME`` below), each created when missing, corrected when
it differs, and otherwise left alone (a second run changes nothing):

- SNS topic ``NAME-events``: receives SES's event publishing; its policy lets SES publish for the
  configuration set.
- SQS queue ``NAME-events-dlq``: the dead-letter queue, 14 days' retention; only ``NAME-events``
  may redrive into it.
- SQS queue ``NAME-events``: the logger's queue. Long polling, redrive to the DLQ after
  ``--max-receive-count`` (5) receives, a policy that lets only the topic send (``aws:SourceArn``).
- SNS subscription topic -> queue, raw message delivery off (the logger reads the SNS envelope).
- Secrets Manager secret ``NAME/smtp``: ``SES_SMTP_USERNAME`` and ``SES_SMTP_PASSWORD`` (or
  ``SES_SMTP_SECRET_ACCESS_KEY``), when credentials are given.
- SES identities (``--identity``): domains or addresses to send from; a new domain's DKIM records
  are printed.
- SES configuration set ``NAME-events`` with an SNS event destination ``NAME-sns`` for every event
  type but open and click (those too with ``--track-opens-and-clicks``: SES then adds a tracking
  pixel and rewrites the links of HTML mail).

Standard output is what the appliance needs, as ``KEY=value`` lines for an env file
(``SES_REGION``, ``SES_EVENTS_QUEUE_URL``, ``SES_CONFIGURATION_SET``, ``SECRETS_MANAGER_SECRET_ID``);
what was done goes to standard error. The SMTP password is read from a file or the environment
(``SES_SMTP_PASSWORD``, ``SES_SMTP_SECRET_ACCESS_KEY``), never from the command line, and never
printed. ``AWS_ENDPOINT_URL`` (or ``--endpoint-url``) points it at LocalStack.

One module per job:

- ``desired_state``: what should exist, as plain data (no boto3).
- ``reconcile``: the AWS calls that make AWS match it (``Bootstrap``).
- ``compat``: where LocalStack, or the SES v1 API it has instead of v2, differs from AWS.
- ``__main__``: the command line.
"""

from deploy.bootstrap.compat import SES_V1_EVENT_TYPES, local_queue_url
from deploy.bootstrap.desired_state import (
    SES_V2_EVENT_TYPES,
    DesiredState,
    EventPipelineArns,
    ResourceNames,
    event_types,
    partition_of,
)
from deploy.bootstrap.reconcile import Bootstrap, Options, Result

# The name other code has always imported: every resource's name, not only the event pipeline's.
Names = ResourceNames

__all__ = [
    "SES_V1_EVENT_TYPES",
    "SES_V2_EVENT_TYPES",
    "Bootstrap",
    "DesiredState",
    "EventPipelineArns",
    "Names",
    "Options",
    "ResourceNames",
    "Result",
    "event_types",
    "local_queue_url",
    "partition_of",
]
