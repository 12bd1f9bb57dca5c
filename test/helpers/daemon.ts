import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { waitFor } from './wait.js';

/** The built binary (scripts/test.sh builds it first): tests run what users run. */
export const BIN = fileURLToPath(new URL('../../dist/main.js', import.meta.url));

/**
 * One run of the daemon as a child process, with its output collected. Every test stops the
 * daemons it started (`kill` in an after hook), so no process outlives the test file.
 */
export class DaemonProcess {
  readonly child: ChildProcess;
  stdout = '';
  stderr = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  constructor(args: readonly string[], env: Record<string, string | undefined> = {}) {
    const cleanEnv: Record<string, string> = {};
    for (const [k, v] of Object.entries(process.env)) {
      if (v !== undefined && !k.startsWith('SRV_') && !k.startsWith('DOCKER_')) cleanEnv[k] = v;
    }
    for (const [k, v] of Object.entries(env)) if (v !== undefined) cleanEnv[k] = v;
    this.child = spawn(process.execPath, [BIN, ...args], { env: cleanEnv, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child.stdout!.on('data', (b: Buffer) => (this.stdout += b.toString()));
    this.child.stderr!.on('data', (b: Buffer) => (this.stderr += b.toString()));
    this.exited = new Promise((resolve) => this.child.once('exit', (code, signal) => resolve({ code, signal })));
  }

  /** Everything the process printed, both streams. */
  get output(): string {
    return this.stdout + this.stderr;
  }

  waitForLog(pattern: RegExp, what = String(pattern), timeoutMs = 60_000): Promise<true> {
    return waitFor(
      () => pattern.test(this.stderr) || pattern.test(this.stdout),
      () => `${what}; exit ${this.child.exitCode}; stderr so far:\n${this.stderr}`,
      timeoutMs,
    );
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
    return this.exited;
  }

  /** For after hooks: ends the process whatever state it is in. */
  async kill(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
    await this.exited;
  }
}

/** Runs the binary to completion (for CLI tests); resolves with its exit code and output. */
export async function runBinary(
  args: readonly string[],
  env: Record<string, string | undefined> = {},
  timeoutMs = 60_000,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const p = new DaemonProcess(args, env);
  const timer = setTimeout(() => p.child.kill('SIGKILL'), timeoutMs);
  const { code } = await p.exited;
  clearTimeout(timer);
  return { code, stdout: p.stdout, stderr: p.stderr };
}
