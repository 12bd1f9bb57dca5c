import { DaemonProcess } from './daemon.js';
import { docker, dockerDisk, TestContainers } from './docker.js';
import { Carbon, ensure, freePort, GraphiteWeb, Prometheus } from './services.js';
import { HOST_PATH } from './host-path.js';

/**
 * A small real Docker host for the dashboards (test/integration/dashboards.test.ts checks them
 * against it, bench/dashboard-pictures.ts draws the README's pictures from it): containers that
 * work, one daemon sending to Debian's carbon-cache under `--carbon-prefix docker` (the tree
 * Backstop's `/publish/docker` makes) and serving `/metrics`, graphite-web over carbon's whisper
 * tree, and optionally Prometheus scraping the daemon.
 *
 * The containers, named `<run>-<path>` and renamed to `<path>` by a rule:
 * - `web`: busybox httpd on a published loopback port, fetched in a loop from here (network), with
 *   a healthcheck (health);
 * - `worker`: CPU busy 20 s out of 30 under `--cpus 0.3`, writes 8 MiB and reads 4 MiB back with
 *   direct I/O every 3 s (block I/O), a tmpfs filled in a sawtooth (memory);
 * - `flaky`: exits after 5 s, restarted by `--restart on-failure` (restarts);
 * - `oom`: under `--memory 32m`, a child allocating 64 MiB every 2 s, killed by the kernel's OOM
 *   killer while the container lives on (OOM kills);
 * - `done`: exits with code 3 after 12 s and stays exited (exits, container states);
 * - `svc.api`: idle, a container path of two segments (what the dashboards' variables leave out).
 */
export class DashboardRig {
  readonly containers = new TestContainers();
  readonly carbon: Carbon;
  readonly graphite = new GraphiteWeb();
  readonly prometheus = new Prometheus();
  /** The Backstop name the dashboards' `$prefix` variable lists. */
  readonly prefix = 'docker';
  readonly hostPath = HOST_PATH;
  /** The one-segment container paths the dashboards list, and the two-segment one. */
  readonly paths = ['done', 'flaky', 'oom', 'web', 'worker'] as const;
  readonly dottedPath = 'svc.api';
  daemon: DaemonProcess | undefined;
  /** The daemon's `--listen` port (Prometheus's `instance` is `127.0.0.1:<port>`). */
  listenPort = 0;
  #load = new AbortController();
  #loadDone: Promise<void> = Promise.resolve();
  #starting: Promise<void> | undefined;
  #stopping = false;

  /** `poll`: the daemon's `--poll` in seconds, and the whisper files' step (so derivatives see no gaps). */
  constructor(readonly poll = 5) {
    this.carbon = new Carbon(`${poll}s:1h`);
  }

  /** A container path's full Docker name. */
  containerName(path: string): string {
    return this.containers.name(path);
  }

  /**
   * Installs what is missing and starts everything. stop() may be called while this runs (a hook
   * that timed out, Ctrl-C): it waits for the step under way, and no further step starts.
   */
  start(opts: { prometheus: boolean }): Promise<void> {
    this.#starting = this.#start(opts);
    return this.#starting;
  }

  async #start(opts: { prometheus: boolean }): Promise<void> {
    const steps: (() => Promise<unknown>)[] = [
      () => ensure('ensure-docker.sh'),
      () => ensure('ensure-carbon.sh'),
      () => ensure('ensure-graphite-web.sh'),
      () => (opts.prometheus ? ensure('ensure-prometheus.sh') : Promise.resolve()),
      () => this.carbon.setUp(),
      () => this.carbon.start(),
      () => this.graphite.start(this.carbon),
      () => this.#startContainers(),
    ];
    for (const step of steps) {
      if (this.#stopping) throw new Error('the dashboard rig was stopped while starting');
      await step();
    }
    this.listenPort = await freePort();
    this.daemon = new DaemonProcess([
      '--docker',
      'unix:///var/run/docker.sock',
      '--label',
      this.containers.label,
      '--poll',
      `${this.poll}s`,
      '--prefix',
      JSON.stringify({ regexp: `^${this.containers.run}-(.*)$`, into: '$1' }),
      '--carbon',
      `tcp://127.0.0.1:${this.carbon.port}`,
      '--carbon-prefix',
      this.prefix,
      '--listen',
      `127.0.0.1:${this.listenPort}`,
    ]);
    if (opts.prometheus) await this.prometheus.start({ port: this.listenPort, scheme: 'http' });
  }

