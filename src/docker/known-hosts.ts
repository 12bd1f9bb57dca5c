import { createHmac } from 'node:crypto';

/**
 * OpenSSH's known_hosts check for `--docker ssh://…`: dockerode's SSH client (ssh2) accepts any
 * host key unless it is given a verifier, so the daemon checks the server's key against the
 * known_hosts file as `ssh` does with StrictHostKeyChecking=yes. Pure: the file's text is read by
 * the config.
 *
 * Supported: plain and hashed (`|1|salt|hash`) host names, `[host]:port` for ports other than 22,
 * comma-separated patterns with `*`, `?` and `!` negation, and `@revoked` lines.
 * `@cert-authority` lines are skipped (host certificates are not checked).
 */
export type HostKeyVerdict = 'known' | 'unknown' | 'revoked';

/** The name a host has in known_hosts: `host`, or `[host]:port` for a port other than 22. */
export function knownHostName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

/** What known_hosts says about `key` (the server's public key blob, as sent in the key exchange). */
export function checkHostKey(knownHosts: string, host: string, port: number, key: Buffer): HostKeyVerdict {
  const name = knownHostName(host, port);
  const blob = key.toString('base64');
  let known = false;
  for (const raw of knownHosts.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const fields = line.split(/\s+/);
    const marker = fields[0]!.startsWith('@') ? fields.shift() : undefined;
    const [patterns, , keyField] = fields;
    if (patterns === undefined || keyField === undefined || marker === '@cert-authority') continue;
    if (keyField !== blob || !matchesHost(patterns, name)) continue;
    if (marker === '@revoked') return 'revoked';
    known = true;
  }
  return known ? 'known' : 'unknown';
}

/** Does a known_hosts pattern list (`a,b,!c,|1|salt|hash`) name `name`? A negated match wins. */
function matchesHost(patterns: string, name: string): boolean {
  let matched = false;
  for (const pattern of patterns.split(',')) {
    const negated = pattern.startsWith('!');
    const p = negated ? pattern.slice(1) : pattern;
    if (!matchesOne(p, name)) continue;
    if (negated) return false;
    matched = true;
  }
  return matched;
}

function matchesOne(pattern: string, name: string): boolean {
  if (pattern.startsWith('|1|')) {
    const [, , salt, hash] = pattern.split('|');
    if (!salt || !hash) return false;
    return createHmac('sha1', Buffer.from(salt, 'base64')).update(name).digest('base64') === hash;
  }
  // `*` any run, `?` one character; matched case-insensitively, as ssh does.
  let i = 0;
  let j = 0;
  let star = -1;
  let mark = 0;
  const p = pattern.toLowerCase();
  const n = name.toLowerCase();
  while (j < n.length) {
    if (i < p.length && (p[i] === '?' || p[i] === n[j])) {
      i += 1;
      j += 1;
    } else if (i < p.length && p[i] === '*') {
      star = i;
      mark = j;
      i += 1;
    } else if (star !== -1) {
      i = star + 1;
      mark += 1;
      j = mark;
    } else return false;
  }
  while (i < p.length && p[i] === '*') i += 1;
  return i === p.length;
}
