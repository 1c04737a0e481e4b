package io.highwater.it.apps.boot;

import io.highwater.it.apps.reactor.ReactorExport;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.SpringBootVersion;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.web.reactive.context.ReactiveWebServerApplicationContext;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;
import reactor.core.Scannable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.FluxSink;

import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;

/**
 * A Spring Boot WebFlux app started the Boot way ({@link SpringApplication#run}, the auto-configured Reactor Netty
 * server on an ephemeral port of 127.0.0.1): an annotated controller streaming CSV rows of {@link ReactorExport#ROW}
 * characters ({@code ?rows=} how many; none: without end):
 * <ul>
 *   <li>{@code /create}: a {@code Flux.create} producer thread that loops {@code sink.next(row)} without ever
 *       looking at {@code requestedFromDownstream()} ({@link #produceIgnoringDemand});</li>
 *   <li>{@code /generate}: the same rows from {@code Flux.generate}, one per downstream request.</li>
 * </ul>
 * Prints {@code BOOT version=<boot> server=<web server class>}, {@code LISTENING <port>}, {@code DONE rows=<n>}
 * when the producer finished, and every 100 ms the app's own counts: {@code TRUTH produced=<rows the producer
 * emitted> written=<rows that left the sink downstream, toward the connection> buffered=<Reactor's own count of
 * the sink's queue> heap=<heap in use> max=<max heap>}.
 */
@SpringBootApplication
@RestController
public class BootExport {

    static final AtomicLong PRODUCED = new AtomicLong();
    static final AtomicLong WRITTEN = new AtomicLong();
    static volatile Supplier<Integer> buffered;

    public static void main(String[] args) {
        SpringApplication app = new SpringApplication(BootExport.class);
        Map<String, Object> props = new HashMap<>();
        props.put("server.address", "127.0.0.1");
        props.put("server.port", "0");
        props.put("spring.main.banner-mode", "off");
        props.put("logging.level.root", "WARN");
        app.setDefaultProperties(props);
        ConfigurableApplicationContext ctx = app.run(args);
        Object server = ((ReactiveWebServerApplicationContext) ctx).getWebServer();
        System.out.println("BOOT version=" + SpringBootVersion.getVersion() + " server=" + server.getClass().getName());
        System.out.println("LISTENING " + ctx.getEnvironment().getProperty("local.server.port"));
        Thread truth = new Thread(BootExport::printTruth, "truth");
        truth.setDaemon(true);
        truth.start();
    }

    @GetMapping(path = "/create", produces = MediaType.TEXT_PLAIN_VALUE)
    public ResponseEntity<Flux<String>> create(@RequestParam(name = "rows", defaultValue = "-1") long rows) {
        long n = rows < 0 ? Long.MAX_VALUE : rows;
        Flux<String> flux = Flux.<String>create(sink -> {
            Thread t = new Thread(() -> produceIgnoringDemand(sink, n), "producer");
            t.start();
        }).doOnSubscribe(s -> buffered = () -> Scannable.from(s).scan(Scannable.Attr.BUFFERED))
                .doOnNext(row -> WRITTEN.incrementAndGet());
        return response(rows, flux);
    }

    @GetMapping(path = "/generate", produces = MediaType.TEXT_PLAIN_VALUE)
    public ResponseEntity<Flux<String>> generate(@RequestParam(name = "rows", defaultValue = "-1") long rows) {
        long n = rows < 0 ? Long.MAX_VALUE : rows;
        Flux<String> flux = Flux.<String, Long>generate(() -> 0L, (i, s) -> {
            if (i < n) {
                PRODUCED.incrementAndGet();
                s.next(ReactorExport.row(i));
            } else {
                s.complete();
            }
            return i + 1;
        }).doOnNext(row -> WRITTEN.incrementAndGet());
        return response(rows, flux);
    }

    /** A length when the rows are counted (the test's client counts the body against it), chunks otherwise. */
    private static ResponseEntity<Flux<String>> response(long rows, Flux<String> body) {
        ResponseEntity.BodyBuilder ok = ResponseEntity.ok().contentType(MediaType.TEXT_PLAIN);
        if (rows >= 0) {
            ok.contentLength(rows * ReactorExport.ROW);
        }
        return ok.body(body);
    }

    /** The ignoring producer: every row as fast as it can, whatever the downstream asked for. */
    static void produceIgnoringDemand(FluxSink<String> sink, long rows) {
        long i = 0;
        for (; i < rows && !sink.isCancelled(); i++) {
            sink.next(ReactorExport.row(i));
            PRODUCED.incrementAndGet();
        }
        sink.complete();
        System.out.println("DONE rows=" + i);
    }

    private static void printTruth() {
        while (true) {
            try {
                Thread.sleep(100);
                Supplier<Integer> b = buffered;
                Integer n = b == null ? null : b.get();
                Runtime rt = Runtime.getRuntime();
                System.out.println("TRUTH produced=" + PRODUCED.get() + " written=" + WRITTEN.get() + " buffered="
                        + (n == null ? -1 : n) + " heap=" + (rt.totalMemory() - rt.freeMemory()) + " max="
                        + rt.maxMemory());
            } catch (InterruptedException e) {
                return;
            } catch (RuntimeException e) {
                System.out.println("TRUTH-FAILED " + e);
            }
        }
    }
}
