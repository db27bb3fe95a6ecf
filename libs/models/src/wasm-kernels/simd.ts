/**
 * Hand-assembled WebAssembly SIMD kernels that run on the wasm backend's own heap.
 *
 * tfjs-backend-wasm exports its `WebAssembly.Memory`; a second, tiny module that imports that
 * memory can read and write tensor buffers in place, branch-free and 4 lanes at a time. Plain JS
 * loops over the heap run at ~5–20 ns per element here (data-dependent branches), SIMD at well
 * under 1 ns. No toolchain is needed: the few instructions used are encoded below. Every kernel
 * has a JS fallback, used when the engine lacks wasm SIMD.
 */
import { F32, I32, section, sleb, str, uleb, V128, vec } from '../wasm-encoder';
import type { BackendWasm } from './backend-ops';

// --- instructions (the encoder itself is ../wasm-encoder.ts) ----------------------------------

/** Instruction helpers (each returns its bytes). */
const op = {
  get: (i: number) => [0x20, ...uleb(i)],
  set: (i: number) => [0x21, ...uleb(i)],
  tee: (i: number) => [0x22, ...uleb(i)],
  i32: (n: number) => [0x41, ...sleb(n)],
  add: [0x6a],
  sub: [0x6b],
  mul: [0x6c],
  geS: [0x4e],
  block: [0x02, 0x40],
  loop: [0x03, 0x40],
  br: (d: number) => [0x0c, ...uleb(d)],
  brIf: (d: number) => [0x0d, ...uleb(d)],
  end: [0x0b],
  simd: (code: number, ...imm: number[]) => [0xfd, ...uleb(code), ...imm],
};
const f32load = [0x2a, 2, 0];
const f32store = [0x38, 2, 0];
const f32add = [0x92];
const f32sub = [0x93];
const f32mul = [0x94];
const v128load = op.simd(0x00, 2, 0); // align 2^2 (a hint; unaligned is allowed), offset 0
const v128store = op.simd(0x0b, 2, 0);
const v128load32splat = op.simd(0x09, 2, 0);
const f32x4gt = op.simd(0x44);
const v128and = op.simd(0x4e);
const v128andnot = op.simd(0x4f);
const v128or = op.simd(0x50);
const v128bitselect = op.simd(0x52);
const f32x4splat = op.simd(0x13);
const f32x4add = op.simd(0xe4);
const f32x4sub = op.simd(0xe5);
const f32x4mul = op.simd(0xe6);
const f32x4div = op.simd(0xe7);
const f32x4min = op.simd(0xe8); // NaN in either lane gives NaN (unlike pmin)
const f32x4max = op.simd(0xe9);
const f32x4abs = op.simd(0xe0);
const f32x4lt = op.simd(0x43);
const f32x4ne = op.simd(0x42);
const f32const = (x: number): number[] => [0x43, ...new Uint8Array(new Float32Array([x]).buffer)];

function moduleBytes(
  params: number,
  locals: [number, number][],
  body: number[][],
  exportName: string,
): Uint8Array {
  const type = section(1, vec([[0x60, ...vec(Array.from({ length: params }, () => [I32])), 0x00]]));
  const imports = section(2, vec([[...str('env'), ...str('memory'), 0x02, 0x00, 0x00]]));
  const funcs = section(3, vec([[0x00]]));
  const exports = section(7, vec([[...str(exportName), 0x00, 0x00]]));
  const code = [...vec(locals.map(([n, t]) => [...uleb(n), t])), ...body.flat(), ...op.end];
  const codeSection = section(10, vec([[...uleb(code.length), ...code]]));
  return new Uint8Array([
    0x00,
    0x61,
    0x73,
    0x6d,
    0x01,
    0x00,
    0x00,
    0x00,
    ...type,
    ...imports,
    ...funcs,
    ...exports,
    ...codeSection,
  ]);
}

/**
 * `for (local = 0; local < limit; local += step) inner` (no reset of `local` when `fromZero` is
 * false: the loop continues from where it is). `limit` is the instructions that push the bound.
 */
function forLoop(
  local: number,
  limit: number[],
  step: number,
  inner: number[][],
  fromZero = true,
): number[][] {
  return [
    ...(fromZero ? [op.i32(0), op.set(local)] : []),
    op.block,
    op.loop,
    [...op.get(local), ...limit, ...op.geS, ...op.brIf(1)],
    ...inner,
    [...op.get(local), ...op.i32(step), ...op.add, ...op.set(local)],
    op.br(0),
    op.end,
    op.end,
  ];
}

