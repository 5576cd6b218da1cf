import LinearAlgebra
import PropertyBased
import TestSupport
import Testing

@testable import NeuralEngine

/// A tiny random CNN on random images: conv (random kernel, stride, padding) →
/// activation → pooling → conv → activation → flatten → dense. Every generated
/// model is valid (`Model` must accept it; a throw fails the test that called):
/// the input is at least 5×5, so the first conv (kernel ≤ 3, stride ≤ 2) leaves at
/// least 2×2 for the 2×2 pooling, and the second conv's kernel is at most the
/// pooled size (a valid 2×2 kernel on a 1×1 map was generated before).
func makeConvProblem(seed: UInt64, smooth: Bool) throws -> Problem {
  var rng = SeededGenerator(seed: seed)
  func pick(_ r: ClosedRange<Int>) -> Int { r.lowerBound + Int(rng.next() % UInt64(r.count)) }
  let acts: [Activation] = smooth ? smoothActivations : Activation.allCases
  let h = pick(5...7)
  let w = pick(5...7)
  let c = pick(1...2)
  let classes = pick(2...3)
  let (k1, s1) = (pick(1...3), pick(1...2))
  let padding1: Padding = pick(0...1) == 0 ? .valid : .same
  let (h1, w1) = padding1 == .valid ? ((h - k1) / s1 + 1, (w - k1) / s1 + 1) : ((h + s1 - 1) / s1, (w + s1 - 1) / s1)
  let poolStride = pick(1...2)
  let pool: Layer = smooth || pick(0...1) == 0 ? .avgPool(size: 2, stride: poolStride) : .maxPool(size: 2, stride: poolStride)
  let (h2, w2) = ((h1 - 2) / poolStride + 1, (w1 - 2) / poolStride + 1)
  let layers: [Layer] = [
    .conv2D(filters: pick(1...3), kernel: k1, stride: s1, padding: padding1),
    .activation(acts[pick(0...(acts.count - 1))]),
    pool,
    .conv2D(filters: pick(1...3), kernel: pick(1...min(2, h2, w2)), stride: 1, padding: pick(0...1) == 0 ? .valid : .same),
    .activation(acts[pick(0...(acts.count - 1))]),
    .flatten,
    .dense(outputs: classes),
  ]
  let model = try Model(inputShape: [h, w, c], layers: layers)
  let n = pick(1...5)
  let features = (0..<(n * h * w * c)).map { _ in rng.nextNormal() }
  let labels = (0..<n).map { _ in pick(0...(classes - 1)) }
  let data = try Dataset(features: features, labels: labels, featureShape: [h, w, c], classes: classes)
  let obj = try Objective(model: model, data: data, loss: pick(0...1) == 0 ? .mse : .crossEntropy, chunkSize: pick(1...n))
  var p: [Double] = model.initialParameters(seed: rng.next())
  for i in p.indices { p[i] += 0.3 * rng.nextNormal() }
  return Problem(objective: obj, parameters: p)
}

@Suite struct ConvolutionTests {
  /// Same tolerances and reasoning as the MLP tests (smooth activations, average
  /// pooling: no kinks for a finite-difference step to straddle).
  @Test func cnnGradientAndHVPMatchFiniteDifferences() async throws {
    await propertyCheckThrowing(count: 25, input: seeds) { seed in
      let p = try makeConvProblem(seed: seed, smooth: true)
      let (_, g) = try expectGradientMatchesFiniteDifferences(p)
      let h = 1e-5
      let v = randomVector(p.count, seed: seed &+ 1)
      let hv = try p.objective.hessianVectorProduct(parameters: p.parameters, vector: v)
      let gp = try p.objective.lossAndGradient(parameters: zip(p.parameters, v).map { $0 + h * $1 }).gradient
      let gm = try p.objective.lossAndGradient(parameters: zip(p.parameters, v).map { $0 - h * $1 }).gradient
      let fd = zip(gp, gm).map { ($0 - $1) / (2 * h) }
      let tol = 1e-6 * (1 + maxAbs(hv) + maxAbs(g)) * max(1, maxAbs(v))
      #expect(maxAbsDiff(hv, fd) <= tol, "HVP vs FD \(maxAbsDiff(hv, fd))")
    }
  }

  /// With max pooling and ReLU too: uᵀHv = vᵀHu, and chunking does not change the
  /// gradient or the HVP (round-off tolerances as for the MLP).
  @Test func cnnHessianSymmetricAndChunkInvariant() async throws {
    await propertyCheckThrowing(count: 25, input: seeds, Gen.int(in: 1...5)) { seed, chunk in
      let p = try makeConvProblem(seed: seed, smooth: false)
      let u = randomVector(p.count, seed: seed &+ 2)
      let v = randomVector(p.count, seed: seed &+ 3)
      let hu = try p.objective.hessianVectorProduct(parameters: p.parameters, vector: u)
      let hv = try p.objective.hessianVectorProduct(parameters: p.parameters, vector: v)
      let scale = 1 + zip(u, hv).map { abs($0 * $1) }.reduce(0, +) + zip(v, hu).map { abs($0 * $1) }.reduce(0, +)
      #expect(abs(dot(u, hv) - dot(v, hu)) <= 1e-10 * scale)
      let other = try Objective(model: p.objective.model, data: p.objective.data, loss: p.objective.loss, chunkSize: chunk)
      let g1 = try p.objective.lossAndGradient(parameters: p.parameters).gradient
      let g2 = try other.lossAndGradient(parameters: p.parameters).gradient
      #expect(maxAbsDiff(g1, g2) <= 1e-12 * (1 + maxAbs(g1)))
      let h2 = try other.hessianVectorProduct(parameters: p.parameters, vector: v)
      #expect(maxAbsDiff(hv, h2) <= 1e-12 * (1 + maxAbs(hv)))
    }
  }

