import Foundation
import LinearAlgebra

/// A user-causable problem with a quadratic or a simulation; the message names
/// the bad value and what was expected.
public struct QuadraticError: Error, CustomStringConvertible, Equatable, Sendable {
  public let description: String
  public init(_ description: String) { self.description = description }
}

/// The quadratic f(x) = ½xᵀAx + bᵀx with symmetric A, ∇f(x) = Ax + b, Hessian A.
///
/// A is stored as its diagonal when it is one (`eigenvalues:`) — then every
/// operation is O(n) — or as a dense row-major n×n matrix.
public struct Quadratic: Sendable {
  public enum Hessian: Sendable, Equatable {
    /// A = diag(values).
    case diagonal([Double])
    /// A dense symmetric matrix, row-major n×n.
    case dense([Double])
  }

  public let hessian: Hessian
  public let b: [Double]
  public let dimension: Int

  /// A = diag(eigenvalues), b = 0 unless given.
  /// - Throws: `QuadraticError` if the list is empty, an entry is not finite, or b has the wrong length.
  public init(eigenvalues: [Double], b: [Double]? = nil) throws {
    guard !eigenvalues.isEmpty else { throw QuadraticError("no eigenvalues given: expected at least one") }
    if let bad = eigenvalues.first(where: { !$0.isFinite }) {
      throw QuadraticError("eigenvalue \(bad) is not a finite number")
    }
    try self.init(hessian: .diagonal(eigenvalues), n: eigenvalues.count, b: b)
  }

  /// A dense symmetric A given by rows.
  /// - Throws: `QuadraticError` if A is empty or not square, an entry is not
  ///   finite, A is not symmetric (|Aᵢⱼ − Aⱼᵢ| > 1e-12·max|A|), or b has the wrong length.
  public init(matrix rows: [[Double]], b: [Double]? = nil) throws {
    let n = rows.count
    guard n > 0 else { throw QuadraticError("the matrix is empty: expected an n×n symmetric matrix, n ≥ 1") }
    for (i, row) in rows.enumerated() where row.count != n {
      throw QuadraticError("matrix row \(i) has \(row.count) entries: expected \(n) (a square n×n matrix)")
    }
    try self.init(flat: rows.flatMap { $0 }, n: n, b: b)
  }

  /// A dense symmetric A, row-major n×n (see `init(matrix:b:)`).
  public init(flat a: [Double], n: Int, b: [Double]? = nil) throws {
    guard n <= Self.maximumDenseDimension else {
      throw QuadraticError("the matrix is \(n)×\(n): at most \(Self.maximumDenseDimension)×\(Self.maximumDenseDimension) (a dense A costs n³ per eigendecomposition)")
    }
    guard n > 0, a.count == n * n else {
      throw QuadraticError("the matrix has \(a.count) entries: expected \(n)×\(n) = \(n * n)")
    }
    if let k = a.firstIndex(where: { !$0.isFinite }) {
      throw QuadraticError("matrix entry (\(k / n), \(k % n)) = \(a[k]) is not a finite number")
    }
    let scale = a.map(abs).max() ?? 0
    for i in 0..<n {
      for j in (i + 1)..<max(i + 1, n) where abs(a[i * n + j] - a[j * n + i]) > 1e-12 * scale {
        throw QuadraticError(
          "the matrix is not symmetric: entry (\(i), \(j)) = \(a[i * n + j]) but (\(j), \(i)) = \(a[j * n + i])")
      }
    }
    try self.init(hessian: .dense(a), n: n, b: b)
  }

  private init(hessian: Hessian, n: Int, b: [Double]?) throws {
    if let b {
      guard b.count == n else { throw QuadraticError("b has \(b.count) entries: expected \(n), the size of the matrix") }
      if let bad = b.first(where: { !$0.isFinite }) { throw QuadraticError("b has entry \(bad): expected finite numbers") }
    }
    self.hessian = hessian
    self.dimension = n
    self.b = b ?? [Double](repeating: 0, count: n)
  }

  /// Largest size of `randomSPD`: its Gram–Schmidt construction takes about 2n³
  /// flops in plain Swift loops (about 2 s at n = 1000 on this project's machines).
  public static let maximumRandomDimension = 1000

