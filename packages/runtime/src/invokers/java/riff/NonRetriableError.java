package riff;

/**
 * Thrown by a function to say that running the message again cannot help (it is malformed, say):
 * riff skips the retries and dead-letters the message at once. riff knows it by its simple class
 * name, so an exception of the function's own named NonRetriableError does the same.
 */
public class NonRetriableError extends RuntimeException {
  public NonRetriableError(String message) {
    super(message);
  }

  public NonRetriableError(String message, Throwable cause) {
    super(message, cause);
  }
}
