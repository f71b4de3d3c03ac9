package dev.taskid.state;

import dev.taskid.allocator.Rules;
import dev.taskid.json.Json;
import dev.taskid.json.JsonException;
import dev.taskid.protocol.ErrorCode;
import dev.taskid.protocol.TaskId;
import dev.taskid.protocol.TaskIdException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Settings from {@code .taskid/config.json}; every field is optional.
 *
 * <pre>{"prefixes":["SEC","UX"], "extraPrefixes":["QA"], "maxBatch":1000, "lockTimeoutMs":30000,
 *  "allowedUids":[1001], "prefixOptions":{"SEC":{"width":3}, "PROJECT":{"wrap":1000, "bare":true}},
 *  "audit":{"maxBytes":10485760, "keep":5}}</pre>
 */
public record Config(
        Set<String> prefixes,
        int maxBatch,
        Duration lockTimeout,
        Set<Integer> allowedUids,
        Map<String, PrefixOptions> prefixOptions,
        AuditOptions audit)
        implements Rules {

    /** The key of the shared backend's settings, read by BackendConfig (package backend), not here. */
    public static final String BACKEND = "backend";

    public static final List<String> DEFAULT_PREFIXES = List.of(
            "SEC", "PERF", "UX", "TEST", "DEV", "ARCH", "FIN", "DRY", "DOC", "DS", "MKT", "CNT", "INFRA", "OPS");
    public static final int DEFAULT_MAX_BATCH = 1000;
    /** Largest batch any config may allow: bounds response lines well below the line limit. */
    public static final int MAX_BATCH_LIMIT = 10_000;
    /**
     * Long enough for a crowd: 50 agents starting at once on 2 cores queue ~100 ms each behind
     * the lock, and a 5 s wait (the seeds') failed 38% of their calls. Waiting longer is safe, the
     * lock dies with its holder; only a stuck (not dead) holder makes callers wait this long.
     */
    public static final Duration DEFAULT_LOCK_TIMEOUT = Duration.ofSeconds(30);

    /**
     * Per-prefix options. {@code width}: numbers zero-padded to that many digits (0: as
     * needed). {@code wrap}: numbers run modulo wrap (seed 001's 1000: 0..999) and stay active
     * until archived; 0 means no wrap ({@link dev.taskid.allocator.Wrap}). {@code bare}: IDs
     * are the number alone ({@code 042}), without {@code PREFIX-}, for sequences that number
     * projects rather than tasks. A wrapped number is padded to the wrap's digits unless
     * {@code width} is given.
     */
    public record PrefixOptions(int width, int wrap, boolean bare) {
        public static final PrefixOptions DEFAULT = new PrefixOptions(0);

        public PrefixOptions(int width) {
            this(width, 0, false);
        }

        /** The padding in effect: {@code width}, or the wrap's digits when only wrap is set. */
        public int effectiveWidth() {
            return width > 0 || wrap == 0 ? width : dev.taskid.allocator.Wrap.digits(wrap);
        }
    }

    /**
     * Bounds of {@code .taskid/audit.log}: when an append would take it past {@code maxBytes}
     * it is renamed {@code audit.log.1} (older ones shift up) and only {@code keep} rotated
     * files are kept.
     */
    public record AuditOptions(long maxBytes, int keep) {
        public static final AuditOptions DEFAULT = new AuditOptions(10L << 20, 5);
        public static final long MIN_BYTES = 1024;
        public static final long MAX_BYTES = 1L << 30;
        public static final int MAX_KEEP = 100;
    }

    /** A config with the default audit log bounds. */
    public Config(
            Set<String> prefixes,
            int maxBatch,
            Duration lockTimeout,
            Set<Integer> allowedUids,
            Map<String, PrefixOptions> prefixOptions) {
        this(prefixes, maxBatch, lockTimeout, allowedUids, prefixOptions, AuditOptions.DEFAULT);
    }

    public Config {
        java.util.Objects.requireNonNull(audit, "audit");
        prefixes = java.util.Collections.unmodifiableSet(new LinkedHashSet<>(prefixes));
        allowedUids = Set.copyOf(allowedUids);
        prefixOptions = Map.copyOf(prefixOptions);
    }

    public static Config defaults() {
        return new Config(
                new LinkedHashSet<>(DEFAULT_PREFIXES), DEFAULT_MAX_BATCH, DEFAULT_LOCK_TIMEOUT, Set.of(), Map.of());
    }

    @Override
    public boolean isValidPrefix(String prefix) {
        return prefixes.contains(prefix);
    }

    public PrefixOptions options(String prefix) {
        return prefixOptions.getOrDefault(prefix, PrefixOptions.DEFAULT);
    }

    @Override
    public String format(String prefix, long number) {
        PrefixOptions o = options(prefix);
        String id = TaskId.format(prefix, number, o.effectiveWidth());
        return o.bare() ? id.substring(prefix.length() + 1) : id;
    }

    /** The wrap of {@code prefix}; 0 when its numbers do not wrap. */
    @Override
    public int wrap(String prefix) {
        return options(prefix).wrap();
    }

    public Config withLockTimeout(Duration timeout) {
        return new Config(prefixes, maxBatch, timeout, allowedUids, prefixOptions, audit);
    }

    /** Reads the config file; a missing file means defaults. */
    public static Config load(Path file, Json json) {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            return defaults();
        } catch (java.nio.file.AccessDeniedException e) {
            // (its message is only the path) A system-wide daemon's clients reach its socket, not its files.
            throw new TaskIdException(
                    ErrorCode.SYSTEM_ERROR,
                    "cannot read " + file + ": permission denied (uid " + Users.currentUid()
                            + "; with no daemon answering, this needs the state directory's files)");
        } catch (IOException e) {
            throw new TaskIdException(ErrorCode.SYSTEM_ERROR, "cannot read " + file + ": " + e.getMessage());
        }
        try {
            return parse(json.readObject(bytes, 0, bytes.length));
        } catch (JsonException | ClassCastException e) {
            throw invalid(file, e.getMessage());
        } catch (TaskIdException e) {
            throw invalid(file, e.getMessage());
        }
    }

    private static TaskIdException invalid(Path file, String why) {
        return new TaskIdException(ErrorCode.CONFIG_INVALID, file + " is invalid: " + why);
    }

    /** The keys of config.json, of each {@code prefixOptions} entry and of {@code audit}: any other is a typo. */
    public static final List<String> KEYS = List.of(
            "prefixes",
            "extraPrefixes",
            "maxBatch",
            "lockTimeoutMs",
            "allowedUids",
            "prefixOptions",
            "audit",
            BACKEND); // backend: read by BackendConfig

    static final List<String> PREFIX_OPTION_KEYS = List.of("width", "wrap", "bare");
    static final List<String> AUDIT_KEYS = List.of("maxBytes", "keep");

    /** CONFIG_INVALID for a key nobody reads (a typo would otherwise be ignored silently). */
    private static void knownKeys(Map<?, ?> obj, List<String> known, String where) {
        for (Object key : obj.keySet()) {
            String k = String.valueOf(key);
            if (!known.contains(k)) {
                throw new TaskIdException(
                        ErrorCode.CONFIG_INVALID,
                        "unknown key \"" + where + k + "\""
                                + Spelling.nearest(k, known)
                                        .map(n -> "; did you mean \"" + where + n + "\"?")
                                        .orElse("")
                                + " (known: " + String.join(", ", known) + ")");
            }
        }
    }

    static Config parse(Map<String, Object> obj) {
        knownKeys(obj, KEYS, "");
        Config d = defaults();
        Set<String> prefixes =
                new LinkedHashSet<>(obj.containsKey("prefixes") ? prefixList(obj.get("prefixes")) : d.prefixes());
        if (obj.containsKey("extraPrefixes")) {
            prefixes.addAll(prefixList(obj.get("extraPrefixes")));
        }
        if (prefixes.isEmpty()) {
            throw new TaskIdException(ErrorCode.CONFIG_INVALID, "no prefixes configured");
        }
        int maxBatch = (int) number(obj, "maxBatch", d.maxBatch(), 1, MAX_BATCH_LIMIT);
        long lockMs = number(obj, "lockTimeoutMs", d.lockTimeout().toMillis(), 0, 3_600_000);
        Set<Integer> uids = new LinkedHashSet<>();
        Object allowed = obj.get("allowedUids");
        if (allowed != null && !(allowed instanceof List<?>)) {
            throw new TaskIdException(ErrorCode.CONFIG_INVALID, "allowedUids must be an array of uids, e.g. [1001]");
        }
        if (allowed instanceof List<?> list) {
            for (Object o : list) {
                uids.add((int) asLong(o, "allowedUids", 0, Integer.MAX_VALUE));
            }
        }
        Map<String, PrefixOptions> options = new LinkedHashMap<>();
        Object prefixOptions = obj.get("prefixOptions");
        if (prefixOptions != null && !(prefixOptions instanceof Map<?, ?>)) {
            throw new TaskIdException(
                    ErrorCode.CONFIG_INVALID, "prefixOptions must be an object: {\"SEC\": {\"width\": 3}}");
        }
        if (prefixOptions instanceof Map<?, ?> map) {
            for (Map.Entry<?, ?> e : map.entrySet()) {
                String prefix = String.valueOf(e.getKey());
                if (!prefixes.contains(prefix)) {
                    throw new TaskIdException(
                            ErrorCode.CONFIG_INVALID,
                            "prefixOptions names " + prefix + ", which is not a configured prefix");
                }
                if (!(e.getValue() instanceof Map<?, ?>)) {
                    throw new TaskIdException(
                            ErrorCode.CONFIG_INVALID,
                            "prefixOptions." + prefix
                                    + " must be an object: {\"width\": N, \"wrap\": N, \"bare\": true|false}");
                }
                @SuppressWarnings("unchecked")
                Map<String, Object> o = (Map<String, Object>) e.getValue();
                knownKeys(o, PREFIX_OPTION_KEYS, "prefixOptions." + prefix + ".");
                Object bare = o.getOrDefault("bare", Boolean.FALSE);
                if (!(bare instanceof Boolean)) {
                    throw new TaskIdException(
                            ErrorCode.CONFIG_INVALID, "prefixOptions." + prefix + ".bare must be true or false");
                }
                long wrap = number(o, "wrap", 0, 0, dev.taskid.allocator.Wrap.MAX_WRAP);
                if (wrap == 1) {
                    throw new TaskIdException(
                            ErrorCode.CONFIG_INVALID,
                            "prefixOptions." + prefix + ".wrap must be 0 (no wrap) or from 2 to "
                                    + dev.taskid.allocator.Wrap.MAX_WRAP);
                }
                options.put(prefix, new PrefixOptions((int) number(o, "width", 0, 0, 15), (int) wrap, (Boolean) bare));
            }
        }
        AuditOptions audit = AuditOptions.DEFAULT;
        if (obj.containsKey("audit")) {
            if (!(obj.get("audit") instanceof Map<?, ?>)) {
                throw new TaskIdException(
                        ErrorCode.CONFIG_INVALID, "audit must be an object: {\"maxBytes\":N, \"keep\":N}");
            }
            @SuppressWarnings("unchecked")
            Map<String, Object> a = (Map<String, Object>) obj.get("audit");
            knownKeys(a, AUDIT_KEYS, "audit.");
            audit = new AuditOptions(
                    number(
                            a,
                            "maxBytes",
                            AuditOptions.DEFAULT.maxBytes(),
                            AuditOptions.MIN_BYTES,
                            AuditOptions.MAX_BYTES),
                    (int) number(a, "keep", AuditOptions.DEFAULT.keep(), 1, AuditOptions.MAX_KEEP));
        }
        return new Config(prefixes, maxBatch, java.time.Duration.ofMillis(lockMs), uids, options, audit);
    }

    private static List<String> prefixList(Object value) {
        if (!(value instanceof List<?> list)) {
            throw new TaskIdException(ErrorCode.CONFIG_INVALID, "prefixes must be an array of strings");
        }
        List<String> out = new ArrayList<>();
        for (Object o : list) {
            if (!(o instanceof String s) || !TaskId.isPrefix(s)) {
                throw new TaskIdException(
                        ErrorCode.CONFIG_INVALID,
                        "invalid prefix " + o + ": a prefix is an upper-case letter then up to 15 of A-Z, 0-9");
            }
            out.add(s);
        }
        return out;
    }

    private static long number(Map<String, Object> obj, String name, long absent, long min, long max) {
        Object v = obj.get(name);
        return v == null ? absent : asLong(v, name, min, max);
    }

    private static long asLong(Object v, String name, long min, long max) {
        if (!(v instanceof Long l) || l < min || l > max) {
            throw new TaskIdException(
                    ErrorCode.CONFIG_INVALID, name + " must be an integer from " + min + " to " + max + ", got " + v);
        }
        return l;
    }
}
