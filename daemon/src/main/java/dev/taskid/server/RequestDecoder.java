package dev.taskid.server;

import dev.taskid.protocol.ErrorCode;
import dev.taskid.protocol.Protocol;
import dev.taskid.protocol.ProtocolException;
import dev.taskid.protocol.Request;
import dev.taskid.protocol.RequestCodec;
import dev.taskid.protocol.Response;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.util.AttributeKey;

/**
 * One connection's lines to {@link Inbound}s, with its flow control. A line is decoded only
 * while the connection has fewer than {@link #PAUSE_AT} requests read but not yet answered on
 * the wire, and while its outbound buffer is under the high-water mark; otherwise what was
 * read stays undecoded bytes (at most one read beyond a line) and reading pauses, to go on
 * when answers have been written ({@link #written}) and the channel is writable again. So a
 * client that pipelines and never reads costs a bounded amount of memory. Past the daemon's
 * global {@link Backlog}, requests are answered BUSY. A line over 64 KiB is answered
 * LINE_TOO_LONG, after the answers before it, and ends the connection.
 */
public final class RequestDecoder extends ChannelInboundHandlerAdapter {
    /** Unanswered requests of one connection at which decoding and reading pause, and resume. */
    static final int PAUSE_AT = 64;

    static final int RESUME_AT = 16;
    private static final AttributeKey<RequestDecoder> KEY = AttributeKey.valueOf("taskid.decoder");
    private static final int KEEP_SCRATCH = 4096;

    private final RequestCodec codec;
    private final Backlog backlog;
    private ChannelHandlerContext ctx;
    private ByteBuf pending;
    private byte[] scratch = new byte[256];
    private int unanswered;
    private boolean inputClosed;
    private boolean ended;

    public RequestDecoder(RequestCodec codec, Backlog backlog) {
        this.codec = codec;
        this.backlog = backlog;
    }

    /** {@code n} answers of {@code channel}'s requests were written (or the channel is gone). */
    public static void written(Channel channel, int n) {
        RequestDecoder d = channel.attr(KEY).get();
        if (d != null) {
            d.written(n);
        }
    }

    /** Requests of {@code channel} whose answers have not been written yet (0 when it has no decoder). */
    public static int unanswered(Channel channel) {
        RequestDecoder d = channel.attr(KEY).get();
        return d == null ? 0 : d.unanswered;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
        ctx.channel().attr(KEY).set(this);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof ByteBuf in)) {
            ctx.fireChannelRead(msg);
            return;
        }
        if (ended) {
            in.release();
            return;
        }
        pending = pending == null ? in : ByteToMessageDecoder.MERGE_CUMULATOR.cumulate(ctx.alloc(), pending, in);
        drain();
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        // Unlike ByteToMessageDecoder, never read more while paused: that is the point.
        ctx.fireChannelReadComplete();
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        drain();
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object event) {
        if (event instanceof ChannelInputShutdownEvent) {
            inputClosed = true; // END_OF_INPUT follows the lines still pending
            drain();
            return;
        }
        ctx.fireUserEventTriggered(event);
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        releasePending();
    }

    private void written(int n) {
        unanswered -= n;
        backlog.written(n);
        if (unanswered <= RESUME_AT && !ctx.isRemoved()) {
            drain();
        }
    }

    private boolean paused() {
        return unanswered >= PAUSE_AT || !ctx.channel().isWritable();
    }

    /** Decodes and passes on the complete lines pending, as far as flow control allows. */
    private void drain() {
        while (!ended && pending != null && !paused()) {
            int start = pending.readerIndex();
            int eol = pending.indexOf(start, pending.writerIndex(), (byte) '\n');
            if (eol < 0) {
                if (pending.readableBytes() > Protocol.MAX_LINE_BYTES) {
                    tooLong();
                } else if (inputClosed) {
                    releasePending(); // a cut-off last line: nothing will complete it
                }
                break;
            }
            int length = eol - start;
            if (length > Protocol.MAX_LINE_BYTES) {
                tooLong();
                break;
            }
            if (length > 0 && pending.getByte(eol - 1) == '\r') {
                length--;
            }
            Inbound inbound = length == 0 ? null : decode(pending, start, length);
            pending.readerIndex(eol + 1);
            if (inbound != null) { // blank lines are keep-alives, not requests
                pass(inbound);
            }
        }
        if (pending != null && !pending.isReadable()) {
            releasePending();
        }
        if (!ended && inputClosed && pending == null) {
            ended = true;
            pass(Inbound.END_OF_INPUT);
        }
        if (!ended && ctx.channel().isActive()) {
            ctx.channel().config().setAutoRead(!paused());
        }
    }

    private Inbound decode(ByteBuf buf, int start, int length) {
        Inbound inbound;
        try {
            Request request = decodeLine(buf, start, length);
            inbound = backlog.full()
                    ? Inbound.failed(
                            Response.Failure.of(
                                    request.id(),
                                    ErrorCode.BUSY,
                                    "the daemon has " + backlog.max() + " requests in flight; retry shortly"),
                            false)
                    : Inbound.of(request);
        } catch (ProtocolException e) {
            inbound = Inbound.failed(e.toFailure(), false);
        }
        return inbound;
    }

    /**
     * The codec reads the line where it lies: in a heap buffer's own array, no copy; a direct
     * buffer's bytes (what the native transports read into) are copied once into this
     * connection's scratch array, which is reused.
     */
    private Request decodeLine(ByteBuf buf, int start, int length) throws ProtocolException {
        if (buf.hasArray()) {
            return codec.decode(buf.array(), buf.arrayOffset() + start, length);
        }
        if (scratch.length < length) {
            scratch = new byte[Math.max(length, 2 * scratch.length)];
        }
        buf.getBytes(start, scratch, 0, length);
        try {
            return codec.decode(scratch, 0, length);
        } finally {
            if (scratch.length > KEEP_SCRATCH) {
                scratch = new byte[256]; // one long line does not keep 64 KiB per connection
            }
        }
    }

    private void tooLong() {
        ended = true; // what follows is discarded (Refusals) once the answer is out
        releasePending();
        pass(Inbound.failed(
                Response.Failure.of(
                        null,
                        ErrorCode.LINE_TOO_LONG,
                        "request line longer than " + Protocol.MAX_LINE_BYTES + " bytes; closing the connection"),
                true));
    }

    private void pass(Inbound inbound) {
        unanswered++;
        backlog.read();
        ctx.fireChannelRead(inbound);
    }

    private void releasePending() {
        if (pending != null) {
            pending.release();
            pending = null;
        }
    }
}
