package dev.taskid.server;

import dev.taskid.protocol.JsonLines;
import dev.taskid.protocol.Response;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.MessageToByteEncoder;

/** A response to its line: JSON and a newline. */
@ChannelHandler.Sharable
public final class ResponseEncoder extends MessageToByteEncoder<Response> {
    private final JsonLines json;

    public ResponseEncoder(JsonLines json) {
        super(Response.class);
        this.json = json;
    }

    @Override
    protected void encode(ChannelHandlerContext ctx, Response response, ByteBuf out) {
        out.writeBytes(json.encode(response)).writeByte('\n');
    }
}
