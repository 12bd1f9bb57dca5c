/**
 * One line of `/proc/<pid>/cgroup`: `hierarchy-ID:controller-list:path`.
 *
 * - cgroup v1: one line per mounted hierarchy, e.g. `4:memory:/docker/<id>`, controllers joined by
 *   commas when mounted together (`3:cpu,cpuacct:/docker/<id>`), named hierarchies as
 *   `1:name=systemd:/…` (they carry no controller).
 * - cgroup v2: one line `0::/system.slice/docker-<id>.scope` (empty controller list).
 * - hybrid: both; the `0::` line names the process's group in the (controller-less) unified tree.
 *
 * The path is relative to the cgroup namespace of the process that READS the file: from a private
 * cgroup namespace a group outside it shows as `/../…`.
 */
export interface ProcCgroupEntry {
  readonly hierarchyId: number;
  /** Controllers of a v1 hierarchy (`name=…` kept as written); empty for the v2 line. */
  readonly controllers: readonly string[];
  readonly path: string;
}

/** Pure: the lines of a `/proc/<pid>/cgroup` text; a line that does not have the three fields is skipped. */
export function parseProcCgroup(text: string): ProcCgroupEntry[] {
  const out: ProcCgroupEntry[] = [];
  for (const line of text.split('\n')) {
    const first = line.indexOf(':');
    const second = first < 0 ? -1 : line.indexOf(':', first + 1);
    if (second < 0) continue;
    const id = line.slice(0, first);
    if (!/^\d+$/.test(id)) continue;
    const list = line.slice(first + 1, second);
    // The path is everything after the second colon: a path may itself hold a colon.
    out.push({
      hierarchyId: Number(id),
      controllers: list === '' ? [] : list.split(','),
      path: line.slice(second + 1),
    });
  }
  return out;
}
