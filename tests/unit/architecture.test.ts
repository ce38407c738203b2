import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

/** The relative imports of every .ts/.tsx file under `dir`, as paths relative to src/ without extension. */
function imports(dir: string): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  const walk = (d: string) => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      const path = join(d, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (/\.tsx?$/.test(entry.name)) {
        const from = path.replace(/^src\//, '').replace(/\.tsx?$/, '');
        const targets = [...readFileSync(path, 'utf8').matchAll(/^(?:import|export)[^'"]*?from '(\.[^']+)'/gm)].map((m) =>
          join(from, '..', m[1]).replace(/\\/g, '/'),
        );
        graph.set(from, targets);
      }
    }
  };
  walk(dir);
  return graph;
}

describe('the architecture', () => {
  const graph = imports('src');
  /** Worker modules that handle a channel (they implement ChannelService). */
  const services = [...graph.keys()].filter(
    (f) => f.startsWith('worker/') && /implements ChannelService</.test(readFileSync(`src/${f}.ts`, 'utf8')),
  );

  it('finds the five channel services', () => {
    expect(services.sort()).toEqual(['worker/memorisation', 'worker/models', 'worker/sampling', 'worker/startup', 'worker/training']);
  });

  it('a service is reached only through the engine: only services.ts imports one, and no service imports another', () => {
    for (const [file, targets] of graph)
      for (const s of services) if (targets.includes(s)) expect(`${file} → ${s}`).toBe(`worker/services → ${s}`);
  });

  it('the page and the worker meet only in src/protocol', () => {
    for (const [file, targets] of graph) {
      if (!file.startsWith('ui/')) continue;
      // the one exception: the page starts the worker by URL (new Worker(new URL(…)))
      expect(targets.filter((t) => t.startsWith('worker/'))).toEqual([]);
    }
    for (const [file, targets] of graph)
      if (file.startsWith('protocol/')) expect(targets.filter((t) => /^(ui|worker)\//.test(t))).toEqual([]);
  });
});