// --- MaxPoolGrad, one row of disjoint 2×2 windows -------------------------------------------------

/**
 * maxPoolGradRow2x2(x, dy, dx, windows, cBytes, c4Bytes, rowBytes): for `windows` consecutive 2×2
 * windows whose top-left x element is at byte address `x` (next window 2·cBytes further), writes
 * dx at the same offsets (from `dx`): each window's dy (at `dy`, cBytes apart) goes to the first
 * position holding its strict maximum from −∞, zeros elsewhere — channels [0, c4Bytes/4) only,
 * 4 at a time; the caller does the C mod 4 rest.
 */
function maxPoolGradRow2x2Bytes(): Uint8Array {
  // params: 0 x, 1 dy, 2 dx, 3 windows, 4 cBytes, 5 c4Bytes, 6 rowBytes
  // i32 locals: 7 w, 8 ch, 9 a (x address), 10 o (dx address); v128 locals: 11 v0 .. 14 v3, 15 best,
  // 16 g0 .. 19 g3, 20 d, 21 taken, 22 negInf
  const [X, DY, DX, WIN, CB, C4B, ROWB, W, CH, A, O] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
  const [V0, V1, V2, V3, BEST, G0, G1, G2, G3, D, TAKEN, NEGINF] = [
    11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22,
  ];
  const load = (addr: number[], into: number) => [...addr, ...v128load, ...op.set(into)];
  const store = (addr: number[], value: number[]) => [...addr, ...value, ...v128store];
  const plus = (...terms: number[][]) =>
    terms.reduce((acc, t, i) => (i === 0 ? [...t] : [...acc, ...t, ...op.add]), []);
  const at = (base: number, ...offs: number[]) => plus(op.get(base), ...offs.map((o) => op.get(o)));
  const body: number[][] = [
    [...f32const(-Infinity), ...f32x4splat, ...op.set(NEGINF)],
    op.i32(0),
    op.set(W),
    op.block,
    op.loop,
    [...op.get(W), ...op.get(WIN), ...op.geS, ...op.brIf(1)],
    op.i32(0),
    op.set(CH),
    op.block,
    op.loop,
    [...op.get(CH), ...op.get(C4B), ...op.geS, ...op.brIf(1)],
    [...op.get(X), ...op.get(CH), ...op.add, ...op.set(A)],
    [...op.get(DX), ...op.get(CH), ...op.add, ...op.set(O)],
    load(op.get(A), V0),
    load(at(A, CB), V1),
    load(at(A, ROWB), V2),
    load(at(A, ROWB, CB), V3),
    load(at(DY, CH), D),
    // g0 = v0 > −∞; best = g0 ? v0 : −∞; then gk = vk > best; best = gk ? vk : best
    [...op.get(V0), ...op.get(NEGINF), ...f32x4gt, ...op.tee(G0)],
    [...op.get(V0), ...op.get(NEGINF), ...op.get(G0), ...v128bitselect, ...op.set(BEST)],
    [...op.get(V1), ...op.get(BEST), ...f32x4gt, ...op.set(G1)],
    [...op.get(V1), ...op.get(BEST), ...op.get(G1), ...v128bitselect, ...op.set(BEST)],
    [...op.get(V2), ...op.get(BEST), ...f32x4gt, ...op.set(G2)],
    [...op.get(V2), ...op.get(BEST), ...op.get(G2), ...v128bitselect, ...op.set(BEST)],
    [...op.get(V3), ...op.get(BEST), ...f32x4gt, ...op.set(G3)],
    // The last position that improved wins: position k gets dy where gk and no later gj.
    store(at(O, ROWB, CB), [...op.get(D), ...op.get(G3), ...v128and]),
    [...op.get(G3), ...op.set(TAKEN)],
    store(at(O, ROWB), [...op.get(D), ...op.get(G2), ...op.get(TAKEN), ...v128andnot, ...v128and]),
    [...op.get(TAKEN), ...op.get(G2), ...v128or, ...op.set(TAKEN)],
    store(at(O, CB), [...op.get(D), ...op.get(G1), ...op.get(TAKEN), ...v128andnot, ...v128and]),
    [...op.get(TAKEN), ...op.get(G1), ...v128or, ...op.set(TAKEN)],
    store(op.get(O), [...op.get(D), ...op.get(G0), ...op.get(TAKEN), ...v128andnot, ...v128and]),
    [...op.get(CH), ...op.i32(16), ...op.add, ...op.set(CH)],
    op.br(0),
    op.end,
    op.end,
    // next window: x and dx advance two pixels, dy one
    [...op.get(X), ...op.get(CB), ...op.add, ...op.get(CB), ...op.add, ...op.set(X)],
    [...op.get(DX), ...op.get(CB), ...op.add, ...op.get(CB), ...op.add, ...op.set(DX)],
    [...op.get(DY), ...op.get(CB), ...op.add, ...op.set(DY)],
    [...op.get(W), ...op.i32(1), ...op.add, ...op.set(W)],
    op.br(0),
    op.end,
    op.end,
  ];
  return moduleBytes(
    7,
    [
      [4, I32],
      [12, V128],
    ],
    body,
    'k',
  );
}

