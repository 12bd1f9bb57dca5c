/**
 * Removes passwords from anything that may reach a log line or an error message: the user-info of
 * every URL in the text (`https://user:pass@host` → `https://user:***@host`), and the credentials
 * of an `Authorization: Basic …` or `Bearer …` a receiver may echo. got puts request URLs, with their
 * credentials, into its error messages; every log line passes through here.
 *
 * A URL is found by parsing, as the WHATWG URL parser reads one: after `scheme://`, the authority
 * runs to the first `/`, `?` or `#`, and its user-info ends at the LAST `@` in it, so a raw `@` in a
 * password cannot end the match early. The user name (before the first `:`) stays; the rest goes.
 */
export function redact(text: string): string {
  return redactCredentialsHeaders(redactUserInfo(text));
}

const SCHEME = /[a-z][a-z0-9+.-]*:\/\//gi;
const AUTHORITY_END = /[/?#]/;

function redactUserInfo(text: string): string {
  let out = '';
  let copied = 0;
  for (const m of text.matchAll(SCHEME)) {
    const start = m.index + m[0].length;
    // A scheme-like run inside a part already masked is part of that password.
    if (start <= copied) continue;
    const rest = text.slice(start);
    const end = rest.search(AUTHORITY_END);
    const authority = end === -1 ? rest : rest.slice(0, end);
    const at = authority.lastIndexOf('@');
    if (at === -1) continue;
    const colon = authority.indexOf(':');
    if (colon === -1 || colon > at) continue;
    out += `${text.slice(copied, start)}${authority.slice(0, colon)}:***`;
    copied = start + at;
  }
  return out + text.slice(copied);
}

function redactCredentialsHeaders(text: string): string {
  return text.replace(/\b(Basic|Bearer)(\s+)[A-Za-z0-9+/=._~-]{8,}/g, '$1$2***');
}

/** A URL for display: its password replaced, nothing else changed. */
export function displayUrl(url: URL): string {
  if (url.password === '') return url.href;
  const copy = new URL(url.href);
  copy.password = '***';
  return copy.href;
}
