import LinearAlgebra
import PropertyBased
import TestSupport
import Testing

@testable import NeuralEngine

@Suite struct DerivativeTests {
  /// Gradient = central finite differences (Float64).
  /// Tolerance: central differences with h = 1e-5 err by h²·|L‴|/6 (≲ 1e-9 for these
  /// small smooth networks, |L‴| ≲ 10²) plus rounding ε·|L|/h ≈ 1e-11·|L|; we allow
  /// 1e-6·(1 + |g| + |L|), three orders above both.
  @Test func gradientMatchesFiniteDifferences() async throws {
    await propertyCheckThrowing(count: 40, input: seeds) { seed in
      try expectGradientMatchesFiniteDifferences(try makeProblem(seed: seed))
    }
  }

  /// Hv = (∇L(θ + hv) − ∇L(θ − hv))/(2h) (Float64).
  /// Tolerance: truncation h²·|∇⁴L|·‖v‖³/6 with h = 1e-5 (≲ 1e-8) and rounding
  /// ε·‖∇L‖/h ≈ 1e-11; allowed 1e-6·(1 + ‖Hv‖∞ + ‖∇L‖∞)·‖v‖∞.
  @Test func hvpMatchesFiniteDifferenceOfGradients() async throws {
    await propertyCheckThrowing(count: 40, input: seeds) { seed in
      let p = try makeProblem(seed: seed)
      let v = randomVector(p.count, seed: seed &+ 1)
      let hv = try p.objective.hessianVectorProduct(parameters: p.parameters, vector: v)
      let h = 1e-5
      let plus = zip(p.parameters, v).map { $0 + h * $1 }
      let minus = zip(p.parameters, v).map { $0 - h * $1 }
      let gp = try p.objective.lossAndGradient(parameters: plus).gradient
      let gm = try p.objective.lossAndGradient(parameters: minus).gradient
      let g0 = try p.objective.lossAndGradient(parameters: p.parameters).gradient
      let fd = zip(gp, gm).map { ($0 - $1) / (2 * h) }
      let tol = 1e-6 * (1 + maxAbs(hv) + maxAbs(g0)) * max(1, maxAbs(v))
      #expect(maxAbsDiff(hv, fd) <= tol, "HVP vs FD differ by \(maxAbsDiff(hv, fd)) (tolerance \(tol))")
    }
  }

