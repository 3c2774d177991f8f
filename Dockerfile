# ses-relay: Postfix relay to Amazon SES, rsyslog and the SES event logger under supervisord.

# tcp_nodelay.so (tcp_nodelay/tcp_nodelay.c), built in a stage of its own: no compiler in the image.
FROM debian:bookworm-slim AS tcp-nodelay
# hadolint ignore=DL3008
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends gcc libc6-dev \
 && rm -rf /var/lib/apt/lists/*
COPY tcp_nodelay/tcp_nodelay.c /src/
RUN gcc -O2 -shared -fPIC -Wall -Wextra -Werror -o /tcp_nodelay.so /src/tcp_nodelay.c -ldl

FROM debian:bookworm-slim

SHELL ["/bin/bash", "-o", "pipefail", "-c"]

# Debian's packages follow bookworm's security updates; pinning their versions would break the
# build the day an update replaces them, so the base release is the pin.
# hadolint ignore=DL3008
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      postfix libsasl2-modules ca-certificates rsyslog python3 python3-venv \
 && apt-get clean \
 && rm -rf /var/lib/apt/lists/* \
 # Debian's defaults are replaced by our templates at every start.
 && rm -f /etc/postfix/main.cf /etc/postfix/master.cf /etc/rsyslog.conf /etc/rsyslog.d/*.conf

# The Python package first, so a change to rootfs/ does not reinstall it. The optional
# pip_cert secret is a CA bundle for builds behind a TLS-intercepting proxy.
COPY pyproject.toml constraints.txt README.md /src/
COPY entrypoint/ /src/entrypoint/
COPY ses_events/ /src/ses_events/
COPY ses_pacer/ /src/ses_pacer/
COPY ses_relay_ops/ /src/ses_relay_ops/
COPY ses_check/ /src/ses_check/
RUN --mount=type=secret,id=pip_cert,required=false \
    if [ -s /run/secrets/pip_cert ]; then export PIP_CERT=/run/secrets/pip_cert; fi; \
    python3 -m venv /opt/venv \
 && /opt/venv/bin/pip install --no-cache-dir --disable-pip-version-check -c /src/constraints.txt /src \
 && /opt/venv/bin/pip uninstall --yes --quiet pip setuptools \
 && rm -rf /src \
 # botocore carries the models of ~450 AWS services; the appliance calls SQS, Secrets Manager and
 # SES (v2 GetAccount; v1 GetIdentityVerificationAttributes for the start-up check), and its
 # credential chain STS and SSO. The rest is a third of the image.
 && botocore_data=$(/opt/venv/bin/python3 -c 'import botocore, os; print(os.path.dirname(botocore.__file__))')/data \
 && find "$botocore_data" -mindepth 1 -maxdepth 1 -type d \
      ! -name sqs ! -name secretsmanager ! -name sesv2 ! -name ses ! -name sts ! -name sso ! -name sso-oidc ! -name signin \
      -exec rm -rf {} +

COPY rootfs/ /
# Postfix's daemons load it (main.cf, import_environment): Nagle's algorithm off towards SES.
COPY --from=tcp-nodelay /tcp_nodelay.so /usr/lib/ses-relay/tcp_nodelay.so

ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1

# The queue survives a container restart, and so do the mail log and the event logger's state.
VOLUME ["/var/spool/postfix", "/var/log"]
EXPOSE 25

HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 CMD ["ses-relay-healthcheck"]
# supervisord stops the event logger, then Postfix, then rsyslog on SIGTERM.
STOPSIGNAL SIGTERM
ENTRYPOINT ["ses-relay-entrypoint"]
CMD []
