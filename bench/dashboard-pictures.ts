/**
 * Draws the README's dashboard pictures, docs/dashboard-*.png, from a real run: the containers,
 * daemon, carbon-cache and graphite-web of test/helpers/dashboard-rig.ts run for
 * PICTURES_SECONDS (120 by default), then graphite-web's render API draws the targets of
 * dashboards/graphite.json's main panels (variables set to the run's values) as PNGs.
 *
 *   npm run pictures                      # builds first; root, Docker and Debian packages as npm test
 *   PICTURES_SECONDS=300 npm run pictures
 */
import { writeFile } from 'node:fs/promises';
import { DashboardRig } from '../test/helpers/dashboard-rig.js';
import { interpolate, loadDashboard, queryPanels } from '../test/helpers/dashboards.js';
import { envNumber, log, sleepMs } from './lib.js';

const seconds = envNumber('PICTURES_SECONDS', 120);
const pictures: { file: string; panel: string; params: Record<string, string> }[] = [
  { file: 'docs/dashboard-cpu.png', panel: 'CPU %', params: { vtitle: '% of one CPU' } },
  // The worker's 128 MiB limit would otherwise be the picture's top edge.
  {
    file: 'docs/dashboard-memory.png',
    panel: 'Memory working set and limit',
    params: { yUnitSystem: 'binary', yMax: String(160 * 2 ** 20) },
  },
  { file: 'docs/dashboard-network.png', panel: 'Network (rx up, tx down)', params: { yUnitSystem: 'binary' } },
  { file: 'docs/dashboard-blkio.png', panel: 'Block I/O (read up, write down)', params: { yUnitSystem: 'binary' } },
];
const style = {
  width: '800',
  height: '300',
  tz: 'UTC',
  lineWidth: '2',
  fontSize: '11',
  yMin: '0',
  bgcolor: 'FFFFFF',
  fgcolor: '222222',
  majorGridLineColor: 'C8C8C8',
  minorGridLineColor: 'EEEEEE',
  colorList: '1f77b4,2ca02c,d62728,9467bd,8c564b,e377c2,7f7f7f,bcbd22,17becf,ff7f0e',
};

const rig = new DashboardRig(5);
let stopping: Promise<void> | undefined;
const stop = (): Promise<void> => (stopping ??= rig.stop());
process.once('SIGINT', () => void stop().finally(() => process.exit(130)));
process.once('SIGTERM', () => void stop().finally(() => process.exit(143)));

try {
  await rig.start({ prometheus: false });
  const from = Math.floor(Date.now() / 1000);
  log(`running the containers and the daemon for ${seconds} s`);
  await sleepMs(seconds * 1000);
  const until = Math.floor(Date.now() / 1000);
  const panels = queryPanels(loadDashboard('graphite'));
  const values = { prefix: [rig.prefix], host: [rig.hostPath], container: [...rig.paths] };
  for (const p of pictures) {
    const panel = panels.find((x) => x.title === p.panel);
    if (!panel) throw new Error(`dashboards/graphite.json has no panel "${p.panel}"`);
    const query = new URLSearchParams({
      format: 'png',
      from: String(from),
      until: String(until),
      title: panel.title,
      ...style,
      ...p.params,
    });
    for (const t of panel.targets ?? []) query.append('target', interpolate(t.target!, values, 'graphite'));
    const res = await fetch(`http://127.0.0.1:${rig.graphite.port}/render?${query}`);
    const png = Buffer.from(await res.arrayBuffer());
    if (res.status !== 200 || res.headers.get('content-type') !== 'image/png')
      throw new Error(`render of ${p.panel}: ${res.status} ${png.toString().slice(0, 300)}`);
    await writeFile(new URL(`../${p.file}`, import.meta.url), png);
    log(`${p.file}: ${png.length} bytes`);
  }
} finally {
  await stop();
}
