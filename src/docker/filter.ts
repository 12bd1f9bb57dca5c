/** `--label KEY[=VALUE]`: the container must carry KEY (with exactly VALUE when given). */
export interface LabelSelector {
  readonly key: string;
  readonly value: string | undefined;
}

export interface ContainerFilter {
  readonly include: readonly RegExp[];
  readonly exclude: readonly RegExp[];
  readonly labels: readonly LabelSelector[];
}

/** A container-name glob: `*` any run of characters, `?` one character, `[…]` a class. */
export function compileGlob(glob: string): RegExp {
  let re = '^';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*') re += '.*';
    else if (c === '?') re += '.';
    else if (c === '[') {
      const end = glob.indexOf(']', i + 2);
      if (end === -1) throw new Error(`unclosed "[" in glob ${JSON.stringify(glob)}`);
      let body = glob.slice(i + 1, end);
      if (body.startsWith('!')) body = `^${body.slice(1)}`;
      re += `[${body.replace(/\\/g, '\\\\')}]`;
      i = end;
    } else re += c.replace(/[.+^${}()|\\/]/g, '\\$&');
  }
  return new RegExp(`${re}$`, 's');
}

/** Does a container (name without the leading `/`, and its labels) pass `--include`/`--exclude`/`--label`? */
export function passesFilter(filter: ContainerFilter, name: string, labels: Record<string, string>): boolean {
  const bare = name.startsWith('/') ? name.slice(1) : name;
  if (filter.include.length > 0 && !filter.include.some((g) => g.test(bare))) return false;
  if (filter.exclude.some((g) => g.test(bare))) return false;
  return filter.labels.every((l) => l.key in labels && (l.value === undefined || labels[l.key] === l.value));
}

/** The same label selectors as the Engine's `label` filter, so the Engine does the filtering too. */
export function engineLabelFilter(filter: ContainerFilter): string[] {
  return filter.labels.map((l) => (l.value === undefined ? l.key : `${l.key}=${l.value}`));
}
