package io.highwater.pipeline;

import java.nio.file.Path;

import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/** One JSON mapper (Jackson 3, which json-schema-validator brings) for the tests. */
final class Json {
    static final JsonMapper MAPPER = JsonMapper.builder().build();

    private Json() {
    }

    static JsonNode read(Path file) {
        return MAPPER.readTree(file.toFile());
    }

    static JsonNode parse(String text) {
        return MAPPER.readTree(text);
    }
}
