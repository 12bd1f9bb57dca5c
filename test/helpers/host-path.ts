import { hostname } from 'node:os';

/**
 * The host path the daemon writes for this machine, as the Go daemon wrote it: the host name's dots
 * separate segments, each segment has every character outside [A-Za-z0-9_-] as `_`, empty segments
 * are dropped (`web1.example.com` → `web1.example.com`, `my host..lan` → `my_host.lan`). Written out
 * here rather than imported, so that a test checks the daemon's naming rather than repeating it.
 */
export function hostPathOf(name: string): string {
  return name
    .split('.')
    .filter((segment) => segment !== '')
    .map((segment) => segment.replace(/[^A-Za-z0-9_-]/gu, '_'))
    .join('.');
}

/** This machine's host path (the OS host name, as the daemon reads it without --hostname). */
export const HOST_PATH = hostPathOf(hostname());
