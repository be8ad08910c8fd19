import { formatShape, type EltwiseOperation, type LayerParams } from '../network.js';
import { layerError, numberList, subMessage, type LayerDefinition } from './layer-definition.js';

type Eltwise = Extract<LayerParams, { type: 'Eltwise' }>;

const OPERATIONS: Readonly<Record<string, EltwiseOperation>> = { SUM: 'sum', PROD: 'prod', MAX: 'max' };

/** Element by element over two or more bottoms of one shape: sum (with per-bottom factors), product or maximum. */
export const eltwise: LayerDefinition<Eltwise> = {
  type: 'Eltwise',
  v1Names: ['ELTWISE'],
  bottoms: [2, Infinity],
  tops: [1, 1],
  parse(layer, ctx) {
    const p = subMessage(layer, 'eltwise_param');
    const name = (p.operation as string | undefined) ?? 'SUM';
    const operation = OPERATIONS[name];
    if (operation === undefined) throw layerError(ctx, `unknown eltwise operation '${name}' (SUM, PROD or MAX)`);
    const coeffs = numberList(p, 'coeff');
    if (coeffs.length > 0) {
      if (operation !== 'sum') throw layerError(ctx, `coeff applies to operation SUM only, found operation ${name}`);
      const bottoms = (layer.bottom as readonly string[] | undefined)?.length ?? 0;
      if (coeffs.length !== bottoms) throw layerError(ctx, `has ${coeffs.length} coeff value(s) for ${bottoms} bottoms: give one per bottom`);
      if (!coeffs.every(Number.isFinite)) throw layerError(ctx, `coeff values must be finite, found ${coeffs.join(', ')}`);
    }
    return { type: 'Eltwise', eltwise: { operation, coeffs } };
  },
  outputShapes(_p, inputs, _tops, ctx) {
    const first = formatShape(inputs[0]);
    if (inputs.some((s) => formatShape(s) !== first)) {
      throw layerError(ctx, `its bottoms must all have one shape, found ${inputs.map(formatShape).join(', ')}`);
    }
    return [inputs[0]];
  },
  blobShapes: () => [],
  macs: () => 0,
};