  /// A convolution (kernel 1–3, stride 1–2, valid or same padding) agrees with a
  /// hand-written sum over the kernel window. The generator only makes valid layers
  /// (the input is at least 3×3, the kernel at most 3×3), so `Model` must accept
  /// every case: a refusal is a failure, not a skipped case.
  @Test func convolutionAgreesWithDirectSum() async throws {
    await propertyCheckThrowing(count: 30, input: seeds) { seed in
      var rng = SeededGenerator(seed: seed)
      func pick(_ r: ClosedRange<Int>) -> Int { r.lowerBound + Int(rng.next() % UInt64(r.count)) }
      let (h, w, c, f, k, s) = (pick(3...6), pick(3...6), pick(1...3), pick(1...3), pick(1...3), pick(1...2))
      let padding: Padding = pick(0...1) == 0 ? .valid : .same
      let model = try Model(inputShape: [h, w, c], layers: [.conv2D(filters: f, kernel: k, stride: s, padding: padding), .flatten])
      let x = (0..<(h * w * c)).map { _ in rng.nextNormal() }
      let p = (0..<model.parameterCount).map { _ in rng.nextNormal() }
      #expect(model.parameterCount == f * c * k * k + f)
      let out = try Predictor(model: model).outputs(parameters: p, features: x)
      let (outH, outW): (Int, Int) = padding == .valid ? ((h - k) / s + 1, (w - k) / s + 1) : ((h + s - 1) / s, (w + s - 1) / s)
      let pt = padding == .valid ? 0 : max((outH - 1) * s + k - h, 0) / 2
      let pl = padding == .valid ? 0 : max((outW - 1) * s + k - w, 0) / 2
      #expect(out.count == outH * outW * f)
      guard out.count == outH * outW * f else { return }
      for y in 0..<outH {
        for xx in 0..<outW {
          for o in 0..<f {
            var sum = p[f * c * k * k + o]
            var magnitude = abs(sum)
            for ch in 0..<c {
              for i in 0..<k {
                for j in 0..<k {
                  let iy = y * s + i - pt
                  let ix = xx * s + j - pl
                  guard iy >= 0, iy < h, ix >= 0, ix < w else { continue }
                  let term = p[((o * c + ch) * k + i) * k + j] * x[(iy * w + ix) * c + ch]
                  sum += term
                  magnitude += abs(term)
                }
              }
            }
            // Both sides add the same ≤ c·k² + 1 = 28 rounded products, in different
            // orders (im2col + GEMM there); each is within γ₂₈·Σ|terms| ≈ 28·ε/2·Σ|terms|
            // of the exact sum, so they differ by at most 28·ε·Σ|terms|; 64·ε·Σ|terms|
            // (plus the least normal, for an all-zero window) allows for fused
            // multiply-adds and blocking and still fails any wrong index or weight.
            let tolerance = 64 * Double.ulpOfOne * magnitude + .leastNormalMagnitude
            #expect(abs(out[(y * outW + xx) * f + o] - sum) <= tolerance, "output (\(y), \(xx), \(o)) of \(h)×\(w)×\(c), kernel \(k), stride \(s), \(padding)")
          }
        }
      }
    }
  }

  /// The paper's CNN on a few real images: gradient is finite and the HVP is
  /// symmetric (uᵀHv = vᵀHu, round-off tolerance 1e-8 relative in Float64 with
  /// ~10⁵ parameters).
  @Test func paperCNNOnFashionMNIST() throws {
    let (train, _) = try FashionMNIST.load(n: 4, as: Double.self)
    let model = try CNN.make(inputShape: [28, 28, 1], classes: 10, scale: 8)
    let obj = try Objective(model: model, data: train, loss: .crossEntropy, chunkSize: 3)
    let p: [Double] = model.initialParameters(seed: 1)
    let (loss, _, g) = try obj.lossAndGradient(parameters: p)
    #expect(loss.isFinite && g.allSatisfy(\.isFinite))
    let u = randomVector(p.count, seed: 5)
    let v = randomVector(p.count, seed: 6)
    let hu = try obj.hessianVectorProduct(parameters: p, vector: u)
    let hv = try obj.hessianVectorProduct(parameters: p, vector: v)
    let scale = zip(u, hv).map { abs($0 * $1) }.reduce(0, +) + zip(v, hu).map { abs($0 * $1) }.reduce(0, +)
    #expect(abs(dot(u, hv) - dot(v, hu)) <= 1e-8 * scale)
  }
}
