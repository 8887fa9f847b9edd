import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.FileDescriptor;
import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * riff's Java shim: loads one java.util.function Function, Supplier or Consumer and answers the
 * daemon's frames (docs/protocol.md) on stdin/stdout. System.out is pointed at stderr before any
 * user code runs, so nothing the function prints can corrupt the frames; riff logs stderr.
 * Usage: java -cp SHIM:USER RiffShim HANDLER_CLASS, or for the warm pool RiffShim --pool (RiffPool).
 */
public final class RiffShim {
  static final int READY = 1, INIT_FAILED = 2, INVOKE = 3, REPLY = 4, ERROR = 5, SHUTDOWN = 10;
  static final int MAX_FRAME_BYTES = 64 * 1024 * 1024;
  static final int WORKERS = 16;
  static final String[] SUPPORTED = {
    "text/plain", "application/json", "application/octet-stream", "application/x-www-form-urlencoded"
  };

  private static OutputStream frames;

  /** A failure the caller caused; its code travels in the ERROR frame. */
  static final class ContentError extends Exception {
    final String code;

    ContentError(String code, String message) {
      super(message);
      this.code = code;
    }
  }

  // No lambdas or method references anywhere in this file: the first one bootstraps
  // invokedynamic, which costs tens of milliseconds of every cold start.

  /** A startup failure the shim itself explains (no class, wrong interface): no stack trace needed. */
  static final class StartupError extends Exception {
    StartupError(String message) {
      super(message);
    }
  }

  /** Daemon worker threads, so a stuck function cannot keep the JVM alive after SHUTDOWN's grace. */
  static final class WorkerThreads implements ThreadFactory {
    public Thread newThread(Runnable r) {
      Thread t = new Thread(r, "riff-worker");
      t.setDaemon(true);
      return t;
    }
  }

  /** One INVOKE, run on a worker. */
  static final class Invocation implements Runnable {
    private final Call call;
    private final int id;
    private final Map<String, List<String>> headers;
    private final byte[] payload;

    Invocation(Call call, int id, Map<String, List<String>> headers, byte[] payload) {
      this.call = call;
      this.id = id;
      this.headers = headers;
      this.payload = payload;
    }

    public void run() {
      invoke(call, id, headers, payload);
    }
  }

  /** Accept ranges by descending q, then by their order in the header. */
  static final class ByQuality implements Comparator<double[]> {
    public int compare(double[] a, double[] b) {
      return a[0] != b[0] ? Double.compare(b[0], a[0]) : Double.compare(a[1], b[1]);
    }
  }

  /** One user function, whatever its interface, as bytes in and a value out. */
  interface Call {
    Object call(byte[] payload) throws Exception;
  }

  public static void main(String[] args) throws Exception {
    frames = new FileOutputStream(FileDescriptor.out);
    System.setOut(System.err);
    DataInputStream in = new DataInputStream(new BufferedInputStream(new FileInputStream(FileDescriptor.in), 65536));
    Call call;
    try {
      if (args.length < 1) throw new IllegalArgumentException("usage: RiffShim HANDLER_CLASS | --pool");
      if (args[0].equals("--pool")) {
        // A pooled JVM: the function comes with LOAD (RiffPool), in a class loader of its own.
        RiffPool.Loaded loaded = RiffPool.awaitLoad(in);
        call = load(loaded.handler, loaded.loader);
      } else {
        call = load(args[0], RiffShim.class.getClassLoader());
      }
    } catch (Throwable e) {
      Throwable cause = e instanceof InvocationTargetException && e.getCause() != null ? e.getCause() : e;
      send(INIT_FAILED, 0, Map.of(), errorBody(cause, "RIFF_FUNCTION_STARTUP_FAILED"));
      System.exit(1);
      return;
    }
    ExecutorService pool = Executors.newFixedThreadPool(WORKERS, new WorkerThreads());
    send(READY, 0, Map.of("riff-shape", List.of("request-reply")), new byte[0]);
    for (;;) {
      int length;
      try {
        length = in.readInt();
      } catch (EOFException eof) {
        System.exit(0); // the daemon went away: no reply can be delivered
        return;
      }
      if (length < 7 || length > MAX_FRAME_BYTES) fatal("bad frame length " + Integer.toUnsignedString(length));
      byte[] frame = new byte[length];
      in.readFully(frame);
      int type = frame[0] & 0xff;
      int id = ((frame[1] & 0xff) << 24) | ((frame[2] & 0xff) << 16) | ((frame[3] & 0xff) << 8) | (frame[4] & 0xff);
      if (type == SHUTDOWN) {
        pool.shutdown();
        pool.awaitTermination(1, TimeUnit.DAYS);
        System.exit(0);
      } else if (type == INVOKE) {
        Map<String, List<String>> headers = new LinkedHashMap<>();
        byte[] payload = parse(frame, headers);
        pool.execute(new Invocation(call, id, headers, payload));
      } else {
        System.err.println("riff: unexpected frame type " + type);
      }
    }
  }

  private static void fatal(String message) {
    System.err.println("riff: RIFF_PROTOCOL_ERROR: " + message);
    System.exit(1);
  }

