import LinearAlgebra

/// An elementwise activation σ applied to pre-activations z.
///
/// | case | σ(z) | σ′(z) |
/// |---|---|---|
/// | `identity` | z | 1 |
/// | `tanh` | tanh z | 1 − σ² |
/// | `relu` | max(z, 0) | 1 if z > 0 else 0 (σ″ = 0; the kink at 0 has measure zero) |
/// | `elu` | z if z > 0 else e^z − 1 (α = 1) | 1 if z > 0 else σ + 1 |
/// | `softplus` | log(1 + e^z) | logistic(z) |
/// | `gelu` | ½z(1 + tanh(√(2/π)(z + 0.044715 z³))) — the tanh form, as `jax.nn.gelu`'s default and PyTorch's `approximate="tanh"` | by the chain rule |
///
/// The Hessian-vector product needs σ″ as well; every case provides it exactly
/// (ReLU's σ″ is 0 away from the kink). Values are computed with the vectorisable
/// functions of `FastMath` (relative error a few ulps in the working precision).
public enum Activation: String, Sendable, Hashable, CaseIterable, Codable {
  case identity, tanh, relu, elu, softplus, gelu

  /// Whether σ′ and σ″ can be computed from the output a = σ(z) alone, so the
  /// engine may overwrite z with a (tanh: σ′ = 1 − a²; ReLU and ELU: z > 0 ⇔ a > 0).
  var derivativesFromOutput: Bool {
    switch self {
    case .identity, .tanh, .relu, .elu: true
    case .softplus, .gelu: false
    }
  }

  /// σ(x) in double precision, with the engine's own formulas (for tests and tools).
  public func value(_ x: Double) -> Double { dispatchValue(self, x) }
  /// σ′(x) in double precision.
  public func derivative(_ x: Double) -> Double { dispatchD(self, x).0 }
  /// σ″(x) in double precision.
  public func secondDerivative(_ x: Double) -> Double { dispatchD(self, x).1 }
}

private func dispatchValue(_ act: Activation, _ x: Double) -> Double {
  switch act {
  case .identity: IdentityFn.value(x)
  case .tanh: TanhFn.value(x)
  case .relu: ReluFn.value(x)
  case .elu: EluFn.value(x)
  case .softplus: SoftplusFn.value(x)
  case .gelu: GeluFn.value(x)
  }
}

private func dispatchD(_ act: Activation, _ x: Double) -> (Double, Double) {
  func run<A: ActivationFunction>(_: A.Type) -> (Double, Double) {
    let a = A.value(x)
    let d1 = A.d1(x, a)
    return (d1, A.d2(x, a, d1))
  }
  switch act {
  case .identity: return run(IdentityFn.self)
  case .tanh: return run(TanhFn.self)
  case .relu: return run(ReluFn.self)
  case .elu: return run(EluFn.self)
  case .softplus: return run(SoftplusFn.self)
  case .gelu: return run(GeluFn.self)
  }
}

/// σ, σ′ and σ″ of one activation; σ′ and σ″ may use the stored output a = σ(z).
protocol ActivationFunction {
  static func value<F: FastFloat>(_ z: F) -> F
  static func d1<F: FastFloat>(_ z: F, _ a: F) -> F
  static func d2<F: FastFloat>(_ z: F, _ a: F, _ d1: F) -> F
}

enum IdentityFn: ActivationFunction {
  @inline(__always) static func value<F: FastFloat>(_ z: F) -> F { z }
  @inline(__always) static func d1<F: FastFloat>(_ z: F, _ a: F) -> F { 1 }
  @inline(__always) static func d2<F: FastFloat>(_ z: F, _ a: F, _ d1: F) -> F { 0 }
}

enum TanhFn: ActivationFunction {
  @inline(__always) static func value<F: FastFloat>(_ z: F) -> F { FastMath.tanh(z) }
  @inline(__always) static func d1<F: FastFloat>(_ z: F, _ a: F) -> F { 1 - a * a }
  @inline(__always) static func d2<F: FastFloat>(_ z: F, _ a: F, _ d1: F) -> F { -2 * a * d1 }
}

