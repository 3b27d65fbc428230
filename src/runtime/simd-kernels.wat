;; Kernels that tfjs-backend-wasm lacks or runs slowly, as WebAssembly SIMD passes over its own heap (its
;; exported memory is imported here), by byte address: the optimizer's update (Adam in one call for all parameters
;; instead of ~12 kernels per weight), max pooling's gradient (one pass instead of two upsamplings and four
;; elementwise kernels), convolutions and matmuls as implicit GEMMs that need no packing of their weights (XNNPACK
;; packs every weight it has not seen, which in training is every step), zero padding, and batchnorm's
;; per-channel passes. Compiled by test/speed/simd-kernels.test.ts (UPDATE_GOLDEN=1) into simd-kernels-binary.ts.
(module
  (import "tfjs" "memory" (memory 0))

  ;; Keras' Adam over n float32 values at byte addresses w, out, g, m, v (out may alias w: element j is written
  ;; after it is read), with Keras 3's clipping and decoupled weight decay folded in
  ;; (keras/src/optimizers/base_optimizer.py: _clip_gradients, then _apply_weight_decay, then the update):
  ;;   g = clamp(g gscale, -clip, clip); w = w - w decay; m += (g - m) a1; v += (g*g - v) a2;
  ;;   out = w - (m alpha) / (sqrt(v) + eps)
  ;; in float32, in the order the tf-op version ran it (a1 = 1 - beta1, a2 = 1 - beta2; decay = weight_decay lr;
  ;; gscale the clipnorm or global_clipnorm factor). gscale 1, clip inf and decay 0 leave every value as plain
  ;; Adam computes it, bit for bit.
  (func (export "adam")
    (param $w i32) (param $out i32) (param $g i32) (param $m i32) (param $v i32) (param $n i32)
    (param $alpha f32) (param $a1 f32) (param $a2 f32) (param $eps f32)
    (param $gscale f32) (param $clip f32) (param $decay f32)
    (local $o i32) (local $end i32) (local $end4 i32)
    (local $A v128) (local $B1 v128) (local $B2 v128) (local $E v128)
    (local $S v128) (local $C v128) (local $NC v128) (local $D v128)
    (local $gv v128) (local $mv v128) (local $vv v128) (local $wv v128)
    (local $gs f32) (local $ms f32) (local $vs f32) (local $ws f32)
    (local.set $A (f32x4.splat (local.get $alpha)))
    (local.set $B1 (f32x4.splat (local.get $a1)))
    (local.set $B2 (f32x4.splat (local.get $a2)))
    (local.set $E (f32x4.splat (local.get $eps)))
    (local.set $S (f32x4.splat (local.get $gscale)))
    (local.set $C (f32x4.splat (local.get $clip)))
    (local.set $NC (f32x4.splat (f32.neg (local.get $clip))))
    (local.set $D (f32x4.splat (local.get $decay)))
    (local.set $end (i32.shl (local.get $n) (i32.const 2)))
    (local.set $end4 (i32.and (local.get $end) (i32.const -16)))
    (block $done4
      (loop $simd
        (br_if $done4 (i32.ge_u (local.get $o) (local.get $end4)))
        (local.set $gv (f32x4.max (f32x4.min
          (f32x4.mul (v128.load (i32.add (local.get $g) (local.get $o))) (local.get $S))
          (local.get $C)) (local.get $NC)))
        (local.set $wv (v128.load (i32.add (local.get $w) (local.get $o))))
        (local.set $wv (f32x4.sub (local.get $wv) (f32x4.mul (local.get $wv) (local.get $D))))
        (local.set $mv (v128.load (i32.add (local.get $m) (local.get $o))))
        (local.set $vv (v128.load (i32.add (local.get $v) (local.get $o))))
        (local.set $mv (f32x4.add (local.get $mv)
          (f32x4.mul (f32x4.sub (local.get $gv) (local.get $mv)) (local.get $B1))))
        (local.set $vv (f32x4.add (local.get $vv)
          (f32x4.mul (f32x4.sub (f32x4.mul (local.get $gv) (local.get $gv)) (local.get $vv)) (local.get $B2))))
        (v128.store (i32.add (local.get $m) (local.get $o)) (local.get $mv))
        (v128.store (i32.add (local.get $v) (local.get $o)) (local.get $vv))
        (v128.store (i32.add (local.get $out) (local.get $o))
          (f32x4.sub (local.get $wv)
            (f32x4.div (f32x4.mul (local.get $mv) (local.get $A))
              (f32x4.add (f32x4.sqrt (local.get $vv)) (local.get $E)))))
        (local.set $o (i32.add (local.get $o) (i32.const 16)))
        (br $simd)))
    (block $done
      (loop $scalar
        (br_if $done (i32.ge_u (local.get $o) (local.get $end)))
        (local.set $gs (f32.max (f32.min
          (f32.mul (f32.load (i32.add (local.get $g) (local.get $o))) (local.get $gscale))
          (local.get $clip)) (f32.neg (local.get $clip))))
        (local.set $ws (f32.load (i32.add (local.get $w) (local.get $o))))
        (local.set $ws (f32.sub (local.get $ws) (f32.mul (local.get $ws) (local.get $decay))))
        (local.set $ms (f32.load (i32.add (local.get $m) (local.get $o))))
        (local.set $vs (f32.load (i32.add (local.get $v) (local.get $o))))
        (local.set $ms (f32.add (local.get $ms)
          (f32.mul (f32.sub (local.get $gs) (local.get $ms)) (local.get $a1))))
        (local.set $vs (f32.add (local.get $vs)
          (f32.mul (f32.sub (f32.mul (local.get $gs) (local.get $gs)) (local.get $vs)) (local.get $a2))))
        (f32.store (i32.add (local.get $m) (local.get $o)) (local.get $ms))
        (f32.store (i32.add (local.get $v) (local.get $o)) (local.get $vs))
        (f32.store (i32.add (local.get $out) (local.get $o))
          (f32.sub (local.get $ws)
            (f32.div (f32.mul (local.get $ms) (local.get $alpha))
              (f32.add (f32.sqrt (local.get $vs)) (local.get $eps)))))
        (local.set $o (i32.add (local.get $o) (i32.const 4)))
        (br $scalar))))

  ;; Max pooling's input gradient for windows that tile the input (pool ph x pw = strides, valid, divisible),
  ;; NHWC: x [n, h, w, c] the pooling's input, y and dy [n, h/ph, w/pw, c] its output and that output's gradient,
  ;; out [n, h, w, c]: out = dy of the window where x equals the window's maximum y, else 0 (every tied position
  ;; gets it, as the mask 1 - step(up(y) - x) it replaces). c need not be a multiple of 4 (scalar tail).
  (func (export "maxPoolGrad")
    (param $x i32) (param $y i32) (param $dy i32) (param $out i32)
    (param $n i32) (param $h i32) (param $w i32) (param $c i32) (param $ph i32) (param $pw i32)
    (local $ho i32) (local $wo i32) (local $rows i32) (local $cols i32) (local $di i32) (local $dj i32)
    (local $k i32) (local $c4 i32) (local $cb i32) (local $rowBytes i32)
    (local $yo i32) (local $xo i32)
    (local.set $cb (i32.shl (local.get $c) (i32.const 2)))
    (local.set $c4 (i32.and (local.get $cb) (i32.const -16)))
    (local.set $rowBytes (i32.mul (local.get $w) (local.get $cb)))
    (local.set $rows (i32.mul (local.get $n) (i32.div_u (local.get $h) (local.get $ph))))
    (local.set $cols (i32.div_u (local.get $w) (local.get $pw)))
    ;; $yo: byte offset of the pooled pixel (row $ho of all n * h/ph rows, column $wo); $xo: its window's corner.
    (local.set $ho (i32.const 0))
    (block $rowsDone
      (loop $rowLoop
        (br_if $rowsDone (i32.ge_u (local.get $ho) (local.get $rows)))
        (local.set $wo (i32.const 0))
        (block $colsDone
          (loop $colLoop
            (br_if $colsDone (i32.ge_u (local.get $wo) (local.get $cols)))
            (local.set $yo (i32.mul (i32.add (i32.mul (local.get $ho) (local.get $cols)) (local.get $wo)) (local.get $cb)))
            (local.set $xo (i32.add
              (i32.mul (i32.mul (local.get $ho) (local.get $ph)) (local.get $rowBytes))
              (i32.mul (i32.mul (local.get $wo) (local.get $pw)) (local.get $cb))))
            (local.set $di (i32.const 0))
            (block $diDone
              (loop $diLoop
                (br_if $diDone (i32.ge_u (local.get $di) (local.get $ph)))
                (local.set $dj (i32.const 0))
                (block $djDone
                  (loop $djLoop
                    (br_if $djDone (i32.ge_u (local.get $dj) (local.get $pw)))
                    ;; $k: byte offset of channel 0 of x at (di, dj) inside the window, relative to $xo.
                    (local.set $k (i32.add (local.get $xo)
                      (i32.add (i32.mul (local.get $di) (local.get $rowBytes)) (i32.mul (local.get $dj) (local.get $cb)))))
                    (call $channels (local.get $x) (local.get $y) (local.get $dy) (local.get $out)
                      (local.get $k) (local.get $yo) (local.get $c4) (local.get $cb))
                    (local.set $dj (i32.add (local.get $dj) (i32.const 1)))
                    (br $djLoop)))
                (local.set $di (i32.add (local.get $di) (i32.const 1)))
                (br $diLoop)))
            (local.set $wo (i32.add (local.get $wo) (i32.const 1)))
            (br $colLoop)))
        (local.set $ho (i32.add (local.get $ho) (i32.const 1)))
        (br $rowLoop))))

  ;; One input pixel's channels: out[k + i] = x[k + i] == y[yo + i] ? dy[yo + i] : 0 for byte offsets i < cb.
  (func $channels
    (param $x i32) (param $y i32) (param $dy i32) (param $out i32)
    (param $k i32) (param $yo i32) (param $c4 i32) (param $cb i32)
    (local $i i32)
    (block $simdDone
      (loop $simd
        (br_if $simdDone (i32.ge_u (local.get $i) (local.get $c4)))
        (v128.store (i32.add (local.get $out) (i32.add (local.get $k) (local.get $i)))
          (v128.and
            (v128.load (i32.add (local.get $dy) (i32.add (local.get $yo) (local.get $i))))
            (f32x4.eq
              (v128.load (i32.add (local.get $x) (i32.add (local.get $k) (local.get $i))))
              (v128.load (i32.add (local.get $y) (i32.add (local.get $yo) (local.get $i)))))))
        (local.set $i (i32.add (local.get $i) (i32.const 16)))
        (br $simd)))
    (block $scalarDone
      (loop $scalar
        (br_if $scalarDone (i32.ge_u (local.get $i) (local.get $cb)))
        (f32.store (i32.add (local.get $out) (i32.add (local.get $k) (local.get $i)))
          (select
            (f32.load (i32.add (local.get $dy) (i32.add (local.get $yo) (local.get $i))))
            (f32.const 0)
            (f32.eq
              (f32.load (i32.add (local.get $x) (i32.add (local.get $k) (local.get $i))))
              (f32.load (i32.add (local.get $y) (i32.add (local.get $yo) (local.get $i)))))))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $scalar))))
  ;; A convolution's filter gradient as an implicit GEMM: dw[k, co] += sum over output pixels p of
  ;; x[base(p) + off[k]] * dz[p, co], for x the (explicitly padded) input NHWC, dz [n, oh, ow, co] the output's
  ;; gradient, dw [K, co] (accumulated into: zero it first), off K i32 byte offsets of the filter's taps (k =
  ;; (kh, kw, ci) -> ((kh*dilation*Wp + kw*dilation) * ci_count + ci) * 4), base(p) = image * imageStep + row *
  ;; rowStep + col * colStep bytes (strides folded in). co must be a multiple of 8. Register tile: 4 taps x 8
  ;; output channels; one image at a time, so the tile's inputs stay in cache across taps.
  (func (export "convFilterGrad")
    (param $x i32) (param $dz i32) (param $dw i32) (param $offs i32) (param $K i32) (param $co i32)
    (param $n i32) (param $oh i32) (param $ow i32) (param $imageStep i32) (param $rowStep i32) (param $colStep i32)
    (local $img i32) (local $kt i32) (local $ct i32) (local $r i32) (local $c i32) (local $cob i32)
    (local $xi i32) (local $di i32) (local $xr i32) (local $xb i32) (local $db i32) (local $dRowBytes i32)
    (local $o0 i32) (local $o1 i32) (local $o2 i32) (local $o3 i32)
    (local $row0 i32) (local $row1 i32) (local $row2 i32) (local $row3 i32)
    (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128) (local $d0 v128) (local $d1 v128)
    (local $s00 v128) (local $s01 v128) (local $s10 v128) (local $s11 v128)
    (local $s20 v128) (local $s21 v128) (local $s30 v128) (local $s31 v128)
    (local.set $cob (i32.shl (local.get $co) (i32.const 2)))
    (local.set $dRowBytes (i32.mul (local.get $ow) (local.get $cob)))
    (local.set $img (i32.const 0))
    (block $imagesDone
      (loop $images
        (br_if $imagesDone (i32.ge_u (local.get $img) (local.get $n)))
        (local.set $xi (i32.add (local.get $x) (i32.mul (local.get $img) (local.get $imageStep))))
        (local.set $di (i32.add (local.get $dz)
          (i32.mul (i32.mul (local.get $img) (local.get $oh)) (local.get $dRowBytes))))
        (local.set $kt (i32.const 0))
        (block $tapsDone
          (loop $taps
            (br_if $tapsDone (i32.ge_u (local.get $kt) (local.get $K)))
            ;; The tile's 4 taps; past K (the last tile of a K not divisible by 4) tap kt's again, not stored.
            (local.set $o0 (i32.load (i32.add (local.get $offs) (i32.shl (local.get $kt) (i32.const 2)))))
            (local.set $o1 (select (i32.load offset=4 (i32.add (local.get $offs) (i32.shl (local.get $kt) (i32.const 2))))
              (local.get $o0) (i32.lt_u (i32.add (local.get $kt) (i32.const 1)) (local.get $K))))
            (local.set $o2 (select (i32.load offset=8 (i32.add (local.get $offs) (i32.shl (local.get $kt) (i32.const 2))))
              (local.get $o0) (i32.lt_u (i32.add (local.get $kt) (i32.const 2)) (local.get $K))))
            (local.set $o3 (select (i32.load offset=12 (i32.add (local.get $offs) (i32.shl (local.get $kt) (i32.const 2))))
              (local.get $o0) (i32.lt_u (i32.add (local.get $kt) (i32.const 3)) (local.get $K))))
            (local.set $ct (i32.const 0))
            (block $channelsDone
              (loop $channels
                (br_if $channelsDone (i32.ge_u (local.get $ct) (local.get $cob)))
                (local.set $row0 (i32.add (local.get $dw) (i32.add (i32.mul (local.get $kt) (local.get $cob)) (local.get $ct))))
                (local.set $row1 (i32.add (local.get $row0) (local.get $cob)))
                (local.set $row2 (i32.add (local.get $row1) (local.get $cob)))
                (local.set $row3 (i32.add (local.get $row2) (local.get $cob)))
          (if (i32.lt_u (i32.add (local.get $kt) (i32.const 0)) (local.get $K))
            (then
              (local.set $s00 (v128.load (local.get $row0)))
              (local.set $s01 (v128.load offset=16 (local.get $row0)))))
          (if (i32.lt_u (i32.add (local.get $kt) (i32.const 1)) (local.get $K))
            (then
              (local.set $s10 (v128.load (local.get $row1)))
              (local.set $s11 (v128.load offset=16 (local.get $row1)))))
          (if (i32.lt_u (i32.add (local.get $kt) (i32.const 2)) (local.get $K))
            (then
              (local.set $s20 (v128.load (local.get $row2)))
              (local.set $s21 (v128.load offset=16 (local.get $row2)))))
          (if (i32.lt_u (i32.add (local.get $kt) (i32.const 3)) (local.get $K))
            (then
              (local.set $s30 (v128.load (local.get $row3)))
              (local.set $s31 (v128.load offset=16 (local.get $row3)))))
                (local.set $xr (local.get $xi))
                (local.set $db (i32.add (local.get $di) (local.get $ct)))
                (local.set $r (i32.const 0))
                (block $rowsDone
                  (loop $rows
                    (br_if $rowsDone (i32.ge_u (local.get $r) (local.get $oh)))
                    (local.set $xb (local.get $xr))
                    (local.set $c (local.get $ow))
                    (loop $cols
                  (local.set $a0 (v128.load32_splat (i32.add (local.get $xb) (local.get $o0))))
                  (local.set $a1 (v128.load32_splat (i32.add (local.get $xb) (local.get $o1))))
                  (local.set $a2 (v128.load32_splat (i32.add (local.get $xb) (local.get $o2))))
                  (local.set $a3 (v128.load32_splat (i32.add (local.get $xb) (local.get $o3))))
                  (local.set $d0 (v128.load (local.get $db)))
                  (local.set $d1 (v128.load offset=16 (local.get $db)))
                  (local.set $s00 (f32x4.add (local.get $s00) (f32x4.mul (local.get $a0) (local.get $d0))))
                  (local.set $s01 (f32x4.add (local.get $s01) (f32x4.mul (local.get $a0) (local.get $d1))))
                  (local.set $s10 (f32x4.add (local.get $s10) (f32x4.mul (local.get $a1) (local.get $d0))))
                  (local.set $s11 (f32x4.add (local.get $s11) (f32x4.mul (local.get $a1) (local.get $d1))))
                  (local.set $s20 (f32x4.add (local.get $s20) (f32x4.mul (local.get $a2) (local.get $d0))))
                  (local.set $s21 (f32x4.add (local.get $s21) (f32x4.mul (local.get $a2) (local.get $d1))))
                  (local.set $s30 (f32x4.add (local.get $s30) (f32x4.mul (local.get $a3) (local.get $d0))))
                  (local.set $s31 (f32x4.add (local.get $s31) (f32x4.mul (local.get $a3) (local.get $d1))))
                      (local.set $xb (i32.add (local.get $xb) (local.get $colStep)))
                      (local.set $db (i32.add (local.get $db) (local.get $cob)))
                      (local.set $c (i32.sub (local.get $c) (i32.const 1)))
                      (br_if $cols (local.get $c)))
                    (local.set $xr (i32.add (local.get $xr) (local.get $rowStep)))
                    (local.set $r (i32.add (local.get $r) (i32.const 1)))
                    (br $rows)))
          (if (i32.lt_u (i32.add (local.get $kt) (i32.const 0)) (local.get $K))
            (then
              (v128.store (local.get $row0) (local.get $s00))
              (v128.store offset=16 (local.get $row0) (local.get $s01))))
          (if (i32.lt_u (i32.add (local.get $kt) (i32.const 1)) (local.get $K))
            (then
              (v128.store (local.get $row1) (local.get $s10))
              (v128.store offset=16 (local.get $row1) (local.get $s11))))
          (if (i32.lt_u (i32.add (local.get $kt) (i32.const 2)) (local.get $K))
            (then
              (v128.store (local.get $row2) (local.get $s20))
              (v128.store offset=16 (local.get $row2) (local.get $s21))))
          (if (i32.lt_u (i32.add (local.get $kt) (i32.const 3)) (local.get $K))
            (then
              (v128.store (local.get $row3) (local.get $s30))
              (v128.store offset=16 (local.get $row3) (local.get $s31))))
                (local.set $ct (i32.add (local.get $ct) (i32.const 32)))
                (br $channels)))
            (local.set $kt (i32.add (local.get $kt) (i32.const 4)))
            (br $taps)))
        (local.set $img (i32.add (local.get $img) (i32.const 1)))
        (br $images))))
  ;; Zero padding of an NHWC tensor: x [n, h, w, c] -> out [n, h + top + bottom, w + left + right, c], as one fill
  ;; and a copy per row (tfjs-backend-wasm's PadV2 takes 0.35 ms for [32, 28, 28, 1]; this ~0.02 ms).
  (func (export "padImages")
    (param $x i32) (param $out i32) (param $n i32) (param $h i32) (param $w i32) (param $c i32)
    (param $top i32) (param $bottom i32) (param $left i32) (param $right i32)
    (local $rowBytes i32) (local $outRowBytes i32) (local $rows i32) (local $r i32) (local $dst i32)
    (local.set $rowBytes (i32.shl (i32.mul (local.get $w) (local.get $c)) (i32.const 2)))
    (local.set $outRowBytes (i32.shl (i32.mul (i32.add (i32.add (local.get $w) (local.get $left)) (local.get $right))
      (local.get $c)) (i32.const 2)))
    (memory.fill (local.get $out) (i32.const 0) (i32.mul (local.get $outRowBytes)
      (i32.mul (local.get $n) (i32.add (i32.add (local.get $h) (local.get $top)) (local.get $bottom)))))
    ;; Row r = (image, y) of x goes to row image * (h + top + bottom) + top + y of out, after `left` pixels.
    (local.set $rows (i32.mul (local.get $n) (local.get $h)))
    (local.set $r (i32.const 0))
    (block $done
      (loop $copy
        (br_if $done (i32.ge_u (local.get $r) (local.get $rows)))
        (local.set $dst (i32.add (local.get $out) (i32.add
          (i32.mul (i32.add (i32.add (local.get $r)
            (i32.mul (i32.div_u (local.get $r) (local.get $h)) (i32.add (local.get $top) (local.get $bottom))))
            (local.get $top)) (local.get $outRowBytes))
          (i32.shl (i32.mul (local.get $left) (local.get $c)) (i32.const 2)))))
        (memory.copy (local.get $dst) (i32.add (local.get $x) (i32.mul (local.get $r) (local.get $rowBytes)))
          (local.get $rowBytes))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $copy))))
  ;; A convolution (or a matmul: 1x1 images) as an implicit GEMM: out[p, co] = bias[co] + sum over taps k of
  ;; x[base(p) + off[k]] * w[k, co], for x the (explicitly padded) input NHWC, w [K, co] the filter as
  ;; [kh * kw * ci, co], out [n, oh, ow, co], off and base(p) as in convFilterGrad; bias 0 for none. co must be a
  ;; multiple of 8. Register tile: 4 output pixels x 8 output channels; no packing of w (XNNPACK packs a
  ;; filter it has not seen, i.e. every training step).
  (func (export "convForward")
    (param $x i32) (param $w i32) (param $bias i32) (param $out i32) (param $offs i32) (param $K i32) (param $co i32)
    (param $n i32) (param $oh i32) (param $ow i32) (param $imageStep i32) (param $rowStep i32) (param $colStep i32)
    (local $pixels i32) (local $p i32) (local $xi i32) (local $r i32) (local $c i32) (local $cob i32) (local $ct i32)
    (local $p0 i32) (local $p1 i32) (local $p2 i32) (local $p3 i32)
    (local $q0 i32) (local $q1 i32) (local $q2 i32) (local $q3 i32)
    (local $k i32) (local $kEnd i32) (local $o i32) (local $wk i32)
    (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128) (local $w0 v128) (local $w1 v128)
    (local $b0 v128) (local $b1 v128)
    (local $s00 v128) (local $s01 v128) (local $s10 v128) (local $s11 v128)
    (local $s20 v128) (local $s21 v128) (local $s30 v128) (local $s31 v128)
    (local.set $cob (i32.shl (local.get $co) (i32.const 2)))
    (local.set $pixels (i32.mul (local.get $n) (i32.mul (local.get $oh) (local.get $ow))))
    (local.set $kEnd (i32.add (local.get $offs) (i32.shl (local.get $K) (i32.const 2))))
    ;; (xi, r, c): the image base and row, column of pixel p; walked forward one pixel at a time.
    (local.set $xi (local.get $x))
    (local.set $p (i32.const 0))
    (block $pixelsDone
      (loop $tiles
        (br_if $pixelsDone (i32.ge_u (local.get $p) (local.get $pixels)))
            ;; pixel p + 0
            (local.set $p0 (local.get $p0))
            (local.set $q0 (i32.add (local.get $out) (i32.mul (i32.add (local.get $p) (i32.const 0)) (local.get $cob))))
            (if (i32.lt_u (i32.add (local.get $p) (i32.const 0)) (local.get $pixels))
              (then
                (local.set $p0 (i32.add (local.get $xi) (i32.add (i32.mul (local.get $r) (local.get $rowStep))
                  (i32.mul (local.get $c) (local.get $colStep)))))
                (local.set $c (i32.add (local.get $c) (i32.const 1)))
                (if (i32.ge_u (local.get $c) (local.get $ow))
                  (then
                    (local.set $c (i32.const 0))
                    (local.set $r (i32.add (local.get $r) (i32.const 1)))
                    (if (i32.ge_u (local.get $r) (local.get $oh))
                      (then
                        (local.set $r (i32.const 0))
                        (local.set $xi (i32.add (local.get $xi) (local.get $imageStep)))))))))
            ;; pixel p + 1
            (local.set $p1 (local.get $p0))
            (local.set $q1 (i32.add (local.get $out) (i32.mul (i32.add (local.get $p) (i32.const 1)) (local.get $cob))))
            (if (i32.lt_u (i32.add (local.get $p) (i32.const 1)) (local.get $pixels))
              (then
                (local.set $p1 (i32.add (local.get $xi) (i32.add (i32.mul (local.get $r) (local.get $rowStep))
                  (i32.mul (local.get $c) (local.get $colStep)))))
                (local.set $c (i32.add (local.get $c) (i32.const 1)))
                (if (i32.ge_u (local.get $c) (local.get $ow))
                  (then
                    (local.set $c (i32.const 0))
                    (local.set $r (i32.add (local.get $r) (i32.const 1)))
                    (if (i32.ge_u (local.get $r) (local.get $oh))
                      (then
                        (local.set $r (i32.const 0))
                        (local.set $xi (i32.add (local.get $xi) (local.get $imageStep)))))))))
            ;; pixel p + 2
            (local.set $p2 (local.get $p1))
            (local.set $q2 (i32.add (local.get $out) (i32.mul (i32.add (local.get $p) (i32.const 2)) (local.get $cob))))
            (if (i32.lt_u (i32.add (local.get $p) (i32.const 2)) (local.get $pixels))
              (then
                (local.set $p2 (i32.add (local.get $xi) (i32.add (i32.mul (local.get $r) (local.get $rowStep))
                  (i32.mul (local.get $c) (local.get $colStep)))))
                (local.set $c (i32.add (local.get $c) (i32.const 1)))
                (if (i32.ge_u (local.get $c) (local.get $ow))
                  (then
                    (local.set $c (i32.const 0))
                    (local.set $r (i32.add (local.get $r) (i32.const 1)))
                    (if (i32.ge_u (local.get $r) (local.get $oh))
                      (then
                        (local.set $r (i32.const 0))
                        (local.set $xi (i32.add (local.get $xi) (local.get $imageStep)))))))))
            ;; pixel p + 3
            (local.set $p3 (local.get $p2))
            (local.set $q3 (i32.add (local.get $out) (i32.mul (i32.add (local.get $p) (i32.const 3)) (local.get $cob))))
            (if (i32.lt_u (i32.add (local.get $p) (i32.const 3)) (local.get $pixels))
              (then
                (local.set $p3 (i32.add (local.get $xi) (i32.add (i32.mul (local.get $r) (local.get $rowStep))
                  (i32.mul (local.get $c) (local.get $colStep)))))
                (local.set $c (i32.add (local.get $c) (i32.const 1)))
                (if (i32.ge_u (local.get $c) (local.get $ow))
                  (then
                    (local.set $c (i32.const 0))
                    (local.set $r (i32.add (local.get $r) (i32.const 1)))
                    (if (i32.ge_u (local.get $r) (local.get $oh))
                      (then
                        (local.set $r (i32.const 0))
                        (local.set $xi (i32.add (local.get $xi) (local.get $imageStep)))))))))
        (local.set $ct (i32.const 0))
        (block $channelsDone
          (loop $channels
            (br_if $channelsDone (i32.ge_u (local.get $ct) (local.get $cob)))
            (if (local.get $bias)
              (then
                (local.set $b0 (v128.load (i32.add (local.get $bias) (local.get $ct))))
                (local.set $b1 (v128.load offset=16 (i32.add (local.get $bias) (local.get $ct)))))
              (else
                (local.set $b0 (v128.const i32x4 0 0 0 0))
                (local.set $b1 (v128.const i32x4 0 0 0 0))))
                (local.set $s00 (local.get $b0))
                (local.set $s01 (local.get $b1))
                (local.set $s10 (local.get $b0))
                (local.set $s11 (local.get $b1))
                (local.set $s20 (local.get $b0))
                (local.set $s21 (local.get $b1))
                (local.set $s30 (local.get $b0))
                (local.set $s31 (local.get $b1))
            (local.set $k (local.get $offs))
            (local.set $wk (i32.add (local.get $w) (local.get $ct)))
            (loop $taps
              (local.set $o (i32.load (local.get $k)))
                    (local.set $a0 (v128.load32_splat (i32.add (local.get $p0) (local.get $o))))
                    (local.set $a1 (v128.load32_splat (i32.add (local.get $p1) (local.get $o))))
                    (local.set $a2 (v128.load32_splat (i32.add (local.get $p2) (local.get $o))))
                    (local.set $a3 (v128.load32_splat (i32.add (local.get $p3) (local.get $o))))
              (local.set $w0 (v128.load (local.get $wk)))
              (local.set $w1 (v128.load offset=16 (local.get $wk)))
                    (local.set $s00 (f32x4.add (local.get $s00) (f32x4.mul (local.get $a0) (local.get $w0))))
                    (local.set $s01 (f32x4.add (local.get $s01) (f32x4.mul (local.get $a0) (local.get $w1))))
                    (local.set $s10 (f32x4.add (local.get $s10) (f32x4.mul (local.get $a1) (local.get $w0))))
                    (local.set $s11 (f32x4.add (local.get $s11) (f32x4.mul (local.get $a1) (local.get $w1))))
                    (local.set $s20 (f32x4.add (local.get $s20) (f32x4.mul (local.get $a2) (local.get $w0))))
                    (local.set $s21 (f32x4.add (local.get $s21) (f32x4.mul (local.get $a2) (local.get $w1))))
                    (local.set $s30 (f32x4.add (local.get $s30) (f32x4.mul (local.get $a3) (local.get $w0))))
                    (local.set $s31 (f32x4.add (local.get $s31) (f32x4.mul (local.get $a3) (local.get $w1))))
              (local.set $wk (i32.add (local.get $wk) (local.get $cob)))
              (local.set $k (i32.add (local.get $k) (i32.const 4)))
              (br_if $taps (i32.lt_u (local.get $k) (local.get $kEnd))))
                (if (i32.lt_u (i32.add (local.get $p) (i32.const 0)) (local.get $pixels))
                  (then
                    (v128.store (local.get $q0) (local.get $s00))
                    (v128.store offset=16 (local.get $q0) (local.get $s01))))
                (if (i32.lt_u (i32.add (local.get $p) (i32.const 1)) (local.get $pixels))
                  (then
                    (v128.store (local.get $q1) (local.get $s10))
                    (v128.store offset=16 (local.get $q1) (local.get $s11))))
                (if (i32.lt_u (i32.add (local.get $p) (i32.const 2)) (local.get $pixels))
                  (then
                    (v128.store (local.get $q2) (local.get $s20))
                    (v128.store offset=16 (local.get $q2) (local.get $s21))))
                (if (i32.lt_u (i32.add (local.get $p) (i32.const 3)) (local.get $pixels))
                  (then
                    (v128.store (local.get $q3) (local.get $s30))
                    (v128.store offset=16 (local.get $q3) (local.get $s31))))
            (local.set $q0 (i32.add (local.get $q0) (i32.const 32)))
            (local.set $q1 (i32.add (local.get $q1) (i32.const 32)))
            (local.set $q2 (i32.add (local.get $q2) (i32.const 32)))
            (local.set $q3 (i32.add (local.get $q3) (i32.const 32)))
            (local.set $ct (i32.add (local.get $ct) (i32.const 32)))
            (br $channels)))
        (local.set $p (i32.add (local.get $p) (i32.const 4)))
        (br $tiles))))

  ;; Per-channel sums over the rows of [m, c] tensors (NHWC flattened; c a multiple of 4): with v = x - shift and
  ;; w = y - shift per channel, sums[0, c) = scale * the sum of v and products[0, c) = scale * the sum of v * w
  ;; (scale 1 / m: means); v is written to vOut unless it is 0. With y = x: means and mean squares of x - shift;
  ;; with shift 0 and y another tensor: means of x and of x * y. With a gate (the non-zero address of an [m, c]
  ;; tensor, a relu's output), x is multiplied by that relu's derivative: 1 where the gate is positive, 0 where
  ;; not, NaN where it is NaN (as tf.step; so NaN and infinite x stay NaN, as dy * step(y) does).
  ;; Blocks of 256 rows (in L1 cache) are summed one 4-channel column at a time in float32 with four accumulators
  ;; per sum (rows i mod 4), each block's sums then added up in float64 (scratch: 2c float64).
  (func (export "channelSums")
    (param $x i32) (param $gate i32) (param $y i32) (param $shift i32) (param $vOut i32) (param $m i32) (param $c i32)
    (param $scratch i32) (param $sums i32) (param $products i32) (param $scale f64)
    (local $cb i32) (local $i i32) (local $row i32) (local $rows i32) (local $left i32)
    (local $px i32) (local $py i32) (local $pv i32) (local $pg i32) (local $a i32) (local $xv v128) (local $g v128)
    (local $v v128) (local $w v128) (local $sh v128)
    (local $s0 v128) (local $s1 v128) (local $s2 v128) (local $s3 v128)
    (local $p0 v128) (local $p1 v128) (local $p2 v128) (local $p3 v128)
    (local.set $cb (i32.shl (local.get $c) (i32.const 2)))
    (memory.fill (local.get $scratch) (i32.const 0) (i32.shl (local.get $cb) (i32.const 2)))
    (local.set $row (i32.const 0))
    (block $done
      (loop $blocks
        (br_if $done (i32.ge_u (local.get $row) (local.get $m)))
        (local.set $rows (select (i32.sub (local.get $m) (local.get $row)) (i32.const 256)
          (i32.lt_u (i32.sub (local.get $m) (local.get $row)) (i32.const 256))))
        (local.set $i (i32.const 0))
        (loop $columns
          (local.set $sh (v128.load (i32.add (local.get $shift) (local.get $i))))
          (local.set $a (i32.add (i32.mul (local.get $row) (local.get $cb)) (local.get $i)))
          (local.set $px (i32.add (local.get $x) (local.get $a)))
          (local.set $py (i32.add (local.get $y) (local.get $a)))
          (local.set $pv (i32.add (local.get $vOut) (local.get $a)))
          (local.set $pg (i32.add (local.get $gate) (local.get $a)))
          (local.set $s0 (v128.const i32x4 0 0 0 0)) (local.set $s1 (local.get $s0))
          (local.set $s2 (local.get $s0)) (local.set $s3 (local.get $s0))
          (local.set $p0 (local.get $s0)) (local.set $p1 (local.get $s0))
          (local.set $p2 (local.get $s0)) (local.set $p3 (local.get $s0))
          (local.set $left (local.get $rows))
          (block $quadsDone
            (loop $quads
              (br_if $quadsDone (i32.lt_u (local.get $left) (i32.const 4)))
              (local.set $xv (v128.load (local.get $px)))
              (if (local.get $gate)
                (then
                  (local.set $g (v128.load (local.get $pg)))
                  (local.set $xv (f32x4.mul (local.get $xv) (v128.bitselect (local.get $g)
                    (v128.and (f32x4.gt (local.get $g) (v128.const f32x4 0 0 0 0)) (v128.const f32x4 1 1 1 1))
                    (f32x4.ne (local.get $g) (local.get $g)))))))
              (local.set $v (f32x4.sub (local.get $xv) (local.get $sh)))
              (local.set $w (f32x4.sub (v128.load (local.get $py)) (local.get $sh)))
              (if (local.get $vOut) (then (v128.store (local.get $pv) (local.get $v))))
              (local.set $s0 (f32x4.add (local.get $s0) (local.get $v)))
              (local.set $p0 (f32x4.add (local.get $p0) (f32x4.mul (local.get $v) (local.get $w))))
              (local.set $px (i32.add (local.get $px) (local.get $cb)))
              (local.set $py (i32.add (local.get $py) (local.get $cb)))
              (local.set $pv (i32.add (local.get $pv) (local.get $cb)))
              (local.set $pg (i32.add (local.get $pg) (local.get $cb)))
              (local.set $xv (v128.load (local.get $px)))
              (if (local.get $gate)
                (then
                  (local.set $g (v128.load (local.get $pg)))
                  (local.set $xv (f32x4.mul (local.get $xv) (v128.bitselect (local.get $g)
                    (v128.and (f32x4.gt (local.get $g) (v128.const f32x4 0 0 0 0)) (v128.const f32x4 1 1 1 1))
                    (f32x4.ne (local.get $g) (local.get $g)))))))
              (local.set $v (f32x4.sub (local.get $xv) (local.get $sh)))
              (local.set $w (f32x4.sub (v128.load (local.get $py)) (local.get $sh)))
              (if (local.get $vOut) (then (v128.store (local.get $pv) (local.get $v))))
              (local.set $s1 (f32x4.add (local.get $s1) (local.get $v)))
              (local.set $p1 (f32x4.add (local.get $p1) (f32x4.mul (local.get $v) (local.get $w))))
              (local.set $px (i32.add (local.get $px) (local.get $cb)))
              (local.set $py (i32.add (local.get $py) (local.get $cb)))
              (local.set $pv (i32.add (local.get $pv) (local.get $cb)))
              (local.set $pg (i32.add (local.get $pg) (local.get $cb)))
              (local.set $xv (v128.load (local.get $px)))
              (if (local.get $gate)
                (then
                  (local.set $g (v128.load (local.get $pg)))
                  (local.set $xv (f32x4.mul (local.get $xv) (v128.bitselect (local.get $g)
                    (v128.and (f32x4.gt (local.get $g) (v128.const f32x4 0 0 0 0)) (v128.const f32x4 1 1 1 1))
                    (f32x4.ne (local.get $g) (local.get $g)))))))
              (local.set $v (f32x4.sub (local.get $xv) (local.get $sh)))
              (local.set $w (f32x4.sub (v128.load (local.get $py)) (local.get $sh)))
              (if (local.get $vOut) (then (v128.store (local.get $pv) (local.get $v))))
              (local.set $s2 (f32x4.add (local.get $s2) (local.get $v)))
              (local.set $p2 (f32x4.add (local.get $p2) (f32x4.mul (local.get $v) (local.get $w))))
              (local.set $px (i32.add (local.get $px) (local.get $cb)))
              (local.set $py (i32.add (local.get $py) (local.get $cb)))
              (local.set $pv (i32.add (local.get $pv) (local.get $cb)))
              (local.set $pg (i32.add (local.get $pg) (local.get $cb)))
              (local.set $xv (v128.load (local.get $px)))
              (if (local.get $gate)
                (then
                  (local.set $g (v128.load (local.get $pg)))
                  (local.set $xv (f32x4.mul (local.get $xv) (v128.bitselect (local.get $g)
                    (v128.and (f32x4.gt (local.get $g) (v128.const f32x4 0 0 0 0)) (v128.const f32x4 1 1 1 1))
                    (f32x4.ne (local.get $g) (local.get $g)))))))
              (local.set $v (f32x4.sub (local.get $xv) (local.get $sh)))
              (local.set $w (f32x4.sub (v128.load (local.get $py)) (local.get $sh)))
              (if (local.get $vOut) (then (v128.store (local.get $pv) (local.get $v))))
              (local.set $s3 (f32x4.add (local.get $s3) (local.get $v)))
              (local.set $p3 (f32x4.add (local.get $p3) (f32x4.mul (local.get $v) (local.get $w))))
              (local.set $px (i32.add (local.get $px) (local.get $cb)))
              (local.set $py (i32.add (local.get $py) (local.get $cb)))
              (local.set $pv (i32.add (local.get $pv) (local.get $cb)))
              (local.set $pg (i32.add (local.get $pg) (local.get $cb)))
              (local.set $left (i32.sub (local.get $left) (i32.const 4)))
              (br $quads)))
          (block $tailDone
            (loop $tail
              (br_if $tailDone (i32.eqz (local.get $left)))
              (local.set $xv (v128.load (local.get $px)))
              (if (local.get $gate)
                (then
                  (local.set $g (v128.load (local.get $pg)))
                  (local.set $xv (f32x4.mul (local.get $xv) (v128.bitselect (local.get $g)
                    (v128.and (f32x4.gt (local.get $g) (v128.const f32x4 0 0 0 0)) (v128.const f32x4 1 1 1 1))
                    (f32x4.ne (local.get $g) (local.get $g)))))))
              (local.set $v (f32x4.sub (local.get $xv) (local.get $sh)))
              (local.set $w (f32x4.sub (v128.load (local.get $py)) (local.get $sh)))
              (if (local.get $vOut) (then (v128.store (local.get $pv) (local.get $v))))
              (local.set $s0 (f32x4.add (local.get $s0) (local.get $v)))
              (local.set $p0 (f32x4.add (local.get $p0) (f32x4.mul (local.get $v) (local.get $w))))
              (local.set $px (i32.add (local.get $px) (local.get $cb)))
              (local.set $py (i32.add (local.get $py) (local.get $cb)))
              (local.set $pv (i32.add (local.get $pv) (local.get $cb)))
              (local.set $pg (i32.add (local.get $pg) (local.get $cb)))
              (local.set $left (i32.sub (local.get $left) (i32.const 1)))
              (br $tail)))
          ;; This column's block sums into the float64 totals: sums at scratch + 2i, products at + 2(c + i).
          (call $addWide (i32.add (local.get $scratch) (i32.shl (local.get $i) (i32.const 1)))
            (f32x4.add (f32x4.add (local.get $s0) (local.get $s1)) (f32x4.add (local.get $s2) (local.get $s3))))
          (call $addWide (i32.add (local.get $scratch) (i32.shl (i32.add (local.get $i) (local.get $cb)) (i32.const 1)))
            (f32x4.add (f32x4.add (local.get $p0) (local.get $p1)) (f32x4.add (local.get $p2) (local.get $p3))))
          (local.set $i (i32.add (local.get $i) (i32.const 16)))
          (br_if $columns (i32.lt_u (local.get $i) (local.get $cb))))
        (local.set $row (i32.add (local.get $row) (local.get $rows)))
        (br $blocks)))
    (local.set $i (i32.const 0))
    (loop $demote
      (f32.store (i32.add (local.get $sums) (local.get $i)) (f32.demote_f64 (f64.mul (local.get $scale)
        (f64.load (i32.add (local.get $scratch) (i32.shl (local.get $i) (i32.const 1)))))))
      (f32.store (i32.add (local.get $products) (local.get $i)) (f32.demote_f64 (f64.mul (local.get $scale)
        (f64.load (i32.add (local.get $scratch) (i32.shl (i32.add (local.get $i) (local.get $cb)) (i32.const 1)))))))
      (local.set $i (i32.add (local.get $i) (i32.const 4)))
      (br_if $demote (i32.lt_u (local.get $i) (local.get $cb)))))

  ;; Four float32 lanes added to four float64 values at byte address a.
  (func $addWide (param $a i32) (param $v v128)
    (v128.store (local.get $a) (f64x2.add (v128.load (local.get $a)) (f64x2.promote_low_f32x4 (local.get $v))))
    (v128.store offset=16 (local.get $a) (f64x2.add (v128.load offset=16 (local.get $a))
      (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $v) (local.get $v))))))

  ;; out = x * scale + y * yScale + shift per channel over the rows of [m, c] tensors (c a multiple of 4; scale,
  ;; yScale and shift [c]; y 0 for no second term); with relu (non-zero) the result's negative values become 0;
  ;; with a gate, x times the gate's relu derivative first (as in channelSums). One pass where tfjs takes a depthwise convolution per
  ;; term and an add.
  (func (export "channelAffine")
    (param $x i32) (param $gate i32) (param $scale i32) (param $y i32) (param $yScale i32) (param $shift i32)
    (param $out i32) (param $m i32) (param $c i32) (param $relu i32)
    (local $cb i32) (local $o i32) (local $end i32) (local $i i32) (local $v v128) (local $xv v128) (local $g v128)
    (local.set $cb (i32.shl (local.get $c) (i32.const 2)))
    (local.set $end (i32.mul (local.get $m) (local.get $cb)))
    (local.set $o (i32.const 0))
    (block $done
      (loop $rows
        (br_if $done (i32.ge_u (local.get $o) (local.get $end)))
        (local.set $i (i32.const 0))
        (loop $channels
          (local.set $xv (v128.load (i32.add (local.get $x) (i32.add (local.get $o) (local.get $i)))))
          (if (local.get $gate)
            (then
              (local.set $g (v128.load (i32.add (local.get $gate) (i32.add (local.get $o) (local.get $i)))))
              (local.set $xv (f32x4.mul (local.get $xv) (v128.bitselect (local.get $g)
                (v128.and (f32x4.gt (local.get $g) (v128.const f32x4 0 0 0 0)) (v128.const f32x4 1 1 1 1))
                (f32x4.ne (local.get $g) (local.get $g)))))))
          (local.set $v (f32x4.add (f32x4.mul (local.get $xv) (v128.load (i32.add (local.get $scale) (local.get $i))))
            (v128.load (i32.add (local.get $shift) (local.get $i)))))
          (if (local.get $y)
            (then (local.set $v (f32x4.add (local.get $v)
              (f32x4.mul (v128.load (i32.add (local.get $y) (i32.add (local.get $o) (local.get $i))))
                (v128.load (i32.add (local.get $yScale) (local.get $i))))))))
          (if (local.get $relu)
            (then (local.set $v (f32x4.max (local.get $v) (v128.const i32x4 0 0 0 0)))))
          (v128.store (i32.add (local.get $out) (i32.add (local.get $o) (local.get $i))) (local.get $v))
          (local.set $i (i32.add (local.get $i) (i32.const 16)))
          (br_if $channels (i32.lt_u (local.get $i) (local.get $cb))))
        (local.set $o (i32.add (local.get $o) (local.get $cb)))
        (br $rows))))
)
