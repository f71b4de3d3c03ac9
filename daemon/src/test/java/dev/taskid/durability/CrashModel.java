package dev.taskid.durability;

import dev.taskid.durability.Recording.Op;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * One directory on a file system that may crash at any moment, fed the operations of a
 * {@link Recording} one by one; {@link #crashStates} lists every content the directory may
 * have after a crash at that point. The rules (POSIX's promises, as in ALICE's model, stricter
 * than ext4's defaults where ext4 promises more than POSIX):
 * <ol>
 * <li>fsync/fdatasync of a file makes its data durable (every write and truncate so far), not its
 * name: a new file's directory entry needs an fsync of the directory;</li>
 * <li>fsync of the directory makes every name change in it so far durable (create, link, rename,
 * unlink);</li>
 * <li>name changes not yet synced survive as a prefix of them, in program order (ext4 journals
 * metadata in order); a rename is one atomic step: the new name points at the old file or the
 * new one, never neither;</li>
 * <li>data not yet synced survives per file as a prefix of its writes, the last of them possibly
 * torn (only its first half kept), independently of other files and of the names: a rename may
 * survive while the renamed file's data does not (delayed allocation).</li>
 * </ol>
 * Not modeled: ext4's flush on rename-over (auto_da_alloc), which would hide a missing fsync;
 * writes of one file reordered among themselves, or torn other than to a prefix; files below
 * the directory's top level (the recording refuses them).
 */
final class CrashModel {
    private static final class Inode {
        byte[] durable = new byte[0];
        final List<Op> pending = new ArrayList<>(); // Write with its offset resolved, or Truncate
    }

    private sealed interface NameChange {
        record Link(String name, Inode inode) implements NameChange {}

        record Unlink(String name) implements NameChange {}

        record Rename(String from, String to) implements NameChange {}
    }

    private final Map<String, Inode> durableNames = new TreeMap<>();
    private final Map<String, Inode> names = new TreeMap<>();
    private final List<NameChange> pendingNames = new ArrayList<>();
    private final Map<String, Long> position = new HashMap<>();

    /** A directory that holds {@code files}, durably, when the recording starts. */
    CrashModel(Map<String, byte[]> files) {
        files.forEach((name, bytes) -> {
            Inode inode = new Inode();
            inode.durable = bytes.clone();
            names.put(name, inode);
            durableNames.put(name, inode);
        });
    }

    /** Applies one operation; acknowledgements change no file. */
    void apply(Op op) {
        if (op instanceof Op.Open o) {
            if (!names.containsKey(o.name()) && o.create()) {
                Inode inode = new Inode();
                names.put(o.name(), inode);
                pendingNames.add(new NameChange.Link(o.name(), inode));
            } else if (o.truncate() && names.containsKey(o.name())) {
                names.get(o.name()).pending.add(new Op.Truncate(o.name(), 0));
            }
            position.put(o.name(), 0L);
        } else if (op instanceof Op.Write w) {
            Inode inode = inode(w.name());
            long at = w.offset() >= 0 ? w.offset() : position.getOrDefault(w.name(), 0L);
            inode.pending.add(new Op.Write(w.name(), at, w.bytes()));
            if (w.offset() < 0) {
                position.put(w.name(), at + w.bytes().length);
            }
        } else if (op instanceof Op.Truncate t) {
            inode(t.name()).pending.add(t);
        } else if (op instanceof Op.Sync s && s.name().equals(".")) {
            pendingNames.forEach(c -> change(durableNames, c));
            pendingNames.clear();
        } else if (op instanceof Op.Sync s) {
            Inode inode = inode(s.name());
            inode.durable = content(inode, inode.pending.size(), false);
            inode.pending.clear();
        } else if (op instanceof Op.Rename r) {
            Inode inode = inode(r.from());
            names.remove(r.from());
            names.put(r.to(), inode);
            pendingNames.add(new NameChange.Rename(r.from(), r.to()));
        } else if (op instanceof Op.Link l) {
            Inode inode = inode(l.from());
            names.put(l.to(), inode);
            pendingNames.add(new NameChange.Link(l.to(), inode));
        } else if (op instanceof Op.Unlink u) {
            names.remove(u.name());
            pendingNames.add(new NameChange.Unlink(u.name()));
        }
        // Op.Ack: what a client was told is the checker's business, not the disk's.
    }

    /** Every directory content (file name to bytes) a crash now may leave. */
    List<Map<String, byte[]>> crashStates() {
        List<Map<String, byte[]>> out = new ArrayList<>();
        for (int kept = 0; kept <= pendingNames.size(); kept++) {
            Map<String, Inode> view = new TreeMap<>(durableNames);
            pendingNames.subList(0, kept).forEach(c -> change(view, c));
            Map<Inode, List<byte[]>> choices = new IdentityHashMap<>();
            view.values().forEach(inode -> choices.computeIfAbsent(inode, CrashModel::possibleContents));
            expand(new ArrayList<>(view.entrySet()), 0, choices, new TreeMap<>(), out);
        }
        return out;
    }

    private static void expand(
            List<Map.Entry<String, Inode>> files,
            int i,
            Map<Inode, List<byte[]>> choices,
            TreeMap<String, byte[]> chosen,
            List<Map<String, byte[]>> out) {
        if (i == files.size()) {
            out.add(new TreeMap<>(chosen));
            return;
        }
        // Two names for one file (the daemon's link of the counters.json it replaces, for one
        // install) get independent choices: an over-approximation, which can only add states.
        for (byte[] content : choices.get(files.get(i).getValue())) {
            chosen.put(files.get(i).getKey(), content);
            expand(files, i + 1, choices, chosen, out);
        }
        chosen.remove(files.get(i).getKey());
    }

    /** Rule 4: the durable data plus each prefix of the pending writes, the last one whole or torn. */
    private static List<byte[]> possibleContents(Inode inode) {
        List<byte[]> out = new ArrayList<>();
        out.add(inode.durable);
        for (int n = 1; n <= inode.pending.size(); n++) {
            out.add(content(inode, n, false));
            if (inode.pending.get(n - 1) instanceof Op.Write w && w.bytes().length > 1) {
                out.add(content(inode, n, true));
            }
        }
        return out;
    }

    private static byte[] content(Inode inode, int ops, boolean tornLast) {
        byte[] data = inode.durable.clone();
        for (int i = 0; i < ops; i++) {
            Op op = inode.pending.get(i);
            if (op instanceof Op.Write w) {
                int length = tornLast && i == ops - 1 ? w.bytes().length / 2 : w.bytes().length;
                int end = (int) w.offset() + length;
                if (end > data.length) {
                    data = Arrays.copyOf(data, end);
                }
                System.arraycopy(w.bytes(), 0, data, (int) w.offset(), length);
            } else if (op instanceof Op.Truncate t) {
                data = Arrays.copyOf(data, (int) t.length());
            }
        }
        return data;
    }

    private static void change(Map<String, Inode> view, NameChange c) {
        if (c instanceof NameChange.Link l) {
            view.put(l.name(), l.inode());
        } else if (c instanceof NameChange.Unlink u) {
            view.remove(u.name());
        } else if (c instanceof NameChange.Rename r) {
            Inode inode = view.remove(r.from());
            if (inode != null) {
                view.put(r.to(), inode);
            }
        }
    }

    private Inode inode(String name) {
        Inode inode = names.get(name);
        if (inode == null) {
            throw new IllegalStateException("the recording uses " + name + ", which the model never saw created");
        }
        return inode;
    }
}
