/**
 * Why a container's numbers could not be read from the kernel, for the collector to act on:
 *
 * - `gone`: the container's process or cgroup no longer exists (it exited between two reads, or
 *   its PID now belongs to another process). Not an error: the container's events say what
 *   happened; stop reading it until it is started again (with a new PID).
 * - `unreadable`: the container is there but `file` cannot be read or understood, for `reason`
 *   (permission, a kernel without that controller, a cgroup namespace that hides the group, a
 *   format this code does not know). It will not get better by itself: fall back to the Engine's
 *   stats stream for that container and log once.
 */
export type CgroupFailure =
  | { readonly kind: 'gone'; readonly detail: string }
  | { readonly kind: 'unreadable'; readonly file: string; readonly reason: string };

export const gone = (detail: string): CgroupFailure => ({ kind: 'gone', detail });

export const unreadable = (file: string, reason: string): CgroupFailure => ({ kind: 'unreadable', file, reason });
