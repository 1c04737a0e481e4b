package io.highwater.it.apps.webflux;

import io.highwater.it.apps.reactor.ReactorExport;
import org.springframework.http.MediaType;
import org.springframework.http.server.reactive.HttpHandler;
import org.springframework.http.server.reactive.ReactorHttpHandlerAdapter;
import org.springframework.web.reactive.function.BodyInserters;
import org.springframework.web.reactive.function.server.RouterFunction;
import org.springframework.web.reactive.function.server.RouterFunctions;
import org.springframework.web.reactive.function.server.ServerRequest;
import org.springframework.web.reactive.function.server.ServerResponse;
import reactor.core.Scannable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.FluxSink;
import reactor.core.publisher.Mono;
import reactor.netty.DisposableServer;
import reactor.netty.http.server.HttpServer;

import java.util.function.Supplier;

/**
 * A Spring WebFlux CSV export (functional endpoints, Spring 6.2 on Reactor Netty), rows of
 * {@link ReactorExport#ROW} characters ({@code ?rows=} how many): {@code /create} from a {@code Flux.create} producer
 * thread that never looks at the demand ({@link #produceIgnoringDemand}), {@code /generate} from
 * {@code Flux.generate}. WebFlux encodes each row into a {@code DataBuffer} and writes through its
 * {@code ChannelSendOperator}. Prints {@code LISTENING <port>}, {@code DONE rows=<n>} and every 100 ms Reactor's own
 * count of the sink's queue, {@code TRUTH buffered=<elements>}.
 */
public final class WebFluxExport {

    static volatile Supplier<Integer> buffered;

    private WebFluxExport() {
    }

    public static void main(String[] args) {
        RouterFunction<ServerResponse> routes = RouterFunctions.route()
                .GET("/create", WebFluxExport::create)
                .GET("/generate", WebFluxExport::generate)
                .build();
        HttpHandler handler = RouterFunctions.toHttpHandler(routes);
        DisposableServer server = HttpServer.create().host("127.0.0.1").port(0)
                .handle(new ReactorHttpHandlerAdapter(handler)).bindNow();
        System.out.println("LISTENING " + server.port());
        Thread truth = new Thread(WebFluxExport::printTruth, "truth");
        truth.setDaemon(true);
        truth.start();
        server.onDispose().block();
    }

    private static long rows(ServerRequest req) {
        return Long.parseLong(req.queryParam("rows").orElse("1000"));
    }

    private static Mono<ServerResponse> create(ServerRequest req) {
        long rows = rows(req);
        Flux<String> flux = Flux.<String>create(sink -> {
            Thread t = new Thread(() -> produceIgnoringDemand(sink, rows), "producer");
            t.start();
        }).doOnSubscribe(s -> buffered = () -> Scannable.from(s).scan(Scannable.Attr.BUFFERED));
        return ServerResponse.ok().contentType(MediaType.TEXT_PLAIN).contentLength(rows * ReactorExport.ROW)
                .body(BodyInserters.fromPublisher(flux, String.class));
    }

    private static Mono<ServerResponse> generate(ServerRequest req) {
        long rows = rows(req);
        Flux<String> flux = Flux.<String, Long>generate(() -> 0L, (i, s) -> {
            if (i < rows) {
                s.next(ReactorExport.row(i));
            } else {
                s.complete();
            }
            return i + 1;
        });
        return ServerResponse.ok().contentType(MediaType.TEXT_PLAIN).contentLength(rows * ReactorExport.ROW)
                .body(BodyInserters.fromPublisher(flux, String.class));
    }

    /** The ignoring producer: every row as fast as it can, whatever the downstream asked for. */
    static void produceIgnoringDemand(FluxSink<String> sink, long rows) {
        long i = 0;
        for (; i < rows && !sink.isCancelled(); i++) {
            sink.next(ReactorExport.row(i));
        }
        sink.complete();
        System.out.println("DONE rows=" + i);
    }

    private static void printTruth() {
        while (true) {
            try {
                Thread.sleep(100);
                Supplier<Integer> b = buffered;
                if (b != null) {
                    Integer n = b.get();
                    System.out.println("TRUTH buffered=" + (n == null ? -1 : n));
                }
            } catch (InterruptedException e) {
                return;
            } catch (RuntimeException e) {
                System.out.println("TRUTH-FAILED " + e);
            }
        }
    }
}
