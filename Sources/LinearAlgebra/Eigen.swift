import CLAPACKE

/// Dense eigensolvers over LAPACK. Matrices are flat row-major arrays; inputs are
/// copied (LAPACK overwrites its arguments), never modified.
public enum Eigen {
  /// The eigenvalues λ of a general real n×n matrix A (Av = λv), with multiplicity,
  /// by LAPACK `dgeev` (balancing, Hessenberg reduction, shifted QR; no
  /// eigenvectors).
  ///
  /// Non-real eigenvalues come in conjugate pairs, the one with positive imaginary
  /// part first; otherwise the order is LAPACK's (unspecified). A well-conditioned
  /// eigenvalue is accurate to about ε‖A‖; a defective or clustered one can be far
  /// less accurate (ε^{1/m} for a Jordan block of size m).
  ///
  /// - Parameters:
  ///   - a: the n·n entries of A, row-major.
  ///   - n: the order of A (n ≥ 0).
  /// - Throws: `invalidInput` if `a.count != n*n`, n < 0, or an entry is not
  ///   finite; `lapack(routine: "dgeev", info:)` if QR fails to converge (info > 0).
  /// - Complexity: about 10n³ flops.
  public static func eigenvalues(general a: [Double], n: Int) throws -> [Complex] {
    try requireSquare(a.count, n)
    try requireFinite(a, "matrix")
    if n == 0 { return [] }
    var m = a
    var wr = [Double](repeating: 0, count: n)
    var wi = [Double](repeating: 0, count: n)
    let info = m.withUnsafeMutableBufferPointer { pa in
      wr.withUnsafeMutableBufferPointer { pr in
        wi.withUnsafeMutableBufferPointer { pi in
          LAPACKE_dgeev(
            LAPACK_ROW_MAJOR, jobNone, jobNone, clapacke_int(n), pa.baseAddress, clapacke_int(n),
            pr.baseAddress, pi.baseAddress, nil, clapacke_int(n), nil, clapacke_int(n))
        }
      }
    }
    try checkLAPACK(info, "dgeev")
    return (0..<n).map { Complex(re: wr[$0], im: wi[$0]) }
  }

  /// The eigen-decomposition A = VΛVᵀ of a real symmetric n×n matrix, by LAPACK
  /// `dsyevd` (tridiagonal reduction, then divide and conquer).
  ///
  /// Only the upper triangle of `a` (entries a[i·n + j] with j ≥ i) is read; the
  /// strict lower triangle is ignored, so a matrix that is not symmetric is
  /// treated as the symmetric matrix with the same upper triangle.
  ///
  /// Eigenvalues are in ascending order and accurate to about ε‖A‖₂. Eigenvectors
  /// are orthonormal (VᵀV = I to about nε); an eigenvector of a cluster of
  /// eigenvalues is determined only up to rotation within its cluster.
  ///
  /// - Parameters:
  ///   - a: the n·n entries of A, row-major.
  ///   - n: the order of A.
  ///   - vectors: whether to return V.
  /// - Returns: the ascending eigenvalues λ₁ ≤ … ≤ λₙ, and, if requested, V as a
  ///   row-major n×n matrix whose column j (entries v[i·n + j]) is the unit
  ///   eigenvector of λⱼ.
  /// - Throws: `invalidInput` if `a.count != n*n` or an entry is not finite;
  ///   `lapack(routine: "dsyevd", info:)` if the algorithm fails to converge.
  /// - Complexity: about 4n³/3 flops for values, 9n³ with vectors.
  public static func symmetric(_ a: [Double], n: Int, vectors: Bool) throws -> (values: [Double], vectors: [Double]?) {
    try requireSquare(a.count, n)
    try requireFinite(a, "symmetric matrix")
    return try symmetricDecomposition(a, n: n, vectors: vectors, routine: "dsyevd") { job, pa, pw in
      LAPACKE_dsyevd(LAPACK_ROW_MAJOR, job, upper, clapacke_int(n), pa, clapacke_int(n), pw)
    }
  }

