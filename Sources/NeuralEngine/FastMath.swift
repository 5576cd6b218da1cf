// Vectorisable elementary functions for the elementwise loops of the engine.
//
// A scalar libm call per element (`tanhf`, `exp`) costs more than the GEMMs around it
// at the benchmark size, and blocks loop vectorisation. These functions use only
// +, −, ×, ÷, comparisons/selects and integer bit operations, so that LLVM turns a
// loop over them into SIMD code once the loop is specialised for `Float` or `Double`.

/// The two floating types the engine computes with, with the constants the fast
/// elementary functions need. Internal: the public API is generic over `BLASScalar`
/// and dispatches to `Float` or `Double` code once per loop (see `Kernels` in
/// Activation.swift).
protocol FastFloat: BinaryFloatingPoint {
  /// 1.5·2^(p−1), p the significand width: adding it rounds to an integer held in the
  /// low significand bits.
  static var roundMagic: Self { get }
  /// 2^k for t = y + roundMagic with k = round(y) (|k| well inside the exponent range).
  static func pow2(magicSum t: Self) -> Self
  /// ln 2 split in a high part with trailing zero bits (k·ln2Hi exact) and the rest.
  static var ln2Hi: Self { get }
  static var ln2Lo: Self { get }
  /// e^r − 1 for |r| ≤ ln2/2, accurate to about 1 ulp relative.
  static func expm1Reduced(_ r: Self) -> Self
  /// log(1 + u)/(2s) − 1 as a series in s² for s = u/(2+u) ∈ [0, 1/3].
  static func atanhSeriesTail(_ s2: Self) -> Self
  /// |y| above which e^y − 1 is treated by clamping (exponent stays in range).
  static var expClamp: Self { get }
  /// |x| above which tanh x rounds to ±1 in this precision.
  static var tanhClamp: Self { get }
  /// tanh x in this precision (see `FastMath.tanh`).
  static func tanhKernel(_ x: Self) -> Self
}

extension Float: FastFloat {
  @inline(__always) static var roundMagic: Float { 12_582_912.0 }  // 1.5·2^23
  @inline(__always) static func pow2(magicSum t: Float) -> Float {
    let k = t.bitPattern &- roundMagic.bitPattern  // k as a wrapped 32-bit integer
    return Float(bitPattern: (k &+ 127) << 23)
  }
  @inline(__always) static var ln2Hi: Float { 0.693_145_751_953_125 }
  @inline(__always) static var ln2Lo: Float { 1.428_606_765_330_187_045e-06 }
  @inline(__always) static func expm1Reduced(_ r: Float) -> Float {
    // Taylor to r⁷/7!: the remainder ≤ 0.347⁸/8! ≈ 5.2e-9 (1.5e-8 relative to |r|),
    // below half an ulp of float32 (6e-8).
    var q: Float = 1.0 / 5040.0
    q = q * r + 1.0 / 720.0
    q = q * r + 1.0 / 120.0
    q = q * r + 1.0 / 24.0
    q = q * r + 1.0 / 6.0
    q = q * r + 0.5
    q = q * r + 1.0
    return q * r
  }
  @inline(__always) static func atanhSeriesTail(_ s2: Float) -> Float {
    // Σ_{k≥1} s^{2k}/(2k+1) up to k = 8: remainder ≤ (1/9)^9/19 ≈ 1.4e-10.
    var q: Float = 1.0 / 17.0
    q = q * s2 + 1.0 / 15.0
    q = q * s2 + 1.0 / 13.0
    q = q * s2 + 1.0 / 11.0
    q = q * s2 + 1.0 / 9.0
    q = q * s2 + 1.0 / 7.0
    q = q * s2 + 1.0 / 5.0
    q = q * s2 + 1.0 / 3.0
    return q * s2
  }
  @inline(__always) static var expClamp: Float { 80 }
  @inline(__always) static var tanhClamp: Float { 9 }
  /// tanh x ≈ x·P(x²)/Q(x²) on |x| ≤ 9 (±1 beyond, where tanh rounds to ±1 in float32),
  /// P of degree 6 and Q of degree 3 in x². Coefficients fitted for this project
  /// (iteratively reweighted least squares on the relative error, Lawson weights;
  /// script in the commit message): relative error 6.6e-9 in exact arithmetic,
  /// ≤ 6 ulp when evaluated in float32 (mean 0.75 ulp). About 15 operations, a third
  /// of the exp-based form, which matters because Swift compiles for baseline SSE.
  @inline(__always) static func tanhKernel(_ x0: Float) -> Float {
    var x = x0 > 9 ? 9 : x0
    x = x < -9 ? -9 : x
    let t = x * x
    var p: Float = -8.488_571_848_406_831e-14
    p = p * t + 5.277_900_317_650_965e-11
    p = p * t - 2.022_514_212_971_207_8e-08
    p = p * t + 1.115_429_194_839_070_7e-05
    p = p * t + 0.003_103_954_966_815_189
    p = p * t + 0.130_840_090_962_312_78
    p = p * t + 0.999_999_993_404_296_7
    var q: Float = 0.000_254_614_320_591_636_75
    q = q * t + 0.024_495_173_770_737_61
    q = q * t + 0.464_173_362_043_677_4
    q = q * t + 1
    let y = x * p / q
    return y > 1 ? 1 : (y < -1 ? -1 : y)
  }
}

