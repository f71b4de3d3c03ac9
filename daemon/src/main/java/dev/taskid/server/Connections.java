package dev.taskid.server;

import dev.taskid.protocol.ErrorCode;
import dev.taskid.protocol.Response;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Counts connections and refuses those over the cap with one BUSY line. (Each connection's
 * unanswered requests are bounded by its {@link RequestDecoder}.)
 */
@ChannelHandler.Sharable
public final class Connections extends ChannelInboundHandlerAdapter {

    private final int max;
    private final Set<Channel> channels = ConcurrentHashMap.newKeySet();
    private final AtomicInteger open = new AtomicInteger();
    private final AtomicLong total = new AtomicLong();

    public Connections(int max) {
        this.max = max;
    }

    public int open() {
        return open.get();
    }

    public long total() {
        return total.get();
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) throws Exception {
        total.incrementAndGet();
        channels.add(ctx.channel());
        if (open.incrementAndGet() > max) {
            Refusals.refuse(
                    ctx.channel(),
                    Response.Failure.of(null, ErrorCode.BUSY, "too many connections (" + max + "); retry shortly"));
            return;
        }
        super.channelActive(ctx);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
        open.decrementAndGet();
        channels.remove(ctx.channel());
        super.channelInactive(ctx);
    }

    /**
     * Closes every connection after what was already written to it. A close asked for from
     * outside the event loop is queued behind the writes the state loop made before it,
     * so answers go out first; shutting the event loops down instead would close the
     * channels before running those writes, and a client whose reservation was saved but
     * never answered retries and burns a number.
     */
    void closeAll(long timeoutMillis) {
        List<ChannelFuture> closing = new ArrayList<>();
        for (Channel c : channels) {
            closing.add(c.close());
        }
        for (ChannelFuture f : closing) {
            f.awaitUninterruptibly(timeoutMillis);
        }
    }
}