  /** Reads the headers of a frame body into `headers`; returns the payload. */
  static byte[] parse(byte[] f, Map<String, List<String>> headers) {
    int count = ((f[5] & 0xff) << 8) | (f[6] & 0xff);
    int o = 7;
    for (int i = 0; i < count; i++) {
      if (o + 2 > f.length) fatal("header runs past the frame");
      int n = ((f[o] & 0xff) << 8) | (f[o + 1] & 0xff);
      if (o + 2 + n + 4 > f.length) fatal("header runs past the frame");
      String name = new String(f, o + 2, n, StandardCharsets.UTF_8).toLowerCase(Locale.ROOT);
      o += 2 + n;
      long v = ((long) (f[o] & 0xff) << 24) | ((f[o + 1] & 0xff) << 16) | ((f[o + 2] & 0xff) << 8) | (f[o + 3] & 0xff);
      if (o + 4 + v > f.length) fatal("header runs past the frame");
      List<String> values = headers.get(name);
      if (values == null) headers.put(name, values = new ArrayList<>(1));
      values.add(new String(f, o + 4, (int) v, StandardCharsets.UTF_8));
      o += 4 + (int) v;
    }
    byte[] payload = new byte[f.length - o];
    System.arraycopy(f, o, payload, 0, payload.length);
    return payload;
  }

  /** Writes one whole frame; replies from several workers never interleave. */
  static synchronized void send(int type, int id, Map<String, List<String>> headers, byte[] payload) {
    try {
      ByteArrayOutputStream body = new ByteArrayOutputStream(64 + payload.length);
      DataOutputStream out = new DataOutputStream(body);
      int count = 0;
      for (List<String> values : headers.values()) count += values.size();
      out.writeInt(0);
      out.writeByte(type);
      out.writeInt(id);
      out.writeShort(count);
      for (Map.Entry<String, List<String>> e : headers.entrySet()) {
        byte[] name = e.getKey().getBytes(StandardCharsets.UTF_8);
        for (String value : e.getValue()) {
          byte[] v = value.getBytes(StandardCharsets.UTF_8);
          out.writeShort(name.length);
          out.write(name);
          out.writeInt(v.length);
          out.write(v);
        }
      }
      out.write(payload);
      byte[] bytes = body.toByteArray();
      int length = bytes.length - 4;
      bytes[0] = (byte) (length >>> 24);
      bytes[1] = (byte) (length >>> 16);
      bytes[2] = (byte) (length >>> 8);
      bytes[3] = (byte) length;
      frames.write(bytes);
      frames.flush();
    } catch (IOException e) {
      System.err.println("riff: cannot write to the daemon: " + e.getMessage());
      System.exit(1);
    }
  }

  // ---- loading ---------------------------------------------------------------------------

  @SuppressWarnings("unchecked")
  static Call load(String handler, ClassLoader loader) throws Exception {
    Class<?> cls;
    try {
      cls = Class.forName(handler, true, loader);
    } catch (ClassNotFoundException e) {
      throw new StartupError("class " + handler + " is not in the function's jar or sources; "
          + "--handler takes the class's full name, package included (e.g. functions.Greeter)");
    }
    Object instance = cls.getDeclaredConstructor().newInstance();
    if (instance instanceof Function) {
      Function<Object, Object> fn = (Function<Object, Object>) instance;
      boolean bytes = takesBytes(cls, "apply");
      return new Call() {
        public Object call(byte[] payload) {
          return fn.apply(bytes ? payload : new String(payload, StandardCharsets.UTF_8));
        }
      };
    }
    if (instance instanceof Supplier) {
      Supplier<Object> fn = (Supplier<Object>) instance;
      return new Call() {
        public Object call(byte[] payload) {
          return fn.get();
        }
      };
    }
    if (instance instanceof Consumer) {
      Consumer<Object> fn = (Consumer<Object>) instance;
      boolean bytes = takesBytes(cls, "accept");
      return new Call() {
        public Object call(byte[] payload) {
          fn.accept(bytes ? payload : new String(payload, StandardCharsets.UTF_8));
          return null;
        }
      };
    }
    throw new StartupError(handler + " implements none of java.util.function.Function, Supplier, Consumer");
  }

  /** True when the class's own one-argument `name` method takes byte[] (String otherwise). */
  private static boolean takesBytes(Class<?> cls, String name) {
    for (Class<?> c = cls; c != null; c = c.getSuperclass()) {
      for (Method m : c.getDeclaredMethods()) {
        if (m.getName().equals(name) && m.getParameterCount() == 1 && !m.isBridge()) {
          return m.getParameterTypes()[0] == byte[].class;
        }
      }
    }
    return false;
  }

  // ---- invoking --------------------------------------------------------------------------

