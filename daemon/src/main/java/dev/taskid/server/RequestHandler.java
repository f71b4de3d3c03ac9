package dev.taskid.server;

import dev.taskid.protocol.ErrorCode;
import dev.taskid.protocol.Protocol;
import dev.taskid.protocol.Response;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.handler.codec.TooLongFrameException;
import io.netty.handler.timeout.IdleStateEvent;
import java.io.IOException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Hands every decoded line to the state thread, in order. A too-long line is answered
 * LINE_TOO_LONG (through the same queue, so earlier answers come first) and ends the
 * connection, as does an idle timeout. A client that shuts down its sending side gets its
 * answers, then the close.
 */
@ChannelHandler.Sharable
public final class RequestHandler extends SimpleChannelInboundHandler<Inbound> {
    private static final Logger log = LoggerFactory.getLogger(RequestHandler.class);

    private final RequestSink sink;

    public RequestHandler(RequestSink sink) {
        this.sink = sink;
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, Inbound inbound) {
        Connections.queued(ctx.channel());
        sink.submit(ctx.channel(), inbound);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (cause instanceof Error) {
            Fatal.halt(Thread.currentThread().getName(), cause); // an event loop out of memory serves nobody well
        }
        if (cause instanceof TooLongFrameException) {
            ctx.channel().config().setAutoRead(false);
            Connections.queued(ctx.channel());
            sink.submit(ctx.channel(), Inbound.failed(Response.Failure.of(null, ErrorCode.LINE_TOO_LONG,
                    "request line longer than " + Protocol.MAX_LINE_BYTES + " bytes; closing the connection"), true));
            return;
        }
        if (!(cause instanceof IOException)) {
            log.warn("closing connection after an unexpected error", cause);
        }
        ctx.close();
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object event) throws Exception {
        if (event instanceof IdleStateEvent) {
            ctx.close();
            return;
        }
        if (event instanceof ChannelInputShutdownEvent) {
            // Closed only behind the answers to what came before, by the thread that writes them.
            Connections.queued(ctx.channel());
            sink.submit(ctx.channel(), Inbound.END_OF_INPUT);
            return;
        }
        super.userEventTriggered(ctx, event);
    }
}
