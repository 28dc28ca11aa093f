/**
 * A small assembler for the subset of the WebAssembly text format (WAT) that the resize kernels are
 * written in (bicubic-simd-kernels.ts), so that they ship as readable source and need no toolchain:
 * the module is assembled when first used. Anything outside the subset is an error, not a guess.
 *
 * Supported: `(module (memory (export "m") N) (func $f (export "f") (param $p i32)* (result i32)?
 * (local $l i32|v128)* body))`; a body in flat form (`local.get $a  i32.add`) or folded form
 * (`(i32.add (local.get $a) (i32.const 1))`), `block`/`loop` with labels, `if`/`then`/`else`
 * without results, `br`/`br_if`/`call` by name; the scalar i32 and SIMD instructions listed in
 * INSTRUCTIONS. The output is standard: `wat2wasm` accepts the same text.
 */

type Imm = 'none' | 'local' | 'label' | 'memarg' | 'memlane' | 'lane' | 'shuffle' | 'i32' | 'v128' | 'call';

interface Instruction {
  /** opcode bytes; a SIMD opcode is 0xfd followed by its LEB128 number */
  code: number[];
  imm: Imm;
  /** log2 of the natural alignment, for memory instructions */
  align?: number;
}

const simd = (n: number, imm: Imm = 'none', align?: number): Instruction => ({ code: [0xfd, ...uleb(n)], imm, align });
const op = (b: number, imm: Imm = 'none', align?: number): Instruction => ({ code: [b], imm, align });

const INSTRUCTIONS: Record<string, Instruction> = {
  unreachable: op(0x00),
  nop: op(0x01),
  br: op(0x0c, 'label'),
  br_if: op(0x0d, 'label'),
  return: op(0x0f),
  call: op(0x10, 'call'),
  drop: op(0x1a),
  select: op(0x1b),
  'local.get': op(0x20, 'local'),
  'local.set': op(0x21, 'local'),
  'local.tee': op(0x22, 'local'),
  'i32.load': op(0x28, 'memarg', 2),
  'i32.load8_u': op(0x2d, 'memarg', 0),
  'i32.store': op(0x36, 'memarg', 2),
  'i32.store8': op(0x3a, 'memarg', 0),
  'i32.const': op(0x41, 'i32'),
  'i32.eqz': op(0x45),
  'i32.eq': op(0x46),
  'i32.ne': op(0x47),
  'i32.lt_s': op(0x48),
  'i32.lt_u': op(0x49),
  'i32.gt_s': op(0x4a),
  'i32.gt_u': op(0x4b),
  'i32.le_s': op(0x4c),
  'i32.le_u': op(0x4d),
  'i32.ge_s': op(0x4e),
  'i32.ge_u': op(0x4f),
  'i32.add': op(0x6a),
  'i32.sub': op(0x6b),
  'i32.mul': op(0x6c),
  'i32.and': op(0x71),
  'i32.or': op(0x72),
  'i32.shl': op(0x74),
  'i32.shr_s': op(0x75),
  'i32.shr_u': op(0x76),
  'v128.load': simd(0x00, 'memarg', 4),
  'v128.load8x8_u': simd(0x02, 'memarg', 3),
  'v128.load32_splat': simd(0x09, 'memarg', 2),
  'v128.store': simd(0x0b, 'memarg', 4),
  'v128.const': simd(0x0c, 'v128'),
  'i8x16.shuffle': simd(0x0d, 'shuffle'),
  'i8x16.swizzle': simd(0x0e),
  'i32x4.splat': simd(0x11),
  'i32x4.extract_lane': simd(0x1b, 'lane'),
  'v128.and': simd(0x4e),
  'v128.or': simd(0x50),
  'v128.store8_lane': simd(0x58, 'memlane', 0),
  'v128.store16_lane': simd(0x59, 'memlane', 1),
  'v128.store32_lane': simd(0x5a, 'memlane', 2),
  'v128.store64_lane': simd(0x5b, 'memlane', 3),
  'v128.load32_zero': simd(0x5c, 'memarg', 2),
  'v128.load64_zero': simd(0x5d, 'memarg', 3),
  'i8x16.narrow_i16x8_u': simd(0x66),
  'i16x8.narrow_i32x4_s': simd(0x85),
  'i16x8.extend_low_i8x16_u': simd(0x89),
  'i16x8.extend_high_i8x16_u': simd(0x8a),
  'i32x4.extend_low_i16x8_u': simd(0xa9),
  'i32x4.extend_high_i16x8_u': simd(0xaa),
  'i32x4.shl': simd(0xab),
  'i32x4.shr_s': simd(0xac),
  'i32x4.add': simd(0xae),
  'i32x4.sub': simd(0xb1),
  'i32x4.mul': simd(0xb5),
  'i32x4.min_s': simd(0xb6),
  'i32x4.max_s': simd(0xb8),
  'i32x4.dot_i16x8_s': simd(0xba),
};