// --- BatchNorm gradient: one pass over x and dy -----------------------------------------------

/**
 * batchNormGradRows(x, dy, dx, mean, a, s0, s1, rows, cBytes, c4Bytes): over `rows` rows of C
 * channels (row stride cBytes) writes dx = dy·a and accumulates s0 += dy, s1 += dy·(x − mean)
 * per channel (mean, a, s0, s1: C floats each) — 4 channels at a time up to c4Bytes, then one at
 * a time.
 */
function batchNormGradBytes(): Uint8Array {
  // params: 0 x, 1 dy, 2 dx, 3 mean, 4 a, 5 s0, 6 s1, 7 rows, 8 cBytes, 9 c4Bytes
  // i32 locals: 10 r, 11 ch; v128 locals: 12 d, 13 xv; f32 locals: 14 d, 15 xv (the scalar tail)
  const [X, DY, DX, MEAN, A, S0, S1, ROWS, CB, C4B, R, CH] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];
  const addr = (base: number) => [...op.get(base), ...op.get(CH), ...op.add];
  /** The channel loop from CH up to `limit`, `step` bytes at a time, with vector or scalar ops. */
  const lanes = (limit: number[], simd: boolean): number[][] => {
    const [D, XV, step] = simd ? [12, 13, 16] : [14, 15, 4];
    const [load, store, add, sub, mul] = simd
      ? [v128load, v128store, f32x4add, f32x4sub, f32x4mul]
      : [f32load, f32store, f32add, f32sub, f32mul];
    return [
      op.block,
      op.loop,
      [...op.get(CH), ...limit, ...op.geS, ...op.brIf(1)],
      [...addr(DY), ...load, ...op.set(D)],
      [...addr(X), ...load, ...op.set(XV)],
      // dx = d·a
      [...addr(DX), ...op.get(D), ...addr(A), ...load, ...mul, ...store],
      // s0 += d
      [...addr(S0), ...addr(S0), ...load, ...op.get(D), ...add, ...store],
      // s1 += d·(x − mean)
      [
        ...addr(S1),
        ...addr(S1),
        ...load,
        ...op.get(D),
        ...op.get(XV),
        ...addr(MEAN),
        ...load,
        ...sub,
        ...mul,
        ...add,
        ...store,
      ],
      [...op.get(CH), ...op.i32(step), ...op.add, ...op.set(CH)],
      op.br(0),
      op.end,
      op.end,
    ];
  };
  const body: number[][] = [
    op.i32(0),
    op.set(R),
    op.block,
    op.loop,
    [...op.get(R), ...op.get(ROWS), ...op.geS, ...op.brIf(1)],
    op.i32(0),
    op.set(CH),
    ...lanes(op.get(C4B), true),
    ...lanes(op.get(CB), false),
    [...op.get(X), ...op.get(CB), ...op.add, ...op.set(X)],
    [...op.get(DY), ...op.get(CB), ...op.add, ...op.set(DY)],
    [...op.get(DX), ...op.get(CB), ...op.add, ...op.set(DX)],
    [...op.get(R), ...op.i32(1), ...op.add, ...op.set(R)],
    op.br(0),
    op.end,
    op.end,
  ];
  return moduleBytes(
    10,
    [
      [2, I32],
      [2, V128],
      [2, F32],
    ],
    body,
    'k',
  );
}

export type BatchNormGradRows = (
  x: number,
  dy: number,
  dx: number,
  mean: number,
  a: number,
  s0: number,
  s1: number,
  rows: number,
  cBytes: number,
  c4Bytes: number,
) => void;

