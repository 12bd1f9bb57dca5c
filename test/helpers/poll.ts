/**
 * Calls the async `probe` every 250 ms until it returns something truthy; fails naming `what` (and
 * the last value or error) after `timeoutMs`. For conditions only a command can observe
 * (`docker logs`, `podman ps`), where test/helpers/wait.ts's synchronous probe does not fit.
 */
export async function pollUntil<T>(
  probe: () => Promise<T | undefined | null | false>,
  what: string,
  timeoutMs = 60_000,
): Promise<T> {
  const until = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value) return value;
      last = value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > until)
      throw new Error(`timed out after ${timeoutMs} ms waiting for: ${what}; last: ${String(last)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}
