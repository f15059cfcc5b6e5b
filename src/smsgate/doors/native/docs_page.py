"""The native API's human docs page (/api/v1/docs), written from its own OpenAPI document: every
operation with its summary, parameters, body and answers, and every schema's fields, as plain
HTML with no script and nothing loaded from elsewhere, so it reads the same on a gateway with no
way out to the internet. Swagger UI (to try requests) is at /api/v1/docs/try; it loads its
script from a CDN.
"""

from __future__ import annotations

from html import escape
from typing import Any

Json = dict[str, Any]

_STYLE = """
body{font:15px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222}
code,.path{font-family:ui-monospace,monospace}
h2{margin-top:2.5rem;border-bottom:1px solid #ccc}
h3{margin:1.8rem 0 .3rem}.method{display:inline-block;min-width:4.2rem;font-weight:600}
table{border-collapse:collapse;margin:.4rem 0 1rem;width:100%}
th,td{text-align:left;vertical-align:top;border-bottom:1px solid #eee;padding:.2rem .5rem}
th{font-weight:600}.muted{color:#666}nav a{margin-right:.8rem}
"""


def render(doc: Json) -> str:
    info = doc.get("info", {})
    title = escape(str(info.get("title", "API")))
    out = [
        "<!doctype html><html lang=en><head><meta charset=utf-8>",
        f"<title>{title}</title><style>{_STYLE}</style></head><body>",
        f"<h1>{title} <span class=muted>v{escape(str(info.get('version', '')))}</span></h1>",
        f"<p>{escape(str(info.get('summary', '')))}</p>",
        "<p>Every request carries <code>Authorization: Bearer &lt;token&gt;</code>. Errors are "
        "RFC 9457 problems (<code>application/problem+json</code>) naming the field at fault. "
        "Every answer carries <code>RateLimit-Limit</code>, <code>RateLimit-Remaining</code> "
        "and <code>RateLimit-Reset</code>; a 429 or 503 says <code>Retry-After</code>.</p>",
        '<nav><a href="/api/v1/openapi.json">OpenAPI 3.1 document</a>'
        '<a href="/api/v1/docs/try">Try requests (Swagger UI)</a></nav>',
    ]
    by_tag: dict[str, list[tuple[str, str, Json]]] = {}
    for path, methods in doc.get("paths", {}).items():
        for method, operation in methods.items():
            tag = (operation.get("tags") or ["other"])[0]
            by_tag.setdefault(tag, []).append((method.upper(), path, operation))
    schemas: Json = doc.get("components", {}).get("schemas", {})
    for tag, operations in by_tag.items():
        out.append(f"<h2>{escape(tag)}</h2>")
        for method, path, operation in operations:
            out.extend(_operation(method, path, operation))
    out.append("<h2>Schemas</h2>")
    for name, schema in schemas.items():
        out.extend(_schema(name, schema))
    out.append("</body></html>")
    return "\n".join(out)


def _operation(method: str, path: str, operation: Json) -> list[str]:
    anchor = escape(str(operation.get("operationId", f"{method}{path}")))
    out = [
        f'<h3 id="{anchor}"><span class=method>{method}</span> <span class=path>'
        f"{escape(path)}</span></h3>",
        f"<p>{escape(str(operation.get('summary', '')))}</p>",
    ]
    if "description" in operation:
        out.append(f"<p>{escape(str(operation['description']))}</p>")
    parameters = operation.get("parameters", [])
    if parameters:
        out.append("<table><tr><th>parameter</th><th>in</th><th>type</th><th>about</th></tr>")
        for p in parameters:
            schema = p.get("schema", {})
            required = " (required)" if p.get("required") else ""
            out.append(
                f"<tr><td><code>{escape(p['name'])}</code>{required}</td><td>{escape(p['in'])}"
                f"</td><td>{_type(schema)}</td><td>{_about(p.get('description'), schema)}</td></tr>"
            )
        out.append("</table>")
    body = operation.get("requestBody", {}).get("content", {}).get("application/json")
    if body:
        out.append(f"<p>Body (JSON): {_type(body.get('schema', {}))}</p>")
    answers = []
    for status, response in operation.get("responses", {}).items():
        content = response.get("content", {})
        schema = next((c.get("schema") for c in content.values() if c.get("schema")), None)
        shape = f" {_type(schema)}" if schema else ""
        answers.append(f"<code>{escape(status)}</code>{shape}")
    if answers:
        out.append(f"<p>Answers: {', '.join(answers)}</p>")
    return out


def _schema(name: str, schema: Json) -> list[str]:
    out = [f'<h3 id="schema-{escape(name)}">{escape(name)}</h3>']
    if "description" in schema:
        out.append(f"<p>{escape(str(schema['description']))}</p>")
    if "enum" in schema:
        values = ", ".join(f"<code>{escape(str(v))}</code>" for v in schema["enum"])
        out.append(f"<p>One of {values}.</p>")
    properties: Json = schema.get("properties", {})
    if properties:
        required = set(schema.get("required", []))
        out.append("<table><tr><th>field</th><th>type</th><th>about</th></tr>")
        for field, spec in properties.items():
            mark = " (required)" if field in required else ""
            out.append(
                f"<tr><td><code>{escape(field)}</code>{mark}</td><td>{_type(spec)}</td>"
                f"<td>{_about(spec.get('description'), spec)}</td></tr>"
            )
        out.append("</table>")
    return out


def _type(schema: Json | None) -> str:
    """A schema as a short type: `string`, `integer`, `array of Recipient`, `Status or null`."""
    if not schema:
        return "any"
    if "$ref" in schema:
        name = escape(str(schema["$ref"]).rsplit("/", 1)[-1])
        return f'<a href="#schema-{name}">{name}</a>'
    if "anyOf" in schema:
        return " or ".join(_type(s) for s in schema["anyOf"])
    kind = schema.get("type", "any")
    if kind == "array":
        return f"array of {_type(schema.get('items'))}"
    if "enum" in schema:
        return " | ".join(f"<code>{escape(str(v))}</code>" for v in schema["enum"])
    if "const" in schema:
        return f"<code>{escape(str(schema['const']))}</code>"
    shown = escape(str(kind))
    if "format" in schema:
        shown += f" ({escape(str(schema['format']))})"
    return shown


def _about(description: object, schema: Json) -> str:
    """The description, and the limits a value must keep."""
    notes = [] if description is None else [escape(str(description))]
    limits = []
    for key, word in (
        ("minimum", "at least"),
        ("maximum", "at most"),
        ("minLength", "at least"),
        ("maxLength", "at most"),
        ("minItems", "at least"),
        ("maxItems", "at most"),
    ):
        for part in [schema, *schema.get("anyOf", [])]:
            if isinstance(part, dict) and key in part:
                unit = " characters" if "Length" in key else " items" if "Items" in key else ""
                limits.append(f"{word} {escape(str(part[key]))}{unit}")
    if "default" in schema and schema["default"] is not None:
        limits.append(f"default <code>{escape(str(schema['default']))}</code>")
    if limits:
        notes.append(f"<span class=muted>({'; '.join(limits)})</span>")
    return " ".join(notes)
