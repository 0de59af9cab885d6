"""A JSON-schema contract checker for Amazon's SP-API models (Swagger 2.0), used by tests only.

    assert_matches_model("reports_2021-06-30.json", "getReports", status, body)

finds the operation's response schema for the status code in the model, turns the Swagger 2.0
schema bits into JSON Schema (draft 4, which Swagger 2.0 schemas are based on: `x-*` vendor keys,
`example` and `discriminator` dropped; `format` ignored except `date-time`, checked as RFC 3339)
with the model's `definitions` resolvable, and validates the body.

Strict mode (the default) also closes every object schema that lists properties with
`additionalProperties: false` (merging `allOf` parts first), so a response carrying any field the
model does not define fails. That is a check on the sandbox, which we control; Amazon's real
responses are looser than their models and would be checked with strict=False.

The models are read from SPAPI_MODELS_DIR (default ../shared/spapi-models next to the project);
they are never copied into the project.
"""

from __future__ import annotations

import copy
import json
import os
import re
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_MODELS_DIR = (ROOT / ".." / "shared" / "spapi-models").resolve()
METHODS = ("get", "put", "post", "delete", "patch", "head", "options")
_DROPPED = {"example", "discriminator", "description", "title", "readOnly", "externalDocs", "xml"}
_MAPS = {"properties", "definitions", "patternProperties"}  # keys are names, not keywords
_DATE_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})")

FORMATS = jsonschema.FormatChecker(formats=())


@FORMATS.checks("date-time")
def _is_date_time(value: object) -> bool:
    return not isinstance(value, str) or _DATE_TIME.fullmatch(value) is not None


class ContractError(AssertionError):
    """A response that does not match Amazon's model."""


def models_dir() -> Path:
    return Path(os.environ.get("SPAPI_MODELS_DIR") or DEFAULT_MODELS_DIR).resolve()


@cache
def load_model(name: str) -> dict[str, Any]:
    path = models_dir() / name
    if not path.is_file():
        raise FileNotFoundError(f"Amazon's model {name} is not in {models_dir()}; set SPAPI_MODELS_DIR to the "
                                "models folder of a checkout of amzn/selling-partner-api-models.")
    return json.loads(path.read_text(encoding="utf-8"))


def model_files() -> list[str]:
    return sorted(p.name for p in models_dir().glob("*.json"))


def operations(model: dict[str, Any]) -> dict[str, tuple[str, str, dict[str, Any]]]:
    """operationId -> (METHOD, path template, operation object) for one model."""
    found = {}
    for path, item in model.get("paths", {}).items():
        for method, operation in item.items():
            if method in METHODS and isinstance(operation, dict) and "operationId" in operation:
                found[operation["operationId"]] = (method.upper(), path, operation)
    return found


def find_operation(method: str, template: str) -> tuple[str, str] | None:
    """(model file, operationId) serving `METHOD template`, searched over every model file."""
    for name in model_files():
        for operation_id, (op_method, path, _) in operations(load_model(name)).items():
            if op_method == method.upper() and path == template:
                return name, operation_id
    return None


def convert(schema: Any) -> Any:
    """Swagger 2.0 schema -> JSON Schema: drop vendor extensions and annotations, keep the rest."""
    if isinstance(schema, list):
        return [convert(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key.startswith("x-") or key in _DROPPED:
            continue
        if key == "format" and value != "date-time":
            continue
        if key in _MAPS and isinstance(value, dict):
            out[key] = {name: convert(sub) for name, sub in value.items()}
        else:
            out[key] = convert(value)
    return out


def _resolve(schema: dict[str, Any], definitions: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = definitions[schema["$ref"].split("/")[-1]]
    return schema


def close_objects(schema: Any, definitions: dict[str, Any]) -> Any:
    """Strict mode: `additionalProperties: false` on every object schema that lists its properties."""
    if isinstance(schema, list):
        return [close_objects(item, definitions) for item in schema]
    if not isinstance(schema, dict):
        return schema
    schema = dict(schema)
    if "allOf" in schema and all("properties" in _resolve(p, definitions) or "$ref" in p
                                 for p in schema["allOf"]):
        parts = [_resolve(p, definitions) for p in schema.pop("allOf")]
        merged_props: dict[str, Any] = dict(schema.get("properties", {}))
        merged_required: list[str] = list(schema.get("required", []))
        for part in parts:
            merged_props.update(part.get("properties", {}))
            merged_required += [r for r in part.get("required", []) if r not in merged_required]
        schema.update({"type": "object", "properties": merged_props})
        if merged_required:
            schema["required"] = merged_required
    for key, value in list(schema.items()):
        if key in _MAPS and isinstance(value, dict):
            schema[key] = {name: close_objects(sub, definitions) for name, sub in value.items()}
        elif isinstance(value, dict | list):
            schema[key] = close_objects(value, definitions)
    if "properties" in schema and "additionalProperties" not in schema:
        schema["additionalProperties"] = False
    return schema


@cache
def _validator(model_name: str, operation_id: str, status: int, strict: bool) -> jsonschema.Draft4Validator | None:
    model = load_model(model_name)
    ops = operations(model)
    if operation_id not in ops:
        raise ContractError(f"{model_name} has no operation {operation_id!r}")
    responses = ops[operation_id][2]["responses"]
    response = responses.get(str(status)) or responses.get("default")
    if response is None:
        raise ContractError(f"{model_name} {operation_id}: the model defines no response for HTTP {status} "
                            f"(it defines {', '.join(sorted(responses))})")
    if "schema" not in response:
        return None
    definitions = convert(model.get("definitions", {}))
    root = {"definitions": definitions, "allOf": [convert(copy.deepcopy(response["schema"]))]}
    if strict:
        root = {"definitions": {name: close_objects(d, definitions) for name, d in definitions.items()},
                "allOf": close_objects(root["allOf"], definitions)}
    return jsonschema.Draft4Validator(root, format_checker=FORMATS)


def contract_errors(model_name: str, operation_id: str, status: int, body: Any, strict: bool = True) -> list[str]:
    """Every way `body` departs from the model's response for `status` (empty when it matches)."""
    validator = _validator(model_name, operation_id, status, strict)
    if validator is None:
        return [] if body in (None, b"", "", {}) else [f"the model defines no body for HTTP {status}"]
    errors = sorted(validator.iter_errors(body), key=lambda e: list(e.absolute_path))
    return [f"at /{'/'.join(str(p) for p in error.absolute_path)}: {error.message}" for error in errors]


def assert_matches_model(model_name: str, operation_id: str, status: int, body: Any, strict: bool = True) -> None:
    """Fail with every difference if `body` is not what the model says `operation_id` answers with `status`."""
    problems = contract_errors(model_name, operation_id, status, body, strict)
    if problems:
        shown = "\n  ".join(problems[:20])
        more = f"\n  ... and {len(problems) - 20} more" if len(problems) > 20 else ""
        raise ContractError(f"{model_name} {operation_id} HTTP {status}: the response does not match the "
                            f"model:\n  {shown}{more}")
