/** Node's error code of a failed system call ('ENOENT', 'ECONNREFUSED', …), or undefined. */
export function errorCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null | undefined)?.code;
  return typeof code === 'string' ? code : undefined;
}

/**
 * An error in one line for a log or a problem text: its message with the system error code and the
 * HTTP status in front when the message does not say them already. The path a file operation's
 * message repeats at its end is left out, since the caller names what it was reading.
 */
export function describeError(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const { syscall, path, dest, statusCode } = err as {
    syscall?: unknown;
    path?: unknown;
    dest?: unknown;
    statusCode?: unknown;
  };
  let text = err.message;
  if (typeof syscall === 'string' && typeof path === 'string') {
    const repeated = `, ${syscall} '${path}'${typeof dest === 'string' ? ` -> '${dest}'` : ''}`;
    if (text.endsWith(repeated)) text = text.slice(0, -repeated.length);
  }
  text = text.replace(/\s+/g, ' ').trim();
  const code = errorCode(err);
  if (code && !text.includes(code)) text = `${code}: ${text}`;
  if (typeof statusCode === 'number' && !text.includes(String(statusCode))) text = `HTTP ${statusCode}: ${text}`;
  return text;
}
