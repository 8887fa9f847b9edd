package riffwarmup;

import java.util.function.Function;

/**
 * Loaded by a pooled JVM before it says it is ready (RiffPool), through a class loader of its
 * own as a function's classes will be: the first class a URLClassLoader defines pays for the
 * loader's machinery (the folder's URL handler, the package, the code source, verification),
 * and this one pays it ahead of a cold start. Compiled into a folder of its own, off the
 * shim's class path, so that its loader defines it rather than finding it in the parent.
 */
public final class WarmUp implements Function<String, String> {
  public String apply(String s) {
    return s.toUpperCase();
  }
}
