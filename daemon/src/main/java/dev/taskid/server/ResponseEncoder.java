package dev.taskid.server;

import dev.taskid.json.JsonWriter;
import dev.taskid.protocol.Response;
import dev.taskid.protocol.ResponseCodec;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.MessageToByteEncoder;
import io.netty.util.concurrent.FastThreadLocal;

/**
 * A response to its line: JSON and a newline, written into the event loop's reused
 * {@link JsonWriter} and copied once into the outbound buffer (no generator, stream or byte[]
 * per response).
 */
@ChannelHandler.Sharable
public final class ResponseEncoder extends MessageToByteEncoder<Response> {
    /** Lines longer than this do not keep their array in the loop's writer. */
    private static final int KEEP = 16 * 1024;

    private final ResponseCodec codec;
    private final FastThreadLocal<JsonWriter> writers = new FastThreadLocal<>() {
        @Override
        protected JsonWriter initialValue() {
            return new JsonWriter(512);
        }
    };

    public ResponseEncoder(ResponseCodec codec) {
        super(Response.class);
        this.codec = codec;
    }

    @Override
    protected void encode(ChannelHandlerContext ctx, Response response, ByteBuf out) {
        JsonWriter w = writers.get().reset();
        codec.encode(response, w);
        w.newline();
        out.writeBytes(w.array(), 0, w.length());
        if (w.array().length > KEEP) {
            writers.remove(); // one big answer (stats, init) does not stay in memory
        }
    }
}
