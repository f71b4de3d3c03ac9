package dev.taskid.server;

import dev.taskid.protocol.JsonLines;
import dev.taskid.protocol.ProtocolException;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.MessageToMessageDecoder;
import java.util.List;

/** A framed line to an {@link Inbound}: a request, or the failure a bad line earns. */
@ChannelHandler.Sharable
public final class RequestDecoder extends MessageToMessageDecoder<ByteBuf> {
    private final JsonLines json;

    public RequestDecoder(JsonLines json) {
        this.json = json;
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf line, List<Object> out) {
        int length = line.readableBytes();
        if (length == 0 || (length == 1 && line.getByte(line.readerIndex()) == '\r')) {
            return; // blank lines are keep-alives, not requests
        }
        byte[] bytes;
        int offset;
        if (line.hasArray()) {
            bytes = line.array();
            offset = line.arrayOffset() + line.readerIndex();
        } else {
            bytes = ByteBufUtil.getBytes(line);
            offset = 0;
        }
        try {
            out.add(Inbound.of(json.decodeRequest(bytes, offset, length)));
        } catch (ProtocolException e) {
            out.add(Inbound.failed(e.toFailure(), false));
        }
    }
}
