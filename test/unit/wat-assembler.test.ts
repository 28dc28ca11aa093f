/**
 * The WAT subset assembler behind the SIMD resize kernels: what it accepts runs as written, and what
 * it does not support is refused with the place and the reason.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { assembleWat } from '../../main/inference/wat-assembler.ts';

function instantiate(wat: string): Record<string, unknown> & { memory: WebAssembly.Memory } {
  return new WebAssembly.Instance(new WebAssembly.Module(assembleWat(wat))).exports as Record<string, unknown> & {
    memory: WebAssembly.Memory;
  };
}

describe('WAT assembler', () => {
  test('flat and folded bodies, labels, calls, if/else and negative constants', () => {
    const e = instantiate(`(module
      (memory (export "memory") 1)
      (func $add (param $a i32) (param $b i32) (result i32) (i32.add (local.get $a) (local.get $b)))
      ;; sum of 0..n-1, flat and folded mixed
      (func (export "sum") (param $n i32) (result i32) (local $i i32) (local $s i32)
        block $done
          loop $next
            (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
            (local.set $s (call $add (local.get $s) (local.get $i)))
            local.get $i
            i32.const 1
            i32.add
            local.set $i
            br $next
          end
        end
        local.get $s)
      (func (export "sign") (param $x i32) (result i32) (local $r i32)
        (if (i32.lt_s (local.get $x) (i32.const 0))
          (then (local.set $r (i32.const -1)))
          (else (local.set $r (i32.const 300000))))
        local.get $r))`);
    const sum = e.sum as (n: number) => number;
    const sign = e.sign as (x: number) => number;
    assert.equal(sum(10), 45);
    assert.equal(sum(0), 0);
    assert.equal(sign(-5), -1);
    assert.equal(sign(5), 300000);
  });

  test('SIMD: memory offsets, v128.const, shuffle, lane stores, narrowing with saturation', () => {
    const e = instantiate(`(module
      (memory (export "memory") 1)
      (func (export "run") (param $p i32)
        (v128.store (local.get $p)
          (i32x4.mul (v128.load offset=16 (local.get $p)) (v128.const i32x4 1 2 -3 4)))
        (v128.store32_lane 2 (i32.const 64) (i32x4.shr_s (v128.load (local.get $p)) (i32.const 1)))
        (v128.store offset=80 (local.get $p)
          (i8x16.shuffle 15 14 13 12 11 10 9 8 7 6 5 4 3 2 1 0 (v128.load offset=16 (local.get $p)) (v128.const i32x4 0 0 0 0)))
        (v128.store offset=96 (local.get $p)
          (i8x16.narrow_i16x8_u
            (i16x8.narrow_i32x4_s (v128.const i32x4 -7 0 255 256) (v128.const i32x4 100000 -100000 1 2))
            (v128.const i32x4 0 0 0 0)))))`);
    const words = new Int32Array(e.memory.buffer);
    const bytes = new Uint8Array(e.memory.buffer);
    words.set([5, 6, 7, 8], 4);
    (e.run as (p: number) => void)(0);
    assert.deepEqual([...words.subarray(0, 4)], [5, 12, -21, 32]);
    assert.equal(words[16], -11); // lane 2 of [5, 12, -21, 32] >> 1
    assert.deepEqual([...bytes.subarray(80, 96)], [0, 0, 0, 8, 0, 0, 0, 7, 0, 0, 0, 6, 0, 0, 0, 5]);
    assert.deepEqual([...bytes.subarray(96, 104)], [0, 0, 255, 255, 255, 0, 1, 2]);
  });

  test('what is outside the subset is refused, with the function and the reason', () => {
    const wrap = (body: string): string => `(module (func $f ${body}))`;
    assert.throws(() => assembleWat(wrap('f32.add')), /WAT \$f: unsupported instruction f32\.add/);
    assert.throws(() => assembleWat(wrap('(br $nowhere)')), /unknown label \$nowhere/);
    assert.throws(() => assembleWat(wrap('(local.get $x)')), /unknown local \$x/);
    assert.throws(() => assembleWat('(module (func $f (param $a f16)))'), /unknown value type f16/);
    assert.throws(() => assembleWat('(module (func $f)'), /unbalanced parentheses/);
    assert.throws(() => assembleWat('(module (func $f)))'), /unbalanced parentheses/);
    assert.throws(() => assembleWat(wrap('(i8x16.shuffle 0 1 2)')), /i8x16\.shuffle needs an immediate/);
    assert.throws(() => assembleWat(wrap('(i8x16.shuffle 0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 32)')), /shuffle lane 32 out of range/);
  });
});
