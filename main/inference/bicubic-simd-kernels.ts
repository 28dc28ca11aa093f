/**
 * The WebAssembly SIMD kernels of the bicubic resize and of the normalisation (bicubic-simd.ts drives
 * them), in WAT text: their one source. `npm run simd:kernels` (build/generate-simd-kernels.ts) assembles it with wabt into
 * bicubic-simd-binary.ts, which the app loads; run it after any edit here (a unit test compares the two).
 *
 * Arithmetic is Pillow's, integer for integer: 32-bit products of an 8-bit sample and a 22-bit
 * fixed-point weight, summed in 32 bits from 1 << 21, then `clip8(acc >> 22)`. SIMD lanes hold
 * independent sums (never a split or reordered one), and i32 addition is exact here (see
 * pil-bicubic-resize.ts), so every output byte is the one Pillow computes.
 *
 * Horizontal pass: four source rows at a time. transpose4 turns them into one i32x4 per sample
 * position ([row0, row1, row2, row3]), so that each tap is one load, one multiply by the splatted
 * weight and one add for four rows at once; hpass3 (RGB) and hpassN (any channel count) then
 * write the clipped bytes back as four rows. Vertical pass: vpass makes one output row from the
 * intermediate rows of its window, 16 samples per step, accumulators in registers.
 *
 * Normalisation (normalize3, normalize3Reciprocal): interleaved RGB bytes to float32 CHW planes,
 * ((v / 255) - mean) / std in f32x4, 16 pixels per step; see normalize-chw.ts for why the floats
 * are the JavaScript table's, bit for bit.
 */

const ROUNDING = 1 << 21;
const SHIFT = 22;

/** Stores the four i32x4 of byte positions 0..3 of `$x` (four rows each) at `$q + offset`. */
function store4Positions(x: string, offset: number): string {
  return `
      (local.set $w (i16x8.extend_low_i8x16_u (local.get ${x})))
      (v128.store offset=${offset} (local.get $q) (i32x4.extend_low_i16x8_u (local.get $w)))
      (v128.store offset=${offset + 16} (local.get $q) (i32x4.extend_high_i16x8_u (local.get $w)))
      (local.set $w (i16x8.extend_high_i8x16_u (local.get ${x})))
      (v128.store offset=${offset + 32} (local.get $q) (i32x4.extend_low_i16x8_u (local.get $w)))
      (v128.store offset=${offset + 48} (local.get $q) (i32x4.extend_high_i16x8_u (local.get $w)))`;
}

const INTERLEAVE_LOW_BYTES = '0 16 1 17 2 18 3 19 4 20 5 21 6 22 7 23';
const INTERLEAVE_HIGH_BYTES = '8 24 9 25 10 26 11 27 12 28 13 29 14 30 15 31';
const INTERLEAVE_LOW_PAIRS = '0 1 16 17 2 3 18 19 4 5 20 21 6 7 22 23';
const INTERLEAVE_HIGH_PAIRS = '8 9 24 25 10 11 26 27 12 13 28 29 14 15 30 31';

/**
 * Interleaves half of the four rows $a..$d (`bytes`: INTERLEAVE_LOW_BYTES for byte positions 0..7,
 * INTERLEAVE_HIGH_BYTES for 8..15), a0 b0 a1 b1 ..., then a0 b0 c0 d0 a1 b1 c1 d1 ..., and stores
 * the eight i32x4 of those positions at `$q + offset`.
 */
function store8Positions(bytes: string, offset: number): string {
  return `
        (local.set $ab (i8x16.shuffle ${bytes} (local.get $a) (local.get $b)))
        (local.set $cd (i8x16.shuffle ${bytes} (local.get $c) (local.get $d)))
        (local.set $x (i8x16.shuffle ${INTERLEAVE_LOW_PAIRS} (local.get $ab) (local.get $cd)))
        ${store4Positions('$x', offset)}
        (local.set $x (i8x16.shuffle ${INTERLEAVE_HIGH_PAIRS} (local.get $ab) (local.get $cd)))
        ${store4Positions('$x', offset + 64)}`;
}
const ROUNDING_V = `(v128.const i32x4 ${ROUNDING} ${ROUNDING} ${ROUNDING} ${ROUNDING})`;
const clip = (acc: string): string => `(i32x4.shr_s (local.get ${acc}) (i32.const ${SHIFT}))`;

/**
 * `i8x16.shuffle` lanes that gather channel `c`'s 16 bytes of 16 interleaved RGB pixels (48 bytes
 * in three vectors a, b, c): first those in a and b (`abLanes`), then the rest from c (`cLanes`, the
 * first ones kept from the result of the first shuffle).
 */