  static void invoke(Call call, int id, Map<String, List<String>> headers, byte[] payload) {
    try {
      String contentType = first(headers, "content-type");
      String accept = first(headers, "accept");
      String type = mediaType(contentType);
      if (!isSupported(type)) {
        throw new ContentError("RIFF_CONTENT_TYPE_UNSUPPORTED",
            "content type '" + type + "' is not supported; send " + String.join(", ", SUPPORTED));
      }
      if (negotiate(accept, type) == null) throw acceptError(accept);
      Object result = call.call(payload);
      // Without Accept, bytes stay bytes; otherwise the reply has the request's type.
      String preferred = (accept == null || accept.isBlank()) && result instanceof byte[] ? "application/octet-stream" : type;
      String replyType = negotiate(accept, preferred);
      if (replyType == null) throw acceptError(accept);
      byte[] body = result == null ? new byte[0]
          : result instanceof byte[] ? (byte[]) result
          : String.valueOf(result).getBytes(StandardCharsets.UTF_8);
      send(REPLY, id, Map.of("content-type", List.of(replyType)), body);
    } catch (Throwable e) {
      send(ERROR, id, Map.of(), errorBody(e, "RIFF_FUNCTION_ERROR"));
    }
  }

  private static ContentError acceptError(String accept) {
    return new ContentError("RIFF_ACCEPT_UNSUPPORTED", "no supported reply type satisfies Accept '"
        + (accept == null ? "" : accept) + "'; accept " + String.join(", ", SUPPORTED));
  }

  private static String first(Map<String, List<String>> headers, String name) {
    List<String> values = headers.get(name);
    return values == null || values.isEmpty() ? null : values.get(0);
  }

  // ---- content negotiation: the rules of packages/runtime/src/content.ts -----------------

  static String mediaType(String value) {
    if (value == null || value.isEmpty()) return "text/plain";
    int semi = value.indexOf(';');
    return (semi == -1 ? value : value.substring(0, semi)).trim().toLowerCase(Locale.ROOT);
  }

  static boolean isSupported(String type) {
    for (String t : SUPPORTED) if (t.equals(type)) return true;
    return false;
  }

  private static boolean matches(String range, String type) {
    return range.equals("*/*") || range.equals(type) || (range.endsWith("/*") && type.startsWith(range.substring(0, range.length() - 1)));
  }

  /** The reply type for Accept, `preferred` winning among equals; null when nothing fits. */
  static String negotiate(String accept, String preferred) {
    if (accept == null || accept.isBlank()) return preferred;
    List<double[]> order = new ArrayList<>();
    List<String> types = new ArrayList<>();
    String[] parts = accept.split(",");
    for (int i = 0; i < parts.length; i++) {
      String[] pieces = parts[i].split(";");
      double q = 1;
      for (int j = 1; j < pieces.length; j++) {
        String[] kv = pieces[j].split("=", 2);
        if (kv.length == 2 && kv[0].trim().equals("q")) {
          try {
            q = Double.parseDouble(kv[1].trim());
          } catch (NumberFormatException e) {
            q = Double.NaN;
          }
        }
      }
      String t = pieces[0].trim().toLowerCase(Locale.ROOT);
      if (!t.isEmpty() && q > 0) {
        order.add(new double[] {q, i, types.size()});
        types.add(t);
      }
    }
    order.sort(new ByQuality());
    for (double[] o : order) {
      String range = types.get((int) o[2]);
      if (matches(range, preferred)) return preferred;
      for (String t : SUPPORTED) if (matches(range, t)) return t;
    }
    return null;
  }

  // ---- errors ----------------------------------------------------------------------------

  static byte[] errorBody(Throwable e, String fallbackCode) {
    StringBuilder json = new StringBuilder("{");
    String code = e instanceof ContentError ? ((ContentError) e).code : fallbackCode;
    field(json, "name", e.getClass().getSimpleName()).append(',');
    field(json, "code", code).append(',');
    String message = e.getMessage() == null ? e.getClass().getName() : e.getMessage();
    field(json, "message", message);
    if (!(e instanceof ContentError) && !(e instanceof StartupError)) {
      trimShimFrames(e);
      StringWriter stack = new StringWriter();
      e.printStackTrace(new PrintWriter(stack));
      json.append(',');
      field(json, "stack", stack.toString());
    }
    return json.append('}').toString().getBytes(StandardCharsets.UTF_8);
  }

  /** Cuts the stack where the shim called the function: the user's frames are what matter. */
  private static void trimShimFrames(Throwable e) {
    StackTraceElement[] frames = e.getStackTrace();
    for (int i = 0; i < frames.length; i++) {
      if (frames[i].getClassName().startsWith("RiffShim")) {
        StackTraceElement[] kept = new StackTraceElement[i];
        System.arraycopy(frames, 0, kept, 0, i);
        e.setStackTrace(kept);
        return;
      }
    }
  }

  private static StringBuilder field(StringBuilder json, String name, String value) {
    json.append('"').append(name).append("\":\"");
    for (int i = 0; i < value.length(); i++) {
      char c = value.charAt(i);
      switch (c) {
        case '"': json.append("\\\""); break;
        case '\\': json.append("\\\\"); break;
        case '\n': json.append("\\n"); break;
        case '\r': json.append("\\r"); break;
        case '\t': json.append("\\t"); break;
        default:
          if (c < 0x20) json.append(String.format("\\u%04x", (int) c));
          else json.append(c);
      }
    }
    return json.append('"');
  }
}
