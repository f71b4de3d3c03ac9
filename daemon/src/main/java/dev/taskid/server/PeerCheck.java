package dev.taskid.server;

import dev.taskid.protocol.ErrorCode;
import dev.taskid.protocol.Response;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.AttributeKey;
import java.io.IOException;
import java.nio.file.FileSystems;
import java.nio.file.attribute.UserPrincipal;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Lets in only the daemon's own uid and the configured ones (SO_PEERCRED); anyone else, and
 * any peer the transport cannot tell, gets one FORBIDDEN line and is closed (fail closed).
 * Remembers the peer on the channel.
 */
@ChannelHandler.Sharable
public final class PeerCheck extends ChannelInboundHandlerAdapter {
    private static final Logger log = LoggerFactory.getLogger(PeerCheck.class);
    private static final AttributeKey<Transport.Peer> PEER = AttributeKey.valueOf("taskid.peer");

    private final Transport transport;
    private final int ownUid;
    private final Set<Integer> allowed;
    /** The allowed uids as users, for a transport that only tells the peer's user (NIO). */
    private final Map<UserPrincipal, Integer> allowedUsers;

    public PeerCheck(Transport transport, int ownUid, UserPrincipal ownUser, Set<Integer> allowed) {
        this.transport = transport;
        this.ownUid = ownUid;
        this.allowed = Set.copyOf(allowed);
        Map<UserPrincipal, Integer> users = new HashMap<>();
        users.put(ownUser, ownUid);
        for (int uid : allowed) {
            // A numeric name that no account has is looked up as that uid.
            user(uid).ifPresent(u -> users.putIfAbsent(u, uid));
        }
        this.allowedUsers = Map.copyOf(users);
    }

    private static Optional<UserPrincipal> user(int uid) {
        try {
            return Optional.of(FileSystems.getDefault()
                    .getUserPrincipalLookupService()
                    .lookupPrincipalByName(Integer.toString(uid)));
        } catch (IOException | UnsupportedOperationException e) {
            log.warn(
                    "allowedUids: uid {} cannot be resolved ({}); the NIO transport will refuse it", uid, e.toString());
            return Optional.empty();
        }
    }

    /** The peer of a connection, if the transport could tell. */
    public static Transport.Peer peer(Channel channel) {
        return channel.attr(PEER).get();
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) throws Exception {
        Optional<Transport.Peer> told = transport.peer(ctx.channel());
        if (told.isEmpty()) {
            log.warn("refused a connection: the {} transport cannot tell who it is", transport.name());
            Refusals.refuse(
                    ctx.channel(),
                    Response.Failure.of(
                            null,
                            ErrorCode.FORBIDDEN,
                            "this taskid daemon cannot tell who you are (no peer credentials on its " + transport.name()
                                    + " transport), so it serves nobody on this connection"));
            return;
        }
        Transport.Peer p = told.get();
        Integer uid = p.uid() >= 0 ? Integer.valueOf(p.uid()) : allowedUsers.get(p.user());
        if (uid == null || (uid != ownUid && !allowed.contains(uid))) {
            String who = p.uid() >= 0 ? "uid " + p.uid() : "user " + p.user().getName();
            log.warn("refused {} (pid {}): not the daemon's uid {} nor in allowedUids", who, p.pid(), ownUid);
            Refusals.refuse(
                    ctx.channel(),
                    Response.Failure.of(
                            null,
                            ErrorCode.FORBIDDEN,
                            who + " may not use this taskid daemon (owner uid " + ownUid
                                    + "; add it to allowedUids in config.json)"));
            return;
        }
        ctx.channel().attr(PEER).set(new Transport.Peer(uid, p.pid(), p.user()));
        super.channelActive(ctx);
    }
}
