import Dynamics
import LinearAlgebra
import PropertyBased
import TestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// One step of each built-in on the 1-D quadratic ½λx², written out by hand (not
/// through the rule language), so the theory is checked against an independent
/// implementation of the update.
func step(_ method: BuiltinMethod, _ x: inout Double, _ m: inout Double, lr: Double, beta: Double, lambda: Double) {
  let g = lambda * x
  switch method {
  case .gd: x -= lr * g
  case .hb: m = beta * m + g; x -= lr * m
  case .emaHB: m = beta * m + (1 - beta) * g; x -= lr * m
  case .nesterov: m = beta * m + g; x -= lr * (beta * m + g)
  case .emaNesterov: m = beta * m + (1 - beta) * g; x -= lr * (beta * m + (1 - beta) * g)
  }
}

/// Runs `steps` iterations with renormalisation and returns the mean log growth of
/// ‖(x, m)‖ per step over the second half.
func empiricalLogRate(_ method: BuiltinMethod, lr: Double, beta: Double, lambda: Double, x0: Double, m0: Double, steps: Int) -> Double {
  var x = x0, m = m0
  var logNorm = 0.0
  var logAtHalf = 0.0
  for t in 1...steps {
    step(method, &x, &m, lr: lr, beta: beta, lambda: lambda)
    let n = (x * x + m * m).squareRoot()
    logNorm += log(n)
    x /= n
    m /= n
    if t == steps / 2 { logAtHalf = logNorm }
  }
  return (logNorm - logAtHalf) / Double(steps - steps / 2)
}


@Suite struct LemmaTests {
  /// Lemma 2 (EMA heavy ball) and Lemma 1 (EMA Nesterov): above the threshold
  /// (1.05–2×) the iteration diverges at rate ρ(λ); below it (0.1–0.95×) it converges.
  ///
  /// Margins: the number of steps is chosen from the second root so that its share
  /// of the state is below 1e-8 of the dominant one after the first half, so the
  /// measured rate matches ρ to ~1e-8/steps; the tolerance 1e-6 leaves a wide margin.
  /// Below the threshold the run is long enough that ρ^N < 1e-10 and the check is
  /// ‖s_N‖ < 1e-4 ‖s_0‖, a 10⁶ margin for transient (non-normal) amplification.
  @Test(arguments: [BuiltinMethod.emaHB, .emaNesterov, .hb, .nesterov, .gd])
  func divergesAboveConvergesBelow(_ method: BuiltinMethod) async {
    await propertyCheck(
      count: 40, input: Gen.double(in: 1e-3...1), Gen.double(in: 0...0.9), Gen.double(in: 1.05...2), Gen.double(in: 0.1...0.95),
      Gen.double(in: -1...1)
    ) { lr, beta, above, below, m0Drawn in
      let m0 = method == .gd ? 0 : m0Drawn  // gd has no momentum state
      let rec = Recurrence.builtin(method, beta: beta)
      guard let t = try? rec.threshold(lr: lr) else {
        Issue.record("no threshold")
        return
      }
      // above: diverges at rate ρ
      let lambdaUp = above * t
      guard let rho = try? rec.growthFactor(eigenvalue: lambdaUp, lr: lr),
        let model = try? RuleCache.model(for: rec.rule)
      else {
        Issue.record("no growth factor")
        return
      }
      let analysis = try? StabilityAnalysis(model: model, values: ["eta": lr, "beta": beta])
      let coefficients = analysis?.numeric.polynomial(at: lambdaUp) ?? []
      let roots = ((try? Polynomials.roots(coefficients)) ?? []).map(\.modulus).sorted(by: >)
      let ratio = roots.count > 1 ? roots[1] / roots[0] : 0
      let logRatio = min(max(log(max(ratio, 1e-300)), -18.4), -1e-4)
      let steps = min(200_000, max(400, Int((2 * (-18.4 / logRatio)).rounded(.up))))
      let rate = empiricalLogRate(method, lr: lr, beta: beta, lambda: lambdaUp, x0: 1, m0: m0, steps: steps)
      #expect(rho > 1)
      #expect(abs(rate - log(rho)) < 1e-6, "\(method.rawValue): measured log-rate \(rate), theory \(log(rho)) (ratio \(ratio), steps \(steps))")

      // below: converges
      let lambdaDown = below * t
      guard let rhoDown = try? rec.growthFactor(eigenvalue: lambdaDown, lr: lr), rhoDown < 1 else {
        Issue.record("ρ ≥ 1 below the threshold")
        return
      }
      let n = min(400_000, Int((log(1e-10) / log(rhoDown)).rounded(.up)) + 10)
      var x = 1.0, m = m0
      for _ in 0..<n { step(method, &x, &m, lr: lr, beta: beta, lambda: lambdaDown) }
      let final = (x * x + m * m).squareRoot()
      #expect(final < 1e-4 * (1 + m0 * m0).squareRoot(), "\(method.rawValue): ‖s_N‖ = \(final) after \(n) steps at ρ = \(rhoDown)")
    }
  }