  /// A seeded random symmetric positive definite A = Q diag(λ) Qᵀ of size n with
  /// condition number κ: λᵢ = κ^{i/(n−1)}, geometrically spaced from 1 to κ, and Q
  /// orthogonal, from Gram–Schmidt (applied twice) on a matrix of N(0, 1) entries
  /// drawn from `SeededGenerator(seed:)`. Same seed, same matrix.
  /// - Throws: `QuadraticError` for n outside 1…`maximumRandomDimension`, κ < 1 or not
  ///   finite, or n = 1 with κ ≠ 1.
  public static func randomSPD(dimension n: Int, condition kappa: Double, seed: UInt64) throws -> Quadratic {
    guard n >= 1, n <= maximumRandomDimension else {
      throw QuadraticError("invalid --random-spd \(n): expected a size in 1…\(maximumRandomDimension) (the construction costs n³)")
    }
    guard kappa.isFinite, kappa >= 1 else { throw QuadraticError("invalid --condition \(kappa): expected a finite number ≥ 1") }
    guard n > 1 || kappa == 1 else { throw QuadraticError("invalid --condition \(kappa): a 1×1 matrix has condition number 1") }
    let lambdas = (0..<n).map { n == 1 ? 1 : pow(kappa, Double($0) / Double(n - 1)) }
    var rng = SeededGenerator(seed: seed)
    // Columns q_j of Q, stored as rows of `cols`.
    var cols = [[Double]]()
    while cols.count < n {
      var v = (0..<n).map { _ in rng.nextNormal() }
      for _ in 0..<2 {
        for q in cols {
          let d = zip(q, v).reduce(0) { $0 + $1.0 * $1.1 }
          for k in 0..<n { v[k] -= d * q[k] }
        }
      }
      let norm = v.reduce(0) { $0 + $1 * $1 }.squareRoot()
      guard norm > 1e-8 else { continue }  // (probability 0) a dependent draw: draw again
      cols.append(v.map { $0 / norm })
    }
    var a = [Double](repeating: 0, count: n * n)
    for i in 0..<n {
      for j in i..<n {
        var s = 0.0
        for k in 0..<n { s += cols[k][i] * lambdas[k] * cols[k][j] }
        a[i * n + j] = s
        a[j * n + i] = s
      }
    }
    return try Quadratic(flat: a, n: n)
  }

  // MARK: Evaluation

  /// Ax.
  public func apply(_ x: [Double]) -> [Double] {
    precondition(x.count == dimension, "apply: x must have \(dimension) entries")
    switch hessian {
    case let .diagonal(d): return zip(d, x).map { $0 * $1 }
    case let .dense(a):
      var y = [Double](repeating: 0, count: dimension)
      BLAS.gemv(m: dimension, n: dimension, a: a, x: x, y: &y)
      return y
    }
  }

  /// ∇f(x) = Ax + b.
  public func gradient(_ x: [Double]) -> [Double] { zip(apply(x), b).map { $0 + $1 } }

  /// f(x) = ½xᵀAx + bᵀx.
  public func loss(_ x: [Double]) -> Double {
    let ax = apply(x)
    var s = 0.0
    for i in 0..<dimension { s += 0.5 * x[i] * ax[i] + b[i] * x[i] }
    return s
  }

  /// The spectrum of P^{-1/2}AP^{-1/2} (= that of P⁻¹A) for a positive diagonal P
  /// (P = I when nil): eigenvalues ascending and the unit eigenvector of the
  /// largest, with its largest-magnitude entry made positive (eigenvectors have no
  /// sign of their own).
  /// - Complexity: O(n) for diagonal A, one symmetric eigendecomposition (O(n³)) for dense A.
  public func preconditionedSpectrum(_ p: [Double]?) throws -> (values: [Double], top: [Double]) {
    let n = dimension
    if let p {
      precondition(p.count == n, "preconditionedSpectrum: P must have \(n) entries")
    }
    switch hessian {
    case let .diagonal(d):
      let values = (0..<n).map { d[$0] / (p?[$0] ?? 1) }
      var imax = 0
      for i in 1..<max(n, 1) where values[i] > values[imax] { imax = i }
      var top = [Double](repeating: 0, count: n)
      top[imax] = 1
      return (values.sorted(), top)
    case let .dense(a):
      var m = a
      if let p {
        let s = p.map { 1 / $0.squareRoot() }
        for i in 0..<n { for j in 0..<n { m[i * n + j] *= s[i] * s[j] } }
      }
      let (values, vectors) = try Eigen.symmetric(m, n: n, vectors: true)
      guard let v = vectors else { throw QuadraticError("the eigensolver returned no eigenvectors") }
      var top = (0..<n).map { v[$0 * n + (n - 1)] }
      if let k = top.indices.max(by: { abs(top[$0]) < abs(top[$1]) }), top[k] < 0 { top = top.map { -$0 } }
      return (values, top)
    }
  }
}