extension Double: FastFloat {
  @inline(__always) static var roundMagic: Double { 6_755_399_441_055_744.0 }  // 1.5·2^52
  @inline(__always) static func pow2(magicSum t: Double) -> Double {
    let k = t.bitPattern &- roundMagic.bitPattern
    return Double(bitPattern: (k &+ 1023) << 52)
  }
  @inline(__always) static var ln2Hi: Double { 6.931_471_803_691_238_164_90e-01 }
  @inline(__always) static var ln2Lo: Double { 1.908_214_929_270_587_700_02e-10 }
  @inline(__always) static func expm1Reduced(_ r: Double) -> Double {
    // Taylor to r¹⁴/14!: remainder ≤ 0.347¹⁵/15! ≈ 1.0e-19 relative to |r|, below ulp.
    var q: Double = 1.0 / 87_178_291_200.0
    q = q * r + 1.0 / 6_227_020_800.0
    q = q * r + 1.0 / 479_001_600.0
    q = q * r + 1.0 / 39_916_800.0
    q = q * r + 1.0 / 3_628_800.0
    q = q * r + 1.0 / 362_880.0
    q = q * r + 1.0 / 40320.0
    q = q * r + 1.0 / 5040.0
    q = q * r + 1.0 / 720.0
    q = q * r + 1.0 / 120.0
    q = q * r + 1.0 / 24.0
    q = q * r + 1.0 / 6.0
    q = q * r + 0.5
    q = q * r + 1.0
    return q * r
  }
  @inline(__always) static func atanhSeriesTail(_ s2: Double) -> Double {
    // Σ_{k≥1} s^{2k}/(2k+1) up to k = 17: remainder ≤ (1/9)^18/37 ≈ 1.9e-19.
    var q: Double = 1.0 / 35.0
    var d: Double = 33.0
    // Unrolled by the optimiser (constant trip count).
    for _ in 0..<16 {
      q = q * s2 + 1.0 / d
      d -= 2
    }
    return q * s2
  }
  @inline(__always) static var expClamp: Double { 700 }
  @inline(__always) static var tanhClamp: Double { 20 }
  @inline(__always) static func tanhKernel(_ x: Double) -> Double { FastMath.tanhByExpm1(x) }
}

/// Elementary functions, branch-free apart from selects.
enum FastMath {
  /// e^y − 1 with y clamped to [−expClamp, expClamp] (so e^y may saturate there but
  /// never overflows to inf); accurate to a few ulps relative everywhere, including
  /// |y| ≪ 1. NaN propagates.
  ///
  /// Range reduction y = k·ln2 + r with |r| ≤ ln2/2, then
  /// e^y − 1 = 2^k·(e^r − 1) + (2^k − 1), both terms of one sign for k ≠ 0.
  @inline(__always) static func expm1<F: FastFloat>(_ y0: F) -> F {
    let c = F.expClamp
    var y = y0 > c ? c : y0
    y = y < -c ? -c : y
    let t = y * F(1.442_695_040_888_963_407_36) + F.roundMagic
    let k = t - F.roundMagic
    let r = (y - k * F.ln2Hi) - k * F.ln2Lo
    let s = F.pow2(magicSum: t)
    return s * F.expm1Reduced(r) + (s - 1)
  }

  /// e^y (clamped as `expm1`).
  @inline(__always) static func exp<F: FastFloat>(_ y0: F) -> F {
    let c = F.expClamp
    var y = y0 > c ? c : y0
    y = y < -c ? -c : y
    let t = y * F(1.442_695_040_888_963_407_36) + F.roundMagic
    let k = t - F.roundMagic
    let r = (y - k * F.ln2Hi) - k * F.ln2Lo
    let s = F.pow2(magicSum: t)
    return s * F.expm1Reduced(r) + s
  }

  /// tanh x: a rational approximation in Float, `tanhByExpm1` in Double. Relative
  /// error a few ulps; NaN propagates.
  @inline(__always) static func tanh<F: FastFloat>(_ x: F) -> F { F.tanhKernel(x) }

  /// tanh x = sign(x)·E/(E + 2) with E = e^{2|x|} − 1; relative error a few ulps for
  /// all x (no cancellation near 0), exactly ±1 for |x| ≥ tanhClamp. NaN propagates.
  @inline(__always) static func tanhByExpm1<F: FastFloat>(_ x: F) -> F {
    var a = x < 0 ? -x : x
    a = a > F.tanhClamp ? F.tanhClamp : a
    let e = expm1(a + a)
    let t = e / (e + 2)
    return x < 0 ? -t : t
  }

  /// log(1 + u) for u ∈ [0, 1], as 2·atanh(u/(2+u)) summed as a series.
  @inline(__always) static func log1pUnit<F: FastFloat>(_ u: F) -> F {
    let s = u / (u + 2)
    let s2 = s * s
    return (s + s) * (1 + F.atanhSeriesTail(s2))
  }

  /// softplus x = log(1 + e^x) = max(x, 0) + log(1 + e^{−|x|}).
  @inline(__always) static func softplus<F: FastFloat>(_ x: F) -> F {
    let a = x < 0 ? -x : x
    let e = exp(-a)
    let p = x > 0 ? x : 0
    return p + log1pUnit(e) + (x - x)  // (x − x) carries a NaN through
  }

  /// The logistic sigmoid 1/(1 + e^{−x}), evaluated without overflow.
  @inline(__always) static func sigmoid<F: FastFloat>(_ x: F) -> F {
    let a = x < 0 ? -x : x
    let e = exp(-a)
    let s = 1 / (1 + e)
    return x < 0 ? e * s : s  // e^{−|x|}/(1 + e^{−|x|}) for x < 0
  }
}
