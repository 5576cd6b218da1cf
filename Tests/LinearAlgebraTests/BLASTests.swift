import COpenBLAS
import Foundation
import PropertyBased
import Testing

@testable import LinearAlgebra

/// C ← α·op(A)·op(B) + β·C₀ by BLAS, against the triple loop in Double.
///
/// Standard bound for a length-k dot product: |fl(x·y) − x·y| ≤ γ_k|x|·|y| with
/// γ_k ≈ kε (FMA or blocking only lowers it). With the α scale and the β·C₀ term
/// added, each entry is within (k + 2)ε·(|α|(|A||B|)ᵢⱼ + |β||C₀ᵢⱼ|). The Double
/// reference has its own error of the same size for T = Double (negligible for
/// Float), so we allow twice that, plus a factor 2 margin: 4(k + 2)ε_T·(…). Results
/// in the subnormal range (tiny α or β) have an absolute error of up to half the
/// subnormal spacing per operation, added as 4(k + 2)·leastNonzeroMagnitude.
private func checkGemm<T: BLASScalar>(
  _: T.Type, m: Int, n: Int, k: Int, ta: Bool, tb: Bool, alpha: Double, beta: Double, seed: UInt64
) {
  var g = SeededGenerator(seed: seed)
  let a = (0..<(m * k)).map { _ in T(g.nextNormal()) }
  let b = (0..<(k * n)).map { _ in T(g.nextNormal()) }
  let c0 = (0..<(m * n)).map { _ in T(g.nextNormal()) }
  // Stored A is m×k, or k×m when transposed; likewise B.
  func opA(_ i: Int, _ l: Int) -> Double { Double(ta ? a[l * m + i] : a[i * k + l]) }
  func opB(_ l: Int, _ j: Int) -> Double { Double(tb ? b[j * k + l] : b[l * n + j]) }
  var c = c0
  a.withUnsafeBufferPointer { pa in
    b.withUnsafeBufferPointer { pb in
      c.withUnsafeMutableBufferPointer { pc in
        BLAS.gemm(
          ta ? .transposed : .none, tb ? .transposed : .none, m: m, n: n, k: k,
          alpha: T(alpha), a: pa, b: pb, beta: T(beta), c: pc)
      }
    }
  }
  let eps = Double(T.ulpOfOne)
  for i in 0..<m {
    for j in 0..<n {
      var exact = 0.0
      var magnitude = 0.0
      for l in 0..<k {
        exact += opA(i, l) * opB(l, j)
        magnitude += abs(opA(i, l) * opB(l, j))
      }
      let cij = Double(c0[i * n + j])
      let expected = Double(T(alpha)) * exact + Double(T(beta)) * cij
      let bound = 4 * Double(k + 2) * (eps * (abs(alpha) * magnitude + abs(beta) * abs(cij)) + Double(T.leastNonzeroMagnitude))
      #expect(abs(Double(c[i * n + j]) - expected) <= bound, "C[\(i)][\(j)] of \(m)×\(n)×\(k), \(T.self)")
    }
  }
}

@Suite struct BLASTests {
  @Test func gemmDoubleMatchesTripleLoop() async {
    await propertyCheck(
      count: 60, input: Gen.int(in: 1...24).array(of: 3), Gen.bool.array(of: 2),
      Gen.double(in: -2...2).array(of: 2), Gen.uint64(in: 0...UInt64.max)
    ) { shape, t, coefficients, seed in
      checkGemm(
        Double.self, m: shape[0], n: shape[1], k: shape[2], ta: t[0], tb: t[1],
        alpha: coefficients[0], beta: coefficients[1], seed: seed)
    }
  }

  @Test func gemmFloatMatchesTripleLoop() async {
    await propertyCheck(
      count: 60, input: Gen.int(in: 1...24).array(of: 3), Gen.bool.array(of: 2),
      Gen.double(in: -2...2).array(of: 2), Gen.uint64(in: 0...UInt64.max)
    ) { shape, t, coefficients, seed in
      checkGemm(
        Float.self, m: shape[0], n: shape[1], k: shape[2], ta: t[0], tb: t[1],
        alpha: coefficients[0], beta: coefficients[1], seed: seed)
    }
  }

  /// Small-integer products are exact in floating point.
  @Test func matmulSmallExact() {
    #expect(BLAS.matmul([1.0, 2, 3, 4], [5.0, 6, 7, 8], m: 2, n: 2, k: 2) == [19, 22, 43, 50])
    #expect(BLAS.matmul([1.0, 2, 3, 4], [5.0, 6, 7, 8], m: 2, n: 2, k: 2, transposeA: true) == [26, 30, 38, 44])
  }