const VALTYPES: Record<string, number> = { i32: 0x7f, i64: 0x7e, f32: 0x7d, f64: 0x7c, v128: 0x7b };

function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return out;
}

function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (b & 0x40) === 0) || (n === -1 && (b & 0x40) !== 0)) {
      out.push(b);
      return out;
    }
    out.push(b | 0x80);
  }
}

/** A WebAssembly name: its UTF-8 length, then its bytes. */
const wasmName = (s: string): number[] => {
  const b = [...new TextEncoder().encode(s)];
  return [...uleb(b.length), ...b];
};
const vec = (items: number[][]): number[] => [...uleb(items.length), ...items.flat()];
const section = (id: number, body: number[]): number[] => [id, ...uleb(body.length), ...body];

// ---- reading ------------------------------------------------------------------------------------

type Sexp = string | Sexp[];

function parse(text: string): Sexp[] {
  const tokens = text.replace(/;;[^\n]*/g, ' ').match(/\(|\)|"[^"]*"|[^\s()]+/g) ?? [];
  let i = 0;
  const list = (nested: boolean): Sexp[] => {
    const items: Sexp[] = [];
    while (i < tokens.length) {
      const t = tokens[i++]!;
      if (t === '(') items.push(list(true));
      else if (t === ')') {
        if (!nested) throw new Error('WAT: unbalanced parentheses');
        return items;
      } else items.push(t);
    }
    if (nested) throw new Error('WAT: unbalanced parentheses');
    return items;
  };
  return list(false);
}

const isList = (s: Sexp | undefined): s is Sexp[] => Array.isArray(s);
const head = (s: Sexp | undefined): string | undefined => (isList(s) && typeof s[0] === 'string' ? s[0] : undefined);

function int(s: Sexp | undefined, what: string): number {
  if (typeof s !== 'string' || !/^-?(0x[0-9a-f]+|\d+)$/i.test(s.replace(/_/g, ''))) {
    throw new Error(`WAT: expected ${what}, got ${String(s)}`);
  }
  const neg = s.startsWith('-');
  const v = Number(s.replace(/_/g, '').replace(/^-/, ''));
  return neg ? -v : v;
}

// ---- functions ----------------------------------------------------------------------------------

interface FuncDecl {
  name: string;
  exportName?: string;
  params: Array<{ name?: string; type: number }>;
  results: number[];
  locals: Array<{ name?: string; type: number }>;
  body: Sexp[];
}

