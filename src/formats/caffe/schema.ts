import protobuf from 'protobufjs';
import { CAFFE_PROTO } from '../../generated/embedded-assets.js';

let root: protobuf.Root | undefined;

/** The Caffe schema (src/formats/caffe/caffe.proto, embedded at build), parsed once, field names kept in snake_case. */
export function caffeSchema(): protobuf.Root {
  if (!root) {
    root = protobuf.parse(CAFFE_PROTO, { keepCase: true }).root;
    root.resolveAll();
  }
  return root;
}

/** A message type of the Caffe schema, e.g. `NetParameter`. */
export function caffeType(name: string): protobuf.Type {
  return caffeSchema().lookupType(`caffe.${name}`);
}
