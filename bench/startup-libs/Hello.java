/** Baseline: the JVM's own start, nothing else. */
public final class Hello {
    public static void main(String[] args) {
        System.out.println("{\"ids\":[\"SEC-1\"]}");
    }
}
