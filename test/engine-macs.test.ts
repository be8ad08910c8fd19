import { describe, expect, it } from 'vitest';
import { loadPrototxt } from '../src/formats/load-network.js';
import { layerMacs } from '../src/ir/layer-metrics.js';
import { resolveZooFile, zooEntry, zooModelNames } from '../src/zoo/zoo.js';
import { DATA } from './helpers/files.js';
import { INDEPENDENT_NETS, perLayerMacs } from './independent-macs.js';

/** The engine's own shape inference and MAC count against the hand-written tables of the papers. */
describe('engine MACs equal an independent count', () => {
  it('covers every zoo model', () => {
    expect(Object.keys(INDEPENDENT_NETS).sort()).toEqual(zooModelNames());
  });

  it.each(Object.keys(INDEPENDENT_NETS))('%s: per layer and in total', async (name) => {
    const entry = zooEntry(name);
    const net = await loadPrototxt(resolveZooFile(entry, entry.prototxt, DATA));
    const engine: Record<string, number> = {};
    for (const layer of net.layers) {
      const macs = layerMacs(layer);
      if (macs > 0) engine[layer.name] = macs;
    }
    const independent = perLayerMacs(INDEPENDENT_NETS[name].rows);
    expect(engine).toEqual(independent);
  });

  it('matches the totals the issue names', async () => {
    const total = async (name: string) => {
      const entry = zooEntry(name);
      const net = await loadPrototxt(resolveZooFile(entry, entry.prototxt, DATA));
      return net.layers.reduce((s, l) => s + layerMacs(l), 0);
    };
    expect(await total('cifar10-quick')).toBe(12_354_176);
    expect(await total('alexnet')).toBe(724_406_816);
    expect(await total('vgg16')).toBe(15_470_264_320);
  });
});