enum ReluFn: ActivationFunction {
  // `z < 0 ? 0 : z` (not max) so that a NaN propagates instead of becoming 0.
  @inline(__always) static func value<F: FastFloat>(_ z: F) -> F { z < 0 ? 0 : z }
  @inline(__always) static func d1<F: FastFloat>(_ z: F, _ a: F) -> F { z > 0 ? 1 : 0 }
  @inline(__always) static func d2<F: FastFloat>(_ z: F, _ a: F, _ d1: F) -> F { 0 }
}

enum EluFn: ActivationFunction {
  @inline(__always) static func value<F: FastFloat>(_ z: F) -> F {
    let e = FastMath.expm1(z < 0 ? z : 0)
    return z > 0 ? z : e + (z - z)
  }
  @inline(__always) static func d1<F: FastFloat>(_ z: F, _ a: F) -> F { z > 0 ? 1 : a + 1 }
  @inline(__always) static func d2<F: FastFloat>(_ z: F, _ a: F, _ d1: F) -> F { z > 0 ? 0 : a + 1 }
}

enum SoftplusFn: ActivationFunction {
  @inline(__always) static func value<F: FastFloat>(_ z: F) -> F { FastMath.softplus(z) }
  @inline(__always) static func d1<F: FastFloat>(_ z: F, _ a: F) -> F { FastMath.sigmoid(z) }
  @inline(__always) static func d2<F: FastFloat>(_ z: F, _ a: F, _ d1: F) -> F { d1 * (1 - d1) }
}

enum GeluFn: ActivationFunction {
  @inline(__always) static var c: Double { 0.797_884_560_802_865_355_88 }  // √(2/π)
  @inline(__always) static var k: Double { 0.044_715 }
  @inline(__always) static func value<F: FastFloat>(_ z: F) -> F {
    let u = F(c) * (z + F(k) * z * z * z)
    return F(0.5) * z * (1 + FastMath.tanh(u))
  }
  @inline(__always) static func d1<F: FastFloat>(_ z: F, _ a: F) -> F {
    let u = F(c) * (z + F(k) * z * z * z)
    let t = FastMath.tanh(u)
    let du = F(c) * (1 + 3 * F(k) * z * z)
    return F(0.5) * (1 + t) + F(0.5) * z * (1 - t * t) * du
  }
  /// σ″ = (1 − t²)u′ + ½z(1 − t²)(u″ − 2t·u′²), t = tanh u.
  @inline(__always) static func d2<F: FastFloat>(_ z: F, _ a: F, _ d1: F) -> F {
    let u = F(c) * (z + F(k) * z * z * z)
    let t = FastMath.tanh(u)
    let du = F(c) * (1 + 3 * F(k) * z * z)
    let ddu = 6 * F(c) * F(k) * z
    let s = 1 - t * t
    return s * du + F(0.5) * z * s * (ddu - 2 * t * du * du)
  }
}

// MARK: - Loops over buffers

/// Elementwise loops of the engine, dispatched once per call to a `Float` or
/// `Double` specialisation and to one activation, so each inner loop is a plain,
/// vectorisable loop without calls.
enum Kernels {
  @inline(__always)
  static func cast<T, F>(_ p: UnsafeMutablePointer<T>, _: F.Type) -> UnsafeMutablePointer<F> {
    UnsafeMutableRawPointer(p).assumingMemoryBound(to: F.self)
  }
  @inline(__always)
  static func cast<T, F>(_ p: UnsafePointer<T>, _: F.Type) -> UnsafePointer<F> {
    UnsafeRawPointer(p).assumingMemoryBound(to: F.self)
  }

