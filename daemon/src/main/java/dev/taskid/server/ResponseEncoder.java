package dev.taskid.server;

import dev.taskid.protocol.Response;
import dev.taskid.protocol.ResponseCodec;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufOutputStream;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.MessageToByteEncoder;
import java.io.IOException;

/**
 * A response to its line: JSON and a newline, generated straight into the outbound buffer
 * (Jackson's generator buffers in its recycled array; no byte[] per response).
 */
@ChannelHandler.Sharable
public final class ResponseEncoder extends MessageToByteEncoder<Response> {
    private final ResponseCodec codec;

    public ResponseEncoder(ResponseCodec codec) {
        super(Response.class);
        this.codec = codec;
    }

    @Override
    protected void encode(ChannelHandlerContext ctx, Response response, ByteBuf out) throws IOException {
        codec.encode(response, new ByteBufOutputStream(out));
        out.writeByte('\n');
    }
}
