package dev.taskid.server;

import io.netty.channel.Channel;

/** Where decoded lines go: the daemon's state thread. Answers are written back to the channel. */
@FunctionalInterface
public interface RequestSink {
    void submit(Channel channel, Inbound inbound);
}
