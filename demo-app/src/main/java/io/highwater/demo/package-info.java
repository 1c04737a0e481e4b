/**
 * The highwater demo: a reporting service that streams a large CSV export to a slow phone, with code that respects
 * backpressure and code that ignores it, and the scenario that runs it with the agent attached.
 *
 * <p>The lesson, one short file per transport, each writer beside its counterpart:
 * {@link io.highwater.demo.NettyExport} (writes while {@code isWritable()} and resumes in
 * {@code channelWritabilityChanged}, against a loop of {@code write()}), {@link io.highwater.demo.ServletExport}
 * (blocking; async honouring {@code isReady()}; async ignoring it) and {@link io.highwater.demo.SocketExport} (a
 * thread per connection that cannot ignore: it blocks). Their servers ({@code NettyServer}, {@code ServletServer},
 * {@code SocketServer}) are plumbing; {@code ReportingService} is the {@code serve} command that starts them.
 *
 * <p>The scenario: {@code Scenario} plays its {@code Phase}s in order ({@code NettyRespectingPhase},
 * {@code NettyIgnoringPhase}, {@code ServletPhase}, {@code SocketPhase}, {@code GrpcPhase}) on a {@code Stage}: the service in a child JVM
 * ({@code ServiceProcess}), the phone ({@code SlowClient}), and the agent's telemetry with the live view
 * ({@code TelemetrySinks}, {@code LiveView}).
 */
package io.highwater.demo;
