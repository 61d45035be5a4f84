"""The lean JSON views (`vocsite.json_api`) in the OpenAPI schema: a drf-spectacular
postprocessing hook (SPECTACULAR_SETTINGS) that finds every routed view carrying an
`Operation` as `view.openapi` and adds its path, taking the request and reply schemas from
the very `msgspec.Struct` types the view validates with.

msgspec writes JSON Schema 2020-12; the document is OpenAPI 3.0, so `X | None` (an `anyOf`
with `{"type": "null"}`) becomes `nullable: true`.
"""

from __future__ import annotations

import re
from typing import Any

import msgspec
from django.urls import URLPattern, URLResolver, get_resolver

from vocsite.json_api import Operation

_CONVERTER_FORMATS = {"uuid": {"type": "string", "format": "uuid"}, "int": {"type": "integer"}}
_PARAMETER = re.compile(r"<(?:(?P<converter>[^>:]+):)?(?P<name>\w+)>")

PUBLIC_KEY_SCHEME = {
    "type": "apiKey",
    "in": "query",
    "name": "key",
    "description": "The project's public key (pk_…), in the query or in the JSON body as `key`.",
}


def lean_operations(patterns=None, prefix: str = "") -> list[tuple[str, Operation]]:
    """(route, operation) of every routed view that declares one, in URL order."""
    found = []
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            found += lean_operations(pattern.url_patterns, route)
        elif isinstance(pattern, URLPattern):
            operation = getattr(pattern.callback, "openapi", None)
            if isinstance(operation, Operation):
                found.append((route, operation))
    return found


def add_lean_operations(result: dict, generator, request, public) -> dict:
    """drf-spectacular postprocessing hook: document the lean views."""
    operations = lean_operations()
    types = {
        kind
        for _, operation in operations
        for kind in (
            operation.request,
            *(reply.body for reply in operation.responses.values()),
        )
        if kind is not None
    }
    _, components = msgspec.json.schema_components(
        sorted(types, key=lambda t: t.__name__), ref_template="#/components/schemas/{name}"
    )
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    for name, schema in components.items():
        schemas[name] = openapi_30(schema)
    result["components"].setdefault("securitySchemes", {})["publicKey"] = PUBLIC_KEY_SCHEME
    paths = result.setdefault("paths", {})
    for route, operation in operations:
        path, parameters = _path(route)
        paths.setdefault(path, {})[operation.method.lower()] = _operation(operation, parameters)
    return result


def _path(route: str) -> tuple[str, list[dict]]:
    parameters = [
        {
            "in": "path",
            "name": found["name"],
            "schema": _CONVERTER_FORMATS.get(found["converter"] or "", {"type": "string"}),
            "required": True,
        }
        for found in _PARAMETER.finditer(route)
    ]
    return "/" + _PARAMETER.sub(r"{\g<name>}", route), parameters


def _reference(kind: type) -> dict:
    return {"$ref": f"#/components/schemas/{kind.__name__}"}


def _operation(operation: Operation, parameters: list[dict]) -> dict:
    parameters = parameters + [
        {
            "in": "query",
            "name": name,
            "schema": {"type": "string"},
            "description": text,
            "required": True,
        }
        for name, text in operation.query.items()
    ]
    described: dict[str, Any] = {
        "operationId": operation.operation_id,
        "description": operation.description,
    }
    if parameters:
        described["parameters"] = parameters
    described["tags"] = list(operation.tags)
    if operation.request is not None:
        described["requestBody"] = {
            "content": {"application/json": {"schema": _reference(operation.request)}},
            "required": True,
        }
    described["security"] = [{name: []} for name in operation.security]
    described["responses"] = {
        str(status): (
            {"description": reply.description or "No response body"}
            if reply.body is None
            else {
                "content": {"application/json": {"schema": _reference(reply.body)}},
                "description": reply.description,
            }
        )
        for status, reply in operation.responses.items()
    }
    return described


def openapi_30(schema: Any) -> Any:
    """A JSON Schema (2020-12) from msgspec as OpenAPI 3.0 reads it."""
    if isinstance(schema, list):
        return [openapi_30(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    converted = {key: openapi_30(value) for key, value in schema.items()}
    options = converted.get("anyOf")
    if options and {"type": "null"} in options:
        rest = [option for option in options if option != {"type": "null"}]
        del converted["anyOf"]
        if len(rest) == 1:
            converted.update(rest[0])
        else:
            converted["anyOf"] = rest
        converted["nullable"] = True
    if "enum" in converted and "type" not in converted:
        values = converted["enum"]
        if all(isinstance(value, str) for value in values):
            converted["type"] = "string"
    return converted