  /// Level-1 routines on small-integer vectors (exact in floating point, except
  /// nrm2's square root).
  @Test func levelOneExact() async {
    await propertyCheck(count: 50, input: Gen.int(in: -50...50).array(of: 0...20), Gen.int(in: -4...4)) { xs, s in
      let x = xs.map(Double.init)
      let y = x.reversed().map { $0 + 1 }
      #expect(BLAS.dot(x, y) == zip(x, y).reduce(0) { $0 + $1.0 * $1.1 })
      var z = y
      BLAS.axpy(Double(s), x, &z)
      #expect(z == zip(x, y).map { Double(s) * $0 + $1 })
      var w = x
      BLAS.scal(Double(s), &w)
      #expect(w == x.map { Double(s) * $0 })
      // ‖x‖₂ is computed with scaling, so allow a few ulps: 4nε relative.
      let norm = x.reduce(0) { $0 + $1 * $1 }.squareRoot()
      #expect(abs(BLAS.nrm2(x) - norm) <= 4 * Double(max(x.count, 1)) * Double.ulpOfOne * norm)
    }
  }
}

@Suite struct BLASInfoTests {
  /// `cblas_dgemm` and `cblas_sgemm` resolve to OpenBLAS, not GSL's reference
  /// `libgslcblas` (which Debian's gsl.pc would also link).
  @Test func cblasBindsToOpenBLAS() throws {
    let double = try #require(BLASInfo.cblasLibraryPath)
    let single = try #require(BLASInfo.cblasSingleLibraryPath)
    #expect(double.lowercased().contains("openblas"), "cblas_dgemm is in \(double)")
    #expect(single.lowercased().contains("openblas"), "cblas_sgemm is in \(single)")
    #expect(!double.contains("gslcblas") && !single.contains("gslcblas"))
    // The lookup the dynamic linker does for the process agrees.
    let looked = try #require(BLASInfo.libraryPath(ofSymbol: "cblas_dgemm"))
    #expect(looked.lowercased().contains("openblas"), "dlsym finds cblas_dgemm in \(looked)")
    // libgsl itself is loaded (its symbols resolve), without its CBLAS winning.
    #expect(BLASInfo.libraryPath(ofSymbol: "gsl_poly_complex_solve")?.contains("libgsl") == true)
  }

  @Test func openBLASReportsItself() throws {
    let config = try #require(BLASInfo.openBLASConfig)
    #expect(config.contains("OpenBLAS"))
    #expect(BLASInfo.threads >= 1)
    #expect(BLASInfo.cpuName?.isEmpty == false)
    #expect(BLASInfo.libraryPath(ofSymbol: "no_such_symbol_aeos_0xdeadbeef") == nil)
    // LAPACK is loaded (through liblapacke) and found by its Fortran symbol.
    #expect(BLASInfo.lapackLibraryPath?.contains("lapack") == true || BLASInfo.lapackLibraryPath?.contains("openblas") == true)
  }

  /// OpenBLAS runs kernels that use the CPU's vector units: never its SSE3
  /// "Prescott" fallback on a CPU with AVX2 + FMA (Debian 12's OpenBLAS falls back
  /// on CPUs newer than itself; `CBLASRuntime` mends that at load). A user's
  /// `OPENBLAS_CORETYPE` is kept, so the test only asserts where none is set.
  @Test func openBLASUsesTheCPUsVectorUnits() {
    let core = BLASInfo.coreSelection
    #expect(core.selected == BLASInfo.cpuName)
    #expect(["avx512", "avx2", "avx", "sse", "other"].contains(core.cpuLevel))
    guard ProcessInfo.processInfo.environment["OPENBLAS_CORETYPE"] == nil else { return }
    if core.cpuLevel == "avx512" || core.cpuLevel == "avx2" {
      #expect(core.selected != "Prescott", "\(core.summary) on a CPU with \(core.cpuLevel)")
    }
    #expect(core.replaced == (core.detected != core.selected))
    // The mended selection must not leak into child processes' environment.
    #expect(ProcessInfo.processInfo.environment["OPENBLAS_CORETYPE"] == nil)
  }

  /// Inside a single-threaded scope OpenBLAS runs on one thread, nested scopes
  /// included; GEMMs made from several threads at once there stay exact. (That the
  /// count comes back afterwards is not asserted: tests run in parallel, and another
  /// test's scope may be open.)
  @Test func singleThreadedScopes() async {
    let n = 64
    var rng = SeededGenerator(seed: 7)
    let a = (0..<(n * n)).map { _ in Double(rng.nextUniform()) }
    let b = (0..<(n * n)).map { _ in Double(rng.nextUniform()) }
    BLASInfo.withSingleThreadedBLAS {
      let reference = BLAS.matmul(a, b, m: n, n: n, k: n)
      #expect(BLASInfo.threads == 1)
      BLASInfo.withSingleThreadedBLAS { #expect(BLASInfo.threads == 1) }
      #expect(BLASInfo.threads == 1)
      let results = UnsafeMutableBufferPointer<Double>.allocate(capacity: 4 * n * n)
      defer { results.deallocate() }
      let box = UncheckedSendable(results)
      DispatchQueue.concurrentPerform(iterations: 4) { k in
        let c = BLAS.matmul(a, b, m: n, n: n, k: n)
        for i in 0..<(n * n) { box.value[k * n * n + i] = c[i] }
      }
      // The same operands on one thread each: bitwise equal to the single-threaded reference.
      for k in 0..<4 { #expect(Array(results[(k * n * n)..<((k + 1) * n * n)]) == reference) }
    }
  }
}

private struct UncheckedSendable<V>: @unchecked Sendable {
  let value: V
  init(_ value: V) { self.value = value }
}