// --- BatchNorm forward: y = x·a + b per channel --------------------------------------------------

/** scaleShiftRows(x, y, a, b, rows, cBytes, c4Bytes): y = x·a + b over `rows` rows of C channels. */
function scaleShiftBytes(): Uint8Array {
  // params: 0 x, 1 y, 2 a, 3 b, 4 rows, 5 cBytes, 6 c4Bytes; i32 locals: 7 r, 8 ch
  const [X, Y, A, B, ROWS, CB, C4B, R, CH] = [0, 1, 2, 3, 4, 5, 6, 7, 8];
  const addr = (base: number) => [...op.get(base), ...op.get(CH), ...op.add];
  const lanes = (limit: number[], simd: boolean): number[][] => {
    const [load, store, add, mul, step] = simd
      ? [v128load, v128store, f32x4add, f32x4mul, 16]
      : [f32load, f32store, f32add, f32mul, 4];
    return [
      op.block,
      op.loop,
      [...op.get(CH), ...limit, ...op.geS, ...op.brIf(1)],
      [...addr(Y), ...addr(X), ...load, ...addr(A), ...load, ...mul, ...addr(B), ...load, ...add, ...store],
      [...op.get(CH), ...op.i32(step as number), ...op.add, ...op.set(CH)],
      op.br(0),
      op.end,
      op.end,
    ];
  };
  const body: number[][] = [
    op.i32(0),
    op.set(R),
    op.block,
    op.loop,
    [...op.get(R), ...op.get(ROWS), ...op.geS, ...op.brIf(1)],
    op.i32(0),
    op.set(CH),
    ...lanes(op.get(C4B), true),
    ...lanes(op.get(CB), false),
    [...op.get(X), ...op.get(CB), ...op.add, ...op.set(X)],
    [...op.get(Y), ...op.get(CB), ...op.add, ...op.set(Y)],
    [...op.get(R), ...op.i32(1), ...op.add, ...op.set(R)],
    op.br(0),
    op.end,
    op.end,
  ];
  return moduleBytes(7, [[2, I32]], body, 'k');
}

export type ScaleShiftRows = (
  x: number,
  y: number,
  a: number,
  b: number,
  rows: number,
  cBytes: number,
  c4Bytes: number,
) => void;

export type MaxPoolGradRow2x2 = (
  x: number,
  dy: number,
  dx: number,
  windows: number,
  cBytes: number,
  c4Bytes: number,
  rowBytes: number,
) => void;

// --- AvgPool and AvgPoolGrad, disjoint 2×2 windows --------------------------------------------

/**
 * forward = false — avgPoolGrad2x2(dy, dx, rows, windows, cBytes, c4Bytes, rowBytes, skipBytes):
 * for `rows` rows of `windows` consecutive 2×2 windows, writes each window's dy/4 (dy at `dy`,
 * cBytes per window) to its four dx positions (the window's top-left at `dx`, the next window
 * 2·cBytes further, the row below rowBytes further); after each row of windows dx moves on by
 * skipBytes more (past the row below and any column no window covers).
 * forward = true — avgPool2x2(y, x, …, same geometry): y = (x₀₀ + x₀₁ + x₁₀ + x₁₁)/4 (float32
 * sums in the cpu backend's order; cpu sums in float64, so the two differ by an ulp at most).
 * Channels [0, c4Bytes/4) 4 at a time, the rest one by one.
 */
