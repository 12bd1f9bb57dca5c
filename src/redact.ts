/**
 * Removes passwords from anything that may reach a log line or an error message: the user-info of
 * every URL in the text (`https://user:pass@host` → `https://user:***@host`). got puts request URLs,
 * with their credentials, into its error messages; every log line passes through here.
 */
export function redact(text: string): string {
  return text.replace(/([a-z][a-z0-9+.-]*:\/\/)([^\s/@:]*):([^\s/@]*)@/gi, '$1$2:***@');
}

/** A URL for display: its password replaced, nothing else changed. */
export function displayUrl(url: URL): string {
  if (url.password === '') return url.href;
  const copy = new URL(url.href);
  copy.password = '***';
  return copy.href;
}