function readFunc(items: Sexp[], index: number): FuncDecl {
  let k = 1;
  const name = typeof items[k] === 'string' && (items[k] as string).startsWith('$') ? (items[k++] as string) : `#${index}`;
  const f: FuncDecl = { name, params: [], results: [], locals: [], body: [] };
  for (; k < items.length; k++) {
    const it = items[k];
    const h = head(it);
    if (h === 'export') f.exportName = (it as Sexp[])[1]!.toString().replace(/"/g, '');
    else if (h === 'param' || h === 'local') {
      const rest = (it as Sexp[]).slice(1) as string[];
      const target = h === 'param' ? f.params : f.locals;
      if (rest[0]?.startsWith('$')) target.push({ name: rest[0], type: valtype(rest[1]) });
      else for (const t of rest) target.push({ type: valtype(t) });
    } else if (h === 'result') f.results.push(...((it as Sexp[]).slice(1) as string[]).map(valtype));
    else break;
  }
  f.body = items.slice(k);
  return f;
}

function valtype(t: string | undefined): number {
  const v = t === undefined ? undefined : VALTYPES[t];
  if (v === undefined) throw new Error(`WAT: unknown value type ${t}`);
  return v;
}

class BodyWriter {
  readonly bytes: number[] = [];
  private readonly labels: Array<string | undefined> = [];

  constructor(
    private readonly locals: Map<string, number>,
    private readonly funcs: Map<string, number>,
    private readonly where: string,
  ) {}

  /** Writes a body: a mix of flat instructions (atoms with their immediates) and folded lists. */
  writeSeq(items: Sexp[]): void {
    let i = 0;
    while (i < items.length) {
      const it = items[i]!;
      if (isList(it)) {
        this.writeFolded(it);
        i++;
        continue;
      }
      i = this.writeFlat(items, i);
    }
  }

  private fail(msg: string): never {
    throw new Error(`WAT ${this.where}: ${msg}`);
  }

  private writeFolded(list: Sexp[]): void {
    const name = list[0];
    if (typeof name !== 'string') this.fail('a folded instruction must start with its name');
    if (name === 'block' || name === 'loop') {
      const label = typeof list[1] === 'string' && list[1].startsWith('$') ? list[1] : undefined;
      this.bytes.push(name === 'block' ? 0x02 : 0x03, 0x40);
      this.labels.push(label);
      this.writeSeq(list.slice(label ? 2 : 1));
      this.labels.pop();
      this.bytes.push(0x0b);
      return;
    }
    if (name === 'if') {
      let k = 1;
      const label = typeof list[k] === 'string' && (list[k] as string).startsWith('$') ? (list[k++] as string) : undefined;
      const rest = list.slice(k);
      const thenAt = rest.findIndex((x) => head(x) === 'then');
      if (thenAt < 0) this.fail('(if ...) needs (then ...)');
      this.writeSeq(rest.slice(0, thenAt)); // the condition
      this.bytes.push(0x04, 0x40);
      this.labels.push(label);
      this.writeSeq((rest[thenAt] as Sexp[]).slice(1));
      const els = rest[thenAt + 1];
      if (head(els) === 'else') {
        this.bytes.push(0x05);
        this.writeSeq((els as Sexp[]).slice(1));
      }
      this.labels.pop();
      this.bytes.push(0x0b);
      return;
    }
    // (op imm* operand*): operands first, then the instruction with its immediates.
    const operands = list.filter((x, idx) => idx > 0 && isList(x));
    for (const o of operands) this.writeFolded(o as Sexp[]);
    const flat = list.filter((x, idx) => idx === 0 || !isList(x));
    const next = this.writeFlat(flat, 0);
    if (next !== flat.length) this.fail(`unexpected ${String(flat[next])} after ${name}`);
  }

  /** Writes the instruction at items[i] with its immediates; returns the index after them. */
  private writeFlat(items: Sexp[], i: number): number {
    const name = items[i++] as string;
    if (name === 'block' || name === 'loop' || name === 'if') {
      const label = typeof items[i] === 'string' && (items[i] as string).startsWith('$') ? (items[i++] as string) : undefined;
      this.bytes.push(name === 'block' ? 0x02 : name === 'loop' ? 0x03 : 0x04, 0x40);
      this.labels.push(label);
      return i;
    }
    if (name === 'else') {
      this.bytes.push(0x05);
      return i;
    }
    if (name === 'end') {
      if (this.labels.length === 0) this.fail('end without block');
      this.labels.pop();
      this.bytes.push(0x0b);
      return i;
    }
    const ins = INSTRUCTIONS[name];
    if (!ins) this.fail(`unsupported instruction ${name}`);
    this.bytes.push(...ins.code);
    const atom = (): string => {
      const a = items[i];
      if (typeof a !== 'string') this.fail(`${name} needs an immediate`);
      i++;
      return a;
    };
    switch (ins.imm) {
      case 'none':
        break;
      case 'local': {
        const a = atom();
        const idx = a.startsWith('$') ? this.locals.get(a) : int(a, 'a local index');
        if (idx === undefined) this.fail(`unknown local ${a}`);
        this.bytes.push(...uleb(idx));
        break;
      }
      case 'label': {
        const a = atom();
        let depth: number;
        if (a.startsWith('$')) {
          const at = this.labels.lastIndexOf(a);
          if (at < 0) this.fail(`unknown label ${a}`);
          depth = this.labels.length - 1 - at;
        } else depth = int(a, 'a label depth');
        this.bytes.push(...uleb(depth));
        break;
      }
      case 'call': {
        const a = atom();
        const idx = this.funcs.get(a);
        if (idx === undefined) this.fail(`unknown function ${a}`);
        this.bytes.push(...uleb(idx));
        break;
      }
      case 'memarg':
      case 'memlane': {
        let offset = 0;
        let align = ins.align!;
        while (typeof items[i] === 'string' && /^(offset|align)=/.test(items[i] as string)) {
          const [key, value] = (items[i++] as string).split('=') as [string, string];
          if (key === 'offset') offset = int(value, 'an offset');
          else align = Math.log2(int(value, 'an alignment'));
        }
        this.bytes.push(...uleb(align), ...uleb(offset));
        if (ins.imm === 'memlane') this.bytes.push(int(atom(), 'a lane index'));
        break;
      }
      case 'lane':
        this.bytes.push(int(atom(), 'a lane index'));
        break;
      case 'shuffle':
        for (let k = 0; k < 16; k++) {
          const lane = int(atom(), 'a shuffle lane');
          if (lane < 0 || lane > 31) this.fail(`shuffle lane ${lane} out of range`);
          this.bytes.push(lane);
        }
        break;
      case 'i32':
        this.bytes.push(...sleb(int(atom(), 'an i32') | 0));
        break;
      case 'v128': {
        const shape = atom();
        const lanes = { i8x16: 16, i16x8: 8, i32x4: 4 }[shape];
        if (!lanes) this.fail(`unsupported v128.const shape ${shape}`);
        const size = 16 / lanes;
        for (let k = 0; k < lanes; k++) {
          const v = int(atom(), 'a lane value');
          for (let b = 0; b < size; b++) this.bytes.push((v >> (8 * b)) & 0xff);
        }
        break;
      }
    }
    return i;
  }
}

/** Assembles WAT text (the subset above) into a WebAssembly binary. */
export function assembleWat(text: string): Uint8Array<ArrayBuffer> {
  const top = parse(text);
  const mod = top[0];
  if (top.length !== 1 || head(mod) !== 'module') throw new Error('WAT: expected one (module ...)');
  const fields = (mod as Sexp[]).slice(1) as Sexp[][];
  const funcs = fields.filter((f) => head(f) === 'func').map((f, i) => readFunc(f, i));
  const funcIndex = new Map(funcs.map((f, i) => [f.name, i]));

  const types: string[] = [];
  const typeBytes: number[][] = [];
  const funcTypes = funcs.map((f) => {
    const sig = [0x60, ...vec(f.params.map((p) => [p.type])), ...vec(f.results.map((r) => [r]))];
    const key = sig.join(',');
    let idx = types.indexOf(key);
    if (idx < 0) {
      idx = types.push(key) - 1;
      typeBytes.push(sig);
    }
    return idx;
  });

  const exports: number[][] = [];
  const memories: number[][] = [];
  for (const f of fields) {
    if (head(f) !== 'memory') continue;
    let k = 1;
    if (head(f[k]) === 'export') {
      const name = String((f[k++] as Sexp[])[1]).replace(/"/g, '');
      exports.push([...wasmName(name), 0x02, ...uleb(memories.length)]);
    }
    memories.push([0x00, ...uleb(int(f[k], 'a memory size in pages'))]);
  }
  funcs.forEach((f, i) => {
    if (f.exportName !== undefined) exports.push([...wasmName(f.exportName), 0x00, ...uleb(i)]);
  });

  const codes = funcs.map((f) => {
    const locals = new Map<string, number>();
    [...f.params, ...f.locals].forEach((l, i) => {
      if (l.name) locals.set(l.name, i);
    });
    const writer = new BodyWriter(locals, funcIndex, f.name);
    writer.writeSeq(f.body);
    const localGroups = f.locals.map((l) => [...uleb(1), l.type]);
    const body = [...vec(localGroups), ...writer.bytes, 0x0b];
    return [...uleb(body.length), ...body];
  });

  const bytes = [
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, vec(typeBytes)),
    ...section(3, vec(funcTypes.map((t) => uleb(t)))),
    ...(memories.length ? section(5, vec(memories)) : []),
    ...section(7, vec(exports)),
    ...section(10, vec(codes)),
  ];
  return new Uint8Array(bytes);
}
