import type { MessageObject } from './text-to-message.js';

/** One layer of a Caffe net, V1 or current, reduced to what the IR builder needs. */
export interface CaffeLayer {
  readonly name: string;
  /** Current type name (`Convolution`) or, for V1 layers, the enum name (`CONVOLUTION`). */
  readonly type: string;
  readonly bottoms: readonly string[];
  readonly tops: readonly string[];
  /** The whole LayerParameter / V1LayerParameter, for the type's parameter parser. */
  readonly message: MessageObject;
  /** `file:line:col: layer 'name' (Type)` for error messages. */
  readonly where: string;
}
