"""Checks client-to-adapter DAP requests against the DAP specification's JSON schema.

The schema is ``schema/debugAdapterProtocol.json`` (the specification's own file, see
``schema/README.md``), tightened by ``schema/debugpySafe.json``: the request shapes the
schema allows but that kill pydevd's reader thread in debugpy (docs/debugpy-faults.md).
The relay checks the same two files (src/dap/requestSchema.ts); both read the test
vectors of test/fixtures/dapRequestVectors.json.

A request whose ``command`` has a ``<Command>Request`` definition (``setBreakpoints`` →
``SetBreakpointsRequest``) is checked whole against it; any other command only against
the generic ``Request``. Validators are compiled with fastjsonschema on first use of
each command and kept for the life of the process.

Values are checked as ``json.loads`` made them: an integer field written ``1.0`` is a
float here and is refused (pydevd would use it as a float).
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any, Callable, Dict, Optional, Tuple

import fastjsonschema

SCHEMA_DIR = Path(__file__).resolve().parent / "schema"
"""Where the two schema files ship inside the package."""

_REQUEST = "Request"

_lock = threading.Lock()
_schema: Optional[Dict[str, Any]] = None
_validators: Dict[str, Callable[[Any], Any]] = {}


def validate_request(message: Any) -> Optional[Tuple[str, str]]:
    """``None`` when ``message`` (a parsed DAP request) is valid, else ``(field,
    expected)``: ``field`` is a JSON pointer into the message (``/arguments/breakpoints``,
    ``""`` for the message itself), ``expected`` says what the schema wants there."""
    validate = _validator_for(message)
    try:
        validate(message)
    except fastjsonschema.JsonSchemaValueException as error:
        return _describe(error)
    return None


def _validator_for(message: Any) -> Callable[[Any], Any]:
    with _lock:
        schema = _schema if _schema is not None else _load_schema()
        name = _definition_name(message, schema["definitions"])
        validate = _validators.get(name)
        if validate is None:
            root = {"$schema": schema["$schema"], "definitions": schema["definitions"], "allOf": [{"$ref": f"#/definitions/{name}"}]}
            validate = _validators[name] = fastjsonschema.compile(root)
        return validate


def _definition_name(message: Any, definitions: Dict[str, Any]) -> str:
    command = message.get("command") if isinstance(message, dict) else None
    if not isinstance(command, str) or not command:
        return _REQUEST
    name = command[0].upper() + command[1:] + "Request"
    return name if name in definitions else _REQUEST


def _load_schema() -> Dict[str, Any]:
    global _schema
    dap = json.loads((SCHEMA_DIR / "debugAdapterProtocol.json").read_text("utf-8"))
    overlay = json.loads((SCHEMA_DIR / "debugpySafe.json").read_text("utf-8"))
    _schema = debugpy_safe_schema(dap, overlay)
    return _schema


def debugpy_safe_schema(dap: Dict[str, Any], overlay: Dict[str, Any]) -> Dict[str, Any]:
    """The DAP schema with the debugpy-safe overlay applied, as debugpySafe.json says:
    overlay definitions the DAP schema has are added with ``allOf``, the others are
    added, and every integer node gets the overlay's ``integerRange``."""
    definitions = dict(dap["definitions"])
    for name, extra in overlay["definitions"].items():
        definitions[name] = {"allOf": [definitions[name], extra]} if name in definitions else extra
    bounds = {key: overlay["integerRange"][key] for key in ("minimum", "maximum")}
    return _bound_integers(dict(dap, definitions=definitions), bounds)


def _bound_integers(node: Any, bounds: Dict[str, int]) -> Any:
    if isinstance(node, list):
        return [_bound_integers(item, bounds) for item in node]
    if not isinstance(node, dict):
        return node
    copy = {key: _bound_integers(value, bounds) for key, value in node.items()}
    if copy.get("type") == "integer":
        copy.update(bounds)
    return copy


def _describe(error: fastjsonschema.JsonSchemaValueException) -> Tuple[str, str]:
    segments = [_escape(str(part)) for part in (error.path or [])[1:]]  # [0] is "data"
    expected = error.message
    if error.name and expected.startswith(error.name + " "):
        expected = expected[len(error.name) + 1 :]
    if error.rule == "required" and isinstance(error.value, dict):
        missing = next((key for key in error.rule_definition if key not in error.value), None)
        if missing is not None:
            segments.append(_escape(missing))
            expected = "is required"
    return ("".join("/" + segment for segment in segments), expected)


def _escape(segment: str) -> str:
    """RFC 6901 escaping of one JSON pointer segment."""
    return segment.replace("~", "~0").replace("/", "~1")
