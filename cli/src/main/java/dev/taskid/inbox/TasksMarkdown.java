package dev.taskid.inbox;

import dev.taskid.protocol.TaskId;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * TASKS.md as taskid reads and writes it: which line defines which task, every ID mentioned,
 * and the table rows the inbox appends.
 *
 * <p><b>A task definition</b> is a line outside fenced code blocks that is either
 * <ul>
 *   <li>a table row (starts with {@code |}, not the {@code |---|} separator) with a cell that is
 *       exactly one ID: the row defines the ID of its first such cell, e.g.
 *       {@code | SEC-20 | Fix auth | 1h | High | ready | | manual |} or
 *       {@code | [x] | **SEC-20** | Fix auth |}; or</li>
 *   <li>a list item ({@code -}, {@code *}, {@code +} or {@code 1.}, optionally a {@code [ ]}
 *       check box) whose first word is an ID, e.g. {@code - [ ] SEC-20: Fix auth}.</li>
 * </ul>
 * An ID may be decorated ({@code `SEC-20`}, {@code **SEC-20**}, {@code ~~SEC-20~~},
 * {@code [SEC-20](link)}); {@code SEC-020} and {@code SEC-20} are the same ID. Every other
 * occurrence is a <b>mention</b>: in prose, in a cell next to the defining one ("depends on
 * SEC-19"), in a list item after its first word, in code. Mentions never make a second
 * definition. Only configured prefixes count (so {@code UTF-8} is not a task).
 *
 * <p>The title of a definition is the next non-empty cell after the ID cell, or the rest of the
 * list item after the ID.
 */
public final class TasksMarkdown {
    /** The seed's table header for a TASKS.md that has no task table yet. */
    public static final String HEADER = "| ID | Title | Estimate | Priority | Status | | Source |";

    public static final String SEPARATOR = "|---|---|---|---|---|---|---|";

    private static final Pattern MENTION =
            Pattern.compile("(?<![A-Za-z0-9_-])([A-Z][A-Z0-9]{0,15})-([0-9]{1,15})(?![0-9])");
    private static final Pattern EXACT_ID = Pattern.compile("([A-Z][A-Z0-9]{0,15})-([0-9]{1,15})");
    private static final Pattern FENCE = Pattern.compile("^\\s{0,3}(`{3,}|~{3,})");
    private static final Pattern SEPARATOR_ROW =
            Pattern.compile("^\\s*\\|?\\s*:?-{1,}:?\\s*(\\|\\s*:?-{1,}:?\\s*)*\\|?\\s*$");
    private static final Pattern LIST_ITEM =
            Pattern.compile("^\\s*(?:[-*+]|[0-9]{1,9}[.)])\\s+(?:\\[[ xX~-]\\]\\s+)?(.*)$");
    private static final Pattern LEADING_ID =
            Pattern.compile("^(?:\\*\\*|__|~~|`|\\*|_|\\[)*([A-Z][A-Z0-9]{0,15})-([0-9]{1,15})(?![A-Za-z0-9_])"
                    + "(?:\\*\\*|__|~~|`|\\*|_|\\]\\([^)]*\\)|\\])*");
    private static final Pattern LINK = Pattern.compile("^\\[(.*)\\]\\([^)]*\\)$");

    private TasksMarkdown() {}

    /** A line that defines a task: its ID as written, the parsed ID, 1-based line, title, line text. */
    public record Definition(String written, TaskId id, int line, String title, String text) {}

    /** An ID anywhere in the text (definitions included). */
    public record Mention(String written, TaskId id, int line) {}

    /** The lines of {@code text} without their terminators. */
    public static List<String> lines(String text) {
        List<String> out = new ArrayList<>();
        int start = 0;
        for (int i = 0; i < text.length(); i++) {
            if (text.charAt(i) == '\n') {
                int end = i > start && text.charAt(i - 1) == '\r' ? i - 1 : i;
                out.add(text.substring(start, end));
                start = i + 1;
            }
        }
        if (start < text.length()) {
            out.add(text.substring(start));
        }
        return out;
    }

    /** Task definitions in {@code text}, in line order; only {@code prefixes} count. */
    public static List<Definition> definitions(String text, Set<String> prefixes) {
        List<Definition> out = new ArrayList<>();
        List<String> lines = lines(text);
        String fence = null;
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i);
            Matcher f = FENCE.matcher(line);
            if (f.find()) {
                String marker = f.group(1);
                if (fence == null) {
                    fence = marker;
                } else if (marker.charAt(0) == fence.charAt(0)
                        && marker.length() >= fence.length()
                        && line.trim().length() == marker.length()) {
                    fence = null;
                }
                continue;
            }
            if (fence != null) {
                continue;
            }
            Definition d = definition(line, i + 1, prefixes);
            if (d != null) {
                out.add(d);
            }
        }
        return out;
    }

    /** The task a single line defines, or null. */
    static Definition definition(String line, int lineNumber, Set<String> prefixes) {
        String trimmed = line.trim();
        if (trimmed.startsWith("|")) {
            if (SEPARATOR_ROW.matcher(trimmed).matches()) {
                return null;
            }
            List<String> cells = cells(trimmed);
            for (int c = 0; c < cells.size(); c++) {
                String cell = undecorate(cells.get(c));
                Matcher m = EXACT_ID.matcher(cell);
                if (m.matches() && prefixes.contains(m.group(1))) {
                    TaskId id = TaskId.parse(cell).orElse(null);
                    if (id == null) {
                        continue;
                    }
                    String title = "";
                    for (int t = c + 1; t < cells.size(); t++) {
                        String candidate = undecorate(cells.get(t));
                        if (!candidate.isEmpty()) {
                            title = candidate;
                            break;
                        }
                    }
                    return new Definition(cell, id, lineNumber, title, line);
                }
            }
            return null;
        }
        Matcher item = LIST_ITEM.matcher(line);
        if (!item.matches()) {
            return null;
        }
        String rest = item.group(1);
        Matcher m = LEADING_ID.matcher(rest);
        if (!m.find() || !prefixes.contains(m.group(1))) {
            return null;
        }
        String written = m.group(1) + "-" + m.group(2);
        TaskId id = TaskId.parse(written).orElse(null);
        if (id == null) {
            return null;
        }
        String title = rest.substring(m.end())
                .replaceFirst("^[\\s:|\\-\u2013\u2014.]+", "")
                .trim();
        return new Definition(written, id, lineNumber, title, line);
    }

    /** Every ID of a configured prefix in {@code text}, code blocks included. */
    public static List<Mention> mentions(String text, Set<String> prefixes) {
        List<Mention> out = new ArrayList<>();
        List<String> lines = lines(text);
        for (int i = 0; i < lines.size(); i++) {
            Matcher m = MENTION.matcher(lines.get(i));
            while (m.find()) {
                if (!prefixes.contains(m.group(1))) {
                    continue;
                }
                String written = m.group(1) + "-" + m.group(2);
                int lineNumber = i + 1;
                TaskId.parse(written).ifPresent(id -> out.add(new Mention(written, id, lineNumber)));
            }
        }
        return out;
    }

    /** The cells of a table row; {@code \|} does not split. */
    static List<String> cells(String row) {
        String s = row.trim();
        if (s.startsWith("|")) {
            s = s.substring(1);
        }
        if (s.endsWith("|") && !s.endsWith("\\|")) {
            s = s.substring(0, s.length() - 1);
        }
        List<String> cells = new ArrayList<>();
        StringBuilder cell = new StringBuilder();
        for (int i = 0; i < s.length(); i++) {
            char ch = s.charAt(i);
            if (ch == '\\' && i + 1 < s.length() && s.charAt(i + 1) == '|') {
                cell.append('|');
                i++;
            } else if (ch == '|') {
                cells.add(cell.toString().trim());
                cell.setLength(0);
            } else {
                cell.append(ch);
            }
        }
        cells.add(cell.toString().trim());
        return cells;
    }

    /** A cell without its markdown emphasis, code span or link around it. */
    static String undecorate(String cell) {
        String s = cell.trim();
        for (int round = 0; round < 8; round++) {
            String before = s;
            Matcher link = LINK.matcher(s);
            if (link.matches()) {
                s = link.group(1).trim();
            }
            for (String mark : List.of("**", "__", "~~", "`", "*", "_")) {
                if (s.length() >= 2 * mark.length() + 1 && s.startsWith(mark) && s.endsWith(mark)) {
                    s = s.substring(mark.length(), s.length() - mark.length()).trim();
                }
            }
            if (s.equals(before)) {
                break;
            }
        }
        return s;
    }

    /** A title compared across branches: no decoration, lower case, single spaces. */
    public static String normalizeTitle(String title) {
        return undecorate(title == null ? "" : title)
                .toLowerCase(Locale.ROOT)
                .replaceAll("[`*_~]", "")
                .replaceAll("\\s+", " ")
                .replaceAll("[\\s.:;,!]+$", "")
                .trim();
    }

    // ------------------------------------------------------------------ writing rows

    /**
     * The seed's row for an inbox task: {@code | ID | title | estimate | priority | status | | source |}.
     * Missing fields are empty, except status ({@code ready}) and source ({@code inbox}).
     */
    public static String row(Map<String, Object> task) {
        return "| " + cell(task.get("id")) + " | " + cell(task.get("title")) + " | " + cell(task.get("estimate"))
                + " | " + cell(task.get("priority")) + " | " + cell(orDefault(task.get("status"), "ready"))
                + " | | " + cell(orDefault(task.get("source"), "inbox")) + " |";
    }

    private static Object orDefault(Object value, String fallback) {
        return value == null || value.toString().isBlank() ? fallback : value;
    }

    private static String cell(Object value) {
        if (value == null) {
            return "";
        }
        String s = value instanceof List<?> list
                ? String.join(", ", list.stream().map(String::valueOf).toList())
                : value.toString();
        return s.replaceAll("[\\r\\n]+", " ").replace("|", "\\|").trim();
    }

    /**
     * {@code text} with {@code rows} added: after the last task row of a table if there is one,
     * else after the table whose header starts with an ID column, else at the end under a new
     * header. Keeps the file's line ending (CRLF or LF).
     */
    public static String insertRows(String text, List<String> rows, Set<String> prefixes) {
        if (rows.isEmpty()) {
            return text;
        }
        String eol = text.contains("\r\n") ? "\r\n" : "\n";
        List<String> lines = lines(text);
        int after = -1;
        for (Definition d : definitions(text, prefixes)) {
            if (d.text().trim().startsWith("|")) {
                after = d.line() - 1;
            }
        }
        if (after < 0) {
            after = headerTableEnd(lines);
        }
        StringBuilder b = new StringBuilder(text.length() + rows.size() * 80);
        if (after < 0) {
            b.append(text);
            if (!text.isEmpty() && !text.endsWith("\n")) {
                b.append(eol);
            }
            if (!text.isEmpty() && !text.endsWith(eol + eol) && !text.equals(eol)) {
                b.append(eol);
            }
            b.append(HEADER).append(eol).append(SEPARATOR).append(eol);
            rows.forEach(r -> b.append(r).append(eol));
            return b.toString();
        }
        // Rebuild with the rows after line index `after`, keeping every original terminator.
        int offset = 0;
        for (int i = 0; i <= after; i++) {
            int nl = text.indexOf('\n', offset);
            offset = nl < 0 ? text.length() : nl + 1;
        }
        b.append(text, 0, offset);
        if (offset == text.length() && !text.endsWith("\n")) {
            b.append(eol);
        }
        rows.forEach(r -> b.append(r).append(eol));
        b.append(text, offset, text.length());
        return b.toString();
    }

    /** Index of the last line of the first table whose header's first cell is "ID", or -1. */
    private static int headerTableEnd(List<String> lines) {
        for (int i = 0; i + 1 < lines.size(); i++) {
            String line = lines.get(i).trim();
            if (line.startsWith("|")
                    && SEPARATOR_ROW.matcher(lines.get(i + 1).trim()).matches()
                    && lines.get(i + 1).contains("-")) {
                List<String> header = cells(line);
                if (!header.isEmpty() && undecorate(header.get(0)).equalsIgnoreCase("ID")) {
                    int end = i + 1;
                    while (end + 1 < lines.size() && lines.get(end + 1).trim().startsWith("|")) {
                        end++;
                    }
                    return end;
                }
            }
        }
        return -1;
    }
}
