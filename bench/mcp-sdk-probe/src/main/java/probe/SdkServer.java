package probe;

import io.modelcontextprotocol.json.McpJsonDefaults;
import io.modelcontextprotocol.server.McpServer;
import io.modelcontextprotocol.server.McpSyncServer;
import io.modelcontextprotocol.server.transport.StdioServerTransportProvider;
import io.modelcontextprotocol.spec.McpSchema;
import java.util.List;
import java.util.Map;

/**
 * The official MCP Java SDK serving one stub tool over stdio, only to measure its start-up
 * against `taskid mcp` (see docs/CLIENTS.md). Not part of the build:
 * cd bench/mcp-sdk-probe && mvn -q compile dependency:build-classpath -Dmdep.outputFile=target/cp.txt
 * python3 ../mcp-initialize.py 10 -- java -cp target/classes:$(cat target/cp.txt) probe.SdkServer
 */
public class SdkServer {
    public static void main(String[] args) throws Exception {
        var transport = new StdioServerTransportProvider(McpJsonDefaults.getMapper());
        McpSchema.Tool tool = McpSchema.Tool.builder().name("reserve_task_ids").description("reserve")
                .inputSchema(Map.of("type", "object", "properties", Map.of("prefix", Map.of("type", "string")),
                        "required", List.of("prefix")))
                .build();
        McpSyncServer server = McpServer.sync(transport).serverInfo("taskid", "0.1.0")
                .capabilities(McpSchema.ServerCapabilities.builder().tools(false).build())
                .toolCall(tool, (ex, req) -> McpSchema.CallToolResult.builder().addTextContent("{\"ids\":[\"SEC-1\"]}").build())
                .build();
        Thread.currentThread().join();
    }
}
