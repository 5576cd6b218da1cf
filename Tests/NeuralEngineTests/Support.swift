import LinearAlgebra
import PropertyBased
import Testing

@testable import NeuralEngine

/// Activations with continuous second derivatives (safe for finite differences:
/// ReLU and ELU have kinks in σ′ / σ″ that a difference step may straddle).
let smoothActivations: [Activation] = [.identity, .tanh, .softplus, .gelu]

/// A small random problem: an MLP with random widths, a random data set (Gaussian
/// clusters), random parameters (initialisation plus noise, so biases are non-zero).
struct Problem {
  let objective: Objective<Double>
  let parameters: [Double]
  var count: Int { parameters.count }
}

func makeProblem(
  seed: UInt64, activations: [Activation] = smoothActivations, loss: Loss? = nil, chunkSize: Int? = nil, n: Int? = nil
) throws -> Problem {
  var rng = SeededGenerator(seed: seed)
  func pick(_ r: ClosedRange<Int>) -> Int { r.lowerBound + Int(rng.next() % UInt64(r.count)) }
  let d = pick(1...5)
  let classes = pick(1...4)
  let depth = pick(0...2)
  var layers: [Layer] = []
  for _ in 0..<depth {
    layers.append(.dense(outputs: pick(1...6)))
    layers.append(.activation(activations[pick(0...(activations.count - 1))]))
  }
  layers.append(.dense(outputs: classes))
  let model = try Model(inputShape: [d], layers: layers)
  let examples = n ?? pick(1...12)
  let data: Dataset<Double> = try SyntheticData.gaussianClusters(n: examples, dimension: d, classes: classes, seed: rng.next())
  let lossKind = loss ?? (pick(0...1) == 0 ? .mse : .crossEntropy)
  let objective = try Objective(model: model, data: data, loss: lossKind, chunkSize: chunkSize ?? pick(1...examples))
  var p: [Double] = model.initialParameters(seed: rng.next())
  for i in p.indices { p[i] += 0.3 * rng.nextNormal() }
  return Problem(objective: objective, parameters: p)
}

func randomVector(_ n: Int, seed: UInt64) -> [Double] {
  var rng = SeededGenerator(seed: seed)
  return (0..<n).map { _ in rng.nextNormal() }
}

func maxAbs(_ v: [Double]) -> Double { v.map(abs).max() ?? 0 }

func maxAbsDiff(_ a: [Double], _ b: [Double]) -> Double {
  zip(a, b).map { abs($0 - $1) }.max() ?? 0
}

func dot(_ a: [Double], _ b: [Double]) -> Double { zip(a, b).map(*).reduce(0, +) }

/// Central finite differences of the loss, step h = 1e-5, against the exact
/// gradient, entry by entry: |FD − gᵢ| ≤ 1e-6·(1 + |gᵢ| + |L|) (the tolerance is
/// argued in `DerivativeTests.gradientMatchesFiniteDifferences`). Returns (L, ∇L).
@discardableResult
func expectGradientMatchesFiniteDifferences(
  _ p: Problem, sourceLocation: SourceLocation = #_sourceLocation
) throws -> (loss: Double, gradient: [Double]) {
  let (loss, _, g) = try p.objective.lossAndGradient(parameters: p.parameters)
  let h = 1e-5
  for i in 0..<p.count {
    var plus = p.parameters
    var minus = p.parameters
    plus[i] += h
    minus[i] -= h
    let fd = (try p.objective.evaluate(parameters: plus).loss - p.objective.evaluate(parameters: minus).loss) / (2 * h)
    #expect(
      abs(fd - g[i]) <= 1e-6 * (1 + abs(g[i]) + abs(loss)), "parameter \(i): gradient \(g[i]) vs FD \(fd)",
      sourceLocation: sourceLocation)
  }
  return (loss, g)
}

/// Property-test seeds (any value must pass; nothing is fixed).
let seeds = Gen.int(in: 0...Int(Int32.max)).map { UInt64($0) }
