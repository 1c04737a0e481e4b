package io.highwater.it.apps.grpc;

import io.grpc.CallOptions;
import io.grpc.ClientCall;
import io.grpc.ConnectivityState;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.InsecureServerCredentials;
import io.grpc.KnownLength;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Server;
import io.grpc.ServerBuilder;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.ServerCalls;
import io.grpc.stub.StreamObserver;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A real grpc-java server and a real grpc-java client that reads slowly, in one JVM, on whichever transport the class
 * path carries (grpc-netty or grpc-netty-shaded). The reader uses gRPC's own flow control: a 64 KiB window and one
 * {@code request(1)} per tick, so a server stream's window stays at 0 and what the server sends piles up in its
 * process. Modes:
 * <ul>
 *   <li>{@code server-ignore}: server streaming, {@code onNext} in a loop without asking {@code isReady()};</li>
 *   <li>{@code server-respect}: server streaming with {@code setOnReadyHandler} and {@code isReady()};</li>
 *   <li>{@code client-ignore}: client streaming, the client calls {@code sendMessage} in a loop into a server that
 *   requests one message per tick.</li>
 * </ul>
 * Ground truth on stdout, read from gRPC itself: {@code SENT messages=.. notReady=.. beyond=..} (messages sent while
 * {@code isReady()} was false; of those, with more than {@code --beyond} bytes queued before them), {@code QUEUED n}
 * every 200 ms (the server call's {@code numSentBytesQueued}, gRPC's count behind {@code isReady()}).
 */
public final class GrpcPump {

    static final class Bytes extends ByteArrayInputStream implements KnownLength {
        Bytes(byte[] b) {
            super(b);
        }
    }

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

    static final MethodDescriptor<byte[], byte[]> PUMP = MethodDescriptor.<byte[], byte[]>newBuilder()
            .setType(MethodDescriptor.MethodType.SERVER_STREAMING).setFullMethodName("test.Pump/Stream")
            .setRequestMarshaller(RAW).setResponseMarshaller(RAW).build();
    static final MethodDescriptor<byte[], byte[]> UPLOAD = MethodDescriptor.<byte[], byte[]>newBuilder()
            .setType(MethodDescriptor.MethodType.CLIENT_STREAMING).setFullMethodName("test.Pump/Upload")
            .setRequestMarshaller(RAW).setResponseMarshaller(RAW).build();

    private static long total = 32L << 20;
    private static int chunk = 16 << 10;
    private static long tickMs = 50;
    private static long holdMs = 4000;
    private static long beyondBytes = 64 << 10;
    private static final ScheduledExecutorService TIMER = Executors.newScheduledThreadPool(2, r -> {
        Thread t = new Thread(r, "pump-timer");
        t.setDaemon(true);
        return t;
    });
    private static volatile ServerCallStreamObserver<byte[]> serverObserver;
    private static final AtomicLong received = new AtomicLong();
    private static final CountDownLatch finished = new CountDownLatch(1);

    private GrpcPump() {
    }

