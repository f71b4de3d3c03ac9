package dev.taskid.testing;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Assumptions;

/**
 * A network namespace of the test's own, joined to the root namespace by a veth pair with a
 * /30 of the benchmarking range (198.18.0.0/15) on it, and a partition made by an nftables drop
 * rule inside that namespace: only addresses this class creates are ever targets. Needs root;
 * skips the test, saying why, without it. {@link #close} removes the rule, the pair and the namespace.
 */
public final class NetNamespace implements AutoCloseable {
    private static final String TABLE = "taskid_partition";
    private final String name;
    private final String outside;
    private final String inside;
    private final String hostAddress;
    private final String nsAddress;

    private NetNamespace(String name, String outside, String inside, String hostAddress, String nsAddress) {
        this.name = name;
        this.outside = outside;
        this.inside = inside;
        this.hostAddress = hostAddress;
        this.nsAddress = nsAddress;
    }

    /** Creates the namespace and its veth pair; skips the test without root, ip or nft. */
    public static NetNamespace create() {
        Processes.Result id = Processes.run(List.of("id", "-u"), Path.of("/"), Map.of(), Duration.ofSeconds(10));
        Assumptions.assumeTrue(
                id.stdout().trim().equals("0"),
                "network namespaces and firewall rules need root" + " (CI runs as root)");
        Assumptions.assumeTrue(
                Processes.onPath("ip").isPresent() && Processes.onPath("nft").isPresent(),
                "needs ip (iproute2) and nft (nftables): .ci/run installs them");
        long pid = ProcessHandle.current().pid();
        int net = (int) (pid % 16_000); // one /30 per test JVM within 198.18.0.0/16
        String base = "198.18." + (net / 64) + ".";
        int host = (net % 64) * 4 + 1;
        NetNamespace ns = new NetNamespace("taskid-" + pid, "tko" + pid, "tki" + pid, base + host, base + (host + 1));
        try {
            ns.run("ip", "netns", "add", ns.name);
            ns.run("ip", "link", "add", ns.outside, "type", "veth", "peer", "name", ns.inside);
            ns.run("ip", "link", "set", ns.inside, "netns", ns.name);
            ns.run("ip", "addr", "add", ns.hostAddress + "/30", "dev", ns.outside);
            ns.run("ip", "link", "set", ns.outside, "up");
            ns.inside("ip", "addr", "add", ns.nsAddress + "/30", "dev", ns.inside);
            ns.inside("ip", "link", "set", ns.inside, "up");
            ns.inside("ip", "link", "set", "lo", "up");
        } catch (RuntimeException e) {
            ns.close();
            throw e;
        }
        return ns;
    }

    /** The root namespace's end: what a server listens on for processes inside. */
    public String hostAddress() {
        return hostAddress;
    }

    /** The network of the pair, for a server's allow list. */
    public String cidr() {
        return nsAddress + "/32";
    }

    /** {@code command} run inside the namespace; {@code ip netns exec} execs it, so its pid stays the command's. */
    public List<String> wrap(List<String> command) {
        List<String> out = new ArrayList<>(List.of("ip", "netns", "exec", name));
        out.addAll(command);
        return out;
    }

    /** The partition: every packet between the namespace and {@link #hostAddress} is dropped, both ways. */
    public void cut() {
        Processes.Result r = Processes.run(
                wrap(List.of("nft", "-f", "-")),
                Path.of("/"),
                Map.of(),
                ("table inet " + TABLE + " {\n"
                                + "  chain out { type filter hook output priority 0; policy accept; ip daddr "
                                + hostAddress + " drop; }\n"
                                + "  chain in { type filter hook input priority 0; policy accept; ip saddr "
                                + hostAddress + " drop; }\n"
                                + "}\n")
                        .getBytes(java.nio.charset.StandardCharsets.UTF_8),
                Duration.ofSeconds(30));
        if (r.status() != 0) {
            throw new IllegalStateException("nft failed: " + r);
        }
    }

    /** Ends the partition. */
    public void heal() {
        inside("nft", "delete", "table", "inet", TABLE);
    }

    private void inside(String... command) {
        run(wrap(List.of(command)).toArray(String[]::new));
    }

    private void run(String... command) {
        Processes.Result r = Processes.run(List.of(command), Path.of("/"), Map.of(), Duration.ofSeconds(30));
        if (r.status() != 0) {
            throw new IllegalStateException(String.join(" ", command) + " failed: " + r);
        }
    }

    /** Removes the namespace (its rules with it) and the pair; each step even if an earlier one failed. */
    @Override
    public void close() {
        Processes.run(List.of("ip", "netns", "delete", name), Path.of("/"), Map.of(), Duration.ofSeconds(30));
        // The pair goes with the namespace once no process is left in it; deleting it here does not wait for that.
        Processes.run(List.of("ip", "link", "delete", outside), Path.of("/"), Map.of(), Duration.ofSeconds(30));
    }
}
