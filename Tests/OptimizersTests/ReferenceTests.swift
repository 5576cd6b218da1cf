import Foundation
import LinearAlgebra
import Optimizers
import PropertyBased
import TestSupport
import Testing

/// The adaptive methods against textbook implementations written here from the
/// papers (Kingma & Ba; Loshchilov & Hutter; Reddi et al.; Dozat; Chen & Gu),
/// on random gradient sequences that do not depend on x (so both sides see the
/// same gradients).
@Suite struct ReferenceTests {
  /// A random gradient sequence: `steps` vectors of `n` entries in [−3, 3].
  static let gradientSequences = Gen.double(in: -3...3).array(of: 3).array(of: 1...8)

  /// Textbook implementation of each method; returns the final x.
  static func reference(_ kind: OptimizerKind, _ h: Hyperparameters, x0: [Double], grads: [[Double]]) -> [Double] {
    let (b1, b2, eps, eta) = (h.beta1, h.beta2, h.eps, h.lr)
    var x = x0
    var m = [Double](repeating: 0, count: x0.count)
    var v = m, vmax = m
    for (t, g) in grads.enumerated() {
      let s = Double(t + 1)
      for i in x.indices {
        m[i] = b1 * m[i] + (1 - b1) * g[i]
        v[i] = b2 * v[i] + (1 - b2) * g[i] * g[i]
        let mhat = h.biasCorrection ? m[i] / (1 - pow(b1, s)) : m[i]
        let vhat = h.biasCorrection ? v[i] / (1 - pow(b2, s)) : v[i]
        switch kind {
        case .adam:
          x[i] -= eta * mhat / (vhat.squareRoot() + eps)
        case .adamw:
          x[i] = x[i] - eta * mhat / (vhat.squareRoot() + eps) - eta * h.weightDecay * x[i]
        case .amsgrad:
          vmax[i] = max(vmax[i], vhat)
          x[i] -= eta * mhat / (vmax[i].squareRoot() + eps)
        case .padam:
          x[i] -= eta * mhat / (pow(vhat, h.padamP) + eps)
        case .nadam:
          // Dozat 2016 with a constant momentum, as optax.nadam.
          let num = h.biasCorrection
            ? b1 * m[i] / (1 - pow(b1, s + 1)) + (1 - b1) * g[i] / (1 - pow(b1, s))
            : b1 * m[i] + (1 - b1) * g[i]
          x[i] -= eta * num / (vhat.squareRoot() + eps)
        case .rmsprop:
          x[i] -= eta * g[i] / (v[i].squareRoot() + eps)
        default:
          break
        }
      }
    }
    return x
  }

  @Test func adaptiveMethodsMatchTextbookForms() async throws {
    let kinds: [OptimizerKind] = [.adam, .adamw, .amsgrad, .padam, .nadam, .rmsprop]
    await propertyCheckThrowing(
      count: 120, input: Gen.int(in: 0...5).map { kinds[$0] }, Self.gradientSequences, Gen.double(in: 0.001...0.5),
      Gen.double(in: 0...0.99), Gen.double(in: 0.5...0.999), Gen.bool(), Gen.double(in: 0.1...0.5)
    ) { kind, grads, eta, b1, b2, bias, p in
      let h = Hyperparameters(
        lr: eta, beta1: b1, beta2: b2, weightDecay: kind == .adamw ? 0.1 : 0,
        biasCorrection: kind == .rmsprop ? false : bias, padamP: p)
      let opt = try Optimizer(kind, h, parameterCount: 3)
      var state = try opt.initialState(as: Double.self)
      var x = [0.5, -1.0, 2.0]
      for g in grads { opt.step(parameters: &x, gradient: g, state: &state) }
      let expected = Self.reference(kind, h, x0: [0.5, -1.0, 2.0], grads: grads)
      // ≤ 8 steps, each of size ≤ η·|m|/√ν ≲ 1/√(1 − β₂) ≈ 32 (times √ of the bias factor):
      // the two sides differ only by rounding, ~1e-16 of those sizes; 1e-10 is generous.
      for i in x.indices {
        #expect(abs(x[i] - expected[i]) <= 1e-10 * max(1, abs(expected[i])), "\(kind) \(x) vs \(expected)")
      }
    }
  }