    public static void main(String[] args) throws Exception {
        String mode = args[0];
        for (int i = 1; i < args.length; i += 2) {
            switch (args[i]) {
                case "--total": total = Long.parseLong(args[i + 1]); break;
                case "--chunk": chunk = Integer.parseInt(args[i + 1]); break;
                case "--tick": tickMs = Long.parseLong(args[i + 1]); break;
                case "--hold": holdMs = Long.parseLong(args[i + 1]); break;
                case "--beyond": beyondBytes = Long.parseLong(args[i + 1]); break;
                default: throw new IllegalArgumentException(args[i]);
            }
        }
        ServerBuilder<?> sb = Grpc.newServerBuilderForPort(0, InsecureServerCredentials.create());
        System.out.println("TRANSPORT " + sb.getClass().getName());
        ServerServiceDefinition.Builder service = ServerServiceDefinition.builder("test.Pump");
        if (mode.equals("client-ignore")) {
            // the server reads slowly: a small window and one message per tick
            sb.getClass().getMethod("flowControlWindow", int.class).invoke(sb, 65536);
            service.addMethod(UPLOAD, slowUpload());
        } else {
            service.addMethod(PUMP, ServerCalls.asyncServerStreamingCall(mode.equals("server-ignore")
                    ? GrpcPump::serveIgnoring : GrpcPump::serveRespecting));
        }
        Server server = sb.addService(service.build()).build().start();
        System.out.println("LISTENING " + server.getPort());
        ManagedChannelBuilder<?> cb = Grpc.newChannelBuilderForAddress("127.0.0.1", server.getPort(),
                InsecureChannelCredentials.create());
        if (!mode.equals("client-ignore")) {
            // the client reads slowly: a 64 KiB window (no automatic window tuning) and one message per tick
            cb.getClass().getMethod("flowControlWindow", int.class).invoke(cb, 65536);
        }
        ManagedChannel channel = cb.build();
        // a call made before the channel is ready is buffered and replayed by gRPC's own thread
        while (channel.getState(true) != ConnectivityState.READY) {
            Thread.sleep(10);
        }
        TIMER.scheduleAtFixedRate(GrpcPump::printQueued, 200, 200, TimeUnit.MILLISECONDS);
        if (mode.equals("client-ignore")) {
            uploadIgnoring(channel);
        } else {
            readSlowly(channel, mode.equals("server-ignore"));
        }
        System.out.println("DONE received=" + received.get());
        Thread.sleep(Long.MAX_VALUE);
    }

    // ---- server streaming

    private static void serveIgnoring(byte[] request, StreamObserver<byte[]> o) {
        ServerCallStreamObserver<byte[]> obs = (ServerCallStreamObserver<byte[]>) o;
        serverObserver = obs;
        byte[] message = new byte[chunk];
        long messages = 0;
        long notReady = 0;
        long beyond = 0;
        for (long sent = 0; sent < total; sent += chunk) {
            if (!obs.isReady()) {
                notReady++;
                if (queued(obs) > beyondBytes) {
                    beyond++;
                }
            }
            streamIgnoring(obs, message);
            messages++;
        }
        System.out.println("SENT messages=" + messages + " notReady=" + notReady + " beyond=" + beyond
                + " bytes=" + messages * chunk);
        sentSeen = true;
        // not completed: the reader cancels when the test has seen enough
    }

    static void streamIgnoring(StreamObserver<byte[]> obs, byte[] message) {
        obs.onNext(message);
    }

    private static void serveRespecting(byte[] request, StreamObserver<byte[]> o) {
        ServerCallStreamObserver<byte[]> obs = (ServerCallStreamObserver<byte[]>) o;
        serverObserver = obs;
        byte[] message = new byte[chunk];
        // bytes sent, messages, the most gRPC counted queued after a message; whether completed
        long[] sent = {0, 0, 0};
        boolean[] completed = {false};
        obs.setOnReadyHandler(() -> {
            while (!completed[0] && obs.isReady() && sent[0] < total) {
                streamRespecting(obs, message);
                sent[0] += chunk;
                sent[1]++;
                sent[2] = Math.max(sent[2], queued(obs));
            }
            if (!completed[0] && sent[0] >= total) {
                completed[0] = true;
                System.out.println("SENT messages=" + sent[1] + " notReady=0 beyond=0 bytes=" + sent[0]
                        + " maxQueued=" + sent[2]);
                obs.onCompleted();
            }
        });
    }

    static void streamRespecting(StreamObserver<byte[]> obs, byte[] message) {
        obs.onNext(message);
    }

