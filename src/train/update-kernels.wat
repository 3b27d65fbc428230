;; Training: the optimizer's elementwise update as one WebAssembly SIMD pass over tfjs-backend-wasm's own heap
;; (its exported memory is imported here), so Adam costs one call for all parameters instead of ~12 kernels per
;; weight. Compiled by test/speed/update-kernels.test.ts (UPDATE_GOLDEN=1) into update-kernels-binary.ts.
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
)
