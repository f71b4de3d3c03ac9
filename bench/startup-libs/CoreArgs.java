
/** Today's CLI shape: a hand-written argument loop and jackson-core's streaming API. */
public final class CoreArgs {
    public static void main(String[] args) throws Exception {
        String dir = null;
        boolean json = false;
        String command = null;
        String prefix = null;
        long count = 1;
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (a.equals("--dir")) {
                dir = args[++i];
            } else if (a.equals("--json")) {
                json = true;
            } else if (command == null) {
                command = a;
            } else if (prefix == null) {
                prefix = a;
            } else {
                count = Long.parseLong(a);
            }
        }
        Work.streaming(dir, prefix, count, json);
    }
}
