package io.highwater.pipeline;

import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import tools.jackson.databind.JsonNode;

/** The few calls of Prometheus's HTTP API (v1) the tests make. */
final class PrometheusApi {
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(3)).build();
    final String base;

    PrometheusApi(String base) {
        this.base = base;
    }

    /** GET; null when the server does not answer (yet). */
    String get(String pathAndQuery) {
        try {
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(base + pathAndQuery))
                    .timeout(Duration.ofSeconds(10)).GET().build(), HttpResponse.BodyHandlers.ofString());
            return r.statusCode() == 200 ? r.body() : null;
        } catch (IOException e) {
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** An instant query's result vector (empty when Prometheus does not answer or the query fails). */
    List<JsonNode> query(String expr) {
        String body = get("/api/v1/query?query=" + URLEncoder.encode(expr, StandardCharsets.UTF_8));
        List<JsonNode> out = new ArrayList<>();
        if (body != null) {
            JsonNode json = Json.parse(body);
            if ("success".equals(json.path("status").asString(""))) {
                json.path("data").path("result").forEach(out::add);
            }
        }
        return out;
    }

    /** The value of a one-element result (NaN when there is none). */
    double scalar(String expr) {
        List<JsonNode> r = query(expr);
        return r.isEmpty() ? Double.NaN : value(r.get(0));
    }

    static double value(JsonNode sample) {
        return Double.parseDouble(sample.path("value").get(1).asString());
    }

    /** {@code /api/v1/alerts}: every alert Prometheus has, pending or firing. */
    List<JsonNode> alerts() {
        String body = get("/api/v1/alerts");
        List<JsonNode> out = new ArrayList<>();
        if (body != null) {
            Json.parse(body).path("data").path("alerts").forEach(out::add);
        }
        return out;
    }

    /** {@code /api/v1/label/<name>/values?match[]=<selector>}. */
    List<String> labelValues(String label, String selector) {
        String body = get("/api/v1/label/" + label + "/values?match[]="
                + URLEncoder.encode(selector, StandardCharsets.UTF_8));
        List<String> out = new ArrayList<>();
        if (body != null) {
            Json.parse(body).path("data").forEach(v -> out.add(v.asString()));
        }
        return out;
    }

    /** {@code /api/v1/rules}: the loaded rule groups. */
    JsonNode rules() {
        String body = get("/api/v1/rules");
        return body == null ? Json.MAPPER.createObjectNode() : Json.parse(body).path("data");
    }
}