    private static void readSlowly(ManagedChannel channel, boolean cancelAfterHold) throws InterruptedException {
        ClientCall<byte[], byte[]> call = channel.newCall(PUMP, CallOptions.DEFAULT);
        call.start(new ClientCall.Listener<byte[]>() {
            @Override
            public void onMessage(byte[] message) {
                received.addAndGet(message.length);
            }

            @Override
            public void onClose(Status status, Metadata trailers) {
                System.out.println("CLOSED " + status.getCode());
                finished.countDown();
            }
        }, new Metadata());
        call.sendMessage(new byte[1]);
        call.halfClose();
        call.request(1);
        TIMER.scheduleAtFixedRate(() -> call.request(1), tickMs, tickMs, TimeUnit.MILLISECONDS);
        if (cancelAfterHold) {
            awaitSent();
            Thread.sleep(holdMs);
            System.out.println("CANCELLING queued=" + queued(serverObserver));
            call.cancel("the test has seen enough", null);
        }
        finished.await();
    }

    // ---- client streaming

    private static ServerCallHandler<byte[], byte[]> slowUpload() {
        return (call, headers) -> {
            call.request(1);
            TIMER.scheduleAtFixedRate(() -> call.request(1), tickMs, tickMs, TimeUnit.MILLISECONDS);
            return new ServerCall.Listener<byte[]>() {
                @Override
                public void onMessage(byte[] message) {
                    received.addAndGet(message.length);
                }

                @Override
                public void onHalfClose() {
                    call.sendHeaders(new Metadata());
                    call.sendMessage(new byte[1]);
                    call.close(Status.OK, new Metadata());
                }
            };
        };
    }

    private static void uploadIgnoring(ManagedChannel channel) throws InterruptedException {
        ClientCall<byte[], byte[]> call = channel.newCall(UPLOAD, CallOptions.DEFAULT);
        call.start(new ClientCall.Listener<byte[]>() {
            @Override
            public void onClose(Status status, Metadata trailers) {
                System.out.println("CLOSED " + status.getCode());
                finished.countDown();
            }
        }, new Metadata());
        call.request(1);
        byte[] message = new byte[chunk];
        long messages = 0;
        long notReady = 0;
        for (long sent = 0; sent < total; sent += chunk) {
            if (!call.isReady()) {
                notReady++;
            }
            uploadIgnoring(call, message);
            messages++;
        }
        System.out.println("SENT messages=" + messages + " notReady=" + notReady + " beyond=-1 bytes="
                + messages * chunk);
        Thread.sleep(holdMs);
        System.out.println("CANCELLING");
        call.cancel("the test has seen enough", null);
        finished.await();
    }

    static void uploadIgnoring(ClientCall<byte[], byte[]> call, byte[] message) {
        call.sendMessage(message);
    }

    // ---- what gRPC itself says

    private static volatile boolean sentSeen;

    private static void awaitSent() throws InterruptedException {
        while (!sentSeen) {
            Thread.sleep(10);
        }
    }

    private static void printQueued() {
        ServerCallStreamObserver<byte[]> obs = serverObserver;
        if (obs != null) {
            System.out.println("QUEUED " + queued(obs));
        }
    }

    /** The server call's {@code numSentBytesQueued}: what gRPC counts to answer {@code isReady()}. */
    static long queued(ServerCallStreamObserver<byte[]> obs) {
        try {
            Object call = field(obs, "call");
            Object stream = field(call, "stream");
            Method ts = method(stream.getClass(), "transportState");
            Object state = ts.invoke(stream);
            return ((Number) field(state, "numSentBytesQueued")).longValue();
        } catch (ReflectiveOperationException | RuntimeException e) {
            return -1;
        }
    }

    private static Object field(Object o, String name) throws ReflectiveOperationException {
        for (Class<?> c = o.getClass(); c != null; c = c.getSuperclass()) {
            try {
                Field f = c.getDeclaredField(name);
                f.setAccessible(true);
                return f.get(o);
            } catch (NoSuchFieldException e) {
                // up
            }
        }
        throw new NoSuchFieldException(name);
    }

    private static Method method(Class<?> type, String name) throws NoSuchMethodException {
        for (Class<?> c = type; c != null; c = c.getSuperclass()) {
            try {
                Method m = c.getDeclaredMethod(name);
                m.setAccessible(true);
                return m;
            } catch (NoSuchMethodException e) {
                // up
            }
        }
        throw new NoSuchMethodException(name);
    }
}
