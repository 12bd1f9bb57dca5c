// Prints the README's flag-table rows from the option table of src/cli.ts (meaning: the --help text).
import { OPTIONS, readmeRow } from '../src/cli.js';

console.log('| flag | variable | meaning | default |\n|---|---|---|---|');
for (const o of OPTIONS) console.log(readmeRow(o));
