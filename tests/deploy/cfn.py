"""Read the CloudFormation template the way CloudFormation does, for the deploy tests.

`load` parses the YAML short forms (!Ref, !Sub, ...) into their long forms. `Stack` takes one set of
parameter values, evaluates the Conditions, and either only picks the branches of Fn::If
(`select`, which keeps Ref/GetAtt/Sub as written so that tests can see what a value refers to) or
resolves everything to plain values (`resolve`, with recognisable stand-ins for what only
CloudFormation knows: `ref:<LogicalId>` and `getatt:<LogicalId>.<Attribute>`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[2]
TEMPLATE = REPO / "deploy/cloudformation/ses-relay.yaml"

# Values for the parameters without a default, as an operator would pass them.
REQUIRED_PARAMETERS = {
    "VpcId": "vpc-0123456789abcdef0",
    "PrivateSubnetIds": "subnet-0123456789abcdef0,subnet-0123456789abcdef1",
    "AllowedClientCidr": "10.20.0.0/16",
    "SendingDomain": "example.com",
    "ImageUri": "123456789012.dkr.ecr.us-east-1.amazonaws.com/ses-relay:1.0.0",
}
PSEUDO_PARAMETERS = {
    "AWS::AccountId": "123456789012",
    "AWS::Region": "us-east-1",
    "AWS::Partition": "aws",
    "AWS::StackName": "ses-relay",
    "AWS::URLSuffix": "amazonaws.com",
}


class _NoValue:
    """AWS::NoValue: the property or list element disappears."""


NO_VALUE = _NoValue()


class _Loader(yaml.SafeLoader):
    pass


def _construct_tag(loader: yaml.SafeLoader, tag_suffix: str, node: yaml.Node) -> dict[str, Any]:
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    if tag_suffix in ("Ref", "Condition"):
        return {tag_suffix: value}
    if tag_suffix == "GetAtt" and isinstance(value, str):
        value = value.split(".", 1)
    return {f"Fn::{tag_suffix}": value}


_Loader.add_multi_constructor("!", _construct_tag)


def load(path: Path = TEMPLATE) -> dict[str, Any]:
    return yaml.load(path.read_text(encoding="utf-8"), Loader=_Loader)  # noqa: S506 (a SafeLoader subclass)


def intrinsic(node: Any) -> tuple[str, Any] | None:
    """(function, argument) when node is a one-key intrinsic function or Ref, else None."""
    if isinstance(node, dict) and len(node) == 1:
        ((key, value),) = node.items()
        if key == "Ref" or key == "Condition" or key.startswith("Fn::"):
            return key, value
    return None


class Stack:
    """The template as CloudFormation sees it for one set of parameter values."""

    def __init__(self, template: Mapping[str, Any], **overrides: str) -> None:
        self.template = template
        self.parameters: dict[str, Any] = {}
        for name, spec in template["Parameters"].items():
            raw = overrides.get(name, REQUIRED_PARAMETERS.get(name, spec.get("Default")))
            if raw is None:
                raise KeyError(f"parameter {name} has no default and no test value")
            self.parameters[name] = self._typed(spec["Type"], str(raw))
        unknown = set(overrides) - set(template["Parameters"])
        if unknown:
            raise KeyError(f"unknown parameters {sorted(unknown)}")
        self.conditions: dict[str, bool] = {}
        for name in template.get("Conditions", {}):
            self.condition(name)

    @staticmethod
    def _typed(kind: str, raw: str) -> Any:
        if kind == "Number":
            return float(raw) if "." in raw else int(raw)
        if kind.startswith("List<") or kind == "CommaDelimitedList":
            return raw.split(",")
        return raw

    def condition(self, name: str) -> bool:
        if name not in self.conditions:
            self.conditions[name] = self._evaluate(self.template["Conditions"][name])
        return self.conditions[name]

    def _evaluate(self, node: Any) -> bool:
        function, argument = intrinsic(node) or (None, None)
        if function == "Fn::Equals":
            left, right = (self.resolve(item) for item in argument)
            return str(left) == str(right)
        if function == "Fn::Not":
            return not self._evaluate(argument[0])
        if function == "Fn::And":
            return all(self._evaluate(item) for item in argument)
        if function == "Fn::Or":
            return any(self._evaluate(item) for item in argument)
        if function == "Condition":
            return self.condition(argument)
        raise ValueError(f"not a condition: {node!r}")

    def resources(self) -> dict[str, dict[str, Any]]:
        """The resources this stack creates, with Fn::If branches picked."""
        return {
            name: self.select(resource)
            for name, resource in self.template["Resources"].items()
            if "Condition" not in resource or self.condition(resource["Condition"])
        }

    def of_type(self, resource_type: str) -> dict[str, dict[str, Any]]:
        return {name: r for name, r in self.resources().items() if r["Type"] == resource_type}

    def select(self, node: Any) -> Any:
        """Pick Fn::If branches and drop AWS::NoValue; leave every other function as written."""
        call = intrinsic(node)
        if call and call[0] == "Fn::If":
            name, if_true, if_false = call[1]
            return self.select(if_true if self.condition(name) else if_false)
        if call and call == ("Ref", "AWS::NoValue"):
            return NO_VALUE
        if isinstance(node, dict):
            selected = {key: self.select(value) for key, value in node.items()}
            return {key: value for key, value in selected.items() if value is not NO_VALUE}
        if isinstance(node, list):
            return [item for item in (self.select(value) for value in node) if item is not NO_VALUE]
        return node

    def resolve(self, node: Any) -> Any:
        """Every function evaluated; resources become `ref:<Id>` / `getatt:<Id>.<Attr>`."""
        node = self.select(node)
        call = intrinsic(node)
        if call:
            function, argument = call
            if function == "Ref":
                return self._ref(argument)
            if function == "Fn::GetAtt":
                return f"getatt:{argument[0]}.{argument[1]}"
            if function == "Fn::Sub":
                text, variables = (argument, {}) if isinstance(argument, str) else argument
                return self._sub(text, {k: self.resolve(v) for k, v in variables.items()})
            if function == "Fn::Join":
                separator, items = argument
                return separator.join(str(item) for item in self.resolve(items))
            if function == "Fn::Select":
                index, items = argument
                return self.resolve(items)[int(self.resolve(index))]
            if function == "Fn::Split":
                separator, text = argument
                return str(self.resolve(text)).split(separator)
            raise ValueError(f"the test resolver does not know {function}")
        if isinstance(node, dict):
            return {key: self.resolve(value) for key, value in node.items()}
        if isinstance(node, list):
            return [self.resolve(item) for item in node]
        return node

    def _ref(self, name: str) -> Any:
        if name in self.parameters:
            return self.parameters[name]
        if name in PSEUDO_PARAMETERS:
            return PSEUDO_PARAMETERS[name]
        if name in self.resources():
            return f"ref:{name}"
        raise KeyError(f"Ref to {name}, which this stack does not have")

    def _sub(self, text: str, variables: Mapping[str, Any]) -> str:
        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name in variables:
                return str(variables[name])
            if "." in name:
                resource, attribute = name.split(".", 1)
                if resource not in self.resources():
                    raise KeyError(f"${{{name}}}: no resource {resource}")
                return f"getatt:{resource}.{attribute}"
            return str(self._ref(name))

        return re.sub(r"\$\{([^}!][^}]*)\}", replace, text)
