/**
 * A small network of every layer variant (dilation, groups, leaky ReLU, WITHIN_CHANNEL LRN, padded
 * AVE and global pooling, Split, Flatten, Dropout, Concat, Softmax), for parity tests of every
 * backend and peer; run with synthetic weights.
 */
export const VARIANTS_PROTOTXT = `name: "variants" input: "data" input_dim: 1 input_dim: 4 input_dim: 15 input_dim: 13
layer { name: "c1" type: "Convolution" bottom: "data" top: "c1" convolution_param { num_output: 6 kernel_size: 3 pad: 2 dilation: 2 stride: 1 group: 2 } }
layer { name: "leaky" type: "ReLU" bottom: "c1" top: "c1" relu_param { negative_slope: 0.1 } }
layer { name: "split" type: "Split" bottom: "c1" top: "s1" top: "s2" }
layer { name: "lrn" type: "LRN" bottom: "s1" top: "lrn" lrn_param { local_size: 3 alpha: 0.5 beta: 0.75 norm_region: WITHIN_CHANNEL } }
layer { name: "c2" type: "Convolution" bottom: "s2" top: "c2" convolution_param { num_output: 5 kernel_h: 3 kernel_w: 2 stride_h: 2 stride_w: 1 pad_h: 1 pad_w: 0 } }
layer { name: "r2" type: "ReLU" bottom: "c2" top: "r2" relu_param { negative_slope: 0.2 } }
layer { name: "ave" type: "Pooling" bottom: "lrn" top: "ave" pooling_param { pool: AVE kernel_size: 3 stride: 2 pad: 1 } }
layer { name: "max" type: "Pooling" bottom: "r2" top: "max" pooling_param { pool: MAX kernel_size: 2 stride: 1 } }
layer { name: "gap" type: "Pooling" bottom: "ave" top: "gap" pooling_param { pool: AVE global_pooling: true } }
layer { name: "flat" type: "Flatten" bottom: "max" top: "flat" }
layer { name: "drop" type: "Dropout" bottom: "flat" top: "flat" dropout_param { dropout_ratio: 0.5 } }
layer { name: "fc" type: "InnerProduct" bottom: "flat" top: "fc" inner_product_param { num_output: 7 } }
layer { name: "fc_relu" type: "ReLU" bottom: "fc" top: "fc" }
layer { name: "gfc" type: "InnerProduct" bottom: "gap" top: "gfc" inner_product_param { num_output: 7 } }
layer { name: "cat" type: "Concat" bottom: "fc" bottom: "gfc" top: "cat" }
layer { name: "prob" type: "Softmax" bottom: "cat" top: "prob" }
`;

/**
 * A larger network of variants for the ONNX export and import tests: besides VARIANTS_PROTOTXT's,
 * ACROSS_CHANNELS LRN with k, AVE windows that overhang the padded map, MAX windows clipped to
 * the input, a spatial softmax and a concat of mixed ranks. `lrnRegion` is the first LRN's region
 * (WITHIN_CHANNEL exports as a chain of ONNX operators the importer does not read back).
 */
export function exportVariantsPrototxt(lrnRegion: 'ACROSS_CHANNELS' | 'WITHIN_CHANNEL'): string {
  return `name: "variants" input: "data" input_dim: 1 input_dim: 4 input_dim: 15 input_dim: 13
layer { name: "c1" type: "Convolution" bottom: "data" top: "c1" convolution_param { num_output: 6 kernel_size: 3 pad: 2 dilation: 2 stride: 1 group: 2 } }
layer { name: "leaky" type: "ReLU" bottom: "c1" top: "c1" relu_param { negative_slope: 0.1 } }
layer { name: "split" type: "Split" bottom: "c1" top: "s1" top: "s2" top: "s3" }
layer { name: "lrn" type: "LRN" bottom: "s1" top: "lrn" lrn_param { local_size: 3 alpha: 0.5 beta: 0.75 norm_region: ${lrnRegion} } }
layer { name: "lrn_x" type: "LRN" bottom: "s3" top: "lrn_x" lrn_param { local_size: 3 alpha: 0.3 beta: 0.6 k: 2 } }
layer { name: "c2" type: "Convolution" bottom: "s2" top: "c2" convolution_param { num_output: 5 kernel_h: 3 kernel_w: 2 stride_h: 2 stride_w: 1 pad_h: 1 pad_w: 0 } }
layer { name: "r2" type: "ReLU" bottom: "c2" top: "r2" relu_param { negative_slope: 0.2 } }
layer { name: "ave" type: "Pooling" bottom: "lrn" top: "ave" pooling_param { pool: AVE kernel_size: 3 stride: 2 pad: 1 } }
layer { name: "ave_ceil" type: "Pooling" bottom: "lrn_x" top: "ave_ceil" pooling_param { pool: AVE kernel_size: 3 stride: 3 pad: 1 } }
layer { name: "maxp" type: "Pooling" bottom: "lrn_x" top: "maxp" pooling_param { pool: MAX kernel_size: 2 stride: 2 pad: 1 } }
layer { name: "sm4" type: "Softmax" bottom: "maxp" top: "sm4" }
layer { name: "sfc" type: "InnerProduct" bottom: "sm4" top: "sfc" inner_product_param { num_output: 5 } }
layer { name: "max" type: "Pooling" bottom: "r2" top: "max" pooling_param { pool: MAX kernel_size: 2 stride: 1 } }
layer { name: "gap" type: "Pooling" bottom: "ave" top: "gap" pooling_param { pool: AVE global_pooling: true } }
layer { name: "gmax" type: "Pooling" bottom: "ave_ceil" top: "gmax" pooling_param { pool: MAX global_pooling: true } }
layer { name: "flat" type: "Flatten" bottom: "max" top: "flat" }
layer { name: "drop" type: "Dropout" bottom: "flat" top: "flat" dropout_param { dropout_ratio: 0.5 } }
layer { name: "fc" type: "InnerProduct" bottom: "flat" top: "fc" inner_product_param { num_output: 7 } }
layer { name: "fc_relu" type: "ReLU" bottom: "fc" top: "fc" }
layer { name: "gfc" type: "InnerProduct" bottom: "gap" top: "gfc" inner_product_param { num_output: 7 } }
layer { name: "cat" type: "Concat" bottom: "fc" bottom: "gfc" bottom: "gmax" bottom: "sfc" top: "cat" }
layer { name: "prob" type: "Softmax" bottom: "cat" top: "prob" }
layer { name: "drop_out" type: "Dropout" bottom: "prob" top: "prob" }
`;
}
