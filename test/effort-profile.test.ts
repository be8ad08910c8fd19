import { describe, expect, it } from 'vitest';
import { restrictMechanisms, validateProfile } from '../src/effort/profile.js';
import { feedsRelu } from '../src/ir/relu-reach.js';
import { loadNetwork } from '../src/formats/load-network.js';
import { CIFAR_PROTOTXT } from './helpers/files.js';

const net = await loadNetwork(CIFAR_PROTOTXT, { kind: 'none' });
const layer = (name: string) => net.layers.find((l) => l.name === name) ?? (() => { throw new Error(name); })();

describe('effort profiles', () => {
  it('accepts a valid profile and fills nothing in', () => {
    const p = validateProfile({
      format: 'dyvedeep-effort/1',
      layers: {
        conv1: { spet: { mode: 'exact', fraction: 0.5 } },
        conv2: { spet: { fraction: 0.25, threshold: -0.5 }, sdss: { stride: 2, delta: 0 }, sfma: { epsilon: 0.001 } },
      },
    }, net, 'p.json');
    expect(p.layers.conv1).toEqual({ spet: { mode: 'exact', fraction: 0.5 } });
    expect(p.layers.conv2.spet).toEqual({ mode: 'threshold', fraction: 0.25, threshold: -0.5 });
    expect(restrictMechanisms(p, ['sdss']).layers.conv2).toEqual({ sdss: { stride: 2, delta: 0 } });
  });

  it('knows where a ReLU decides the sign: through MAX pooling, not into an inner product', () => {
    expect(feedsRelu(net, layer('conv1'))).toBe(true); // conv1 -> pool1 (MAX) -> relu1
    expect(feedsRelu(net, layer('conv2'))).toBe(true);
    expect(feedsRelu(net, layer('ip1'))).toBe(false); // ip1 -> ip2: no ReLU
  });

  it.each([
    [{ layers: { conv9: {} } }, "p.json: layer 'conv9' is not in the network (its conv/fc layers: conv1, conv2, conv3, ip1, ip2)"],
    [{ layers: { conv1: { spet: { fraction: 0, threshold: 0 } } } }, "p.json: layer 'conv1'.spet.fraction must be a number in (0, 1], found 0"],
    [{ layers: { conv1: { spet: { fraction: 0.5 } } } }, "p.json: layer 'conv1'.spet.threshold must be a finite number, found undefined"],
    [{ layers: { conv1: { spet: { mode: 'maybe', fraction: 0.5 } } } }, "p.json: layer 'conv1'.spet.mode must be \"threshold\" or \"exact\", found \"maybe\""],
    [{ layers: { conv1: { sdss: { stride: 1, delta: 0 } } } }, "p.json: layer 'conv1'.sdss.stride must be an integer >= 2, found 1"],
    [{ layers: { conv1: { sdss: { stride: 2, delta: -1 } } } }, "p.json: layer 'conv1'.sdss.delta must be a number >= 0, found -1"],
    [{ layers: { conv1: { sfma: { epsilon: 0.1, extra: 1 } } } }, "p.json: layer 'conv1'.sfma: unknown field 'extra' (allowed: epsilon)"],
    [{ layers: { conv1: { spot: {} } } }, "p.json: layer 'conv1': unknown field 'spot' (allowed: spet, sdss, sfma)"],
    [{ layers: { ip1: { spet: { fraction: 0.5, threshold: 0 } } } }, "p.json: layer 'ip1': SPET needs a ReLU after the layer"],
    [{ layers: { ip1: { sdss: { stride: 2, delta: 0 } } } }, "p.json: layer 'ip1': SDSS applies to Convolution layers, not InnerProduct"],
    [{ layers: { pool1: { sfma: { epsilon: 0 } } } }, "p.json: layer 'pool1': SFMA applies to Convolution layers, not Pooling"],
    [{ format: 'v2', layers: {} }, 'p.json: format "v2" is not supported'],
    [{ layer: {} }, "p.json: unknown field 'layer'"],
    [[], 'p.json: must be a JSON object with a "layers" field'],
  ])('rejects %j', (json, message) => {
    expect(() => validateProfile(json, net, 'p.json')).toThrow(message);
  });
});