  @Test func adagradAccumulatesSquaredGradients() async throws {
    await propertyCheckThrowing(count: 60, input: Self.gradientSequences, Gen.double(in: 0.001...1)) { grads, eta in
      let opt = try Optimizer(.adagrad, Hyperparameters(lr: eta), parameterCount: 3)
      var state = try opt.initialState(as: Double.self)
      var x = [1.0, 1.0, 1.0]
      var sum = [0.0, 0.0, 0.0]
      var expected = x
      for g in grads {
        opt.step(parameters: &x, gradient: g, state: &state)
        for i in 0..<3 {
          sum[i] += g[i] * g[i]
          expected[i] -= eta * g[i] / (sum[i].squareRoot() + 1e-7)
        }
      }
      // Same operations in the same order up to association: 1e-10 relative.
      #expect(maxRelativeError(state.secondMoment, sum) < 1e-12)
      // Each step is ≤ η in size (|g|/√Σg² ≤ 1): rounding only.
      #expect(maxRelativeError(x, expected) < 1e-10)
    }
  }

  /// The reported P of bias-corrected Adam is (1−β₁ˢ)(√(ν/(1−β₂ˢ)) + ε), so that
  /// x ← x − ηP⁻¹m is the textbook update; without correction it is √ν + ε.
  @Test func biasCorrectionFactorsInP() async throws {
    await propertyCheckThrowing(
      count: 80, input: Self.gradientSequences, Gen.double(in: 0...0.99), Gen.double(in: 0.5...0.999), Gen.bool()
    ) { grads, b1, b2, bias in
      let h = Hyperparameters(lr: 0.01, beta1: b1, beta2: b2, biasCorrection: bias)
      let opt = try Optimizer(.adam, h, parameterCount: 3)
      var state = try opt.initialState(as: Double.self)
      var x = [0.0, 0.0, 0.0]
      for g in grads { opt.step(parameters: &x, gradient: g, state: &state) }
      let s = Double(grads.count)
      let p = try #require(opt.preconditioner(state))
      for i in 0..<3 {
        let nu = state.secondMoment[i]
        let corrected: Double = (1 - pow(b1, s)) * ((nu / (1 - pow(b2, s))).squareRoot() + 1e-7)
        let expected: Double = bias ? corrected : nu.squareRoot() + 1e-7
        #expect(relativeError(p[i], expected) < 1e-13)
      }
    }
  }

  /// AdamW's decay is decoupled: from the same state and gradient, the AdamW step
  /// differs from the Adam step by exactly −η·wd·x, however large P is.
  @Test func adamWDecayIsDecoupled() async throws {
    await propertyCheckThrowing(
      count: 80, input: Gen.double(in: -5...5).array(of: 4), Gen.double(in: -3...3).array(of: 4),
      Gen.double(in: 0...1e6).array(of: 4), Gen.double(in: 0.001...0.5), Gen.double(in: 0...0.5)
    ) { x0, g, nu0, eta, wd in
      let adam = try Optimizer(.adam, Hyperparameters(lr: eta), parameterCount: 4)
      let adamw = try Optimizer(.adamw, Hyperparameters(lr: eta, weightDecay: wd), parameterCount: 4)
      let (xa, _) = adam.update(parameters: x0, gradient: g, state: try adam.initialState(secondMoment: nu0, as: Double.self))
      let (xw, _) = adamw.update(parameters: x0, gradient: g, state: try adamw.initialState(secondMoment: nu0, as: Double.self))
      for i in 0..<4 {
        // The gradient step is ≤ η·|g|/ε ≈ 1.5e7; rounding of that term dominates: 1e-15·(|x| + 1.5e7).
        let stepBound: Double = eta * 3 / 1e-7
        let tol: Double = 4e-16 * (abs(x0[i]) + stepBound + abs(xa[i]))
        let difference: Double = xw[i] - xa[i]
        let decay: Double = -eta * wd * x0[i]
        #expect(abs(difference - decay) <= tol)
      }
    }
  }

  /// AMSGrad's ν̂ never decreases, and its P never decreases.
  @Test func amsgradMaximumIsMonotone() async throws {
    await propertyCheckThrowing(count: 60, input: Self.gradientSequences, Gen.double(in: 0.5...0.999)) { grads, b2 in
      let opt = try Optimizer(.amsgrad, Hyperparameters(lr: 0.1, beta2: b2), parameterCount: 3)
      var state = try opt.initialState(as: Double.self)
      var x = [1.0, 2.0, 3.0]
      var last = [0.0, 0.0, 0.0]
      for g in grads {
        opt.step(parameters: &x, gradient: g, state: &state)
        for i in 0..<3 {
          #expect(state.maxSecondMoment[i] >= last[i])
          #expect(state.maxSecondMoment[i] >= state.secondMoment[i])
        }
        last = state.maxSecondMoment
      }
    }
  }

