package dev.taskid.server;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import dev.taskid.protocol.ErrorCode;
import dev.taskid.protocol.Request;
import dev.taskid.protocol.RequestCodec;
import dev.taskid.protocol.RequestId;
import dev.taskid.protocol.Response;
import dev.taskid.protocol.ResponseCodec;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The server's ByteBuf side of the codec: lines decoded where they lie (a heap buffer's array at
 * its offset, a direct buffer through the connection's scratch array), answers generated into the
 * outbound buffer. Several lines in one buffer, at a non-zero array offset, pin the offsets.
 */
class LineCodecTest {
    private final ResponseCodec responses = new ResponseCodec();

    @ParameterizedTest
    @ValueSource(booleans = {true, false})
    void linesAreDecodedWhereTheyLieAndAnswersEncodedIntoTheBuffer(boolean direct) {
        EmbeddedChannel ch = new EmbeddedChannel(
                new ResponseEncoder(responses), new RequestDecoder(new RequestCodec(), new Backlog(100)));
        String text =
                "{\"id\":1,\"op\":\"ping\"}\n{\"id\":\"two\",\"op\":\"reserve\",\"prefix\":\"SEC\",\"count\":2}\r\n"
                        + "{\"op\":\"reserve\",\"count\":\"x\",\"prefix\":\"SEC\"}\n{\"op\":\"ping\",\"op\":\"ping\"}\n{\"id\":5,\"op\":\"pi";
        byte[] bytes = ("garbage before the slice" + text).getBytes(UTF_8);
        ByteBuf whole = direct ? Unpooled.directBuffer(bytes.length) : Unpooled.buffer(bytes.length);
        whole.writeBytes(bytes);
        // a slice of a heap buffer has a non-zero arrayOffset; its readerIndex moves line by line
        ch.writeInbound(whole.retainedSlice(24, bytes.length - 24));
        whole.release();
        assertEquals(new Request.Ping(RequestId.of(1)), ((Inbound) ch.readInbound()).request());
        assertEquals(
                new Request.Reserve(RequestId.of("two"), "SEC", 2, null, null, null),
                ((Inbound) ch.readInbound()).request());
        assertEquals(
                ErrorCode.INVALID_COUNT, ((Inbound) ch.readInbound()).failure().code());
        assertEquals(
                ErrorCode.BAD_REQUEST, ((Inbound) ch.readInbound()).failure().code(), "duplicate key");
        assertNull(ch.readInbound(), "the cut-off line waits for its end");
        ch.writeInbound(Unpooled.copiedBuffer("ng\"}\n", UTF_8));
        assertEquals(new Request.Ping(RequestId.of(5)), ((Inbound) ch.readInbound()).request());

        Response answer = new Response.Reserved(
                RequestId.of("two"),
                "SEC",
                List.of("SEC-20", "SEC-21"),
                List.of(20L, 21L),
                19,
                21,
                22,
                Instant.parse("2026-11-25T10:00:00.123Z"),
                false);
        ch.writeOutbound(answer);
        ByteBuf out = ch.readOutbound();
        assertEquals(new String(responses.encode(answer), UTF_8) + "\n", out.toString(UTF_8));
        out.release();
        ch.finishAndReleaseAll();
    }
}