  /// z[i, j] += b[j]; a[i, j] = σ(z[i, j]) for a rows×cols block (a may equal z only
  /// for the identity).
  static func biasActivate<T: BLASScalar>(
    _ act: Activation, z: UnsafeMutablePointer<T>, a: UnsafeMutablePointer<T>, rows: Int, cols: Int,
    bias: UnsafePointer<T>?
  ) {
    // Without a bias every element is independent: one row of all elements.
    let (r, c) = bias == nil ? (rows * cols, 1) : (rows, cols)
    if T.self == Float.self {
      Impl<Float>.biasActivate(act, cast(z, Float.self), cast(a, Float.self), r, c, bias.map { cast($0, Float.self) })
    } else {
      Impl<Double>.biasActivate(act, cast(z, Double.self), cast(a, Double.self), r, c, bias.map { cast($0, Double.self) })
    }
  }

  /// g ← g ⊙ σ′(z) (the backward step through the activation).
  static func multiplyDerivative<T: BLASScalar>(
    _ act: Activation, g: UnsafeMutablePointer<T>, z: UnsafePointer<T>, a: UnsafePointer<T>, count: Int
  ) {
    if act == .identity { return }
    if T.self == Float.self {
      Impl<Float>.multiplyDerivative(act, cast(g, Float.self), cast(z, Float.self), cast(a, Float.self), count)
    } else {
      Impl<Double>.multiplyDerivative(act, cast(g, Double.self), cast(z, Double.self), cast(a, Double.self), count)
    }
  }

  /// g ← g ⊙ σ′(z) for a rows×cols block, and out[j] += Σᵢ g[i, j] (the bias
  /// gradient) in the same pass.
  static func multiplyDerivativeAndSum<T: BLASScalar>(
    _ act: Activation, g: UnsafeMutablePointer<T>, z: UnsafePointer<T>, a: UnsafePointer<T>, rows: Int, cols: Int,
    into out: UnsafeMutablePointer<T>
  ) {
    if T.self == Float.self {
      Impl<Float>.multiplyDerivativeAndSum(act, cast(g, Float.self), cast(z, Float.self), cast(a, Float.self), rows, cols, cast(out, Float.self))
    } else {
      Impl<Double>.multiplyDerivativeAndSum(act, cast(g, Double.self), cast(z, Double.self), cast(a, Double.self), rows, cols, cast(out, Double.self))
    }
  }

  /// Rz ← σ′(z) ⊙ Rz, written to ra (the tangent of the activation output).
  static func tangentForward<T: BLASScalar>(
    _ act: Activation, rz: UnsafePointer<T>, ra: UnsafeMutablePointer<T>, z: UnsafePointer<T>, a: UnsafePointer<T>, count: Int
  ) {
    if T.self == Float.self {
      Impl<Float>.tangentForward(act, cast(rz, Float.self), cast(ra, Float.self), cast(z, Float.self), cast(a, Float.self), count)
    } else {
      Impl<Double>.tangentForward(act, cast(rz, Double.self), cast(ra, Double.self), cast(z, Double.self), cast(a, Double.self), count)
    }
  }

  /// The R-operator's step back through the activation, in place:
  /// Rg ← σ″(z)·Rz·g + σ′(z)·Rg, then g ← σ′(z)·g.
  static func tangentBackward<T: BLASScalar>(
    _ act: Activation, g: UnsafeMutablePointer<T>, rg: UnsafeMutablePointer<T>, z: UnsafePointer<T>, a: UnsafePointer<T>,
    rz: UnsafePointer<T>, count: Int
  ) {
    if act == .identity { return }
    if T.self == Float.self {
      Impl<Float>.tangentBackward(act, cast(g, Float.self), cast(rg, Float.self), cast(z, Float.self), cast(a, Float.self), cast(rz, Float.self), count)
    } else {
      Impl<Double>.tangentBackward(act, cast(g, Double.self), cast(rg, Double.self), cast(z, Double.self), cast(a, Double.self), cast(rz, Double.self), count)
    }
  }

  /// y[i, j] = b[j] for a rows×cols block.
  static func fillRows<T: BLASScalar>(_ y: UnsafeMutablePointer<T>, rows: Int, cols: Int, with bias: UnsafePointer<T>) {
    var p = y
    for _ in 0..<rows {
      p.update(from: bias, count: cols)
      p += cols
    }
  }

