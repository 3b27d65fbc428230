;; Training: kernels of the compiled step that tfjs-backend-wasm lacks or runs slowly, as WebAssembly SIMD passes
;; over its own heap (its exported memory is imported here), by byte address: the optimizer's update (Adam in one
;; call for all parameters instead of ~12 kernels per weight) and max pooling's gradient (one pass instead of two
;; upsamplings and four elementwise kernels). Compiled by test/speed/step-kernels.test.ts (UPDATE_GOLDEN=1) into
;; step-kernels-binary.ts.
(module
  (import "tfjs" "memory" (memory 0))

  ;; Keras' Adam over n float32 values at byte addresses w, out, g, m, v (out may not alias w):
  ;;   m += (g - m) a1; v += (g*g - v) a2; out = w - (m alpha) / (sqrt(v) + eps)
  ;; in float32, in the order the tf-op version ran it (a1 = 1 - beta1, a2 = 1 - beta2).
  (func (export "adam")
    (param $w i32) (param $out i32) (param $g i32) (param $m i32) (param $v i32) (param $n i32)
    (param $alpha f32) (param $a1 f32) (param $a2 f32) (param $eps f32)
    (local $o i32) (local $end i32) (local $end4 i32)
    (local $A v128) (local $B1 v128) (local $B2 v128) (local $E v128)
    (local $gv v128) (local $mv v128) (local $vv v128)
    (local $gs f32) (local $ms f32) (local $vs f32)
    (local.set $A (f32x4.splat (local.get $alpha)))
    (local.set $B1 (f32x4.splat (local.get $a1)))
    (local.set $B2 (f32x4.splat (local.get $a2)))
    (local.set $E (f32x4.splat (local.get $eps)))
    (local.set $end (i32.shl (local.get $n) (i32.const 2)))
    (local.set $end4 (i32.and (local.get $end) (i32.const -16)))
    (block $done4
      (loop $simd
        (br_if $done4 (i32.ge_u (local.get $o) (local.get $end4)))
        (local.set $gv (v128.load (i32.add (local.get $g) (local.get $o))))
        (local.set $mv (v128.load (i32.add (local.get $m) (local.get $o))))
        (local.set $vv (v128.load (i32.add (local.get $v) (local.get $o))))
        (local.set $mv (f32x4.add (local.get $mv)
          (f32x4.mul (f32x4.sub (local.get $gv) (local.get $mv)) (local.get $B1))))
        (local.set $vv (f32x4.add (local.get $vv)
          (f32x4.mul (f32x4.sub (f32x4.mul (local.get $gv) (local.get $gv)) (local.get $vv)) (local.get $B2))))
        (v128.store (i32.add (local.get $m) (local.get $o)) (local.get $mv))
        (v128.store (i32.add (local.get $v) (local.get $o)) (local.get $vv))
        (v128.store (i32.add (local.get $out) (local.get $o))
          (f32x4.sub (v128.load (i32.add (local.get $w) (local.get $o)))
            (f32x4.div (f32x4.mul (local.get $mv) (local.get $A))
              (f32x4.add (f32x4.sqrt (local.get $vv)) (local.get $E)))))
        (local.set $o (i32.add (local.get $o) (i32.const 16)))
        (br $simd)))
    (block $done
      (loop $scalar
        (br_if $done (i32.ge_u (local.get $o) (local.get $end)))
        (local.set $gs (f32.load (i32.add (local.get $g) (local.get $o))))
        (local.set $ms (f32.load (i32.add (local.get $m) (local.get $o))))
        (local.set $vs (f32.load (i32.add (local.get $v) (local.get $o))))
        (local.set $ms (f32.add (local.get $ms)
          (f32.mul (f32.sub (local.get $gs) (local.get $ms)) (local.get $a1))))
        (local.set $vs (f32.add (local.get $vs)
          (f32.mul (f32.sub (f32.mul (local.get $gs) (local.get $gs)) (local.get $vs)) (local.get $a2))))
        (f32.store (i32.add (local.get $m) (local.get $o)) (local.get $ms))
        (f32.store (i32.add (local.get $v) (local.get $o)) (local.get $vs))
        (f32.store (i32.add (local.get $out) (local.get $o))
          (f32.sub (f32.load (i32.add (local.get $w) (local.get $o)))
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
)
