import { writeFileSync } from 'node:fs';
import { layerMacs, layerParameterCount } from '../../src/ir/layer-metrics.js';
import { formatShape } from '../../src/ir/network.js';
import { parseFlags } from '../flags.js';
import { MODEL_HELP, MODEL_OPTIONS, openModel } from '../model-options.js';
import { checkOutputFiles } from '../output-paths.js';
import { grouped } from '../terminal/format.js';
import { renderTable } from '../terminal/table.js';

export const INFO_HELP = `dyve info --model NAME|FILE.prototxt|FILE.onnx [--weights FILE|synthetic] [--json FILE]

Lists the layers of a network: type, inputs and outputs, output shape, parameters and MACs
(multiply-accumulates of convolution and fully connected layers, per image).

${MODEL_HELP}
      --json FILE           also write the listing as JSON
  -h, --help                this help`;

/** `dyve info`: the layer table of a model. Weights are not needed (the shapes come from the prototxt). */
export async function infoCommand(args: string[]): Promise<void> {
  const { values } = parseFlags(args, { ...MODEL_OPTIONS, json: { type: 'string' }, help: { type: 'boolean', short: 'h' } });
  if (values.help) {
    console.log(INFO_HELP);
    return;
  }
  checkOutputFiles(values, ['json']);
  const opened = await openModel(values, { shapesOnly: true });
  const { net } = opened;
  const layers = net.layers.map((l) => ({
    name: l.name,
    type: l.params.type,
    bottoms: l.bottoms,
    tops: l.tops,
    output: formatShape(l.outputShapes[0]),
    parameters: layerParameterCount(l),
    macs: layerMacs(l),
  }));
  const totalMacs = layers.reduce((s, l) => s + l.macs, 0);
  const totalParams = layers.reduce((s, l) => s + l.parameters, 0);
  console.log(`${opened.label}: ${net.name || '(unnamed)'}, input '${net.inputName}' ${formatShape(net.inputShape)}, ${net.layers.length} layers`);
  console.log(renderTable(
    [{ header: 'layer' }, { header: 'type' }, { header: 'output' }, { header: 'params', align: 'right' }, { header: 'MACs', align: 'right' }],
    [
      ...layers.map((l) => [l.name, l.type, l.output, l.parameters ? grouped(l.parameters) : '', l.macs ? grouped(l.macs) : '']),
      ['total', '', '', grouped(totalParams), grouped(totalMacs)],
    ],
  ));
  if (values.json) {
    const json = { model: opened.label, name: net.name, input: { name: net.inputName, shape: net.inputShape }, macs: totalMacs, parameters: totalParams, layers };
    writeFileSync(values.json, `${JSON.stringify(json, null, 2)}\n`);
  }
}
