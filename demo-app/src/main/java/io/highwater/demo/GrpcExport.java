package io.highwater.demo;

import io.grpc.InsecureServerCredentials;
import io.grpc.KnownLength;
import io.grpc.MethodDescriptor;
import io.grpc.Server;
import io.grpc.ServerServiceDefinition;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.ServerCalls;
import io.grpc.stub.StreamObserver;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;

/**
 * The report export over gRPC (grpc-netty-shaded: gRPC's own relocated copy of Netty), as a server-streaming method
 * of 16 KiB rows, twice: {@code demo.Reports/ExportRespecting} sends only while {@code isReady()} and resumes in
 * {@code onReady}; {@code demo.Reports/ExportIgnoring} calls {@code onNext} in a loop, the classic gRPC
 * out-of-memory crash behind a slow reader (its backlog sits in the HTTP/2 flow controller, not in Netty's outbound
 * buffer). Raw byte messages, so no generated code.
 */
final class GrpcExport implements AutoCloseable {
    static final String SERVICE = "demo.Reports";
    static final int ROW = 16 * 1024;
    static final String IGNORING_END = "grpc export ignoring: ";
    /** What the ignoring method sends at most per call: 48 MiB, below the service's 128 MiB of direct memory. */
    static final long IGNORING_ROWS = 3072;

    static final MethodDescriptor.Marshaller<byte[]> RAW = new MethodDescriptor.Marshaller<byte[]>() {
        @Override
        public InputStream stream(byte[] value) {
            return new Bytes(value);
        }

        @Override
        public byte[] parse(InputStream in) {
            try {
                return in.readAllBytes();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    };

    /** A message of known length, as protobuf's streams are: gRPC frames it without copying it twice. */
    private static final class Bytes extends ByteArrayInputStream implements KnownLength {
        Bytes(byte[] b) {
            super(b);
        }
    }

    static MethodDescriptor<byte[], byte[]> method(String name) {
        return MethodDescriptor.<byte[], byte[]>newBuilder().setType(MethodDescriptor.MethodType.SERVER_STREAMING)
                .setFullMethodName(SERVICE + "/" + name).setRequestMarshaller(RAW).setResponseMarshaller(RAW).build();
    }

    /**
     * gRPC's own logger, kept: the phone hangs up mid-stream on purpose, and gRPC logs each such reset as a warning
     * with its stack trace.
     */
    private static final java.util.logging.Logger GRPC_LOG = java.util.logging.Logger.getLogger("io.grpc");

    private final Server server;

    private GrpcExport(Server server) {
        this.server = server;
    }

    static GrpcExport start(String host, int port) throws IOException {
        GRPC_LOG.setLevel(java.util.logging.Level.SEVERE);
        ServerServiceDefinition service = ServerServiceDefinition.builder(SERVICE)
                .addMethod(method("ExportRespecting"), ServerCalls.asyncServerStreamingCall(GrpcExport::respecting))
                .addMethod(method("ExportIgnoring"), ServerCalls.asyncServerStreamingCall(GrpcExport::ignoring))
                .build();
        // the host asked for: Grpc.newServerBuilderForPort would bind every address
        Server s = NettyServerBuilder.forAddress(new InetSocketAddress(host, port), InsecureServerCredentials.create())
                .addService(service).build().start();
        return new GrpcExport(s);
    }

    int port() {
        return server.getPort();
    }

    /** Writes while {@code isReady()}, resumes in {@code onReady}: gRPC holds about its 32 KiB threshold. */
    private static void respecting(byte[] request, StreamObserver<byte[]> o) {
        ServerCallStreamObserver<byte[]> obs = (ServerCallStreamObserver<byte[]>) o;
        byte[] row = new byte[ROW];
        obs.setOnCancelHandler(() -> { });
        obs.setOnReadyHandler(() -> {
            while (obs.isReady() && !obs.isCancelled()) {
                obs.onNext(row);
            }
        });
    }

    /**
     * Calls {@code onNext} in a loop without asking {@code isReady()}: all of its {@link #IGNORING_ROWS} rows at
     * once, which gRPC queues in the process until the phone has read them or hangs up.
     */
    private static void ignoring(byte[] request, StreamObserver<byte[]> o) {
        ServerCallStreamObserver<byte[]> obs = (ServerCallStreamObserver<byte[]>) o;
        byte[] row = new byte[ROW];
        long rows = 0;
        long notReady = 0;
        String end = "all queued";
        try {
            while (!obs.isCancelled() && rows < IGNORING_ROWS) {
                if (!obs.isReady()) {
                    notReady++;
                }
                writeRowsIgnoringReadiness(obs, row);
                rows++;
            }
        } catch (RuntimeException | OutOfMemoryError e) {
            end = e.toString();
        }
        ReportingService.say(IGNORING_END + rows + " rows (" + Units.size(rows * ROW) + "), " + notReady
                + " while not ready; " + end);
    }

    static void writeRowsIgnoringReadiness(StreamObserver<byte[]> obs, byte[] row) {
        obs.onNext(row);
    }

    @Override
    public void close() {
        try {
            server.shutdownNow().awaitTermination(2, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            // closing on the way out of an interrupted demo: stop waiting, keep the interrupt
            Thread.currentThread().interrupt();
        }
    }
}
