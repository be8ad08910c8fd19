import { writeFileSync } from 'node:fs';
import { DyveError } from '../../src/errors.js';
import { exportOnnx, ONNX_OPSET } from '../../src/formats/onnx/export-onnx.js';
import { formatShape } from '../../src/ir/network.js';
import { intFlag, parseFlags } from '../flags.js';
import { MODEL_HELP, MODEL_OPTIONS, openModel } from '../model-options.js';
import { checkOutputFile } from '../output-paths.js';
import { grouped } from '../terminal/format.js';

export const EXPORT_HELP = `dyve export --model NAME|FILE.prototxt|FILE.onnx [--weights FILE|synthetic] --onnx FILE

Writes the network with its weights as an ONNX model (opset ${ONNX_OPSET}), for onnxruntime and
other ONNX engines. The graph input is named as the network's input blob, N x C x H x W float32
with a dynamic batch dimension N; the output is the network's output blob, with Caffe's rank
(N x classes after a fully connected layer). Caffe's pooling rounding and AVE divisor, both LRN
modes and in-place layers are reproduced exactly; a construct ONNX cannot express is an error
naming the layer. Each layer's node keeps the layer's name, so the file reads back (--model
FILE.onnx) as the same network, to which the model's effort profiles apply; an .onnx model
given as --model is written again.

${MODEL_HELP}
      --onnx FILE           the .onnx file to write (required; its folder must exist)
      --batch N             a fixed batch size instead of the dynamic N, N >= 1
  -h, --help                this help`;

/** `dyve export`: a model as an ONNX file. */
export async function exportCommand(args: string[]): Promise<void> {
  const { values } = parseFlags(args, { ...MODEL_OPTIONS, onnx: { type: 'string' }, batch: { type: 'string' }, help: { type: 'boolean', short: 'h' } });
  if (values.help) {
    console.log(EXPORT_HELP);
    return;
  }
  if (values.onnx === undefined) throw new DyveError('--onnx FILE is required: where to write the ONNX model');
  checkOutputFile('--onnx', values.onnx);
  const batch = intFlag(values, 'batch', undefined, { min: 1 });
  const opened = await openModel(values);
  const { net } = opened;
  const bytes = exportOnnx(net, { batch, docString: `${opened.label}, weights ${opened.weightsLabel}; exported by dyvedeep` });
  try {
    writeFileSync(values.onnx, bytes);
  } catch (err) {
    // A write fails for other reasons than a read (a missing folder, a read-only disk): say which.
    throw new DyveError(`cannot write the ONNX model to ${values.onnx}: ${(err as Error).message}`);
  }
  console.log(`${values.onnx}: ${opened.label} (weights ${opened.weightsLabel}), ONNX opset ${ONNX_OPSET}, ${grouped(bytes.length)} bytes; `
    + `input '${net.inputName}' ${batch ?? 'N'}x${formatShape(net.inputShape)}, output '${net.outputName}'`);
}