  /// out[j] += Σ_i y[i, j] (column sums of a rows×cols block).
  static func addColumnSums<T: BLASScalar>(_ y: UnsafePointer<T>, rows: Int, cols: Int, into out: UnsafeMutablePointer<T>) {
    var p = y
    for _ in 0..<rows {
      for j in 0..<cols { out[j] += p[j] }
      p += cols
    }
  }
}

/// The concrete loops for one floating type.
enum Impl<F: FastFloat> {
  static func biasActivate(
    _ act: Activation, _ z: UnsafeMutablePointer<F>, _ a: UnsafeMutablePointer<F>, _ rows: Int, _ cols: Int,
    _ bias: UnsafePointer<F>?
  ) {
    switch act {
    case .identity: biasActivate(IdentityFn.self, z, a, rows, cols, bias)
    case .tanh: biasActivate(TanhFn.self, z, a, rows, cols, bias)
    case .relu: biasActivate(ReluFn.self, z, a, rows, cols, bias)
    case .elu: biasActivate(EluFn.self, z, a, rows, cols, bias)
    case .softplus: biasActivate(SoftplusFn.self, z, a, rows, cols, bias)
    case .gelu: biasActivate(GeluFn.self, z, a, rows, cols, bias)
    }
  }

  @inline(__always)
  static func biasActivate<A: ActivationFunction>(
    _: A.Type, _ z: UnsafeMutablePointer<F>, _ a: UnsafeMutablePointer<F>, _ rows: Int, _ cols: Int,
    _ bias: UnsafePointer<F>?
  ) {
    var zp = z
    var ap = a
    if let b = bias, z == a {
      // In place through one pointer, so the loop needs no runtime alias check.
      for _ in 0..<rows {
        for j in 0..<cols { zp[j] = A.value(zp[j] + b[j]) }
        zp += cols
      }
    } else if z == a {
      let n = rows * cols
      for i in 0..<n { zp[i] = A.value(zp[i]) }
    } else if let b = bias {
      for _ in 0..<rows {
        for j in 0..<cols {
          let v = zp[j] + b[j]
          zp[j] = v
          ap[j] = A.value(v)
        }
        zp += cols
        ap += cols
      }
    } else {
      let n = rows * cols
      for i in 0..<n { ap[i] = A.value(zp[i]) }
    }
  }

  static func multiplyDerivative(
    _ act: Activation, _ g: UnsafeMutablePointer<F>, _ z: UnsafePointer<F>, _ a: UnsafePointer<F>, _ n: Int
  ) {
    switch act {
    case .identity: return
    case .tanh: multiplyDerivative(TanhFn.self, g, z, a, n)
    case .relu: multiplyDerivative(ReluFn.self, g, z, a, n)
    case .elu: multiplyDerivative(EluFn.self, g, z, a, n)
    case .softplus: multiplyDerivative(SoftplusFn.self, g, z, a, n)
    case .gelu: multiplyDerivative(GeluFn.self, g, z, a, n)
    }
  }

  @inline(__always)
  static func multiplyDerivative<A: ActivationFunction>(
    _: A.Type, _ g: UnsafeMutablePointer<F>, _ z: UnsafePointer<F>, _ a: UnsafePointer<F>, _ n: Int
  ) {
    for i in 0..<n { g[i] = g[i] * A.d1(z[i], a[i]) }
  }

  static func multiplyDerivativeAndSum(
    _ act: Activation, _ g: UnsafeMutablePointer<F>, _ z: UnsafePointer<F>, _ a: UnsafePointer<F>, _ rows: Int, _ cols: Int,
    _ out: UnsafeMutablePointer<F>
  ) {
    switch act {
    case .identity: multiplyDerivativeAndSum(IdentityFn.self, g, z, a, rows, cols, out)
    case .tanh: multiplyDerivativeAndSum(TanhFn.self, g, z, a, rows, cols, out)
    case .relu: multiplyDerivativeAndSum(ReluFn.self, g, z, a, rows, cols, out)
    case .elu: multiplyDerivativeAndSum(EluFn.self, g, z, a, rows, cols, out)
    case .softplus: multiplyDerivativeAndSum(SoftplusFn.self, g, z, a, rows, cols, out)
    case .gelu: multiplyDerivativeAndSum(GeluFn.self, g, z, a, rows, cols, out)
    }
  }