  /// Single-precision `symmetric(_:n:vectors:)` by LAPACK `ssyevd`; accuracy is
  /// about ε_Float·‖A‖₂ ≈ 1.2e-7·‖A‖₂.
  public static func symmetric(_ a: [Float], n: Int, vectors: Bool) throws -> (values: [Float], vectors: [Float]?) {
    try requireSquare(a.count, n)
    try requireFinite(a, "symmetric matrix")
    return try symmetricDecomposition(a, n: n, vectors: vectors, routine: "ssyevd") { job, pa, pw in
      LAPACKE_ssyevd(LAPACK_ROW_MAJOR, job, upper, clapacke_int(n), pa, clapacke_int(n), pw)
    }
  }

  /// The eigen-decomposition T = VΛVᵀ of the symmetric tridiagonal matrix T with
  /// diagonal d₀…d_{n−1} and off-diagonal e₀…e_{n−2} (T[i][i+1] = T[i+1][i] = eᵢ),
  /// by LAPACK `dstevd` (divide and conquer). This is the small eigenproblem of
  /// the Lanczos method.
  ///
  /// Eigenvalues are ascending, accurate to about ε‖T‖₂; eigenvectors are
  /// orthonormal.
  ///
  /// - Returns: the ascending eigenvalues and, if requested, V as a row-major
  ///   n×n matrix whose column j is the unit eigenvector of λⱼ.
  /// - Throws: `invalidInput` if `e.count != max(d.count − 1, 0)` or an entry is
  ///   not finite; `lapack(routine: "dstevd", info:)` if it fails to converge.
  /// - Complexity: O(n²) for values, about O(n³) with vectors (in practice much
  ///   less, by deflation).
  public static func symmetricTridiagonal(
    diagonal d: [Double], offDiagonal e: [Double], vectors: Bool
  ) throws -> (values: [Double], vectors: [Double]?) {
    let n = d.count
    guard e.count == max(n - 1, 0) else {
      throw LinearAlgebraError.invalidInput(
        "tridiagonal matrix: off-diagonal has \(e.count) entries; expected \(max(n - 1, 0)) for a diagonal of \(n)")
    }
    try requireFinite(d, "tridiagonal diagonal")
    try requireFinite(e, "tridiagonal off-diagonal")
    if n == 0 { return ([], vectors ? [] : nil) }
    var values = d
    var off = e + [0]  // LAPACK wants max(1, n−1) entries; the pad is never read for n > 1
    var z = [Double](repeating: 0, count: vectors ? n * n : 1)
    let info = values.withUnsafeMutableBufferPointer { pd in
      off.withUnsafeMutableBufferPointer { pe in
        z.withUnsafeMutableBufferPointer { pz in
          LAPACKE_dstevd(
            LAPACK_ROW_MAJOR, vectors ? jobVectors : jobNone, clapacke_int(n), pd.baseAddress, pe.baseAddress,
            pz.baseAddress, clapacke_int(n))
        }
      }
    }
    try checkLAPACK(info, "dstevd")
    return (values, vectors ? z : nil)
  }

  // MARK: - Implementation

  private static let jobNone = CChar(UInt8(ascii: "N"))
  private static let jobVectors = CChar(UInt8(ascii: "V"))
  private static let upper = CChar(UInt8(ascii: "U"))

  private static func requireSquare(_ count: Int, _ n: Int) throws {
    guard n >= 0, count == n * n else {
      throw LinearAlgebraError.invalidInput("matrix has \(count) entries; expected n·n = \(n)·\(n) for order n = \(n)")
    }
  }

  /// Runs a LAPACK `?syevd` on a copy of `a`: `call(jobz, A, w)` overwrites A by
  /// the eigenvectors (if jobz = "V") and fills w with the ascending eigenvalues.
  private static func symmetricDecomposition<T: BLASScalar>(
    _ a: [T], n: Int, vectors: Bool, routine: String,
    _ call: (CChar, UnsafeMutablePointer<T>?, UnsafeMutablePointer<T>?) -> clapacke_int
  ) throws -> (values: [T], vectors: [T]?) {
    if n == 0 { return ([], vectors ? [] : nil) }
    var m = a
    var w = [T](repeating: 0, count: n)
    let info = m.withUnsafeMutableBufferPointer { pa in
      w.withUnsafeMutableBufferPointer { pw in
        call(vectors ? jobVectors : jobNone, pa.baseAddress, pw.baseAddress)
      }
    }
    try checkLAPACK(info, routine)
    return (w, vectors ? m : nil)
  }
}
