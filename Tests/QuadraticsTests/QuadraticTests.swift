import Foundation
import LinearAlgebra
import Optimizers
import PropertyBased
import TestSupport
import Quadratics
import Testing

@Suite struct QuadraticTests {
  @Test func randomSPDHasTheRequestedSpectrum() async throws {
    await propertyCheckThrowing(count: 30, input: Gen.int(in: 2...12), Gen.double(in: 1...1e4), Gen.int(in: 0...Int(Int32.max))) { n, kappa, seed in
      let q = try Quadratic.randomSPD(dimension: n, condition: kappa, seed: UInt64(seed))
      let values = try q.preconditionedSpectrum(nil).values
      // Eigenvalues 1 … κ geometrically; LAPACK is accurate to ~1e-15·κ absolute.
      for (i, v) in values.enumerated() {
        let expected = pow(kappa, Double(i) / Double(n - 1))
        #expect(abs(v - expected) <= 1e-11 * kappa)
      }
      // Same seed, same matrix.
      let again = try Quadratic.randomSPD(dimension: n, condition: kappa, seed: UInt64(seed))
      #expect(again.hessian == q.hessian)
    }
  }

  @Test func lossAndGradient() async throws {
    await propertyCheckThrowing(count: 40, input: Gen.double(in: -3...3).array(of: 9), Gen.double(in: -2...2).array(of: 3), Gen.double(in: -2...2).array(of: 3)) { m, b, x in
      // Symmetrise a random 3×3.
      var rows = [[Double]](repeating: [0, 0, 0], count: 3)
      for i in 0..<3 { for j in 0..<3 { rows[i][j] = (m[i * 3 + j] + m[j * 3 + i]) / 2 } }
      let q = try Quadratic(matrix: rows, b: b)
      var expected = 0.0
      var grad = b
      for i in 0..<3 {
        expected += b[i] * x[i]
        for j in 0..<3 {
          expected += 0.5 * x[i] * rows[i][j] * x[j]
          grad[i] += rows[i][j] * x[j]
        }
      }
      // A few dozen O(10) terms: 1e-12 absolute.
      #expect(abs(q.loss(x) - expected) < 1e-12)
      for i in 0..<3 { #expect(abs(q.gradient(x)[i] - grad[i]) < 1e-12) }
    }
  }

  /// λ₁(P⁻¹A) of a diagonal and of the same dense matrix agree.
  @Test func preconditionedSharpnessDiagonalVersusDense() async throws {
    await propertyCheckThrowing(count: 40, input: Gen.double(in: 0.1...10).array(of: 1...6), Gen.double(in: 0.1...5).array(of: 6)) { d, pAll in
      let n = d.count
      let p = Array(pAll.prefix(n))
      let diag = try Quadratic(eigenvalues: d)
      var rows = [[Double]](repeating: [Double](repeating: 0, count: n), count: n)
      for i in 0..<n { rows[i][i] = d[i] }
      let dense = try Quadratic(matrix: rows)
      let a = try diag.preconditionedSpectrum(p), b = try dense.preconditionedSpectrum(p)
      // LAPACK on a diagonal matrix: exact up to ~1e-15 relative.
      #expect(maxAbsDifference(a.values, b.values) < 1e-12 * (a.values.last ?? 1))
      #expect(maxAbsDifference(a.top, b.top) < 1e-9 || zip(d, p).map { $0 / $1 }.sorted().suffix(2).count < 2)
    }
  }

  // MARK: Bad input

  @Test func badMatrices() {
    #expect(throws: QuadraticError.self) { try Quadratic(matrix: [[1, 2], [3, 1]]) }
    #expect(throws: QuadraticError.self) { try Quadratic(matrix: [[1, 2], [2]]) }
    #expect(throws: QuadraticError.self) { try Quadratic(matrix: []) }
    #expect(throws: QuadraticError.self) { try Quadratic(matrix: [[1, .nan], [.nan, 1]]) }
    #expect(throws: QuadraticError.self) { try Quadratic(matrix: [[1]], b: [1, 2]) }
    #expect(throws: QuadraticError.self) { try Quadratic(eigenvalues: []) }
    #expect(throws: QuadraticError.self) { try Quadratic(eigenvalues: [.infinity]) }
    #expect(throws: QuadraticError.self) { try Quadratic.randomSPD(dimension: 0, condition: 2, seed: 1) }
    #expect(throws: QuadraticError.self) { try Quadratic.randomSPD(dimension: 3, condition: 0.5, seed: 1) }
    do {
      _ = try Quadratic(matrix: [[1, 2], [3, 1]])
    } catch {
      #expect("\(error)".contains("not symmetric") && "\(error)".contains("(0, 1)"))
    }
  }

  @Test func badSimulationSettings() throws {
    let q = try Quadratic(eigenvalues: [1, 2])
    let adam = try Optimizer(.adam, Hyperparameters(lr: 0.1), parameterCount: 2)
    #expect(throws: QuadraticError.self) { try q.simulate(adam, SimulationSettings(steps: 10, x0: [1])) }
    #expect(throws: QuadraticError.self) { try q.simulate(adam, SimulationSettings(steps: -1, x0: [1, 1])) }
    #expect(throws: QuadraticError.self) { try q.simulate(adam, SimulationSettings(steps: 1, x0: [1, 1], secondMoment0: [-1, 1])) }
    let wrongSize = try Optimizer(.adam, Hyperparameters(lr: 0.1), parameterCount: 3)
    #expect(throws: QuadraticError.self) { try q.simulate(wrongSize, SimulationSettings(steps: 1, x0: [1, 1])) }
  }

  // MARK: Files

  static func temporaryFile(_ name: String, _ data: Data) throws -> String {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("aeos-quadratics-\(UUID().uuidString)-\(name)").path
    try data.write(to: URL(fileURLWithPath: path))
    return path
  }

  /// A .npy file written byte by byte from the format's specification.
  static func npy(_ values: [Double], rows: Int, cols: Int, fortran: Bool = false, float32: Bool = false) -> Data {
    var header = "{'descr': '\(float32 ? "<f4" : "<f8")', 'fortran_order': \(fortran ? "True" : "False"), 'shape': (\(rows), \(cols)), }"
    while (10 + header.utf8.count + 1) % 64 != 0 { header += " " }
    header += "\n"
    var d = Data([0x93] + Array("NUMPY".utf8) + [1, 0])
    let len = UInt16(header.utf8.count)
    d.append(contentsOf: [UInt8(len & 0xff), UInt8(len >> 8)])
    d.append(contentsOf: Array(header.utf8))
    var order: [Double] = []
    for k in 0..<(rows * cols) {
      order.append(fortran ? values[(k % rows) * cols + k / rows] : values[k])
    }
    for v in order {
      if float32 {
        withUnsafeBytes(of: Float(v).bitPattern.littleEndian) { d.append(contentsOf: $0) }
      } else {
        withUnsafeBytes(of: v.bitPattern.littleEndian) { d.append(contentsOf: $0) }
      }
    }
    return d
  }

  @Test func readsJSONAndNpy() throws {
    let json = try Self.temporaryFile("a.json", Data(#"{"matrix": [[2, 1], [1, 3]], "b": [1, -1]}"#.utf8))
    let q = try Quadratic.load(path: json)
    #expect(q.hessian == .dense([2, 1, 1, 3]) && q.b == [1, -1])
    let m: [Double] = [4, 1, 0, 1, 5, 2, 0, 2, 6]
    for (fortran, f32) in [(false, false), (true, false), (false, true)] {
      let path = try Self.temporaryFile("a.npy", Self.npy(m, rows: 3, cols: 3, fortran: fortran, float32: f32))
      #expect(try Quadratic.load(path: path).hessian == .dense(m))
    }
  }

  @Test func badFiles() throws {
    #expect(throws: QuadraticError.self) { try Quadratic.load(path: "/nonexistent/aeos/matrix.json") }
    let notJSON = try Self.temporaryFile("x.json", Data("matrix".utf8))
    #expect(throws: QuadraticError.self) { try Quadratic.load(path: notJSON) }
    let noMatrix = try Self.temporaryFile("y.json", Data(#"{"b": [1]}"#.utf8))
    #expect(throws: QuadraticError.self) { try Quadratic.load(path: noMatrix) }
    let asym = try Self.temporaryFile("z.json", Data(#"{"matrix": [[1, 2], [0, 1]]}"#.utf8))
    do {
      _ = try Quadratic.load(path: asym)
      Issue.record("accepted a non-symmetric matrix")
    } catch {
      #expect("\(error)".contains(asym) && "\(error)".contains("symmetric"))
    }
    let oneD = try Self.temporaryFile("v.npy", Self.npy([1, 2, 3], rows: 1, cols: 3))
    #expect(throws: QuadraticError.self) { try Quadratic.load(path: oneD) }
    var truncated = Self.npy([1, 2, 3, 4], rows: 2, cols: 2)
    truncated.removeLast(8)
    let t = try Self.temporaryFile("t.npy", truncated)
    #expect(throws: QuadraticError.self) { try Quadratic.load(path: t) }
  }
}

func maxAbsDifference(_ a: [Double], _ b: [Double]) -> Double {
  zip(a, b).map { abs($0 - $1) }.max() ?? 0
}
