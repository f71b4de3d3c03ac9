package dev.taskid.server;

import io.netty.channel.Channel;

/**
 * Where decoded lines go: the daemon's state, called on the state loop itself. Each line's
 * answer is written back to the channel later, then reported with {@link RequestDecoder#written}.
 */
@FunctionalInterface
public interface RequestSink {
    void submit(Channel channel, Inbound inbound);
}