function avgPool2x2Bytes(forward: boolean): Uint8Array {
  // params: 0 dy (or y), 1 dx (or x), 2 rows, 3 windows, 4 cBytes, 5 c4Bytes, 6 rowBytes, 7 skipBytes
  // i32 locals: 8 r, 9 w, 10 ch, 11 o; v128 local: 12 v; f32 local: 13 v
  const [DY, DX, ROWS, WIN, CB, C4B, ROWB, SKIP, R, W, CH, O] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];
  const lanes = (limit: number[], simd: boolean): number[][] => {
    const [V, step] = simd ? [12, 16] : [13, 4];
    const [load, store, add, mul, quarter] = simd
      ? [v128load, v128store, f32x4add, f32x4mul, [...f32const(0.25), ...f32x4splat]]
      : [f32load, f32store, f32add, f32mul, f32const(0.25)];
    const corners = [
      op.get(O),
      [...op.get(O), ...op.get(CB), ...op.add],
      [...op.get(O), ...op.get(ROWB), ...op.add],
      [...op.get(O), ...op.get(ROWB), ...op.add, ...op.get(CB), ...op.add],
    ];
    const work: number[][] = forward
      ? [
          [...op.get(DY), ...op.get(CH), ...op.add],
          [...(corners[0] as number[]), ...load, ...(corners[1] as number[]), ...load, ...add],
          [...(corners[2] as number[]), ...load, ...add, ...(corners[3] as number[]), ...load, ...add],
          [...quarter, ...mul, ...store],
        ]
      : [
          [...op.get(DY), ...op.get(CH), ...op.add, ...load, ...quarter, ...mul, ...op.set(V)],
          ...corners.map((c) => [...c, ...op.get(V), ...store]),
        ];
    return forLoop(
      CH,
      limit,
      step,
      [[...op.get(DX), ...op.get(CH), ...op.add, ...op.set(O)], ...work],
      false,
    );
  };
  const body: number[][] = forLoop(R, op.get(ROWS), 1, [
    ...forLoop(W, op.get(WIN), 1, [
      op.i32(0),
      op.set(CH),
      ...lanes(op.get(C4B), true),
      ...lanes(op.get(CB), false),
      [...op.get(DY), ...op.get(CB), ...op.add, ...op.set(DY)],
      [...op.get(DX), ...op.get(CB), ...op.add, ...op.get(CB), ...op.add, ...op.set(DX)],
    ]),
    [...op.get(DX), ...op.get(SKIP), ...op.add, ...op.set(DX)],
  ]);
  return moduleBytes(
    8,
    [
      [4, I32],
      [1, V128],
      [1, F32],
    ],
    body,
    'k',
  );
}

export type AvgPoolGrad2x2 = (
  dy: number,
  dx: number,
  rows: number,
  windows: number,
  cBytes: number,
  c4Bytes: number,
  rowBytes: number,
  skipBytes: number,
) => void;

// --- Tanh and its gradient, 4 elements at a time ---------------------------------------------

/**
 * The rational approximation of tanh that Eigen (and XNNPACK's older kernels) use: x clamped to
 * ±7.90531110763549805 (where float tanh is ±1 to within its rounding), then
 * x·P(x²)/Q(x²) with P of degree 6 and Q of degree 3, and x itself where |x| < 0.0004. Max
 * abs error against Math.tanh over [−20, 20]: 3.9e-7 (activations.test.ts). NaN stays NaN.
 */
export const TANH_CLAMP = 7.90531110763549805;
export const TANH_TINY = 0.0004;
/** Numerator coefficients α₁, α₃, …, α₁₃ (odd powers). */
export const TANH_P = [
  4.89352455891786e-3, 6.37261928875436e-4, 1.48572235717979e-5, 5.12229709037114e-8, -8.60467152213735e-11,
  2.00018790482477e-13, -2.76076847742355e-16,
];
/** Denominator coefficients β₀, β₂, β₄, β₆ (even powers). */
export const TANH_Q = [4.89352518554385e-3, 2.268434632439e-3, 1.18534705686654e-4, 1.19825839466702e-6];

/**
 * A module whose one function loops `i` over [0, bytes) in steps of 16 (one v128) and runs `step`
 * (a flat list of instructions) each time. Its params are the `params` addresses then `bytes`; its locals are i (i32) and
 * `vectors` v128 scratch registers, numbered after the params.
 */
function byteLoopModule(params: number, vectors: number, step: number[][]): Uint8Array {
  const N = params;
  const I = params + 1;
  const body = forLoop(I, op.get(N), 16, step);
  return moduleBytes(
    params + 1,
    [
      [1, I32],
      [vectors, V128],
    ],
    body,
    'k',
  );
}

