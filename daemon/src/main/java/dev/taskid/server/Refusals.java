package dev.taskid.server;

import dev.taskid.protocol.Response;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.channel.socket.DuplexChannel;
import io.netty.util.AttributeKey;
import io.netty.util.ReferenceCountUtil;
import java.util.concurrent.TimeUnit;

/**
 * Ends connections the daemon refuses (FORBIDDEN, BUSY, LINE_TOO_LONG) so that the client reads
 * why. Closing a Unix socket that still has unread input resets it, and the client then loses
 * the line already sent to it: a client that writes its request right after connecting (most
 * do) would see "connection reset" instead of FORBIDDEN. So a refused connection sends its
 * answer, shuts down its sending side (the client reads the line, then the end), discards
 * whatever still comes in, and closes when the client does or after {@link #LINGER_SECONDS}.
 * First inbound handler of the pipeline, so nothing after it sees a refused connection's input.
 */
@ChannelHandler.Sharable
public final class Refusals extends ChannelInboundHandlerAdapter {
    static final long LINGER_SECONDS = 2;
    private static final AttributeKey<Boolean> REFUSED = AttributeKey.valueOf("taskid.refused");

    /** Answers {@code reason} as the connection's last line, then ends it as described above. */
    public static void refuse(Channel channel, Response.Failure reason) {
        channel.attr(REFUSED).set(Boolean.TRUE);
        channel.writeAndFlush(reason).addListener(f -> end(channel));
    }

    /** Ends a connection whose last answer is already written (e.g. LINE_TOO_LONG from the state thread). */
    public static void end(Channel channel) {
        channel.attr(REFUSED).set(Boolean.TRUE);
        channel.config().setAutoRead(true); // keep reading, to discard: unread input means a reset
        channel.writeAndFlush(io.netty.buffer.Unpooled.EMPTY_BUFFER).addListener(f -> {
            if (channel instanceof DuplexChannel duplex && channel.isActive()) {
                duplex.shutdownOutput();
                channel.eventLoop().schedule(() -> channel.close(), LINGER_SECONDS, TimeUnit.SECONDS);
            } else {
                channel.close();
            }
        });
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (Boolean.TRUE.equals(ctx.channel().attr(REFUSED).get())) {
            ReferenceCountUtil.release(msg);
            return;
        }
        ctx.fireChannelRead(msg);
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object event) throws Exception {
        if (event instanceof ChannelInputShutdownEvent
                && Boolean.TRUE.equals(ctx.channel().attr(REFUSED).get())) {
            ctx.close(); // the client has read the answer and closed its side: done
            return;
        }
        super.userEventTriggered(ctx, event);
    }
}