  /// Padam with p = ½ is Adam.
  @Test func padamAtOneHalfIsAdam() async throws {
    await propertyCheckThrowing(count: 40, input: Self.gradientSequences, Gen.bool()) { grads, bias in
      let h = Hyperparameters(lr: 0.05, biasCorrection: bias, padamP: 0.5)
      let padam = try Optimizer(.padam, h, parameterCount: 3)
      let adam = try Optimizer(.adam, h, parameterCount: 3)
      var (sp, sa) = (try padam.initialState(as: Double.self), try adam.initialState(as: Double.self))
      var (xp, xa) = ([1.0, 1.0, 1.0], [1.0, 1.0, 1.0])
      for g in grads {
        padam.step(parameters: &xp, gradient: g, state: &sp)
        adam.step(parameters: &xa, gradient: g, state: &sa)
      }
      // pow(v, 0.5) and √v are both correctly rounded or within 1 ulp.
      #expect(maxRelativeError(xp, xa) < 1e-12)
    }
  }

  /// The P the next step would apply (peek) is the one it then applies.
  @Test func peekedPreconditionerIsApplied() async throws {
    let kinds = OptimizerKind.allCases.filter(\.isPreconditioned)
    await propertyCheckThrowing(
      count: 60, input: Gen.int(in: 0...(kinds.count - 1)).map { kinds[$0] }, Self.gradientSequences, Gen.bool()
    ) { kind, grads, bias in
      let opt = try Optimizer(kind, Hyperparameters(lr: 0.1, biasCorrection: bias), layout: try ParameterLayout(shapes: [[1], [2]]))
      var state = try opt.initialState(secondMoment: [0.1, 0.2, 0.3], as: Double.self)
      var x = [1.0, 1.0, 1.0]
      for g in grads {
        let peek = try #require(opt.preconditioner(forGradient: g, state: state))
        opt.step(parameters: &x, gradient: g, state: &state)
        #expect(opt.preconditioner(state) == peek)
      }
    }
  }

  @Test func frozenAdamKeepsItsPreconditioner() throws {
    let opt = try Optimizer(.frozenAdam, Hyperparameters(lr: 0.1), parameterCount: 2)
    var state = try opt.initialState(secondMoment: [4.0, 9.0], as: Double.self)
    let p0 = try #require(opt.preconditioner(state))
    // P = √ν + ε exactly as stated.
    let expected: [Double] = [2 + 1e-7, 3 + 1e-7]
    #expect(p0 == expected)
    var x = [1.0, -1.0]
    for g in [[100.0, -3.0], [0.0, 5.0]] { opt.step(parameters: &x, gradient: g, state: &state) }
    #expect(opt.preconditioner(state) == p0)
  }

  @Test func freezingStopsTheSecondMoment() throws {
    let opt = try Optimizer(.rmsprop, Hyperparameters(lr: 0.1), parameterCount: 2)
    var state = try opt.initialState(as: Double.self)
    var x = [1.0, -1.0]
    opt.step(parameters: &x, gradient: [1, 2], state: &state)
    let p = try #require(opt.preconditioner(state))
    opt.freezePreconditioner(&state)
    let nu = state.secondMoment
    opt.step(parameters: &x, gradient: [50, -70], state: &state)
    #expect(opt.preconditioner(state) == p)
    #expect(state.secondMoment == nu)
  }
}

/// Long vectors take the parallel, chunked path of the fused loops; it must agree
/// with the unfused general path (Padam with p = ½ is Adam computed there).
@Test func parallelFusedPathMatchesGeneralPath() async throws {
  await propertyCheckThrowing(count: 3, input: Gen.double(in: -3...3).array(of: 4), Gen.bool()) { pattern, bias in
    let n = 300_007  // ≥ 2 chunks of 2¹⁶, not a multiple of the chunk count
    let h = Hyperparameters(lr: 0.01, biasCorrection: bias, padamP: 0.5)
    let adam = try Optimizer(.adam, h, parameterCount: n)
    let padam = try Optimizer(.padam, h, parameterCount: n)
    var (sa, sp) = (try adam.initialState(as: Double.self), try padam.initialState(as: Double.self))
    var xa = [Double](repeating: 1, count: n), xp = xa
    for t in 0..<3 {
      let g = (0..<n).map { pattern[($0 + t) % 4] * Double($0 % 7 + 1) }
      adam.step(parameters: &xa, gradient: g, state: &sa)
      padam.step(parameters: &xp, gradient: g, state: &sp)
    }
    // pow(ν, ½) and √ν agree to an ulp or so: 1e-12 relative.
    #expect(maxRelativeError(xa, xp) < 1e-12)
    #expect(sa.momentum == sp.momentum && sa.secondMoment == sp.secondMoment)
  }
}
