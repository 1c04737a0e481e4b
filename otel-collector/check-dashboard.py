#!/usr/bin/env python3
"""Checks grafana/dashboards/*.json against Grafana's published JSON schemas, and
optionally runs every panel query against a live Prometheus.

    python3 check-dashboard.py                      # schema validation only
    python3 check-dashboard.py --prometheus http://127.0.0.1:9090
                                                    # ... and every query must return data

Needs the `jsonschema` package (pip install jsonschema). The schemas live in
shared/schemas/grafana/ (override with --schemas DIR); see the README there.

How the schema files fit together (the same approach works for any validator,
e.g. a Java one):
  * Each file is a self-contained draft-07 schema. Every "$ref" is local to its
    own file ("#/definitions/Name"); no file refers to another, and none has an
    "$id". So load each file as its own root document (base URI = its file
    location) and resolve "#/..." against that document only.
  * dashboard.jsonschema.json (root "$ref": "#/definitions/Dashboard") checks the
    dashboard. Its Panel definition leaves `options`, `fieldConfig.defaults.custom`
    and `targets[]` open ("depends on the panel plugin").
  * Those three are checked against the plugin's own file, picked by panel.type
    (timeseries, heatmap, table, stat -> <type>.jsonschema.json), which has no
    root schema, only definitions: `options` against "#/definitions/Options",
    `fieldConfig.defaults.custom` against "#/definitions/FieldConfig" (stat has
    none, so it must not set `custom`). Validate against a JSON pointer into the
    file, or wrap: {"$ref": "#/definitions/Options", "definitions": <the file's definitions>}.
  * Each panel target (and the dashboard-level datasource of Prometheus
    annotations is not a target) is checked against prometheus.jsonschema.json
    (root "$ref": "#/definitions/Dataquery").
  * Row panels (type "row") hold nested panels in `panels`; check those too.
  * Quirk of these schemas: an override property's "value" must be an object
    (DynamicConfigValue), and a variable's "query" must be a string or an
    object of objects, so the dashboard uses only object-valued overrides and
    string variable queries.
"""
import argparse
import json
import os
import re
import sys
import urllib.parse
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_SCHEMAS = os.path.normpath(os.path.join(HERE, "..", "..", "shared", "schemas", "grafana"))
PANEL_TYPES = ("timeseries", "heatmap", "table", "stat")


def load(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def sub_schema(schema, name):
    """A schema validating against #/definitions/<name> of a definitions-only file."""
    return {"$schema": schema.get("$schema"), "$ref": f"#/definitions/{name}", "definitions": schema["definitions"]}


def all_panels(dashboard):
    for p in dashboard.get("panels", []):
        yield p
        for nested in p.get("panels", []) if p.get("type") == "row" else []:
            yield nested


def errors_of(validator_cls, schema, instance, where):
    v = validator_cls(schema)
    out = []
    for e in sorted(v.iter_errors(instance), key=lambda e: list(e.absolute_path)):
        path = "/".join(str(x) for x in e.absolute_path)
        out.append(f"{where}/{path}: {e.message[:300]}")
    return out


def check_schema(path, schemas_dir):
    import jsonschema  # noqa: imported here so --help works without it

    cls = jsonschema.Draft7Validator
    dash_schema = load(os.path.join(schemas_dir, "dashboard.jsonschema.json"))
    prom_schema = load(os.path.join(schemas_dir, "prometheus.jsonschema.json"))
    plugin = {t: load(os.path.join(schemas_dir, f"{t}.jsonschema.json")) for t in PANEL_TYPES}
    dashboard = load(path)
    errs = errors_of(cls, dash_schema, dashboard, "dashboard")
    ids = set()
    for p in all_panels(dashboard):
        where = f"panel {p.get('id')} '{p.get('title')}'"
        if p.get("id") in ids:
            errs.append(f"{where}: duplicate panel id")
        ids.add(p.get("id"))
        t = p.get("type")
        if t == "row":
            continue
        if t not in plugin:
            errs.append(f"{where}: no schema for panel type {t!r} in {schemas_dir}")
            continue
        s = plugin[t]
        errs += errors_of(cls, sub_schema(s, "Options"), p.get("options", {}), f"{where} options")
        custom = p.get("fieldConfig", {}).get("defaults", {}).get("custom")
        if "FieldConfig" in s["definitions"]:
            errs += errors_of(cls, sub_schema(s, "FieldConfig"), custom or {}, f"{where} fieldConfig.defaults.custom")
        elif custom:
            errs.append(f"{where}: {t} has no custom field config, but fieldConfig.defaults.custom is set")
        for i, tgt in enumerate(p.get("targets", [])):
            errs += errors_of(cls, prom_schema, tgt, f"{where} targets[{i}]")
    return dashboard, errs


def substitute(expr):
    """Grafana's variables, as Grafana would expand them with 'All' selected."""
    expr = expr.replace("$__rate_interval", "1m").replace("$__range", "10m").replace("$__interval", "15s")
    return re.sub(r"\$(job|instance|layer)\b", ".*", expr)


def check_queries(dashboard, prometheus):
    missing = []
    for p in all_panels(dashboard):
        for tgt in p.get("targets", []):
            expr = substitute(tgt["expr"])
            url = prometheus.rstrip("/") + "/api/v1/query?" + urllib.parse.urlencode({"query": expr})
            with urllib.request.urlopen(url, timeout=10) as r:
                body = json.load(r)
            n = len(body["data"]["result"]) if body.get("status") == "success" else -1
            print(f"  {n:3d} series  {p['title']} [{tgt['refId']}]: {expr}")
            if n <= 0:
                missing.append(f"{p['title']} [{tgt['refId']}]")
    return missing


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("dashboards", nargs="*", help="default: grafana/dashboards/*.json")
    ap.add_argument("--schemas", default=DEFAULT_SCHEMAS, help=f"default: {DEFAULT_SCHEMAS}")
    ap.add_argument("--prometheus", help="base URL; run every panel query there and require data")
    a = ap.parse_args()
    files = a.dashboards or sorted(
        os.path.join(HERE, "grafana", "dashboards", f)
        for f in os.listdir(os.path.join(HERE, "grafana", "dashboards")) if f.endswith(".json"))
    passed = failed = 0
    for f in files:
        dashboard, errs = check_schema(f, a.schemas)
        for e in errs:
            print(f"{os.path.basename(f)}: {e}")
        if errs:
            failed += 1
        else:
            passed += 1
            print(f"{os.path.basename(f)}: valid against {a.schemas}")
        if a.prometheus:
            missing = check_queries(dashboard, a.prometheus)
            if missing:
                print(f"{os.path.basename(f)}: no data for: " + ", ".join(missing))
                failed += 1
            else:
                passed += 1
    print(f"dashboards: {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
