package dev.taskid.server;

import dev.taskid.protocol.ErrorCode;
import dev.taskid.protocol.Response;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.AttributeKey;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Lets in only the daemon's own uid and the configured ones (SO_PEERCRED); anyone else gets
 * one FORBIDDEN line and is closed. Remembers the peer on the channel.
 */
@ChannelHandler.Sharable
public final class PeerCheck extends ChannelInboundHandlerAdapter {
    private static final Logger log = LoggerFactory.getLogger(PeerCheck.class);
    private static final AttributeKey<Transport.Peer> PEER = AttributeKey.valueOf("taskid.peer");

    private final Transport transport;
    private final int ownUid;
    private final Set<Integer> allowed;

    public PeerCheck(Transport transport, int ownUid, Set<Integer> allowed) {
        this.transport = transport;
        this.ownUid = ownUid;
        this.allowed = Set.copyOf(allowed);
    }

    /** The peer of a connection, if the transport could tell. */
    public static Transport.Peer peer(Channel channel) {
        return channel.attr(PEER).get();
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) throws Exception {
        var peer = transport.peer(ctx.channel());
        if (peer.isPresent()) {
            Transport.Peer p = peer.get();
            ctx.channel().attr(PEER).set(p);
            if (p.uid() != ownUid && !allowed.contains(p.uid())) {
                log.warn("refused uid {} (pid {}): not the daemon's uid {} nor in allowedUids", p.uid(), p.pid(), ownUid);
                Refusals.refuse(ctx.channel(), Response.Failure.of(null, ErrorCode.FORBIDDEN,
                        "uid " + p.uid() + " may not use this taskid daemon (owner uid " + ownUid
                                + "; add it to allowedUids in config.json)"));
                return;
            }
        }
        super.channelActive(ctx);
    }
}