function channelShuffles(c: number): { abLanes: string; cLanes: string } {
  const idx = Array.from({ length: 16 }, (_, i) => 3 * i + c);
  const inAb = idx.filter((i) => i < 32);
  const abLanes = [...inAb, ...new Array<number>(16 - inAb.length).fill(0)].join(' ');
  const cLanes = idx.map((i, lane) => (i < 32 ? lane : 16 + i - 32)).join(' ');
  return { abLanes, cLanes };
}

/**
 * The last step of the normalisation: `div` by std, or `mul` by its reciprocal where that is exact
 * (a power of two: the same real quotient, so the same correctly rounded float).
 */
type LastStep = 'div' | 'mul';

/** ((v / 255) - mean) / std in f32x4 for the i32x4 of bytes `v` of channel `c`: each step correctly rounded. */
const normalized = (v: string, c: number, last: LastStep): string =>
  `(f32x4.${last} (f32x4.sub (f32x4.div (f32x4.convert_i32x4_s ${v}) (local.get $k255)) (local.get $mean${c})) (local.get $std${c}))`;

/** De-interleaves channel `c` of the 16 pixels in $a $b $c and stores their 16 floats at `$o<c>`. */
function normalizeChannel(c: number, last: LastStep): string {
  const { abLanes, cLanes } = channelShuffles(c);
  return `
        (local.set $x (i8x16.shuffle ${cLanes} (i8x16.shuffle ${abLanes} (local.get $a) (local.get $b)) (local.get $c)))
        (local.set $w (i16x8.extend_low_i8x16_u (local.get $x)))
        (v128.store (local.get $o${c}) ${normalized('(i32x4.extend_low_i16x8_u (local.get $w))', c, last)})
        (v128.store offset=16 (local.get $o${c}) ${normalized('(i32x4.extend_high_i16x8_u (local.get $w))', c, last)})
        (local.set $w (i16x8.extend_high_i8x16_u (local.get $x)))
        (v128.store offset=32 (local.get $o${c}) ${normalized('(i32x4.extend_low_i16x8_u (local.get $w))', c, last)})
        (v128.store offset=48 (local.get $o${c}) ${normalized('(i32x4.extend_high_i16x8_u (local.get $w))', c, last)})
        (local.set $o${c} (i32.add (local.get $o${c}) (i32.const 64)))`;
}

/** The scalar step for channel `c` of the pixel at $p (the same operations, one lane). */
const normalizeScalar = (c: number, last: LastStep): string => `
        (f32.store (local.get $o${c}) (f32.${last} (f32.sub (f32.div (f32.convert_i32_u (i32.load8_u offset=${c} (local.get $p)))
          (f32.const 255)) (local.get $m${c})) (local.get $s${c})))
        (local.set $o${c} (i32.add (local.get $o${c}) (i32.const 4)))`;

/**
 * The normalisation kernel `name`: $n interleaved RGB pixels at $src to float32 CHW planes at $dst
 * (R), $dst + 4$n (G) and $dst + 8$n (B): ((v / 255) - $m_c) then `last` by $s_c, each operation an
 * f32 one (correctly rounded, as torchvision computes it). 16 pixels (48 bytes) per step, then one
 * at a time; reads and writes nothing outside the pixels and the planes.
 */
