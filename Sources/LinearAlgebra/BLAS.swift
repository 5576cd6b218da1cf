import COpenBLAS

/// Whether a matrix operand is used as stored or transposed.
public enum Transpose: Sendable {
  case none, transposed
  var cblas: CBLAS_TRANSPOSE { self == .none ? CblasNoTrans : CblasTrans }
}

/// A floating-point type that OpenBLAS computes with: `Float` (s-routines) or
/// `Double` (d-routines). All matrices are dense, row-major.
public protocol BLASScalar: BinaryFloatingPoint, Sendable where Self.RawSignificand: FixedWidthInteger {
  /// C ← α·op(A)·op(B) + β·C, with op(A) m×k, op(B) k×n, C m×n (row-major, leading dimensions given).
  static func _gemm(
    _ ta: Transpose, _ tb: Transpose, _ m: Int, _ n: Int, _ k: Int, _ alpha: Self,
    _ a: UnsafePointer<Self>, _ lda: Int, _ b: UnsafePointer<Self>, _ ldb: Int, _ beta: Self,
    _ c: UnsafeMutablePointer<Self>, _ ldc: Int)
  /// y ← α·op(A)·x + β·y, A m×n row-major.
  static func _gemv(
    _ ta: Transpose, _ m: Int, _ n: Int, _ alpha: Self, _ a: UnsafePointer<Self>, _ lda: Int,
    _ x: UnsafePointer<Self>, _ beta: Self, _ y: UnsafeMutablePointer<Self>)
  static func _dot(_ n: Int, _ x: UnsafePointer<Self>, _ y: UnsafePointer<Self>) -> Self
  static func _axpy(_ n: Int, _ alpha: Self, _ x: UnsafePointer<Self>, _ y: UnsafeMutablePointer<Self>)
  static func _scal(_ n: Int, _ alpha: Self, _ x: UnsafeMutablePointer<Self>)
  static func _nrm2(_ n: Int, _ x: UnsafePointer<Self>) -> Self
}

extension Float: BLASScalar {
  public static func _gemm(
    _ ta: Transpose, _ tb: Transpose, _ m: Int, _ n: Int, _ k: Int, _ alpha: Float,
    _ a: UnsafePointer<Float>, _ lda: Int, _ b: UnsafePointer<Float>, _ ldb: Int, _ beta: Float,
    _ c: UnsafeMutablePointer<Float>, _ ldc: Int
  ) {
    cblas_sgemm(CblasRowMajor, ta.cblas, tb.cblas, Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
  }
  public static func _gemv(
    _ ta: Transpose, _ m: Int, _ n: Int, _ alpha: Float, _ a: UnsafePointer<Float>, _ lda: Int,
    _ x: UnsafePointer<Float>, _ beta: Float, _ y: UnsafeMutablePointer<Float>
  ) {
    cblas_sgemv(CblasRowMajor, ta.cblas, Int32(m), Int32(n), alpha, a, Int32(lda), x, 1, beta, y, 1)
  }
  public static func _dot(_ n: Int, _ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>) -> Float { cblas_sdot(Int32(n), x, 1, y, 1) }
  public static func _axpy(_ n: Int, _ alpha: Float, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>) { cblas_saxpy(Int32(n), alpha, x, 1, y, 1) }
  public static func _scal(_ n: Int, _ alpha: Float, _ x: UnsafeMutablePointer<Float>) { cblas_sscal(Int32(n), alpha, x, 1) }
  public static func _nrm2(_ n: Int, _ x: UnsafePointer<Float>) -> Float { cblas_snrm2(Int32(n), x, 1) }
}

extension Double: BLASScalar {
  public static func _gemm(
    _ ta: Transpose, _ tb: Transpose, _ m: Int, _ n: Int, _ k: Int, _ alpha: Double,
    _ a: UnsafePointer<Double>, _ lda: Int, _ b: UnsafePointer<Double>, _ ldb: Int, _ beta: Double,
    _ c: UnsafeMutablePointer<Double>, _ ldc: Int
  ) {
    cblas_dgemm(CblasRowMajor, ta.cblas, tb.cblas, Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
  }
  public static func _gemv(
    _ ta: Transpose, _ m: Int, _ n: Int, _ alpha: Double, _ a: UnsafePointer<Double>, _ lda: Int,
    _ x: UnsafePointer<Double>, _ beta: Double, _ y: UnsafeMutablePointer<Double>
  ) {
    cblas_dgemv(CblasRowMajor, ta.cblas, Int32(m), Int32(n), alpha, a, Int32(lda), x, 1, beta, y, 1)
  }
  public static func _dot(_ n: Int, _ x: UnsafePointer<Double>, _ y: UnsafePointer<Double>) -> Double { cblas_ddot(Int32(n), x, 1, y, 1) }
  public static func _axpy(_ n: Int, _ alpha: Double, _ x: UnsafePointer<Double>, _ y: UnsafeMutablePointer<Double>) { cblas_daxpy(Int32(n), alpha, x, 1, y, 1) }
  public static func _scal(_ n: Int, _ alpha: Double, _ x: UnsafeMutablePointer<Double>) { cblas_dscal(Int32(n), alpha, x, 1) }
  public static func _nrm2(_ n: Int, _ x: UnsafePointer<Double>) -> Double { cblas_dnrm2(Int32(n), x, 1) }
}

/// Safe BLAS over Swift arrays and buffers. Shapes are checked with `precondition`
/// (a shape mismatch is a programmer error, never user input).
public enum BLAS {
  /// C ← α·op(A)·op(B) + β·C for row-major matrices stored densely
  /// (A is m×k after `ta`, B is k×n after `tb`, C is m×n).
  /// - Complexity: 2·m·n·k floating-point operations.
  @inlinable
  public static func gemm<T: BLASScalar>(
    _ ta: Transpose = .none, _ tb: Transpose = .none, m: Int, n: Int, k: Int,
    alpha: T = 1, a: UnsafeBufferPointer<T>, b: UnsafeBufferPointer<T>, beta: T = 0,
    c: UnsafeMutableBufferPointer<T>
  ) {
    precondition(m >= 0 && n >= 0 && k >= 0)
    precondition(a.count >= m * k && b.count >= k * n && c.count >= m * n, "gemm: buffer too small")
    if m == 0 || n == 0 { return }
    guard let pa = a.baseAddress, let pb = b.baseAddress, let pc = c.baseAddress else {
      // k == 0: C ← β·C
      for i in 0..<(m * n) { c[i] = beta * c[i] }
      return
    }
    let lda = ta == .none ? k : m
    let ldb = tb == .none ? n : k
    T._gemm(ta, tb, m, n, k, alpha, pa, max(lda, 1), pb, max(ldb, 1), beta, pc, max(n, 1))
  }

