import LinearAlgebra
import Optimizers
import PropertyBased
import TestSupport
import Testing

@Suite struct AdafactorTests {
  /// If every squared gradient of a matrix block is a multiple of one rank-1
  /// matrix, g²ᵢⱼ = s_t·uᵢvⱼ, the factored estimate RᵢCⱼ/mean(R) equals the full
  /// EMA ν exactly (in exact arithmetic): Adafactor's P equals Adam's.
  @Test func factoredSecondMomentIsExactForRankOne() async throws {
    await propertyCheckThrowing(
      count: 80, input: Gen.double(in: 0.1...3).array(of: 1...4), Gen.double(in: 0.1...3).array(of: 1...4),
      Gen.double(in: 0.01...4).array(of: 1...6), Gen.double(in: 0.5...0.999), Gen.bool()
    ) { u, v, scales, b2, bias in
      let (r, c) = (u.count, v.count)
      let h = Hyperparameters(lr: 0.01, beta2: b2, biasCorrection: bias)
      let factored = try Optimizer(.adafactor, h, layout: try ParameterLayout(shapes: [[r, c], [2]]))
      let full = try Optimizer(.adam, h, parameterCount: r * c + 2)
      var sf = try factored.initialState(as: Double.self)
      var sa = try full.initialState(as: Double.self)
      var xf = [Double](repeating: 1, count: r * c + 2), xa = xf
      for (t, s) in scales.enumerated() {
        var g: [Double] = []
        for i in 0..<r {
          for j in 0..<c {
            let sign: Double = (i + j + t) % 2 == 0 ? 1 : -1
            g.append(sign * (s * u[i] * v[j]).squareRoot())
          }
        }
        g += [s, -2 * s]
        factored.step(parameters: &xf, gradient: g, state: &sf)
        full.step(parameters: &xa, gradient: g, state: &sa)
        let pf = try #require(factored.preconditioner(sf))
        let pa = try #require(full.preconditioner(sa))
        // Row/column means and one division each: a few ulps, 1e-12 relative.
        #expect(maxRelativeError(pf, pa) < 1e-12)
      }
      // It stores r + c numbers for the matrix block, not r·c.
      #expect(sf.rowSecondMoment.count == r && sf.columnSecondMoment.count == c && sf.secondMoment.count == 2)
    }
  }

  /// A convolution kernel [F, C, K, K] is factored as its [out, fan-in] matrix,
  /// F × C·K·K: when g² is rank 1 in that view (gᵢ,ⱼ² = s·uᵢvⱼ with j running over
  /// (c, k₁, k₂)), Adafactor's P equals Adam's; it keeps F row and C·K·K column
  /// statistics. (Factored as (F·C·K) × K, the same g² is not rank 1 and the two
  /// would differ.)
  @Test func convolutionKernelsAreFactoredAsOutByFanIn() async throws {
    await propertyCheckThrowing(
      count: 60, input: Gen.int(in: 1...3), Gen.int(in: 1...3), Gen.int(in: 1...3), Gen.int(in: 0...1_000_000)
    ) { f, c, k, seed in
      var rng = SeededGenerator(seed: UInt64(seed))
      let fanIn = c * k * k
      let u = (0..<f).map { _ in 0.1 + rng.nextUniform() }
      let v = (0..<fanIn).map { _ in 0.1 + rng.nextUniform() }
      let h = Hyperparameters(lr: 0.01)
      let factored = try Optimizer(.adafactor, h, layout: try ParameterLayout(shapes: [[f, c, k, k]]))
      let full = try Optimizer(.adam, h, parameterCount: f * fanIn)
      var (sf, sa) = (try factored.initialState(as: Double.self), try full.initialState(as: Double.self))
      var (xf, xa) = ([Double](repeating: 1, count: f * fanIn), [Double](repeating: 1, count: f * fanIn))
      for t in 0..<3 {
        let s = 1 + Double(t)
        var g: [Double] = []
        for i in 0..<f { for j in 0..<fanIn { g.append((s * u[i] * v[j]).squareRoot()) } }
        factored.step(parameters: &xf, gradient: g, state: &sf)
        full.step(parameters: &xa, gradient: g, state: &sa)
        let pf = try #require(factored.preconditioner(sf))
        let pa = try #require(full.preconditioner(sa))
        // Row/column means and one division each: a few ulps, 1e-12 relative.
        #expect(maxRelativeError(pf, pa) < 1e-12)
      }
      #expect(sf.rowSecondMoment.count == f && sf.columnSecondMoment.count == fanIn)
    }
  }

  /// On rank-1 blocks only, Adafactor is Adam.
  @Test func vectorBlocksAreAdam() async throws {
    await propertyCheckThrowing(count: 40, input: Gen.double(in: -3...3).array(of: 5).array(of: 1...6)) { grads in
      let h = Hyperparameters(lr: 0.05)
      let f = try Optimizer(.adafactor, h, layout: try ParameterLayout(shapes: [[2], [3]]))
      let a = try Optimizer(.adam, h, parameterCount: 5)
      var (sf, sa) = (try f.initialState(as: Double.self), try a.initialState(as: Double.self))
      var (xf, xa) = ([Double](repeating: 1, count: 5), [Double](repeating: 1, count: 5))
      for g in grads {
        f.step(parameters: &xf, gradient: g, state: &sf)
        a.step(parameters: &xa, gradient: g, state: &sa)
      }
      // Identical operations: equal up to rounding.
      #expect(maxRelativeError(xf, xa) < 1e-14)
    }
  }

  @Test func initialSecondMomentIsFactoredByMeans() throws {
    let opt = try Optimizer(.adafactor, Hyperparameters(lr: 0.1), layout: try ParameterLayout(shapes: [[2, 3]]))
    let state = try opt.initialState(secondMoment: [1.0, 2, 3, 4, 5, 6], as: Double.self)
    #expect(state.rowSecondMoment == [2, 5])
    #expect(state.columnSecondMoment == [2.5, 3.5, 4.5])
  }
}
