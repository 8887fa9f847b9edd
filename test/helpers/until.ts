/**
 * Waits until `check` holds, looking again every 50 ms: for state that changes without an
 * event the test can hear (a process gone, a record written by another process). Fails with
 * `what` after `timeoutMs`; the time is a deadline, not a figure under test.
 */
export async function until<T>(what: string, check: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not so within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
