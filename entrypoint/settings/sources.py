"""Collect raw setting values from their three sources, in order of precedence.

1. the environment variable ``NAME``;
2. the file named by ``NAME_FILE`` (Docker and Compose secrets; one trailing newline is dropped);
3. a key ``NAME`` in the JSON secret named by ``SECRETS_MANAGER_SECRET_ID``;
4. the schema's default.

Setting both ``NAME`` and ``NAME_FILE`` is an error: the operator meant one of them and we cannot
know which. An empty variable counts as unset, as Compose's ``${VAR:-}`` produces them.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from entrypoint.settings.schema import (
    COMPOSE_VARIABLES,
    FILE_SUFFIX,
    SETTINGS_BY_NAME,
    is_owned_name,
    near_miss,
)

SECRET_ID = "SECRETS_MANAGER_SECRET_ID"  # noqa: S105 - the setting's name, not a secret


@dataclass(frozen=True)
class RawValue:
    value: str
    source: str


@dataclass(frozen=True)
class Problem:
    name: str
    message: str

    def __str__(self) -> str:
        return f"{self.name}: {self.message}"


SecretFetcher = Callable[[str, str | None], str]


def did_you_mean(name: str) -> str:
    candidates = [*SETTINGS_BY_NAME, *(known + FILE_SUFFIX for known in SETTINGS_BY_NAME), *COMPOSE_VARIABLES]
    close = difflib.get_close_matches(name, candidates, n=1, cutoff=0.75)
    return f"; did you mean {close[0]}?" if close else ""


def _read_setting_file(path: str) -> str:
    with open(path, encoding="utf-8") as handle:
        content = handle.read()
    # Editors and `echo` add a final newline; one is never part of the value.
    if content.endswith("\r\n"):
        return content[:-2]
    return content.removesuffix("\n")


def _from_environment(environ: Mapping[str, str]) -> tuple[dict[str, RawValue], list[Problem]]:
    values: dict[str, RawValue] = {}
    problems: list[Problem] = []
    for variable in sorted(environ):
        if not is_owned_name(variable) and environ[variable] != "" and (typo_of := near_miss(variable)):
            problems.append(Problem(variable, f"unknown setting; did you mean {typo_of}?"))
            continue
        if not is_owned_name(variable) or environ[variable] == "" or variable in COMPOSE_VARIABLES:
            continue
        if variable in SETTINGS_BY_NAME:
            values[variable] = RawValue(environ[variable], "environment")
            continue
        base = variable.removesuffix(FILE_SUFFIX)
        if variable.endswith(FILE_SUFFIX) and base in SETTINGS_BY_NAME:
            if environ.get(base):
                problems.append(Problem(base, f"both {base} and {variable} are set; set only one"))
                continue
            path = environ[variable]
            try:
                values[base] = RawValue(_read_setting_file(path), f"file {path}")
            except (OSError, UnicodeDecodeError) as error:
                reason = error.strerror if isinstance(error, OSError) else "it is not UTF-8 text"
                problems.append(Problem(variable, f"cannot read {path!r}: {reason}"))
            continue
        problems.append(Problem(variable, f"unknown setting{did_you_mean(variable)}"))
    return values, problems


def _secret_region(secret_id: str, environ: Mapping[str, str]) -> str | None:
    for variable in ("AWS_REGION", "AWS_DEFAULT_REGION"):
        if environ.get(variable):
            return environ[variable]
    if secret_id.startswith("arn:"):
        parts = secret_id.split(":")
        if len(parts) > 3 and parts[3]:
            return parts[3]
    return environ.get("SES_REGION") or None


def fetch_secret_string(secret_id: str, region: str | None) -> str:
    """Read a secret with boto3's default credential chain (env, instance role, task role)."""
    import boto3  # Imported here: it costs ~0.3 s at start-up and most users have no secret.
    import botocore.exceptions

    try:
        client = boto3.client("secretsmanager", region_name=region)
        response = client.get_secret_value(SecretId=secret_id)
    except botocore.exceptions.NoRegionError:
        raise LookupError("no AWS region: set AWS_REGION, or SES_REGION, or use the secret's ARN") from None
    except botocore.exceptions.NoCredentialsError:
        raise LookupError("no AWS credentials (instance role, task role or AWS_* variables)") from None
    except botocore.exceptions.ClientError as error:
        code = error.response.get("Error", {}).get("Code", "error")
        raise LookupError(f"Secrets Manager refused: {code}") from None
    except botocore.exceptions.BotoCoreError as error:
        raise LookupError(f"cannot reach Secrets Manager: {type(error).__name__}") from None
    if "SecretString" not in response:
        raise LookupError("the secret is binary; store a JSON object of setting names instead")
    return response["SecretString"]


def _from_secret(secret_string: str, already_set: Mapping[str, RawValue]) -> tuple[dict, list[Problem]]:
    values: dict[str, RawValue] = {}
    problems: list[Problem] = []
    try:
        document = json.loads(secret_string)
    except ValueError:
        # The text may be a bare password: say nothing about its content.
        return {}, [Problem(SECRET_ID, "the secret is not a JSON object of setting names")]
    if not isinstance(document, dict):
        return {}, [Problem(SECRET_ID, "the secret is not a JSON object of setting names")]
    for key in sorted(document):
        setting = SETTINGS_BY_NAME.get(key)
        if setting is None or not setting.from_secrets_manager:
            problems.append(Problem(SECRET_ID, f"the secret has an unknown key {key!r}{did_you_mean(key)}"))
            continue
        value = document[key]
        if isinstance(value, bool) or not isinstance(value, str | int):
            problems.append(Problem(SECRET_ID, f"the secret's key {key} must hold a string"))
            continue
        if key not in already_set:
            values[key] = RawValue(str(value), "Secrets Manager")
    return values, problems


def collect(
    environ: Mapping[str, str], fetch_secret: SecretFetcher = fetch_secret_string
) -> tuple[dict[str, RawValue], list[Problem]]:
    """Every raw value by setting name, with where it came from, and every problem found."""
    values, problems = _from_environment(environ)
    secret = values.get(SECRET_ID)
    if secret is not None:
        secret_id = secret.value.strip()
        try:
            secret_string = fetch_secret(secret_id, _secret_region(secret_id, environ))
        except LookupError as error:
            problems.append(Problem(SECRET_ID, f"cannot read secret {secret_id!r}: {error}"))
        else:
            from_secret, secret_problems = _from_secret(secret_string, values)
            values.update(from_secret)
            problems.extend(secret_problems)
    return values, problems


def describe_sources(raw: Mapping[str, RawValue]) -> list[str]:
    """One line per setting naming where it came from; never its value."""
    return [f"{name} from {raw[name].source}" for name in SETTINGS_BY_NAME if name in raw]