/** tanhVec(x, y, bytes): y = tanh(x) over `bytes` bytes (a multiple of 16). */
function tanhBytes(): Uint8Array {
  // params: 0 x, 1 y, 2 bytes; i32 local 3 i; v128 locals 4 a (input), 5 v (clamped), 6 v² , 7 p
  const [X, Y, I, A, V, V2, P] = [0, 1, 3, 4, 5, 6, 7];
  const splat = (c: number) => [...f32const(c), ...f32x4splat];
  /** Horner: c[last]; then ·v² + c[i] down to c[0]. */
  const horner = (c: number[]) => {
    const out = splat(c[c.length - 1] as number);
    for (let i = c.length - 2; i >= 0; i--)
      out.push(...op.get(V2), ...f32x4mul, ...splat(c[i] as number), ...f32x4add);
    return out;
  };
  return byteLoopModule(2, 4, [
    [...op.get(X), ...op.get(I), ...op.add, ...v128load, ...op.tee(A)],
    [...splat(TANH_CLAMP), ...f32x4min, ...splat(-TANH_CLAMP), ...f32x4max, ...op.tee(V)],
    [...op.get(V), ...f32x4mul, ...op.set(V2)],
    [...horner(TANH_P), ...op.get(V), ...f32x4mul, ...op.set(P)],
    // y = |a| < tiny ? a : p / q
    [...op.get(Y), ...op.get(I), ...op.add],
    [...op.get(A), ...op.get(P), ...horner(TANH_Q), ...f32x4div],
    [...op.get(A), ...f32x4abs, ...splat(TANH_TINY), ...f32x4lt, ...v128bitselect, ...v128store],
  ]);
}

export type TanhVec = (x: number, y: number, bytes: number) => void;

/** tanhGradVec(y, dy, dx, bytes): dx = dy·(1 − y²) over `bytes` bytes (a multiple of 16). */
function tanhGradBytes(): Uint8Array {
  // params: 0 y, 1 dy, 2 dx, 3 bytes; i32 local 4 i; v128 local 5 y
  const [Yp, DY, DX, I, YV] = [0, 1, 2, 4, 5];
  return byteLoopModule(3, 1, [
    [...op.get(DX), ...op.get(I), ...op.add],
    [...op.get(DY), ...op.get(I), ...op.add, ...v128load],
    [...f32const(1), ...f32x4splat],
    [
      ...op.get(Yp),
      ...op.get(I),
      ...op.add,
      ...v128load,
      ...op.tee(YV),
      ...op.get(YV),
      ...f32x4mul,
      ...f32x4sub,
    ],
    [...f32x4mul, ...v128store],
  ]);
}

export type TanhGradVec = (y: number, dy: number, dx: number, bytes: number) => void;

/**
 * reluGradVec(x, dy, dx, bytes): dx = dy·step(x) over `bytes` bytes (a multiple of 16), with tfjs'
 * step: 1 where x > 0, NaN where x is NaN, else 0 — so dy·0 keeps NaN/∞ dy as NaN, as tfjs does.
 */
function reluGradBytes(): Uint8Array {
  // params: 0 x, 1 dy, 2 dx, 3 bytes; i32 local 4 i; v128 local 5 x
  const [Xp, DY, DX, I, XV] = [0, 1, 2, 4, 5];
  return byteLoopModule(3, 1, [
    [...op.get(Xp), ...op.get(I), ...op.add, ...v128load, ...op.set(XV)],
    [...op.get(DX), ...op.get(I), ...op.add],
    [...op.get(DY), ...op.get(I), ...op.add, ...v128load],
    // step = x is NaN ? x : (x > 0) & 1.0
    [...op.get(XV)],
    [...op.get(XV), ...f32const(0), ...f32x4splat, ...f32x4gt, ...f32const(1), ...f32x4splat, ...v128and],
    [...op.get(XV), ...op.get(XV), ...f32x4ne, ...v128bitselect],
    [...f32x4mul, ...v128store],
  ]);
}

export type ReluGradVec = (x: number, dy: number, dx: number, bytes: number) => void;

// --- Conv2DBackpropFilter for one input channel and up to 8 output channels --------------------

/**
 * filterGrad5x8(xp, dy, out, B, OH, OW, xRowSkip, xImgSkip, dyPix, o0, …, o4): for five filter
 * taps at byte offsets o0…o4 from a pixel of the zero-padded input xp (one channel), accumulates
 *   out[t, 0..8) = Σ_{b,oh,ow} xp[pixel(b,oh,ow) + o_t] · dy[b,oh,ow, 0..8)
 * with the 8 lanes of dy read from each dy pixel (dyPix bytes apart; lanes past the real channel
 * count read the next pixel's and are discarded by the caller). xp's pixel moves 4 bytes per ow,
 * xRowSkip more per row, xImgSkip more per image. Ten accumulators, one pass over dy.
 */