// MARK: - Reading a Hessian from a file

extension Quadratic {
  /// Largest dimension of a dense A (from a file or `randomSPD`): 2000, i.e. 32 MB of
  /// doubles and one symmetric eigendecomposition of about a second per change of P.
  public static let maximumDenseDimension = 2000

  /// Reads A (and optionally b) from a file: JSON `{"matrix": [[...], ...], "b": [...]}`
  /// or a 2-D NumPy `.npy` array (little-endian float64 or float32, C or Fortran order).
  /// A file is read as .npy when it starts with the .npy magic or its name ends in
  /// `.npy`, else as JSON.
  /// - Throws: `QuadraticError` naming the file for an unreadable file, a malformed
  ///   document, or a matrix that `init(matrix:b:)` rejects.
  public static func load(path: String) throws -> Quadratic {
    let data: Data
    // The largest JSON document a 2000 × 2000 matrix needs is ~100 MB of text.
    do { data = try InputFile.read(path, what: "the Hessian file", limit: 1 << 30) } catch {
      throw QuadraticError(error.description + " (expected a 2-D .npy array or JSON {\"matrix\": [[...], ...]})")
    }
    if data.starts(with: [0x93] + Array("NUMPY".utf8)) || path.lowercased().hasSuffix(".npy") {
      let (values, rows, cols) = try NPY.read(data, path: path)
      guard rows == cols else { throw QuadraticError("\(path): the array is \(rows)×\(cols): expected a square matrix") }
      do { return try Quadratic(flat: values, n: rows) } catch let e as QuadraticError {
        throw QuadraticError("\(path): \(e.description)")
      }
    }
    struct File: Decodable {
      var matrix: [[Double]]
      var b: [Double]?
    }
    let file: File
    do { file = try JSONDecoder().decode(File.self, from: data) } catch {
      throw QuadraticError(
        "\(path): not a 2-D .npy array and not JSON of the form {\"matrix\": [[...], ...], \"b\": [...]} (\(Self.describe(error)))")
    }
    guard file.matrix.count <= maximumDenseDimension else {
      throw QuadraticError("\(path): the matrix has \(file.matrix.count) rows: at most \(maximumDenseDimension) (a dense A costs n³ per eigendecomposition)")
    }
    do { return try Quadratic(matrix: file.matrix, b: file.b) } catch let e as QuadraticError {
      throw QuadraticError("\(path): \(e.description)")
    }
  }

  static func describe(_ error: any Error) -> String {
    switch error as? DecodingError {
    case let .keyNotFound(key, _): "missing key \"\(key.stringValue)\""
    case let .typeMismatch(_, ctx): "wrong type at \(ctx.codingPath.map(\.stringValue).joined(separator: ".")): \(ctx.debugDescription)"
    case let .valueNotFound(_, ctx): "missing value at \(ctx.codingPath.map(\.stringValue).joined(separator: "."))"
    case let .dataCorrupted(ctx):
      ctx.codingPath.isEmpty ? "malformed JSON: \(ctx.debugDescription)" : "bad value at \(ctx.codingPath.map(\.stringValue).joined(separator: ".")): \(ctx.debugDescription)"
    default: "\(error)"
    }
  }
}

