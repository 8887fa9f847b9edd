/**
 * Thrown by a function to say that running the message again cannot help (it is malformed, it
 * names something that does not exist): riff sends it to the function's dead-letter topic at
 * once instead of retrying it `spec.retries` times. riff knows it by its name, so a class of
 * your own called `NonRetriableError` works the same, in any language.
 */
export class NonRetriableError extends Error {
  override readonly name = "NonRetriableError";
}