function filterGrad5x8Bytes(): Uint8Array {
  // params: 0 xp, 1 dy, 2 out, 3 B, 4 OH, 5 OW, 6 xRowSkip, 7 xImgSkip, 8 dyPix, 9..13 o0..o4
  // i32 locals: 14 b, 15 oh, 16 ow; v128 locals: 17 d0, 18 d1, 19 s, 20..29 acc[t][j] (t·2 + j)
  const [XP, DY, OUT, B, OH, OW, RSKIP, ISKIP, DPIX] = [0, 1, 2, 3, 4, 5, 6, 7, 8];
  const O = [9, 10, 11, 12, 13];
  const [LB, LOH, LOW, D0, D1, S, ACC] = [14, 15, 16, 17, 18, 19, 20];
  const count = (local: number, limit: number, inner: number[][]): number[][] =>
    forLoop(local, op.get(limit), 1, inner);
  const pixel: number[][] = [
    [...op.get(DY), ...v128load, ...op.set(D0)],
    [...op.get(DY), ...op.i32(16), ...op.add, ...v128load, ...op.set(D1)],
    ...O.flatMap((o, t) => [
      [...op.get(XP), ...op.get(o), ...op.add, ...v128load32splat, ...op.set(S)],
      [...op.get(ACC + 2 * t), ...op.get(S), ...op.get(D0), ...f32x4mul, ...f32x4add, ...op.set(ACC + 2 * t)],
      [
        ...op.get(ACC + 2 * t + 1),
        ...op.get(S),
        ...op.get(D1),
        ...f32x4mul,
        ...f32x4add,
        ...op.set(ACC + 2 * t + 1),
      ],
    ]),
    [...op.get(XP), ...op.i32(4), ...op.add, ...op.set(XP)],
    [...op.get(DY), ...op.get(DPIX), ...op.add, ...op.set(DY)],
  ];
  const body: number[][] = [
    ...count(LB, B, [
      ...count(LOH, OH, [
        ...count(LOW, OW, pixel),
        [...op.get(XP), ...op.get(RSKIP), ...op.add, ...op.set(XP)],
      ]),
      [...op.get(XP), ...op.get(ISKIP), ...op.add, ...op.set(XP)],
    ]),
    ...Array.from({ length: 10 }, (_, i) => [
      ...op.get(OUT),
      ...op.i32(16 * i),
      ...op.add,
      ...op.get(ACC + i),
      ...v128store,
    ]),
  ];
  return moduleBytes(
    14,
    [
      [3, I32],
      [13, V128],
    ],
    body,
    'k',
  );
}

export type FilterGrad5x8 = (
  xp: number,
  dy: number,
  out: number,
  B: number,
  OH: number,
  OW: number,
  xRowSkip: number,
  xImgSkip: number,
  dyPix: number,
  o0: number,
  o1: number,
  o2: number,
  o3: number,
  o4: number,
) => void;

// --- col2im for a stride-1 convolution's input gradient -----------------------------------------

/**
 * col2im(dcol, dx, B, OH, OW, KH, segBytes, seg4Bytes, rowBytes, pixBytes, imgSkip): adds the
 * columns dcol [B,OH,OW,KH,KW·Ci] into dx [B,H,W,Ci] (zeroed by the caller) for a stride-1,
 * unpadded convolution: for each (b,oh,ow,kh) the KW·Ci values (segBytes) go to the contiguous
 * run dx[b, oh+kh, ow .. ow+KW, 0..Ci). dcol is read straight through; dx's (b,oh,ow) pixel moves
 * pixBytes per ow, rowBytes − OW·pixBytes more per row, imgSkip more per image.
 */