const normalizeKernel = (name: string, last: LastStep): string => `
  (func (export "${name}") (param $src i32) (param $n i32) (param $dst i32)
        (param $m0 f32) (param $m1 f32) (param $m2 f32) (param $s0 f32) (param $s1 f32) (param $s2 f32)
    (local $p i32) (local $blocksEnd i32) (local $end i32) (local $o0 i32) (local $o1 i32) (local $o2 i32)
    (local $a v128) (local $b v128) (local $c v128) (local $x v128) (local $w v128) (local $k255 v128)
    (local $mean0 v128) (local $mean1 v128) (local $mean2 v128) (local $std0 v128) (local $std1 v128) (local $std2 v128)
    (local.set $p (local.get $src))
    (local.set $blocksEnd (i32.add (local.get $src) (i32.mul (i32.and (local.get $n) (i32.const -16)) (i32.const 3))))
    (local.set $end (i32.add (local.get $src) (i32.mul (local.get $n) (i32.const 3))))
    (local.set $o0 (local.get $dst))
    (local.set $o1 (i32.add (local.get $dst) (i32.shl (local.get $n) (i32.const 2))))
    (local.set $o2 (i32.add (local.get $dst) (i32.shl (local.get $n) (i32.const 3))))
    (local.set $k255 (f32x4.splat (f32.const 255)))
    (local.set $mean0 (f32x4.splat (local.get $m0)))
    (local.set $mean1 (f32x4.splat (local.get $m1)))
    (local.set $mean2 (f32x4.splat (local.get $m2)))
    (local.set $std0 (f32x4.splat (local.get $s0)))
    (local.set $std1 (f32x4.splat (local.get $s1)))
    (local.set $std2 (f32x4.splat (local.get $s2)))
    (block $blocksDone
      (loop $block
        (br_if $blocksDone (i32.ge_u (local.get $p) (local.get $blocksEnd)))
        (local.set $a (v128.load (local.get $p)))
        (local.set $b (v128.load offset=16 (local.get $p)))
        (local.set $c (v128.load offset=32 (local.get $p)))
        ${normalizeChannel(0, last)}
        ${normalizeChannel(1, last)}
        ${normalizeChannel(2, last)}
        (local.set $p (i32.add (local.get $p) (i32.const 48)))
        (br $block)))
    (block $done
      (loop $pixel
        (br_if $done (i32.ge_u (local.get $p) (local.get $end)))
        ${normalizeScalar(0, last)}
        ${normalizeScalar(1, last)}
        ${normalizeScalar(2, last)}
        (local.set $p (i32.add (local.get $p) (i32.const 3)))
        (br $pixel))))`;

