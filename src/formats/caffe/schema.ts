import { readFileSync } from 'node:fs';
import protobuf from 'protobufjs';
import { packageFile } from '../../package-root.js';

let root: protobuf.Root | undefined;

/** The Caffe schema (src/formats/caffe/caffe.proto), parsed once, field names kept in snake_case. */
export function caffeSchema(): protobuf.Root {
  if (!root) {
    const source = readFileSync(packageFile('src/formats/caffe/caffe.proto'), 'utf8');
    root = protobuf.parse(source, { keepCase: true }).root;
    root.resolveAll();
  }
  return root;
}

/** A message type of the Caffe schema, e.g. `NetParameter`. */
export function caffeType(name: string): protobuf.Type {
  return caffeSchema().lookupType(`caffe.${name}`);
}