/// A minimal reader of NumPy's .npy format (version 1–3 headers) for 2-D real arrays.
/// Nothing in the header is trusted: the version, the header length, the element type
/// and every dimension are checked, the element count is computed with overflow checks
/// and held against `Quadratic.maximumDenseDimension` and the bytes that follow.
enum NPY {
  static func read(_ data: Data, path: String) throws -> (values: [Double], rows: Int, cols: Int) {
    let bytes = [UInt8](data)
    func fail(_ why: String) -> QuadraticError { QuadraticError("\(path): unreadable .npy file: \(why)") }
    guard bytes.starts(with: [0x93] + Array("NUMPY".utf8)) else {
      throw fail("it does not start with the .npy magic \\x93NUMPY (is it a .npy file?)")
    }
    guard bytes.count >= 10 else { throw fail("truncated header (\(bytes.count) bytes)") }
    let major = bytes[6]
    let headerLength: Int
    let start: Int
    switch major {
    case 1:
      headerLength = Int(bytes[8]) | Int(bytes[9]) << 8
      start = 10
    case 2, 3:
      guard bytes.count >= 12 else { throw fail("truncated header (\(bytes.count) bytes)") }
      headerLength = (0..<4).reduce(0) { $0 | Int(bytes[8 + $1]) << (8 * $1) }
      start = 12
    default:
      throw fail("format version \(major).\(bytes[7]): expected 1, 2 or 3")
    }
    guard bytes.count - start >= headerLength else {
      throw fail("the header says it is \(headerLength) bytes long but the file has \(bytes.count - start) after the preamble")
    }
    guard let header = String(bytes: bytes[start..<(start + headerLength)], encoding: .utf8) else { throw fail("header is not text") }
    func field(_ key: String) -> String? {
      guard let r = header.range(of: "'\(key)':") else { return nil }
      return String(header[r.upperBound...]).trimmingCharacters(in: .whitespaces)
    }
    guard let descrField = field("descr"), let q1 = descrField.firstIndex(of: "'") else { throw fail("no 'descr' in the header") }
    let afterQuote = descrField[descrField.index(after: q1)...]
    guard let q2 = afterQuote.firstIndex(of: "'") else { throw fail("malformed 'descr'") }
    let descr = String(afterQuote[..<q2])
    let fortran = field("fortran_order")?.hasPrefix("True") ?? false
    guard let shapeField = field("shape"), let open = shapeField.firstIndex(of: "("), let close = shapeField.firstIndex(of: ")"), open < close else {
      throw fail("no 'shape' in the header")
    }
    let entries = shapeField[shapeField.index(after: open)..<close].split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
      .filter { !$0.isEmpty }
    var dims: [Int] = []
    for e in entries {
      guard let d = Int(e), d >= 0 else { throw fail("shape entry \(e) in (\(entries.joined(separator: ", "))): expected a non-negative integer") }
      dims.append(d)
    }
    guard dims.count == 2 else { throw fail("the array has shape (\(entries.joined(separator: ", "))): expected a 2-D matrix") }
    let (rows, cols) = (dims[0], dims[1])
    let limit = Quadratic.maximumDenseDimension
    guard rows <= limit, cols <= limit else { throw fail("the array is \(rows)×\(cols): at most \(limit)×\(limit) (a dense A costs n³ per eigendecomposition)") }
    let width: Int
    switch descr {
    case "<f8", "=f8": width = 8
    case "<f4", "=f4": width = 4
    default: throw fail("element type '\(descr)': expected little-endian float64 ('<f8') or float32 ('<f4')")
    }
    let body = start + headerLength
    let count = rows * cols  // ≤ 2000², no overflow
    guard bytes.count - body >= count * width else {
      throw fail("the data holds \(bytes.count - body) bytes: expected \(rows)×\(cols) values of \(width) bytes = \(count * width)")
    }
    var values = [Double](repeating: 0, count: count)
    for k in 0..<count {
      var bits: UInt64 = 0
      for j in 0..<width { bits |= UInt64(bytes[body + k * width + j]) << (8 * UInt64(j)) }
      let v = width == 8 ? Double(bitPattern: bits) : Double(Float(bitPattern: UInt32(truncatingIfNeeded: bits)))
      // Fortran order stores column by column.
      let (i, j) = fortran ? (k % rows, k / rows) : (k / cols, k % cols)
      values[i * cols + j] = v
    }
    return (values, rows, cols)
  }
}
