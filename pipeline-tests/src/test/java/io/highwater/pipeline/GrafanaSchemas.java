package io.highwater.pipeline;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import com.networknt.schema.Error;
import com.networknt.schema.Schema;
import com.networknt.schema.SchemaLocation;
import com.networknt.schema.SchemaRegistry;
import com.networknt.schema.SpecificationVersion;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * Grafana's draft-07 schemas from {@code shared/schemas/grafana/}, applied as {@code check-dashboard.py} applies
 * them: each file is a self-contained document (every {@code $ref} is {@code #/definitions/...} inside it); the
 * dashboard against {@code dashboard.jsonschema.json}; per panel, {@code options} against
 * {@code <type>.jsonschema.json#/definitions/Options} and {@code fieldConfig.defaults.custom} against
 * {@code #/definitions/FieldConfig} where the file has one; every target against {@code prometheus.jsonschema.json}.
 * The plugin files have no root schema, so the definition is wrapped as
 * {@code {"$ref": "#/definitions/<name>", "definitions": <the file's definitions>}}, with the file's location as the
 * base URI.
 */
final class GrafanaSchemas {
    static final List<String> PANEL_TYPES = List.of("timeseries", "heatmap", "table", "stat");

    private final SchemaRegistry registry = SchemaRegistry.withDefaultDialect(SpecificationVersion.DRAFT_7);
    private final Path dir;
    private final Schema dashboard;
    private final Schema prometheusTarget;
    private final Map<String, Schema> options = new HashMap<>();
    private final Map<String, Schema> fieldConfig = new HashMap<>();

    GrafanaSchemas(Path dir) {
        this.dir = dir;
        this.dashboard = load("dashboard.jsonschema.json", null);
        this.prometheusTarget = load("prometheus.jsonschema.json", null);
        for (String type : PANEL_TYPES) {
            options.put(type, load(type + ".jsonschema.json", "Options"));
            if (definitions(type + ".jsonschema.json").has("FieldConfig")) {
                fieldConfig.put(type, load(type + ".jsonschema.json", "FieldConfig"));
            }
        }
    }

    /** Every error, each as {@code where/instance-path: message}; empty when the dashboard is valid. */
    List<String> validate(JsonNode model) {
        List<String> errors = new ArrayList<>();
        collect(dashboard, model, "dashboard", errors);
        Set<Integer> ids = new HashSet<>();
        for (JsonNode p : new GrafanaDashboard(model).panels()) {
            String where = "panel " + p.path("id") + " '" + p.path("title").asString("") + "'";
            if (p.has("id") && !ids.add(p.path("id").asInt())) {
                errors.add(where + ": duplicate panel id");
            }
            String type = p.path("type").asString("");
            if ("row".equals(type)) {
                continue;
            }
            Schema optionsSchema = options.get(type);
            if (optionsSchema == null) {
                errors.add(where + ": no schema for panel type '" + type + "' in " + dir);
                continue;
            }
            collect(optionsSchema, p.has("options") ? p.get("options") : Json.MAPPER.createObjectNode(),
                    where + " options", errors);
            JsonNode custom = p.path("fieldConfig").path("defaults").path("custom");
            Schema customSchema = fieldConfig.get(type);
            if (customSchema != null) {
                collect(customSchema, custom.isObject() ? custom : Json.MAPPER.createObjectNode(),
                        where + " fieldConfig.defaults.custom", errors);
            } else if (!custom.isMissingNode() && !custom.isEmpty()) {
                errors.add(where + ": " + type + " has no custom field config, but fieldConfig.defaults.custom is set");
            }
            int i = 0;
            for (JsonNode target : p.path("targets")) {
                collect(prometheusTarget, target, where + " targets[" + i++ + "]", errors);
            }
        }
        return errors;
    }

    private static void collect(Schema schema, JsonNode instance, String where, List<String> errors) {
        for (Error e : schema.validate(instance)) {
            errors.add(where + " " + e.getInstanceLocation() + ": " + e.getMessage());
        }
    }

    private JsonNode definitions(String file) {
        return Json.read(dir.resolve(file)).path("definitions");
    }

    private Schema load(String file, String definition) {
        Path path = dir.resolve(file);
        if (!Files.isRegularFile(path)) {
            throw new IllegalStateException("missing Grafana schema " + path);
        }
        JsonNode node = Json.read(path);
        if (definition != null) {
            ObjectNode wrapped = Json.MAPPER.createObjectNode();
            wrapped.set("$schema", node.get("$schema"));
            wrapped.put("$ref", "#/definitions/" + definition);
            wrapped.set("definitions", node.get("definitions"));
            node = wrapped;
        }
        // a wrapped definition gets a location of its own (nothing is ever loaded from it: all $refs are local)
        Path location = definition == null ? path : path.resolveSibling(file + "." + definition);
        return registry.getSchema(SchemaLocation.of(location.toUri().toString()), node);
    }
}
