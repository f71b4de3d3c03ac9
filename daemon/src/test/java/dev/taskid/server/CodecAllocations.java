package dev.taskid.server;

import dev.taskid.protocol.RequestCodec;
import dev.taskid.protocol.RequestId;
import dev.taskid.protocol.Response;
import dev.taskid.protocol.ResponseCodec;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.Locale;

/**
 * Heap bytes allocated per request by the daemon's line codec (not a test): a reserve line goes
 * through the real {@link RequestDecoder} and its answer through the real {@link ResponseEncoder}
 * on an {@link EmbeddedChannel}, ITERATIONS times after a warm-up, counted with
 * {@code com.sun.management.ThreadMXBean#getThreadAllocatedBytes}. A baseline run sends blank
 * lines (not decoded) and pre-encoded answers (not encoded) through the same channel, so that
 * the difference is the codec's own share.
 *
 * <pre>mvn -q -o -pl daemon -am test-compile; java -cp ... dev.taskid.server.CodecAllocations [ITERATIONS]</pre>
 */
public final class CodecAllocations {
    private static final byte[] LINE =
            "{\"id\":17,\"op\":\"reserve\",\"prefix\":\"SEC\",\"count\":1,\"agent\":\"bench\"}\n"
                    .getBytes(StandardCharsets.UTF_8);
    private static final byte[] BLANK = "\n".getBytes(StandardCharsets.UTF_8);
    private static final Response ANSWER = new Response.Reserved(
            RequestId.of(17),
            "SEC",
            List.of("SEC-20"),
            List.of(20L),
            19,
            20,
            21,
            Instant.parse("2026-11-25T10:00:00.123Z"),
            false);

    private CodecAllocations() {}

    public static void main(String[] args) {
        int iterations = args.length > 0 ? Integer.parseInt(args[0]) : 100_000;
        com.sun.management.ThreadMXBean mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        for (boolean direct : new boolean[] {true, false}) {
            for (int warm = 0; warm < 5; warm++) { // warm-up: JIT (C2 too), pools, symbol tables
                run(mx, direct, false, iterations);
                run(mx, direct, true, iterations);
            }
            long[] base = run(mx, direct, false, iterations);
            long[] full = run(mx, direct, true, iterations);
            System.out.printf(
                    Locale.ROOT,
                    "%s buffers: %.0f B/request decode+encode through the pipeline, %.0f B baseline"
                            + " (channel only), %.0f B the codec's share; %.0f CPU ns/request, %.0f ns baseline,"
                            + " %.0f ns the codec's share (%d iterations)%n",
                    direct ? "direct" : "heap",
                    full[0] / (double) iterations,
                    base[0] / (double) iterations,
                    (full[0] - base[0]) / (double) iterations,
                    full[1] / (double) iterations,
                    base[1] / (double) iterations,
                    (full[1] - base[1]) / (double) iterations,
                    iterations);
        }
    }

    /** The codec's own heap bytes per reserve round trip, after a warm-up (for {@code CodecAllocationsTest}). */
    static double codecBytesPerRequest(boolean direct, int iterations) {
        com.sun.management.ThreadMXBean mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        run(mx, direct, false, iterations);
        run(mx, direct, true, iterations);
        long base = run(mx, direct, false, iterations)[0];
        long full = run(mx, direct, true, iterations)[0];
        return (full - base) / (double) iterations;
    }

    /** Bytes this thread allocated for {@code iterations} round trips, and the thread CPU nanoseconds they took. */
    private static long[] run(com.sun.management.ThreadMXBean mx, boolean direct, boolean codec, int iterations) {
        ResponseCodec responses = new ResponseCodec();
        EmbeddedChannel ch = new EmbeddedChannel();
        Sink sink = new Sink();
        ch.pipeline()
                .addLast(
                        new ResponseEncoder(responses),
                        new RequestDecoder(new RequestCodec(), new Backlog(1 << 20)),
                        sink);
        byte[] encoded =
                (new String(responses.encode(ANSWER), StandardCharsets.UTF_8) + "\n").getBytes(StandardCharsets.UTF_8);
        long thread = Thread.currentThread().getId();
        long before = mx.getThreadAllocatedBytes(thread);
        long start = mx.getCurrentThreadCpuTime(); // CPU time: a busy machine preempts, it does not add
        for (int i = 0; i < iterations; i++) {
            byte[] line = codec ? LINE : BLANK;
            ByteBuf in =
                    direct ? ch.alloc().directBuffer(line.length) : ch.alloc().heapBuffer(line.length);
            ch.writeInbound(in.writeBytes(line));
            if (codec) {
                ch.writeOutbound(ANSWER);
            } else {
                ch.writeOutbound((direct
                                ? ch.alloc().directBuffer(encoded.length)
                                : ch.alloc().heapBuffer(encoded.length))
                        .writeBytes(encoded));
            }
            RequestDecoder.written(ch, codec ? 1 : 0);
            ByteBuf out = ch.readOutbound();
            out.release();
        }
        long nanos = mx.getCurrentThreadCpuTime() - start;
        long bytes = mx.getThreadAllocatedBytes(thread) - before;
        if (codec && sink.requests != iterations) {
            throw new IllegalStateException("decoded " + sink.requests + " of " + iterations);
        }
        ch.finishAndReleaseAll();
        return new long[] {bytes, nanos};
    }

    private static final class Sink extends ChannelInboundHandlerAdapter {
        private int requests;

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (msg instanceof Inbound inbound && inbound.request() != null) {
                requests++;
            }
        }
    }
}