  @inline(__always)
  static func multiplyDerivativeAndSum<A: ActivationFunction>(
    _: A.Type, _ g: UnsafeMutablePointer<F>, _ z: UnsafePointer<F>, _ a: UnsafePointer<F>, _ rows: Int, _ cols: Int,
    _ out: UnsafeMutablePointer<F>
  ) {
    // Two simple loops per row rather than one with two stores (g and out, which
    // could alias): LLVM vectorises each; the fused loop ran scalar (4.6 % of the
    // benchmark's gradient in a profile).
    var gp = g
    var zp = z
    var ap = a
    for _ in 0..<rows {
      for j in 0..<cols { gp[j] = gp[j] * A.d1(zp[j], ap[j]) }
      for j in 0..<cols { out[j] += gp[j] }
      gp += cols
      zp += cols
      ap += cols
    }
  }

  static func tangentForward(
    _ act: Activation, _ rz: UnsafePointer<F>, _ ra: UnsafeMutablePointer<F>, _ z: UnsafePointer<F>, _ a: UnsafePointer<F>,
    _ n: Int
  ) {
    switch act {
    case .identity: tangentForward(IdentityFn.self, rz, ra, z, a, n)
    case .tanh: tangentForward(TanhFn.self, rz, ra, z, a, n)
    case .relu: tangentForward(ReluFn.self, rz, ra, z, a, n)
    case .elu: tangentForward(EluFn.self, rz, ra, z, a, n)
    case .softplus: tangentForward(SoftplusFn.self, rz, ra, z, a, n)
    case .gelu: tangentForward(GeluFn.self, rz, ra, z, a, n)
    }
  }

  @inline(__always)
  static func tangentForward<A: ActivationFunction>(
    _: A.Type, _ rz: UnsafePointer<F>, _ ra: UnsafeMutablePointer<F>, _ z: UnsafePointer<F>, _ a: UnsafePointer<F>, _ n: Int
  ) {
    for i in 0..<n { ra[i] = A.d1(z[i], a[i]) * rz[i] }
  }

  static func tangentBackward(
    _ act: Activation, _ g: UnsafeMutablePointer<F>, _ rg: UnsafeMutablePointer<F>, _ z: UnsafePointer<F>,
    _ a: UnsafePointer<F>, _ rz: UnsafePointer<F>, _ n: Int
  ) {
    switch act {
    case .identity: return
    case .tanh: tangentBackward(TanhFn.self, g, rg, z, a, rz, n)
    case .relu: tangentBackward(ReluFn.self, g, rg, z, a, rz, n)
    case .elu: tangentBackward(EluFn.self, g, rg, z, a, rz, n)
    case .softplus: tangentBackward(SoftplusFn.self, g, rg, z, a, rz, n)
    case .gelu: tangentBackward(GeluFn.self, g, rg, z, a, rz, n)
    }
  }

  @inline(__always)
  static func tangentBackward<A: ActivationFunction>(
    _: A.Type, _ g: UnsafeMutablePointer<F>, _ rg: UnsafeMutablePointer<F>, _ z: UnsafePointer<F>,
    _ a: UnsafePointer<F>, _ rz: UnsafePointer<F>, _ n: Int
  ) {
    // Two loops with one store each (rg, then g), which LLVM vectorises; one loop
    // storing both (the buffers could alias, as far as it knows) ran scalar.
    for i in 0..<n {
      let zi = z[i]
      let ai = a[i]
      let d1 = A.d1(zi, ai)
      let d2 = A.d2(zi, ai, d1)
      rg[i] = d2 * rz[i] * g[i] + d1 * rg[i]
    }
    for i in 0..<n { g[i] = A.d1(z[i], a[i]) * g[i] }
  }
}

