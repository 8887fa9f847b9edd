import java.io.DataInputStream;
import java.io.File;
import java.io.IOException;
import java.lang.reflect.Field;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/**
 * A JVM of riff's warm pool (`RiffShim --pool`): started with no function, inside a sandbox,
 * it says READY with `riff-pool: ready` and waits for LOAD (docs/protocol.md, 3b). LOAD gives
 * the environment a fresh replica would have had (the JSON payload) and its folder
 * (`riff-dir`): the pool process's own folder, where the revision is linked, so the working
 * directory is already right. The function's classes come from RIFF_JAVA_CLASS_PATH (paths
 * relative to that folder) through a class loader of their own, whose parent has the shim and
 * riff's SDK; it is also the threads' context class loader.
 *
 * Java cannot change its own environment, and functions read theirs with System.getenv: the
 * JVM's copy is replaced by reflection, which is why a pool JVM (and only it) is started with
 * java.lang and java.util opened. That map is found before the JVM says it is ready: one where
 * it cannot be never joins the pool (the daemon logs it), and replicas start fresh.
 */
final class RiffPool {
  static final int LOAD = 11;

  /** What LOAD made of the pooled JVM: the function's class and the loader to find it with. */
  static final class Loaded {
    final String handler;
    final ClassLoader loader;

    Loaded(String handler, ClassLoader loader) {
      this.handler = handler;
      this.loader = loader;
    }
  }

  private RiffPool() {}

  /** Says READY to the pool, waits for LOAD, and becomes the function's JVM. */
  static Loaded awaitLoad(DataInputStream in) throws Exception {
    warmUp();
    Map<String, List<String>> ready = new LinkedHashMap<>();
    ready.put("riff-pool", List.of("ready"));
    RiffShim.send(RiffShim.READY, 0, ready, new byte[0]);
    for (;;) {
      int length = in.readInt();
      if (length < 7 || length > RiffShim.MAX_FRAME_BYTES) throw new IOException("bad frame length " + Integer.toUnsignedString(length));
      byte[] frame = new byte[length];
      in.readFully(frame);
      if ((frame[0] & 0xff) != LOAD) continue;
      Map<String, List<String>> headers = new LinkedHashMap<>();
      Map<String, String> env = parseEnv(new String(RiffShim.parse(frame, headers), StandardCharsets.UTF_8));
      List<String> dirs = headers.get("riff-dir");
      File dir = new File(dirs == null || dirs.isEmpty() ? System.getProperty("user.dir") : dirs.get(0));
      // Riff's own, not the function's: taken out before the environment becomes the function's.
      String handler = env.remove("RIFF_JAVA_HANDLER");
      String classPath = env.remove("RIFF_JAVA_CLASS_PATH");
      if (handler == null || handler.isEmpty()) throw new IllegalArgumentException("LOAD named no class (RIFF_JAVA_HANDLER)");
      replaceEnvironment(env);
      List<URL> urls = new ArrayList<>();
      if (classPath != null && !classPath.isEmpty()) {
        for (String entry : classPath.split(":")) urls.add(new File(dir, entry).toURI().toURL());
      }
      ClassLoader loader = new URLClassLoader(urls.toArray(new URL[0]), RiffShim.class.getClassLoader());
      Thread.currentThread().setContextClassLoader(loader);
      return new Loaded(handler, loader);
    }
  }