  async #startContainers(): Promise<void> {
    const web = this.containerName('web');
    await this.containers.start(web, {
      args: [
        '-p',
        '127.0.0.1::8080',
        '--memory',
        '64m',
        '--health-cmd',
        'wget -q -O /dev/null http://127.0.0.1:8080/index.html',
        '--health-interval',
        '2s',
        '--health-retries',
        '2',
        '--health-timeout',
        '2s',
      ],
      cmd: [
        'sh',
        '-c',
        [
          'mkdir -p /www',
          'echo ok > /www/index.html',
          'dd if=/dev/urandom of=/www/blob bs=1k count=256 2>/dev/null',
          'exec httpd -f -p 8080 -h /www',
        ].join(' && '),
      ],
    });
    // The kernel counts block I/O only once blk-throttle is active on the device (diskOf): a
    // limit far above what the worker writes turns it on.
    const disk = await dockerDisk();
    await this.containers.start(this.containerName('worker'), {
      args: [
        '--cpus',
        '0.3',
        '--memory',
        '128m',
        '--tmpfs',
        '/data:size=64m',
        ...(disk ? ['--device-write-bps', `${disk}:1gb`] : []),
      ],
      cmd: [
        'sh',
        '-c',
        [
          '(while :; do dd if=/dev/zero of=/tmp/disk bs=1M count=8 oflag=direct 2>/dev/null; ' +
            'dd if=/tmp/disk of=/dev/null bs=1M count=4 iflag=direct 2>/dev/null; sleep 3; done) &',
          '(n=0; while :; do n=$((n % 12 + 1)); ' +
            'dd if=/dev/zero of=/data/fill bs=1M count=$((n * 4)) 2>/dev/null; sleep 5; done) &',
          'while :; do end=$(($(date +%s) + 20)); while [ "$(date +%s)" -lt "$end" ]; do :; done; sleep 10; done',
        ].join('\n'),
      ],
    });
    await this.containers.start(this.containerName('flaky'), {
      args: ['--memory', '32m', '--restart', 'on-failure'],
      cmd: ['sh', '-c', 'sleep 5; exit 1'],
    });
    await this.containers.start(this.containerName(this.dottedPath), { args: ['--memory', '32m'] });
    // The child asks to be the OOM killer's first choice, so the shell that starts it lives on.
    const allocate = 'echo 1000 > /proc/self/oom_score_adj; exec dd if=/dev/zero of=/dev/null bs=64M count=1';
    await this.containers.start(this.containerName('oom'), {
      args: ['--memory', '32m', '--memory-swap', '32m'],
      cmd: ['sh', '-c', `while :; do sh -c '${allocate}'; sleep 2; done`],
    });
    const done = this.containerName('done');
    await this.containers.start(done, { args: ['--memory', '32m'], cmd: ['sh', '-c', 'sleep 12; exit 3'] });

    // Network: fetch web's 256 KiB file over the published loopback port, about 4 times a second,
    // until stop() (or 15 minutes at most).
    const port = (await docker('port', web, '8080')).split('\n')[0]!.split(':').at(-1)!;
    const signal = this.#load.signal;
    const until = Date.now() + 15 * 60_000;
    this.#loadDone = (async () => {
      while (!signal.aborted && Date.now() < until) {
        try {
          await (await fetch(`http://127.0.0.1:${port}/blob`, { signal })).arrayBuffer();
        } catch {
          // Not listening yet, or aborted.
        }
        await new Promise((r) => setTimeout(r, 250));
      }
    })();
  }

  /** Stops and removes everything start() made, whatever state it got to. */
  async stop(): Promise<void> {
    this.#stopping = true;
    await this.#starting?.catch(() => undefined);
    this.#load.abort();
    await this.#loadDone;
    const steps = [
      () => this.daemon?.kill(),
      () => this.prometheus.cleanUp(),
      () => this.graphite.cleanUp(),
      () => this.containers.cleanup(),
      () => this.carbon.cleanUp(),
    ];
    const errors: unknown[] = [];
    for (const step of steps) await Promise.resolve(step()).catch((e: unknown) => errors.push(e));
    if (errors.length > 0) throw new AggregateError(errors, 'dashboard rig clean-up');
  }
}