  /// EMA method at η ≡ standard method at η(1 − β): identical iterates when the
  /// EMA buffer starts at (1 − β) times the standard one. Tolerance: relative 1e-9
  /// after 60 steps of a stable-or-mildly-unstable recurrence (round-off only).
  @Test func emaTrajectoryIsStandardTrajectory() async {
    await propertyCheckThrowing(count: 60, input: Gen.double(in: 1e-3...1), Gen.double(in: 0...0.95), Gen.double(in: 0.1...1.5), Gen.double(in: -1...1)) { lr, beta, f, m0 in
      for (ema, std) in [(BuiltinMethod.emaHB, BuiltinMethod.hb), (.emaNesterov, .nesterov)] {
        let t = try Recurrence.builtin(ema, beta: beta).threshold(lr: lr)
        let lambda = f * t
        var xe = 1.0, me = (1 - beta) * m0, xs = 1.0, ms = m0
        for _ in 0..<60 {
          step(ema, &xe, &me, lr: lr, beta: beta, lambda: lambda)
          step(std, &xs, &ms, lr: lr * (1 - beta), beta: beta, lambda: lambda)
        }
        #expect(abs(xe - xs) <= 1e-9 * max(1, abs(xs)))
      }
    }
  }

  /// Proposition 1: preconditioned EMA-HB on f(x) = ½xᵀHx (x ← x − ηP⁻¹m) is EMA-HB
  /// on f(P^{-1/2}y) with y = P^{1/2}x, i.e. on H̃ = P^{-1/2}HP^{-1/2}. Relative
  /// tolerance 1e-9 over 40 steps (round-off in a well-scaled linear map).
  @Test func preconditionedIsChangeOfVariables() async {
    let gen = zip(Gen.int(in: 2...6), Gen.int(in: 0...1_000_000), Gen.double(in: 1e-3...0.5), Gen.double(in: 0...0.95))
    await propertyCheck(count: 40, input: gen) { input in
      let (n, seed, lr, beta) = input
      var rng = SeededGenerator(seed: UInt64(seed))
      // random SPD H = BᵀB/n + 0.1 I, positive diagonal P in [0.2, 5]
      let b = (0..<(n * n)).map { _ in rng.nextNormal() }
      var h = BLAS.matmul(b, b, m: n, n: n, k: n, transposeA: true)
      for i in 0..<(n * n) { h[i] /= Double(n) }
      for i in 0..<n { h[i * n + i] += 0.1 }
      let p = (0..<n).map { _ in 0.2 + 4.8 * rng.nextUniform() }
      let s = p.map { $0.squareRoot() }
      var ht = h
      for i in 0..<n { for j in 0..<n { ht[i * n + j] = h[i * n + j] / (s[i] * s[j]) } }
      var x = (0..<n).map { _ in rng.nextNormal() }
      var m = [Double](repeating: 0, count: n)
      var y = zip(x, s).map { $0 * $1 }
      var mt = [Double](repeating: 0, count: n)
      for _ in 0..<40 {
        let g = BLAS.matmul(h, x, m: n, n: 1, k: n)
        for i in 0..<n { m[i] = beta * m[i] + (1 - beta) * g[i]; x[i] -= lr * m[i] / p[i] }
        let gt = BLAS.matmul(ht, y, m: n, n: 1, k: n)
        for i in 0..<n { mt[i] = beta * mt[i] + (1 - beta) * gt[i]; y[i] -= lr * mt[i] }
      }
      let scale = y.map(abs).max() ?? 1
      for i in 0..<n { #expect(abs(x[i] * s[i] - y[i]) <= 1e-9 * max(1, scale)) }
    }
  }
}
