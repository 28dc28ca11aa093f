import {
  AttributeType,
  TensorDataType,
  encodeModel,
  type AttributeMessage,
  type NodeMessage,
  type TensorDataTypeCode,
  type TensorMessage,
  type ValueInfoMessage,
} from './onnx-proto.ts';

/** An attribute value; the kind is explicit because a JS number cannot say whether it is INT or FLOAT. */
export type Attr =
  { readonly int: number } | { readonly float: number } | { readonly ints: readonly number[] } | { readonly tensor: TensorMessage };

/** A dimension: a fixed size or a symbolic name such as `batch`. */
export type Dim = number | string;

export interface ModelMetadata {
  readonly irVersion: number;
  readonly opset: number;
  readonly producerName: string;
  readonly producerVersion: string;
  readonly graphName: string;
  readonly docString: string;
}

/** Little-endian bytes, whatever the host's endianness, so the file is the same everywhere. */
function floatBytes(values: Float32Array): Uint8Array {
  const out = new Uint8Array(values.length * 4);
  const view = new DataView(out.buffer);
  for (let i = 0; i < values.length; i += 1) view.setFloat32(i * 4, values[i] as number, true);
  return out;
}

function int64Bytes(values: readonly number[]): Uint8Array {
  const out = new Uint8Array(values.length * 8);
  const view = new DataView(out.buffer);
  values.forEach((v, i) => view.setBigInt64(i * 8, BigInt(v), true));
  return out;
}

export function floatTensor(dims: readonly number[], values: Float32Array, name?: string): TensorMessage {
  const count = dims.reduce((a, b) => a * b, 1);
  if (count !== values.length) throw new Error(`tensor ${name ?? ''}: ${values.length} values for dims [${dims.join(',')}]`);
  const named = name === undefined ? {} : { name };
  return { ...named, dims: [...dims], data_type: TensorDataType.FLOAT, raw_data: floatBytes(values) };
}

export function int64Tensor(dims: readonly number[], values: readonly number[], name?: string): TensorMessage {
  const named = name === undefined ? {} : { name };
  return { ...named, dims: [...dims], data_type: TensorDataType.INT64, raw_data: int64Bytes(values) };
}

function attribute(name: string, value: Attr): AttributeMessage {
  if ('int' in value) return { name, type: AttributeType.INT, i: value.int };
  if ('float' in value) return { name, type: AttributeType.FLOAT, f: value.float };
  if ('ints' in value) return { name, type: AttributeType.INTS, ints: [...value.ints] };
  return { name, type: AttributeType.TENSOR, t: value.tensor };
}

function valueInfo(name: string, elemType: TensorDataTypeCode, dims: readonly Dim[]): ValueInfoMessage {
  return {
    name,
    type: {
      tensor_type: {
        elem_type: elemType,
        shape: { dim: dims.map((d) => (typeof d === 'number' ? { dim_value: d } : { dim_param: d })) },
      },
    },
  };
}

/**
 * Builds an ONNX graph node by node. Value names are generated from a scope prefix and a counter,
 * so the same sequence of calls always produces the same graph (and the same bytes).
 */
export class OnnxGraphBuilder {
  private readonly nodes: NodeMessage[] = [];
  private readonly initializers: TensorMessage[] = [];
  private readonly inputs: ValueInfoMessage[] = [];
  private readonly outputs: ValueInfoMessage[] = [];
  private readonly names = new Set<string>();
  private readonly constants = new Map<string, string>();
  private counter = 0;

  input(name: string, elemType: TensorDataTypeCode, dims: readonly Dim[]): string {
    this.claim(name);
    this.inputs.push(valueInfo(name, elemType, dims));
    return name;
  }

  output(name: string, elemType: TensorDataTypeCode, dims: readonly Dim[]): void {
    this.outputs.push(valueInfo(name, elemType, dims));
  }

  /** A named weight. */
  weight(name: string, dims: readonly number[], values: Float32Array): string {
    this.claim(name);
    this.initializers.push(floatTensor(dims, values, name));
    return name;
  }

  /** An int64 constant (shape, axes, index), shared between all nodes that use the same value. */
  int64(values: readonly number[], scalar = false): string {
    return this.constant(`i64${scalar ? 's' : ''}:${values.join(',')}`, () => int64Tensor(scalar ? [] : [values.length], values));
  }

  /** A float scalar constant, shared likewise. */
  float(value: number): string {
    return this.constant(`f32:${value}`, () => floatTensor([], Float32Array.of(value)));
  }

  /**
   * Adds a node and returns the name of its (first) output. `output` names a graph output; otherwise
   * a fresh name is made from `hint`.
   */
  op(opType: string, inputs: readonly string[], attrs: Record<string, Attr> = {}, hint = opType.toLowerCase(), output?: string): string {
    const out = output ?? this.fresh(hint);
    if (output !== undefined) this.claim(output);
    this.nodes.push({
      name: `${out}_node`,
      op_type: opType,
      input: [...inputs],
      output: [out],
      attribute: Object.entries(attrs).map(([name, value]) => attribute(name, value)),
    });
    return out;
  }

  toModelBytes(meta: ModelMetadata): Uint8Array {
    return encodeModel({
      ir_version: meta.irVersion,
      producer_name: meta.producerName,
      producer_version: meta.producerVersion,
      doc_string: meta.docString,
      opset_import: [{ domain: '', version: meta.opset }],
      graph: {
        name: meta.graphName,
        node: this.nodes,
        initializer: this.initializers,
        input: this.inputs,
        output: this.outputs,
      },
    });
  }

  private constant(key: string, make: () => TensorMessage): string {
    const known = this.constants.get(key);
    if (known !== undefined) return known;
    const name = this.fresh('const');
    this.initializers.push({ ...make(), name });
    this.constants.set(key, name);
    return name;
  }

  private fresh(hint: string): string {
    this.counter += 1;
    const name = `${hint}_${this.counter}`;
    this.claim(name);
    return name;
  }

  private claim(name: string): void {
    if (this.names.has(name)) throw new Error(`duplicate value name ${name}`);
    this.names.add(name);
  }
}
