import { zooEntry, zooModelNames } from '../../src/zoo/zoo.js';
import { parseFlags } from '../flags.js';
import { renderTable } from '../terminal/table.js';

export const MODELS_HELP = `dyve models

Lists the model zoo (models/ in the package): name, dataset, whether trained weights are
available in the data directory, and the title.`;

/** `dyve models`: the zoo. */
export function modelsCommand(args: string[]): void {
  // No options but --help: anything else is an error, not silently ignored.
  const { values } = parseFlags(args, { help: { type: 'boolean', short: 'h' } });
  if (values.help) {
    console.log(MODELS_HELP);
    return;
  }
  const rows = zooModelNames().map((name) => {
    const e = zooEntry(name);
    return [name, e.dataset, e.weights.data ? e.weights.format : 'synthetic only', e.title];
  });
  console.log(renderTable([{ header: 'model' }, { header: 'dataset' }, { header: 'weights here' }, { header: 'title' }], rows));
}
