package io.highwater.it.apps.reactor;

import reactor.core.Scannable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.FluxSink;
import reactor.core.publisher.Sinks;
import reactor.core.scheduler.Schedulers;
import reactor.netty.DisposableServer;
import reactor.netty.http.HttpProtocol;
import reactor.netty.http.server.HttpServer;
import reactor.netty.http.server.HttpServerRequest;
import reactor.netty.http.server.HttpServerResponse;

import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;

import org.reactivestreams.Publisher;

/**
 * A Reactor Netty CSV export of fixed-length rows ({@link #ROW} characters each), in the shapes the reactor layer
 * watches ({@code ?rows=} how many):
 * <ul>
 *   <li>{@code /create}: a {@code Flux.create} producer thread that loops {@code sink.next(row)} without ever looking
 *       at {@code requestedFromDownstream()} ({@link #produceIgnoringDemand});</li>
 *   <li>{@code /objects}: as {@code /create}, the rows queued as objects and turned into text downstream;</li>
 *   <li>{@code /generate}: the same rows from {@code Flux.generate}, demand-driven by construction;</li>
 *   <li>{@code /unicast}: {@code Sinks.many().unicast().onBackpressureBuffer()} fed by a loop of
 *       {@code tryEmitNext} ({@link #emitUnicast});</li>
 *   <li>{@code /multicast}: {@code Sinks.many().multicast().onBackpressureBuffer()}, bounded, fed the same way
 *       ({@link #emitMulticast}); it refuses what its subscriber did not ask for, and the loop ignores that;</li>
 *   <li>{@code /multicast-unbounded}: {@code Sinks.many().multicast().onBackpressureBuffer(Integer.MAX_VALUE, false)}
 *       fed by a loop of {@code tryEmitNext} ({@link #emitMulticastUnbounded}): nothing is refused, all piles up;</li>
 *   <li>{@code /buffer}: a {@code Flux.create} producer thread through the unbounded {@code onBackpressureBuffer()}
 *       operator ({@link #produceIntoBuffer}): the operator asks for everything, its queue holds the rows;</li>
 *   <li>{@code /bounded-buffer}: as {@code /buffer} into the bounded {@code onBackpressureBuffer(100_000)}, which
 *       fails the stream when full ({@link #produceIntoBoundedBuffer} stops when it is cancelled);</li>
 *   <li>{@code /bounded}: {@code Flux.generate} through bounded operators ({@code publishOn} with a prefetch of 256,
 *       {@code flatMap} with a concurrency of 16, {@code limitRate(64)}), counting the rows it produced.</li>
 * </ul>
 * With {@code --h2c}, it serves HTTP/2 without TLS (prior knowledge) instead of HTTP/1.1.
 * Prints {@code LISTENING <port>}, {@code DONE rows=<emitted> refused=<n>} when a producer finished,
 * and every 100 ms while the queue of the current response is known, Reactor's own count of it:
 * {@code TRUTH buffered=<elements>} ({@code Scannable} {@code BUFFERED}); once rows are counted ({@code /bounded}),
 * {@code PRODUCED <rows>} every 100 ms.
 */
public final class ReactorExport {

    public static final int ROW = 64;
    static volatile Supplier<Integer> buffered;
    static final AtomicLong PRODUCED = new AtomicLong();
    /** The size of {@code /bounded-buffer}'s {@code onBackpressureBuffer(n)}. */
    public static final int BOUNDED_BUFFER = 100_000;

    private ReactorExport() {
    }

    public static String row(long i) {
        String head = String.format("%012d", i);
        // 12 + 51 + 1 = 64 characters
        return head + ",alpha,beta,gamma,delta,epsilon,zeta,eta,theta,iota\n";
    }

    public static void main(String[] args) {
        HttpServer http = HttpServer.create().host("127.0.0.1").port(0);
        if (java.util.Arrays.asList(args).contains("--h2c")) {
            // HTTP/2 without TLS, prior knowledge: each response is a stream channel of the connection's channel
            http = http.protocol(HttpProtocol.H2C);
        }
        DisposableServer server = http.handle(ReactorExport::handle).bindNow();
        System.out.println("LISTENING " + server.port());
        Thread truth = new Thread(ReactorExport::printTruth, "truth");
        truth.setDaemon(true);
        truth.start();
        server.onDispose().block();
    }