  /// Array convenience: returns op(A)·op(B) (m×n).
  public static func matmul<T: BLASScalar>(
    _ a: [T], _ b: [T], m: Int, n: Int, k: Int, transposeA: Bool = false, transposeB: Bool = false
  ) -> [T] {
    var c = [T](repeating: 0, count: m * n)
    a.withUnsafeBufferPointer { pa in
      b.withUnsafeBufferPointer { pb in
        c.withUnsafeMutableBufferPointer { pc in
          gemm(transposeA ? .transposed : .none, transposeB ? .transposed : .none, m: m, n: n, k: k, a: pa, b: pb, c: pc)
        }
      }
    }
    return c
  }

  /// y ← α·op(A)·x + β·y with A m×n row-major.
  public static func gemv<T: BLASScalar>(
    _ ta: Transpose = .none, m: Int, n: Int, alpha: T = 1, a: [T], x: [T], beta: T = 0, y: inout [T]
  ) {
    precondition(a.count == m * n, "gemv: A has \(a.count) entries, expected \(m)×\(n)")
    let (xl, yl) = ta == .none ? (n, m) : (m, n)
    precondition(x.count == xl && y.count == yl, "gemv: vector sizes do not match")
    if m == 0 || n == 0 { return }
    a.withUnsafeBufferPointer { pa in
      x.withUnsafeBufferPointer { px in
        y.withUnsafeMutableBufferPointer { py in
          T._gemv(ta, m, n, alpha, pa.baseAddress!, n, px.baseAddress!, beta, py.baseAddress!)
        }
      }
    }
  }

  /// xᵀy.
  public static func dot<T: BLASScalar>(_ x: [T], _ y: [T]) -> T {
    precondition(x.count == y.count, "dot: sizes \(x.count) and \(y.count) differ")
    if x.isEmpty { return 0 }
    return x.withUnsafeBufferPointer { px in y.withUnsafeBufferPointer { py in T._dot(x.count, px.baseAddress!, py.baseAddress!) } }
  }

  /// y ← α·x + y.
  public static func axpy<T: BLASScalar>(_ alpha: T, _ x: [T], _ y: inout [T]) {
    precondition(x.count == y.count, "axpy: sizes \(x.count) and \(y.count) differ")
    if x.isEmpty { return }
    x.withUnsafeBufferPointer { px in y.withUnsafeMutableBufferPointer { py in T._axpy(x.count, alpha, px.baseAddress!, py.baseAddress!) } }
  }

  /// x ← α·x.
  public static func scal<T: BLASScalar>(_ alpha: T, _ x: inout [T]) {
    if x.isEmpty { return }
    let n = x.count
    x.withUnsafeMutableBufferPointer { px in T._scal(n, alpha, px.baseAddress!) }
  }

  /// ‖x‖₂ (overflow-safe, as BLAS nrm2).
  public static func nrm2<T: BLASScalar>(_ x: [T]) -> T {
    if x.isEmpty { return 0 }
    return x.withUnsafeBufferPointer { T._nrm2(x.count, $0.baseAddress!) }
  }
}
