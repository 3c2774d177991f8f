"""Drive the real ses-relay image with the Docker CLI.

Containers use the host's network so that every connection stays on loopback: the appliance
listens on a free port (RELAY_LISTEN_PORT) and reaches the stand-ins on 127.0.0.1, under the
names given with --add-host, just as a user's extra_hosts entries would.
"""

from __future__ import annotations

import ipaddress
import json
import os
import re
import subprocess
from collections.abc import Iterable, Mapping
from pathlib import Path

from devstack.net import LOOPBACK, free_port, wait_for_banner
from tests.harness.waiting import wait_until

DOCKER = os.environ.get("DOCKER", "docker")
IMAGE = os.environ.get("SES_RELAY_IMAGE", "ses-relay:test")
SES_SMTP_NAME = "ses-smtp.test"
MAIL_LOG = "/var/log/mail.log"
# boto3's credential chain would ask the EC2 instance-metadata address when a container has no
# credentials (the pacer reads SES's rate with SES_MAX_SEND_RATE=auto): never from a test.
NOTHING_LEAVES_THE_MACHINE = {"AWS_EC2_METADATA_DISABLED": "true"}


def docker(*args: str, env: Mapping[str, str] | None = None, check: bool = True, timeout: float = 120):
    return subprocess.run(
        [DOCKER, *args],
        capture_output=True,
        text=True,
        check=check,
        timeout=timeout,
        env={**os.environ, **(env or {})},
    )


def docker_bridge_address() -> str:
    """The host's address on Docker's default bridge (docker0), which containers on any bridge
    network reach: where a server they must reach listens, when loopback is out of their reach."""
    inspected = docker("network", "inspect", "bridge", "--format", "{{json (index .IPAM.Config 0)}}")
    config = json.loads(inspected.stdout)
    # The engine records no gateway for its default subnet; it is the subnet's first address.
    return config.get("Gateway") or str(next(ipaddress.ip_network(config["Subnet"]).hosts()))


def _run_arguments(
    settings: Mapping[str, str], mounts: Iterable[tuple[Path, str]], extra_hosts: Mapping[str, str]
) -> list[str]:
    arguments = ["--network", "host"]
    for name, address in extra_hosts.items():
        arguments += ["--add-host", f"{name}:{address}"]
    for source, target in mounts:
        arguments += ["--volume", f"{source}:{target}:ro"]
    # "-e NAME" without a value takes it from our environment: no secret on a command line.
    for name in settings:
        arguments += ["--env", name]
    return arguments


def run_once(
    settings: Mapping[str, str],
    command: Iterable[str] = (),
    mounts: Iterable[tuple[Path, str]] = (),
    timeout: float = 120,
) -> subprocess.CompletedProcess:
    """Run the image in the foreground until it exits (for configuration errors and CLI commands)."""
    settings = {**NOTHING_LEAVES_THE_MACHINE, **settings}
    arguments = _run_arguments(settings, mounts, {SES_SMTP_NAME: LOOPBACK})
    return docker("run", "--rm", *arguments, IMAGE, *command, env=settings, check=False, timeout=timeout)


class Appliance:
    """One running container of the image; use as a context manager."""

    def __init__(
        self,
        settings: Mapping[str, str],
        mounts: Iterable[tuple[Path, str]] = (),
        extra_hosts: Mapping[str, str] | None = None,
        volumes: Iterable[tuple[str, str]] = (),
        docker_args: Iterable[str] = (),
    ):
        """``docker_args``: more ``docker run`` options as given, e.g. ``--tmpfs /var/log:size=4m``."""
        self.port = int(settings.get("RELAY_LISTEN_PORT") or free_port())
        self.settings = {"RELAY_LISTEN_PORT": str(self.port), **NOTHING_LEAVES_THE_MACHINE, **settings}
        self._mounts = list(mounts)
        self._extra_hosts = extra_hosts if extra_hosts is not None else {SES_SMTP_NAME: LOOPBACK}
        self._volumes = list(volumes)
        self._docker_args = list(docker_args)
        self.container_id: str | None = None

    def start(self, wait: bool = True) -> Appliance:
        arguments = _run_arguments(self.settings, self._mounts, self._extra_hosts)
        for volume, target in self._volumes:
            arguments += ["--volume", f"{volume}:{target}"]
        arguments += self._docker_args
        result = docker("run", "--detach", *arguments, IMAGE, env=self.settings)
        self.container_id = result.stdout.strip()
        if wait:
            self.wait_until_ready()
        return self

    def wait_until_ready(self, timeout: float = 60) -> None:
        try:
            wait_for_banner(self.port, timeout=timeout)
        except TimeoutError as error:
            raise TimeoutError(f"{error}\n--- container output ---\n{self.logs()}") from None

    def __enter__(self) -> Appliance:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.remove()

    def remove(self) -> None:
        if self.container_id:
            docker("rm", "--force", "--volumes", self.container_id, check=False)
            self.container_id = None

    def stop(self, timeout: int = 30) -> int:
        docker("stop", "--time", str(timeout), self.container_id, timeout=timeout + 30)
        return self.exit_code()

    def exit_code(self) -> int:
        inspected = docker("inspect", "--format", "{{.State.ExitCode}}", self.container_id)
        return int(inspected.stdout.strip())

    def is_running(self) -> bool:
        inspected = docker("inspect", "--format", "{{.State.Running}}", self.container_id)
        return inspected.stdout.strip() == "true"

    def logs(self) -> str:
        result = docker("logs", self.container_id, check=False)
        return result.stdout + result.stderr

    def exec(self, *command: str, check: bool = True) -> subprocess.CompletedProcess:
        return docker("exec", self.container_id, *command, check=check)

    def mail_log(self) -> str:
        return self.exec("cat", MAIL_LOG, check=False).stdout

    def wait_for_mail_log(self, pattern: str, timeout: float = 30) -> re.Match[str]:
        compiled = re.compile(pattern, re.MULTILINE)
        try:
            return wait_until(lambda: compiled.search(self.mail_log()), timeout, f"{pattern!r} in {MAIL_LOG}")
        except AssertionError as error:
            raise AssertionError(f"{error}:\n{self.mail_log()}") from None
