import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { DockerStats } from '../../src/docker/stats-types.js';

/**
 * The captured Engine samples: ../shared/fixtures/docker-stats beside the repository when it is
 * there (so a newly captured file is picked up), else the copy in test/fixtures.
 */
const shared = fileURLToPath(new URL('../../../shared/fixtures/docker-stats/', import.meta.url));
const local = fileURLToPath(new URL('../fixtures/docker-stats/', import.meta.url));
export const FIXTURE_DIR = existsSync(shared) ? shared : local;

/** Every sample file in the fixture folder (README excluded). */
export function fixtureFiles(): string[] {
  return readdirSync(FIXTURE_DIR)
    .filter((f) => f.endsWith('.json') || f.endsWith('.jsonl'))
    .sort();
}

/** The samples of one fixture file, in order. */
export function loadSamples(file: string): DockerStats[] {
  return readFileSync(FIXTURE_DIR + file, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as DockerStats);
}