  /// The dense Hessian built column by column from HVPs (Heᵢ) equals the one built
  /// from finite differences of the gradient, and is symmetric.
  /// Tolerance as in `hvpMatchesFiniteDifferenceOfGradients`, per entry.
  @Test func denseHessianColumnsMatchFiniteDifferences() async throws {
    await propertyCheckThrowing(count: 15, input: seeds) { seed in
      let p = try makeProblem(seed: seed)
      let P = p.count
      var hess = [[Double]]()
      let h = 1e-5
      let g0 = try p.objective.lossAndGradient(parameters: p.parameters).gradient
      for j in 0..<P {
        var e = [Double](repeating: 0, count: P)
        e[j] = 1
        let col = try p.objective.hessianVectorProduct(parameters: p.parameters, vector: e)
        var plus = p.parameters
        var minus = p.parameters
        plus[j] += h
        minus[j] -= h
        let fd = zip(try p.objective.lossAndGradient(parameters: plus).gradient, try p.objective.lossAndGradient(parameters: minus).gradient)
          .map { ($0 - $1) / (2 * h) }
        let tol = 1e-6 * (1 + maxAbs(col) + maxAbs(g0))
        #expect(maxAbsDiff(col, fd) <= tol, "column \(j): differ by \(maxAbsDiff(col, fd))")
        hess.append(col)
      }
      // Exact symmetry up to round-off: entries are O(1) sums of O(n·width) terms; 1e-10 relative.
      let scale = 1 + hess.map(maxAbs).max()!
      for i in 0..<P { for j in 0..<i { #expect(abs(hess[i][j] - hess[j][i]) <= 1e-10 * scale) } }
    }
  }

  /// uᵀHv = vᵀHu for every activation (ReLU and ELU included: the R-operator is exact
  /// there too). Tolerance: round-off of two P-term dot products, 1e-10 relative.
  @Test func hessianIsSymmetric() async throws {
    await propertyCheckThrowing(count: 40, input: seeds) { seed in
      let p = try makeProblem(seed: seed, activations: Activation.allCases)
      let u = randomVector(p.count, seed: seed &+ 7)
      let v = randomVector(p.count, seed: seed &+ 8)
      let hu = try p.objective.hessianVectorProduct(parameters: p.parameters, vector: u)
      let hv = try p.objective.hessianVectorProduct(parameters: p.parameters, vector: v)
      let a = dot(u, hv)
      let b = dot(v, hu)
      let scale = 1 + zip(u, hv).map { abs($0 * $1) }.reduce(0, +) + zip(v, hu).map { abs($0 * $1) }.reduce(0, +)
      #expect(abs(a - b) <= 1e-10 * scale, "uᵀHv = \(a), vᵀHu = \(b)")
    }
  }

  /// H(αu + βv) = αHu + βHv. Tolerance: round-off, 1e-10 relative to the terms.
  @Test func hvpIsLinear() async throws {
    await propertyCheckThrowing(count: 40, input: seeds, Gen.double(in: -3...3), Gen.double(in: -3...3)) { seed, alpha, beta in
      let p = try makeProblem(seed: seed, activations: Activation.allCases)
      let u = randomVector(p.count, seed: seed &+ 3)
      let v = randomVector(p.count, seed: seed &+ 4)
      let w = zip(u, v).map { alpha * $0 + beta * $1 }
      let hw = try p.objective.hessianVectorProduct(parameters: p.parameters, vector: w)
      let hu = try p.objective.hessianVectorProduct(parameters: p.parameters, vector: u)
      let hv = try p.objective.hessianVectorProduct(parameters: p.parameters, vector: v)
      let combo = zip(hu, hv).map { alpha * $0 + beta * $1 }
      let scale = 1 + abs(alpha) * maxAbs(hu) + abs(beta) * maxAbs(hv)
      #expect(maxAbsDiff(hw, combo) <= 1e-10 * scale)
    }
  }

  /// Loss, gradient and HVP do not depend on the chunk size or the number of worker
  /// threads (up to round-off of the summation order: 1e-12 relative).
  @Test func chunkingInvariance() async throws {
    await propertyCheckThrowing(count: 30, input: seeds, Gen.int(in: 1...20), Gen.int(in: 1...4)) { seed, chunk, threads in
      let p = try makeProblem(seed: seed, activations: Activation.allCases, n: 20)
      let other = try Objective(
        model: p.objective.model, data: p.objective.data, loss: p.objective.loss, chunkSize: chunk, threads: threads)
      let v = randomVector(p.count, seed: seed &+ 5)
      let (l1, a1, g1) = try p.objective.lossAndGradient(parameters: p.parameters)
      let (l2, a2, g2) = try other.lossAndGradient(parameters: p.parameters)
      #expect(abs(l1 - l2) <= 1e-12 * (1 + abs(l1)))
      #expect(a1 == a2)
      #expect(maxAbsDiff(g1, g2) <= 1e-12 * (1 + maxAbs(g1)))
      let h1 = try p.objective.hessianVectorProduct(parameters: p.parameters, vector: v)
      let h2 = try other.hessianVectorProduct(parameters: p.parameters, vector: v)
      #expect(maxAbsDiff(h1, h2) <= 1e-12 * (1 + maxAbs(h1)))
    }
  }

  /// Hessian-vector products reuse the primal forward state of an earlier product
  /// at the same parameters: interleaving products at two parameter vectors (one
  /// array mutated in place and restored) and gradients must give what a fresh
  /// objective, which has nothing to reuse, gives. Same arithmetic in the same
  /// order, so the tolerance (1e-12 relative) only covers BLAS round-off.
  @Test func hvpReuseMatchesFreshObjective() async throws {
    await propertyCheckThrowing(count: 30, input: seeds, Gen.int(in: 1...20)) { seed, chunk in
      let p = try makeProblem(seed: seed, activations: Activation.allCases, n: 20)
      let o = p.objective
      func fresh() throws -> Objective<Double> {
        try Objective(model: o.model, data: o.data, loss: o.loss, chunkSize: chunk)
      }
      let reused = try fresh()
      let v = randomVector(p.count, seed: seed &+ 7)
      let u = randomVector(p.count, seed: seed &+ 8)
      var theta = p.parameters
      let other = zip(p.parameters, u).map { $0 + 0.1 * $1 }
      func check(_ vector: [Double]) throws {
        let expected = try fresh().hessianVectorProduct(parameters: theta, vector: vector)
        let got = try reused.hessianVectorProduct(parameters: theta, vector: vector)
        #expect(maxAbsDiff(got, expected) <= 1e-12 * (1 + maxAbs(expected)))
      }
      try check(v)
      try check(u)
      _ = try reused.lossAndGradient(parameters: other)
      try check(v)
      for i in theta.indices { theta[i] = other[i] }  // in place: same array, new values
      try check(v)
      try check(u)
      theta = p.parameters
      try check(u)
    }
  }

  /// A linear model f(x) = Wx + b under MSE has the constant Hessian
  /// (X̃ᵀX̃/n) ⊗ I with X̃ = [X, 1]: for a direction V = [V_W, V_b] (out × (in+1)),
  /// HV = V·(X̃ᵀX̃/n), whatever θ. Computed here independently with plain loops.
  /// Tolerance: round-off of n-term sums, 1e-12 relative.
  @Test func linearModelHessianUnderMSE() async throws {
    await propertyCheckThrowing(count: 40, input: seeds, Gen.int(in: 1...6), Gen.int(in: 1...5), Gen.int(in: 1...15)) { seed, d, k, n in
      let model = try MLP.make(inputSize: d, depth: 0, width: 1, activation: .tanh, classes: k)
      let data: Dataset<Double> = try SyntheticData.gaussianClusters(n: n, dimension: d, classes: k, seed: seed)
      let obj = try Objective(model: model, data: data, loss: .mse, chunkSize: 4)
      let theta = randomVector(model.parameterCount, seed: seed &+ 1)
      let v = randomVector(model.parameterCount, seed: seed &+ 2)
      let hv = try obj.hessianVectorProduct(parameters: theta, vector: v)
      // X̃ᵀX̃/n
      var gram = [[Double]](repeating: [Double](repeating: 0, count: d + 1), count: d + 1)
      for e in 0..<n {
        let x = Array(data.features[(e * d)..<((e + 1) * d)]) + [1]
        for i in 0...d { for j in 0...d { gram[i][j] += x[i] * x[j] / Double(n) } }
      }
      // Layout: weight [k, d] then bias [k].
      for o in 0..<k {
        let vrow = Array(v[(o * d)..<((o + 1) * d)]) + [v[k * d + o]]
        for j in 0...d {
          let expected = (0...d).map { vrow[$0] * gram[$0][j] }.reduce(0, +)
          let got = j < d ? hv[o * d + j] : hv[k * d + o]
          #expect(abs(got - expected) <= 1e-12 * (1 + abs(expected)) * 10)
        }
      }
    }
  }

  /// Float and Double agree on loss and gradient to float32 accuracy: relative
  /// 1e-3 of the largest entry (round-off of float32 sums of ≤ 100 terms ≈ 1e-5).
  @Test func floatAgreesWithDouble() async throws {
    await propertyCheckThrowing(count: 20, input: seeds) { seed in
      // No ReLU: a pre-activation within float round-off of the kink could switch sides.
      let p = try makeProblem(seed: seed, activations: [.identity, .tanh, .elu, .softplus, .gelu])
      let o = p.objective
      let data = try Dataset<Float>(
        features: o.data.features.map(Float.init), labels: o.data.labels, featureShape: o.data.featureShape, classes: o.data.classes)
      let of = try Objective(model: o.model, data: data, loss: o.loss, chunkSize: o.chunkSize)
      let (ld, _, gd) = try o.lossAndGradient(parameters: p.parameters)
      let (lf, _, gf) = try of.lossAndGradient(parameters: p.parameters.map(Float.init))
      #expect(abs(ld - lf) <= 1e-3 * (1 + abs(ld)))
      #expect(maxAbsDiff(gd, gf.map(Double.init)) <= 1e-3 * (1 + maxAbs(gd)))
      let v = randomVector(p.count, seed: seed &+ 9)
      let hd = try o.hessianVectorProduct(parameters: p.parameters, vector: v)
      let hf = try of.hessianVectorProduct(parameters: p.parameters.map(Float.init), vector: v.map(Float.init))
      #expect(maxAbsDiff(hd, hf.map(Double.init)) <= 1e-3 * (1 + maxAbs(hd)))
    }
  }

  @Test func nanInForwardPassIsAnError() throws {
    let model = try MLP.make(inputSize: 3, depth: 1, width: 4, activation: .relu, classes: 2)
    let data: Dataset<Double> = try SyntheticData.gaussianClusters(n: 5, dimension: 3, classes: 2, seed: 1)
    let obj = try Objective(model: model, data: data, loss: .crossEntropy)
    var p: [Double] = model.initialParameters(seed: 2)
    p[0] = .nan
    #expect(throws: NeuralEngineError.self) { try obj.lossAndGradient(parameters: p) }
    p[0] = 0
    p[p.count - 1] = .infinity  // the output bias: f = ∞, loss ∞
    #expect(throws: NeuralEngineError.self) { try obj.evaluate(parameters: p) }
    #expect(throws: NeuralEngineError.self) { try obj.lossAndGradient(parameters: [1, 2, 3]) }
  }
}

@Suite struct PrimalReuseTests {
  /// A workspace whose budget allows no extra buffers shares one set among all
  /// chunks: it must report reusable state only for the chunk (first example and
  /// row count) and parameters it last recorded.
  @Test func sharedPrimalSetIsKeyedByChunk() async throws {
    await propertyCheckThrowing(count: 20, input: Gen.int(in: 1...50), Gen.int(in: 1...50), Gen.int(in: 1...8)) { s1, s2, rows in
      let model = try MLP.make(inputSize: 3, depth: 1, width: 4, activation: .tanh, classes: 2)
      let ws = Workspace<Double>(stages: model.stages, rows: rows, primalBudgetBytes: 0)
      let theta: [Double] = model.initialParameters(seed: UInt64(s1))
      let data = DataToken(), other = DataToken()
      #expect(!ws.selectPrimal(start: s1, rows: rows, parameters: theta, data: data, perChunk: true))
      ws.markPrimal(start: s1, rows: rows, parameters: theta, data: data)
      #expect(ws.selectPrimal(start: s1, rows: rows, parameters: theta, data: data, perChunk: true))
      // Other data (an objective from `replacingData`) never reuses this state.
      #expect(!ws.selectPrimal(start: s1, rows: rows, parameters: theta, data: other, perChunk: true))
      ws.markPrimal(start: s1, rows: rows, parameters: theta, data: data)
      #expect(ws.selectPrimal(start: s2, rows: rows, parameters: theta, data: data, perChunk: true) == (s1 == s2))
    }
  }

  /// `replacingData` shares workspaces but not forward passes: an HVP on the new
  /// data at the parameters of an HVP on the old equals a fresh objective's (exactly:
  /// the same operations in the same order).
  @Test func replacedDataNeverReusesForwardPasses() async throws {
    await propertyCheckThrowing(count: 20, input: Gen.int(in: 0...1_000_000)) { seed in
      let model = try MLP.make(inputSize: 3, depth: 1, width: 4, activation: .tanh, classes: 2)
      let a: Dataset<Double> = try SyntheticData.gaussianClusters(n: 6, dimension: 3, classes: 2, seed: UInt64(seed))
      let b: Dataset<Double> = try SyntheticData.gaussianClusters(n: 6, dimension: 3, classes: 2, seed: UInt64(seed) &+ 1)
      let objA = try Objective(model: model, data: a, loss: .mse, chunkSize: 3, threads: 1)
      let objB = try objA.replacingData(b)
      let theta: [Double] = model.initialParameters(seed: UInt64(seed))
      let v: [Double] = model.initialParameters(seed: UInt64(seed) &+ 2).map { $0 + 0.1 }
      _ = try objA.hessianVectorProduct(parameters: theta, vector: v)
      let shared = try objB.hessianVectorProduct(parameters: theta, vector: v)
      let fresh = try Objective(model: model, data: b, loss: .mse, chunkSize: 3, threads: 1).hessianVectorProduct(parameters: theta, vector: v)
      #expect(shared == fresh)
    }
  }
}
