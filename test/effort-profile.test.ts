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

  it('reads tile mode: tile size, thresholds per output channel, input channel weights; restricting keeps the mode', () => {
    const thresholds = Array.from({ length: 32 }, (_, i) => i - 16);
    const inputScale = Array.from({ length: 32 }, (_, i) => i / 10);
    const p = validateProfile({
      layers: { conv2: { spet: { fraction: 0.5, threshold: 0, thresholds, inputScale }, sdss: { stride: 2, delta: 1 }, tile: { positions: 1 } } },
    }, net, 'p.json');
    expect(p.layers.conv2).toEqual({
      spet: { mode: 'threshold', fraction: 0.5, threshold: 0, thresholds, inputScale }, sdss: { stride: 2, delta: 1 }, tile: { positions: 1 },
    });
    expect(restrictMechanisms(p, ['sdss']).layers.conv2).toEqual({ sdss: { stride: 2, delta: 1 }, tile: { positions: 1 } });
    expect(restrictMechanisms(p, ['sfma']).layers.conv2).toEqual({});
  });

  it('reads the SDSS pattern of tile mode (absent: the square grid)', () => {
    const checkerboard = { stride: 2, delta: 3, pattern: 'checkerboard' };
    const p = validateProfile({ layers: { conv2: { sdss: checkerboard, tile: { positions: 4 } }, conv3: { sdss: { stride: 2, delta: 1, pattern: 'square' } } } }, net, 'p.json');
    expect(p.layers.conv2).toEqual({ sdss: checkerboard, tile: { positions: 4 } });
    expect(p.layers.conv3).toEqual({ sdss: { stride: 2, delta: 1, pattern: 'square' } });
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
    [{ layers: { conv1: { sdss: { stride: 2, delta: 0, pattern: 'hexagonal' }, tile: { positions: 4 } } } },
      "p.json: layer 'conv1'.sdss.pattern must be \"square\" or \"checkerboard\", found \"hexagonal\""],
    [{ layers: { conv1: { sdss: { stride: 2, delta: 0, pattern: 'checkerboard' } } } },
      "p.json: layer 'conv1': the SDSS checkerboard pattern applies in tile mode only (add \"tile\")"],
    [{ layers: { conv1: { sdss: { stride: 3, delta: 0, pattern: 'checkerboard' }, tile: { positions: 4 } } } },
      "p.json: layer 'conv1': the SDSS checkerboard pattern samples every other position: stride must be 2, got 3"],
    [{ layers: { conv1: { sfma: { epsilon: 0.1, extra: 1 } } } }, "p.json: layer 'conv1'.sfma: unknown field 'extra' (allowed: epsilon)"],
    [{ layers: { conv1: { spot: {} } } }, "p.json: layer 'conv1': unknown field 'spot' (allowed: spet, sdss, sfma, tile)"],
    [{ layers: { conv1: { sdss: { stride: 2, delta: 0 }, tile: { positions: 12 } } } }, "p.json: layer 'conv1'.tile.positions must be 1, 2, 4 or a multiple of 8 in [8, 256], found 12"],
    [{ layers: { conv1: { tile: { positions: 8, channels: 4 } } } }, "p.json: layer 'conv1'.tile: unknown field 'channels' (allowed: positions)"],
    [{ layers: { ip2: { tile: { positions: 8 } } } }, "p.json: layer 'ip2': tile mode applies to Convolution layers, not InnerProduct"],
    [{ layers: { conv2: { spet: { fraction: 0.5, threshold: 0, thresholds: [1, 2] }, tile: { positions: 8 } } } },
      "p.json: layer 'conv2': SPET thresholds must hold 32 numbers (one per output channel)"],
    [{ layers: { conv2: { spet: { fraction: 0.5, threshold: 0, inputScale: new Array(32).fill(1) } } } },
      "p.json: layer 'conv2': SPET inputScale apply in tile mode only (add \"tile\")"],
    [{ layers: { conv2: { spet: { fraction: 0.5, threshold: 0, inputScale: [-1] }, tile: { positions: 8 } } } },
      "p.json: layer 'conv2'.spet.inputScale must be an array of finite numbers >= 0"],
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