  /**
   * Runs, while nobody waits, what a function's first message will: the JDK classes the shim
   * and LOAD use are loaded and the shim's code is warm, so a cold start pays for the function's
   * own classes only.
   */
  private static void warmUp() throws Exception {
    File shim = new File(RiffShim.class.getProtectionDomain().getCodeSource().getLocation().toURI());
    URLClassLoader warm = new URLClassLoader(new URL[] {new File(shim, "warm-up").toURI().toURL()}, RiffShim.class.getClassLoader());
    RiffShim.load("riffwarmup.WarmUp", warm).call("warm-up".getBytes(StandardCharsets.UTF_8));
    warm.close();
    environment();
    RiffShim.isSupported(RiffShim.mediaType("text/plain; charset=utf-8"));
    RiffShim.negotiate("application/json;q=0.5, text/plain", "text/plain");
    RiffShim.errorBody(new IllegalStateException("warm-up"), "RIFF_FUNCTION_ERROR");
    String.valueOf((Object) "warm-up").getBytes(StandardCharsets.UTF_8);
    Map.of("content-type", List.of("text/plain")).entrySet().iterator();
    parseEnv("{\"A\":\"b\\n\"}");
    Object.class.getDeclaredConstructor().newInstance();
    RiffShim.class.getDeclaredMethods();
    // The workers: a thread pool run once (a Thread is a Runnable that does nothing).
    ExecutorService workers = Executors.newFixedThreadPool(1, new RiffShim.WorkerThreads());
    workers.execute(new Thread());
    workers.shutdown();
    workers.awaitTermination(1, TimeUnit.SECONDS);
  }

  private static Map<String, String> live;

  /** The map behind System.getenv (and child processes' environment), found once. */
  @SuppressWarnings("unchecked")
  private static Map<String, String> environment() throws Exception {
    if (live != null) return live;
    Class<?> pe = Class.forName("java.lang.ProcessEnvironment");
    Field unmodifiable = pe.getDeclaredField("theUnmodifiableEnvironment");
    unmodifiable.setAccessible(true);
    Object view = unmodifiable.get(null);
    Field inner = view.getClass().getDeclaredField("m");
    inner.setAccessible(true);
    live = (Map<String, String>) inner.get(view);
    return live;
  }

  /** Makes `env` what System.getenv (and child processes) see. */
  private static void replaceEnvironment(Map<String, String> env) throws Exception {
    Map<String, String> target = environment();
    target.clear();
    target.putAll(env);
  }

  /** A JSON object whose values are all strings, as the daemon writes LOAD's payload. */
  static Map<String, String> parseEnv(String json) {
    Map<String, String> out = new LinkedHashMap<>();
    int[] at = {skip(json, 0)};
    expect(json, at, '{');
    if (peek(json, at) == '}') return out;
    for (;;) {
      String key = string(json, at);
      expect(json, at, ':');
      out.put(key, string(json, at));
      char c = peek(json, at);
      at[0]++;
      if (c == '}') return out;
      if (c != ',') throw new IllegalArgumentException("LOAD's environment is not a JSON object of strings (at " + at[0] + ")");
    }
  }

  private static int skip(String s, int i) {
    while (i < s.length() && Character.isWhitespace(s.charAt(i))) i++;
    return i;
  }

  private static char peek(String s, int[] at) {
    at[0] = skip(s, at[0]);
    if (at[0] >= s.length()) throw new IllegalArgumentException("LOAD's environment ends early");
    return s.charAt(at[0]);
  }

  private static void expect(String s, int[] at, char c) {
    if (peek(s, at) != c) throw new IllegalArgumentException("LOAD's environment: expected '" + c + "' at " + at[0]);
    at[0]++;
  }

  private static String string(String s, int[] at) {
    expect(s, at, '"');
    StringBuilder b = new StringBuilder();
    for (int i = at[0]; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c == '"') {
        at[0] = i + 1;
        return b.toString();
      }
      if (c != '\\') {
        b.append(c);
        continue;
      }
      char e = s.charAt(++i);
      switch (e) {
        case 'n': b.append('\n'); break;
        case 't': b.append('\t'); break;
        case 'r': b.append('\r'); break;
        case 'b': b.append('\b'); break;
        case 'f': b.append('\f'); break;
        case 'u': b.append((char) Integer.parseInt(s.substring(i + 1, i + 5), 16)); i += 4; break;
        default: b.append(e);
      }
    }
    throw new IllegalArgumentException("LOAD's environment has an unterminated string");
  }
}
