// Contract: the only way a name becomes part of a carbon path (docs/architecture.md §3). Every character
// outside [A-Za-z0-9_-] becomes `_` (one `_` per code point), so no space, newline or dot from a
// container, host or interface name can split a metric or inject a second one. Pure functions.

const UNSAFE = /[^A-Za-z0-9_-]/gu;

/** A dotted path: dots separate segments, each segment is sanitised, empty segments are dropped. */
export function sanitizePath(path: string): string {
  return path
    .split('.')
    .filter((segment) => segment !== '')
    .map(sanitizeSegment)
    .join('.');
}

/** One segment (a host name, an interface name): dots are replaced like any other character. */
export function sanitizeSegment(segment: string): string {
  return segment.replace(UNSAFE, '_');
}