function col2imBytes(): Uint8Array {
  // params: 0 dcol, 1 dx, 2 B, 3 OH, 4 OW, 5 KH, 6 segBytes, 7 seg4Bytes, 8 rowBytes, 9 pixBytes,
  // 10 imgSkip; i32 locals: 11 b, 12 oh, 13 ow, 14 kh, 15 t (dx run), 16 c
  const [S, D, B, OH, OW, KH, SEG, SEG4, ROWB, PIXB, ISKIP] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
  const [LB, LOH, LOW, LKH, T, C] = [11, 12, 13, 14, 15, 16];
  const count = (local: number, limit: number, inner: number[][]): number[][] =>
    forLoop(local, op.get(limit), 1, inner);
  const addRun = (limit: number, simd: boolean): number[][] => {
    const [load, store, add, step] = simd
      ? [v128load, v128store, f32x4add, 16]
      : [f32load, f32store, f32add, 4];
    const run: number[][] = [
      [...op.get(T), ...op.get(C), ...op.add],
      [...op.get(T), ...op.get(C), ...op.add, ...load],
      [...op.get(S), ...op.get(C), ...op.add, ...load],
      [...add, ...store],
    ];
    return forLoop(C, op.get(limit), step as number, run, false);
  };
  const perKh: number[][] = [
    op.i32(0),
    op.set(C),
    ...addRun(SEG4, true),
    ...addRun(SEG, false),
    [...op.get(S), ...op.get(SEG), ...op.add, ...op.set(S)],
    [...op.get(T), ...op.get(ROWB), ...op.add, ...op.set(T)],
  ];
  const perPixel: number[][] = [
    [...op.get(D), ...op.set(T)],
    ...count(LKH, KH, perKh),
    [...op.get(D), ...op.get(PIXB), ...op.add, ...op.set(D)],
  ];
  const body: number[][] = [
    ...count(LB, B, [
      ...count(LOH, OH, [
        ...count(LOW, OW, perPixel),
        // next row: rowBytes − OW·pixBytes further
        [
          ...op.get(D),
          ...op.get(ROWB),
          ...op.add,
          ...op.get(OW),
          ...op.get(PIXB),
          ...op.mul,
          ...op.sub,
          ...op.set(D),
        ],
      ]),
      [...op.get(D), ...op.get(ISKIP), ...op.add, ...op.set(D)],
    ]),
  ];
  return moduleBytes(11, [[6, I32]], body, 'k');
}

export type Col2Im = (
  dcol: number,
  dx: number,
  B: number,
  OH: number,
  OW: number,
  KH: number,
  segBytes: number,
  seg4Bytes: number,
  rowBytes: number,
  pixBytes: number,
  imgSkip: number,
) => void;

export interface SimdKernels {
  maxPoolGradRow2x2: MaxPoolGradRow2x2;
  batchNormGradRows: BatchNormGradRows;
  scaleShiftRows: ScaleShiftRows;
  avgPoolGrad2x2: AvgPoolGrad2x2;
  /** The same signature: (y, x, rows, windows, cBytes, c4Bytes, rowBytes, skipBytes). */
  avgPool2x2: AvgPoolGrad2x2;
  tanh: TanhVec;
  tanhGrad: TanhGradVec;
  filterGrad5x8: FilterGrad5x8;
  col2im: Col2Im;
  reluGrad: ReluGradVec;
}

/** The slice of the WebAssembly JS API used here (the project's TS lib has no DOM/wasm typings). */
interface WasmApi {
  Memory: abstract new (...args: never[]) => object;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: Record<string, unknown> };
}
const WA = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

const instances = new WeakMap<object, SimdKernels | null>();
let simdDisabled = false;

/** For tests and benchmarks: force the JS fallbacks. */
export function setSimdKernelsEnabled(enabled: boolean): void {
  simdDisabled = !enabled;
}

/** The SIMD kernels bound to this backend's heap, or null (no wasm SIMD, or disabled). */
export function simdKernels(backend: BackendWasm): SimdKernels | null {
  if (simdDisabled) return null;
  const memory = (backend.wasm as unknown as { asm?: { memory?: unknown } }).asm?.memory;
  if (!(memory instanceof WA.Memory)) return null;
  let k = instances.get(memory);
  if (k === undefined) {
    try {
      const load = (bytes: Uint8Array) =>
        new WA.Instance(new WA.Module(bytes), { env: { memory } }).exports['k'];
      k = {
        maxPoolGradRow2x2: load(maxPoolGradRow2x2Bytes()) as MaxPoolGradRow2x2,
        batchNormGradRows: load(batchNormGradBytes()) as BatchNormGradRows,
        scaleShiftRows: load(scaleShiftBytes()) as ScaleShiftRows,
        avgPoolGrad2x2: load(avgPool2x2Bytes(false)) as AvgPoolGrad2x2,
        avgPool2x2: load(avgPool2x2Bytes(true)) as AvgPoolGrad2x2,
        tanh: load(tanhBytes()) as TanhVec,
        tanhGrad: load(tanhGradBytes()) as TanhGradVec,
        filterGrad5x8: load(filterGrad5x8Bytes()) as FilterGrad5x8,
        col2im: load(col2imBytes()) as Col2Im,
        reluGrad: load(reluGradBytes()) as ReluGradVec,
      };
    } catch {
      k = null;
    }
    instances.set(memory, k);
  }
  return k;
}
