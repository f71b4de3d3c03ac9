package dev.taskid.server;

import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.timeout.IdleStateEvent;
import java.io.IOException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Hands every decoded line to the state (on the same event loop: no queue, no other thread),
 * in order. Closes a connection idle in either direction (nothing read, or nothing written
 * although answers wait), and one whose transport fails; an {@link Error} halts the daemon.
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
        sink.submit(ctx.channel(), inbound);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (cause instanceof Error) {
            Fatal.halt(Thread.currentThread().getName(), cause); // the state loop out of memory serves nobody well
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
        super.userEventTriggered(ctx, event);
    }
}