    private static Publisher<Void> handle(HttpServerRequest req, HttpServerResponse res) {
        String path = req.path();
        String q = req.uri().contains("rows=") ? req.uri().substring(req.uri().indexOf("rows=") + 5) : "1000";
        long rows = Long.parseLong(q);
        if (!path.equals("multicast")) {
            // a length, not chunks: the test's client counts the body against it (multicast loses rows)
            res.header("content-length", String.valueOf(rows * ROW));
        }
        switch (path) {
            case "create": {
                Flux<String> flux = Flux.<String>create(sink -> {
                    Thread t = new Thread(() -> produceIgnoringDemand(sink, rows), "producer");
                    t.start();
                }).doOnSubscribe(s -> buffered = () -> Scannable.from(s).scan(Scannable.Attr.BUFFERED));
                return res.sendString(flux);
            }
            case "objects": {
                // the queue holds objects, turned into text only downstream: items, not bytes
                Flux<String> flux = Flux.<long[]>create(sink -> start(() -> produceObjectsIgnoringDemand(sink, rows)))
                        .doOnSubscribe(s -> buffered = () -> Scannable.from(s).scan(Scannable.Attr.BUFFERED))
                        .map(a -> row(a[0]));
                return res.sendString(flux);
            }
            case "generate":
                return res.sendString(Flux.<String, Long>generate(() -> 0L, (i, s) -> {
                    if (i < rows) {
                        s.next(row(i));
                    } else {
                        s.complete();
                    }
                    return i + 1;
                }));
            case "unicast": {
                Sinks.Many<String> sink = Sinks.many().unicast().onBackpressureBuffer();
                buffered = () -> Scannable.from(sink).scan(Scannable.Attr.BUFFERED);
                return res.sendString(sink.asFlux().doOnSubscribe(s -> start(() -> emitUnicast(sink, rows))));
            }
            case "multicast": {
                Sinks.Many<String> sink = Sinks.many().multicast().onBackpressureBuffer();
                buffered = () -> Scannable.from(sink).scan(Scannable.Attr.BUFFERED);
                return res.sendString(sink.asFlux().doOnSubscribe(s -> start(() -> emitMulticast(sink, rows))));
            }
            case "multicast-unbounded": {
                Sinks.Many<String> sink = Sinks.many().multicast().onBackpressureBuffer(Integer.MAX_VALUE, false);
                buffered = () -> Scannable.from(sink).scan(Scannable.Attr.BUFFERED);
                return res.sendString(sink.asFlux().doOnSubscribe(s -> start(() -> emitMulticastUnbounded(sink, rows))));
            }
            case "buffer": {
                Flux<String> flux = Flux.<String>create(sink -> start(() -> produceIntoBuffer(sink, rows)))
                        .onBackpressureBuffer()
                        .doOnSubscribe(s -> buffered = () -> Scannable.from(s).scan(Scannable.Attr.BUFFERED));
                return res.sendString(flux);
            }
            case "bounded-buffer": {
                Flux<String> flux = Flux.<String>create(sink -> start(() -> produceIntoBoundedBuffer(sink, rows)))
                        .onBackpressureBuffer(BOUNDED_BUFFER);
                return res.sendString(flux);
            }
            case "bounded":
                return res.sendString(Flux.<String, Long>generate(() -> 0L, (i, s) -> {
                    if (i < rows) {
                        PRODUCED.incrementAndGet();
                        s.next(row(i));
                    } else {
                        s.complete();
                    }
                    return i + 1;
                }).publishOn(Schedulers.boundedElastic(), 256)
                        .flatMap(Flux::just, 16)
                        .limitRate(64));
            default:
                return res.status(404).send();
        }
    }

    private static void start(Runnable r) {
        Thread t = new Thread(r, "producer");
        t.start();
    }

    /** The ignoring producer: every row as fast as it can, whatever the downstream asked for. */
    static void produceIgnoringDemand(FluxSink<String> sink, long rows) {
        long i = 0;
        for (; i < rows && !sink.isCancelled(); i++) {
            sink.next(row(i));
        }
        sink.complete();
        System.out.println("DONE rows=" + i + " refused=0");
    }

    /** As {@link #produceIgnoringDemand}, with rows as objects. */
    static void produceObjectsIgnoringDemand(FluxSink<long[]> sink, long rows) {
        long i = 0;
        for (; i < rows && !sink.isCancelled(); i++) {
            sink.next(new long[] {i});
        }
        sink.complete();
        System.out.println("DONE rows=" + i + " refused=0");
    }

    static void emitUnicast(Sinks.Many<String> sink, long rows) {
        long i = 0;
        for (; i < rows; i++) {
            if (sink.tryEmitNext(row(i)) != Sinks.EmitResult.OK) {
                break;
            }
        }
        sink.tryEmitComplete();
        System.out.println("DONE rows=" + i + " refused=0");
    }

    /** Into an unbounded multicast sink, which never refuses: every row stays queued until its subscriber asks. */
    static void emitMulticastUnbounded(Sinks.Many<String> sink, long rows) {
        long i = 0;
        for (; i < rows; i++) {
            if (sink.tryEmitNext(row(i)) != Sinks.EmitResult.OK) {
                break;
            }
        }
        sink.tryEmitComplete();
        System.out.println("DONE rows=" + i + " refused=0");
    }

    /** Every row as fast as it can into a sink whose downstream, {@code onBackpressureBuffer()}, asked for all. */
    static void produceIntoBuffer(FluxSink<String> sink, long rows) {
        long i = 0;
        for (; i < rows && !sink.isCancelled(); i++) {
            sink.next(row(i));
        }
        sink.complete();
        System.out.println("DONE rows=" + i + " refused=0");
    }

    /** As {@link #produceIntoBuffer}, into a bounded buffer: stops when the full buffer failed and cancelled it. */
    static void produceIntoBoundedBuffer(FluxSink<String> sink, long rows) {
        long i = 0;
        for (; i < rows && !sink.isCancelled(); i++) {
            sink.next(row(i));
        }
        System.out.println("DONE rows=" + i + " refused=0");
    }

    /** Ignores {@code FAIL_OVERFLOW}: the row is lost, the loop goes on. */
    static void emitMulticast(Sinks.Many<String> sink, long rows) {
        long refused = 0;
        long emitted = 0;
        long refusedChars = 0;
        for (long i = 0; emitted + refused < rows; i++) {
            String row = row(i);
            Sinks.EmitResult r = sink.tryEmitNext(row);
            if (r == Sinks.EmitResult.FAIL_OVERFLOW) {
                refused++;
                refusedChars += row.length();
            } else if (r == Sinks.EmitResult.OK) {
                emitted++;
            } else {
                break;
            }
        }
        sink.tryEmitComplete();
        System.out.println("DONE rows=" + emitted + " refused=" + refused + " refusedChars=" + refusedChars);
    }

    private static void printTruth() {
        while (true) {
            try {
                Thread.sleep(100);
                long produced = PRODUCED.get();
                if (produced > 0) {
                    System.out.println("PRODUCED " + produced);
                }
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
