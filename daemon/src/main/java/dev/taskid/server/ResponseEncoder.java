package dev.taskid.server;

import dev.taskid.protocol.Response;
import dev.taskid.protocol.ResponseCodec;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.MessageToByteEncoder;

/** A response to its line: JSON and a newline. */
@ChannelHandler.Sharable
public final class ResponseEncoder extends MessageToByteEncoder<Response> {
    private final ResponseCodec codec;

    public ResponseEncoder(ResponseCodec codec) {
        super(Response.class);
        this.codec = codec;
    }

    @Override
    protected void encode(ChannelHandlerContext ctx, Response response, ByteBuf out) {
        out.writeBytes(codec.encode(response)).writeByte('\n');
    }
}
