package functions;

import java.util.function.Function;

/**
 * A Java function: riff compiles this file with javac when it is created, and keeps one JVM
 * running between messages. System.out goes to `riff logs -n reverse`.
 */
public class Reverse implements Function<String, String> {
  @Override
  public String apply(String input) {
    return new StringBuilder(input).reverse().toString();
  }
}