export const RESIZE_KERNELS_WAT = `
(module
  (memory (export "memory") 1)

  ;; transpose4: rows r = 0..3 at $src + r*$len. For each byte position j < $len (rounded up to 16),
  ;; writes the i32x4 [row0[j], row1[j], row2[j], row3[j]] at $dst + 16*j. Reads up to 16 bytes
  ;; past the fourth row.
  (func (export "transpose4") (param $src i32) (param $len i32) (param $dst i32)
    (local $p i32) (local $q i32) (local $end i32) (local $len2 i32) (local $len3 i32)
    (local $a v128) (local $b v128) (local $c v128) (local $d v128)
    (local $ab v128) (local $cd v128) (local $x v128) (local $w v128)
    (local.set $p (local.get $src))
    (local.set $q (local.get $dst))
    (local.set $end (i32.add (local.get $src) (local.get $len)))
    (local.set $len2 (i32.shl (local.get $len) (i32.const 1)))
    (local.set $len3 (i32.add (local.get $len2) (local.get $len)))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $p) (local.get $end)))
        (local.set $a (v128.load (local.get $p)))
        (local.set $b (v128.load (i32.add (local.get $p) (local.get $len))))
        (local.set $c (v128.load (i32.add (local.get $p) (local.get $len2))))
        (local.set $d (v128.load (i32.add (local.get $p) (local.get $len3))))
        ;; positions 0..7, then 8..15
        ${store8Positions(INTERLEAVE_LOW_BYTES, 0)}
        ${store8Positions(INTERLEAVE_HIGH_BYTES, 128)}
        (local.set $p (i32.add (local.get $p) (i32.const 16)))
        (local.set $q (i32.add (local.get $q) (i32.const 256)))
        (br $next))))

  ;; hpass3: the horizontal pass of four RGB rows held by transpose4 at $t. For output pixel xx,
  ;; the taps start at source pixel $bounds[2xx] and number $bounds[2xx+1]; their weights are
  ;; $coefs[xx*$ksize ..] (i32). Row r of the result goes to $dst + r*$stride, 3 bytes a pixel;
  ;; each pixel is stored as 4 bytes, the fourth overwritten by the next pixel (rows need 1 byte
  ;; of slack).
  (func (export "hpass3") (param $t i32) (param $coefs i32) (param $bounds i32) (param $outWidth i32)
        (param $ksize i32) (param $dst i32) (param $stride i32)
    (local $bEnd i32) (local $p i32) (local $kp i32) (local $kEnd i32) (local $kRow i32) (local $o i32)
    (local $stride2 i32) (local $stride3 i32)
    (local $k v128) (local $s0 v128) (local $s1 v128) (local $s2 v128) (local $v v128)
    (local.set $bEnd (i32.add (local.get $bounds) (i32.shl (local.get $outWidth) (i32.const 3))))
    (local.set $kRow (local.get $coefs))
    (local.set $o (local.get $dst))
    (local.set $stride2 (i32.shl (local.get $stride) (i32.const 1)))
    (local.set $stride3 (i32.add (local.get $stride2) (local.get $stride)))
    (block $done
      (loop $pixel
        (br_if $done (i32.ge_u (local.get $bounds) (local.get $bEnd)))
        (local.set $p (i32.add (local.get $t) (i32.mul (i32.load (local.get $bounds)) (i32.const 48))))
        (local.set $kp (local.get $kRow))
        (local.set $kEnd (i32.add (local.get $kp) (i32.shl (i32.load offset=4 (local.get $bounds)) (i32.const 2))))
        (local.set $s0 ${ROUNDING_V})
        (local.set $s1 ${ROUNDING_V})
        (local.set $s2 ${ROUNDING_V})
        (block $tapsDone
          (loop $tap
            (br_if $tapsDone (i32.ge_u (local.get $kp) (local.get $kEnd)))
            (local.set $k (v128.load32_splat (local.get $kp)))
            (local.set $s0 (i32x4.add (local.get $s0) (i32x4.mul (v128.load (local.get $p)) (local.get $k))))
            (local.set $s1 (i32x4.add (local.get $s1) (i32x4.mul (v128.load offset=16 (local.get $p)) (local.get $k))))
            (local.set $s2 (i32x4.add (local.get $s2) (i32x4.mul (v128.load offset=32 (local.get $p)) (local.get $k))))
            (local.set $p (i32.add (local.get $p) (i32.const 48)))
            (local.set $kp (i32.add (local.get $kp) (i32.const 4)))
            (br $tap)))
        ;; clip8 of each sum: bytes R0 R1 R2 R3 G0 .. G3 B0 .. B3 (B0 .. B3), then per row R G B x.
        (local.set $v (i8x16.narrow_i16x8_u
          (i16x8.narrow_i32x4_s ${clip('$s0')} ${clip('$s1')})
          (i16x8.narrow_i32x4_s ${clip('$s2')} ${clip('$s2')})))
        (local.set $v (i8x16.shuffle 0 4 8 12 1 5 9 13 2 6 10 14 3 7 11 15 (local.get $v) (local.get $v)))
        (v128.store32_lane 0 (local.get $o) (local.get $v))
        (v128.store32_lane 1 (i32.add (local.get $o) (local.get $stride)) (local.get $v))
        (v128.store32_lane 2 (i32.add (local.get $o) (local.get $stride2)) (local.get $v))
        (v128.store32_lane 3 (i32.add (local.get $o) (local.get $stride3)) (local.get $v))
        (local.set $o (i32.add (local.get $o) (i32.const 3)))
        (local.set $bounds (i32.add (local.get $bounds) (i32.const 8)))
        (local.set $kRow (i32.add (local.get $kRow) (i32.shl (local.get $ksize) (i32.const 2))))
        (br $pixel))))

  ;; hpassN: hpass3 for any number of channels $ch, one channel at a time, byte stores.
  (func (export "hpassN") (param $t i32) (param $coefs i32) (param $bounds i32) (param $outWidth i32)
        (param $ksize i32) (param $ch i32) (param $dst i32) (param $stride i32)
    (local $bEnd i32) (local $c i32) (local $p i32) (local $step i32) (local $kp i32) (local $kEnd i32)
    (local $kRow i32) (local $o i32) (local $oc i32) (local $stride2 i32) (local $stride3 i32) (local $s v128) (local $v v128)
    (local.set $bEnd (i32.add (local.get $bounds) (i32.shl (local.get $outWidth) (i32.const 3))))
    (local.set $kRow (local.get $coefs))
    (local.set $o (local.get $dst))
    (local.set $step (i32.shl (local.get $ch) (i32.const 4)))
    (local.set $stride2 (i32.shl (local.get $stride) (i32.const 1)))
    (local.set $stride3 (i32.add (local.get $stride2) (local.get $stride)))
    (block $done
      (loop $pixel
        (br_if $done (i32.ge_u (local.get $bounds) (local.get $bEnd)))
        (local.set $c (i32.const 0))
        (block $channelsDone
          (loop $channel
            (br_if $channelsDone (i32.ge_u (local.get $c) (local.get $ch)))
            (local.set $p (i32.add (local.get $t)
              (i32.shl (i32.add (i32.mul (i32.load (local.get $bounds)) (local.get $ch)) (local.get $c)) (i32.const 4))))
            (local.set $kp (local.get $kRow))
            (local.set $kEnd (i32.add (local.get $kp) (i32.shl (i32.load offset=4 (local.get $bounds)) (i32.const 2))))
            (local.set $s ${ROUNDING_V})
            (block $tapsDone
              (loop $tap
                (br_if $tapsDone (i32.ge_u (local.get $kp) (local.get $kEnd)))
                (local.set $s (i32x4.add (local.get $s) (i32x4.mul (v128.load (local.get $p)) (v128.load32_splat (local.get $kp)))))
                (local.set $p (i32.add (local.get $p) (local.get $step)))
                (local.set $kp (i32.add (local.get $kp) (i32.const 4)))
                (br $tap)))
            (local.set $v (i8x16.narrow_i16x8_u
              (i16x8.narrow_i32x4_s ${clip('$s')} ${clip('$s')})
              (i16x8.narrow_i32x4_s ${clip('$s')} ${clip('$s')})))
            (local.set $oc (i32.add (local.get $o) (local.get $c)))
            (v128.store8_lane 0 (local.get $oc) (local.get $v))
            (v128.store8_lane 1 (i32.add (local.get $oc) (local.get $stride)) (local.get $v))
            (v128.store8_lane 2 (i32.add (local.get $oc) (local.get $stride2)) (local.get $v))
            (v128.store8_lane 3 (i32.add (local.get $oc) (local.get $stride3)) (local.get $v))
            (local.set $c (i32.add (local.get $c) (i32.const 1)))
            (br $channel)))
        (local.set $o (i32.add (local.get $o) (local.get $ch)))
        (local.set $bounds (i32.add (local.get $bounds) (i32.const 8)))
        (local.set $kRow (i32.add (local.get $kRow) (i32.shl (local.get $ksize) (i32.const 2))))
        (br $pixel))))

  ;; vpass: one output row of $len samples at $dst from $count intermediate rows, whose addresses
  ;; are the i32s at $lines and weights the i32s at $coefs. Writes $len rounded up to 16 bytes
  ;; and reads as many from each row.
  (func (export "vpass") (param $lines i32) (param $coefs i32) (param $count i32) (param $len i32) (param $dst i32)
    (local $i i32) (local $t i32) (local $tEnd i32) (local $kp i32)
    (local $k v128) (local $v v128) (local $w v128) (local $s0 v128) (local $s1 v128) (local $s2 v128) (local $s3 v128)
    (local.set $tEnd (i32.add (local.get $lines) (i32.shl (local.get $count) (i32.const 2))))
    (block $done
      (loop $chunk
        (br_if $done (i32.ge_u (local.get $i) (local.get $len)))
        (local.set $s0 ${ROUNDING_V})
        (local.set $s1 ${ROUNDING_V})
        (local.set $s2 ${ROUNDING_V})
        (local.set $s3 ${ROUNDING_V})
        (local.set $t (local.get $lines))
        (local.set $kp (local.get $coefs))
        (block $tapsDone
          (loop $tap
            (br_if $tapsDone (i32.ge_u (local.get $t) (local.get $tEnd)))
            (local.set $k (v128.load32_splat (local.get $kp)))
            (local.set $v (v128.load (i32.add (i32.load (local.get $t)) (local.get $i))))
            (local.set $w (i16x8.extend_low_i8x16_u (local.get $v)))
            (local.set $s0 (i32x4.add (local.get $s0) (i32x4.mul (i32x4.extend_low_i16x8_u (local.get $w)) (local.get $k))))
            (local.set $s1 (i32x4.add (local.get $s1) (i32x4.mul (i32x4.extend_high_i16x8_u (local.get $w)) (local.get $k))))
            (local.set $w (i16x8.extend_high_i8x16_u (local.get $v)))
            (local.set $s2 (i32x4.add (local.get $s2) (i32x4.mul (i32x4.extend_low_i16x8_u (local.get $w)) (local.get $k))))
            (local.set $s3 (i32x4.add (local.get $s3) (i32x4.mul (i32x4.extend_high_i16x8_u (local.get $w)) (local.get $k))))
            (local.set $t (i32.add (local.get $t) (i32.const 4)))
            (local.set $kp (i32.add (local.get $kp) (i32.const 4)))
            (br $tap)))
        (v128.store (i32.add (local.get $dst) (local.get $i))
          (i8x16.narrow_i16x8_u
            (i16x8.narrow_i32x4_s ${clip('$s0')} ${clip('$s1')})
            (i16x8.narrow_i32x4_s ${clip('$s2')} ${clip('$s3')})))
        (local.set $i (i32.add (local.get $i) (i32.const 16)))
        (br $chunk))))

  ;; normalize3: the normalisation, dividing by std (normalizeKernel).
  ${normalizeKernel('normalize3', 'div')}

  ;; normalize3Reciprocal: the same, multiplying by exact reciprocals of std passed as $s0 .. $s2.
  ${normalizeKernel('normalize3Reciprocal', 'mul')}
)
`;
