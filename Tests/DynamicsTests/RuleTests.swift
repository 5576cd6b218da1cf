import Algebra
import Dynamics
import LinearAlgebra
import PropertyBased
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Iterates a rule's exact state matrix numerically (through `StateSpaceModel`'s
/// symbolic matrix evaluated at numbers) — the recurrence the rule defines.
func iterateMatrix(_ a: [[Double]], _ s0: [Double], steps: Int) -> (logGrowth: Double, final: [Double]) {
  var s = s0
  var logGrowth = 0.0
  for _ in 0..<steps {
    var next = [Double](repeating: 0, count: s.count)
    for i in 0..<s.count { for j in 0..<s.count { next[i] += a[i][j] * s[j] } }
    let n = next.reduce(0) { $0 + $1 * $1 }.squareRoot()
    logGrowth += log(n)
    s = next.map { $0 / n }
  }
  return (logGrowth, s)
}

func numericMatrix(_ rule: String, _ values: [String: Double]) -> [[Double]]? {
  guard let model = try? RuleCache.model(for: rule) else { return nil }
  var out: [[Double]] = []
  for row in model.matrix {
    var r: [Double] = []
    for e in row {
      guard let v = e.evaluate(values) else { return nil }
      r.append(v)
    }
    out.append(r)
  }
  return out
}

@Suite struct RuleTests {
  static let qhm = "m' = beta*m + (1-beta)*g; x' = x - eta*((1-nu)*g + nu*m')"
  static let aggmo = "u' = b1*u + g; v' = b2*v + g; x' = x - eta*(u' + v')/2"

  /// QHM and AggMo (a cubic): the closed form equals the numeric threshold
  /// (relative 1e-9: two double evaluations of one exact number), ρ(λ*) = 1, and
  /// the rule's own recurrence grows above (1.1×) and decays below (0.9×) it: over
  /// 3000 steps the mean log growth must have the right sign with margin.
  @Test func userRulesAgreeWithTheirRecurrences() async {
    await propertyCheck(count: 30, input: Gen.double(in: 0.01...2), Gen.double(in: 0...0.9), Gen.double(in: 0...1), Gen.double(in: 0...0.9)) { lr, b, nu, b2 in
      for (rule, params) in [(Self.qhm, ["beta": b, "nu": nu]), (Self.aggmo, ["b1": b, "b2": b2])] {
        let rec = Recurrence(name: "rule", rule: rule, parameters: params)
        guard let a = try? rec.analysis(lr: lr), let t = a.threshold else {
          Issue.record("no threshold for \(rule) at \(params)")
          continue
        }
        var values = params
        values["eta"] = lr
        if let form = a.closedForm(), let v = form.evaluate(values) {
          #expect(abs(v - t) <= 1e-9 * t)
        } else {
          Issue.record("no closed form for \(rule)")
        }
        #expect(abs(((try? a.growthFactor(at: t)) ?? 0) - 1) < 1e-9)
        for (f, grows) in [(1.1, true), (0.9, false)] {
          values["lamda"] = f * t
          guard let m = numericMatrix(rule, values), let rho = try? a.growthFactor(at: f * t) else {
            Issue.record("cannot evaluate matrix")
            continue
          }
          let s0 = (0..<m.count).map { Double($0 + 1) }
          let (g, _) = iterateMatrix(m, s0, steps: 3000)
          // the mean log growth tends to log ρ; with ρ bounded away from 1 by the
          // 10% margin, the sign is decided long before 3000 steps
          #expect((g / 3000 > 0) == grows, "\(rule) \(params) at \(f)×: log-growth \(g / 3000), log ρ \(log(rho))")
        }
      }
    }
  }

  /// ρ is accurate near double roots. A complex pair ρe^{±iθ} with tiny θ is a
  /// near-double root: single roots from the companion matrix carry errors of order
  /// ε/θ, while the modulus of the refined quadratic factor, √v, is as accurate as
  /// the coefficients (1e-12 relative here, with cubic coefficients rounded once).
  /// An exact real double root is intrinsically ill-conditioned: rounding the
  /// coefficients by ε moves it by ~√ε ≈ 1.5e-8, so 1e-7 relative is the honest
  /// bound there.
  @Test func spectralRadiusAtDoubleRoots() async {
    await propertyCheck(count: 100, input: Gen.double(in: 0.2...3), Gen.double(in: -0.8...0.8), Gen.double(in: -6 ... -2), Gen.double(in: 0...3.1)) { r0, sFactor, logTheta, phase in
      let theta = pow(10, logTheta)
      let s = sFactor * r0
      // complex pair r0·e^{±i(phase ± θ)} collapsed toward the real axis when phase is 0 or π:
      // use angle θ around a random direction
      let angle = phase < 1.55 ? theta : Double.pi - theta
      let u = -2 * r0 * cos(angle), v = r0 * r0
      // (z² + u z + v)(z − s)
      let cubic = [-v * s, v - u * s, u - s, 1]
      let rho = (try? SpectralRadius.of(cubic)) ?? .nan
      #expect(abs(rho - r0) <= 1e-12 * r0, "ρ = \(rho), expected \(r0) (θ = \(theta))")
      let rho2 = (try? SpectralRadius.of([v, u, 1])) ?? .nan
      #expect(abs(rho2 - r0) <= 1e-14 * r0)
      // exact real double root (z − r)²(z − s)
      let r = phase < 1.55 ? r0 : -r0
      let double = [-r * r * s, r * r + 2 * r * s, -(2 * r + s), 1]
      let rho3 = (try? SpectralRadius.of(double)) ?? .nan
      #expect(abs(rho3 - r0) <= 1e-7 * r0, "double root: ρ = \(rho3), expected \(r0)")
    }
  }

  /// The ρ of a random polynomial with known roots equals the largest modulus
  /// (well-separated roots: relative 1e-9).
  @Test func spectralRadiusOfKnownRoots() async {
    await propertyCheck(count: 100, input: Gen.double(in: 0.1...2).array(of: 1...5)) { moduli in
      // real roots with alternating signs, separated by construction
      let roots = moduli.enumerated().map { (k, m) in (k % 2 == 0 ? 1.0 : -1.0) * (m + Double(k) * 2.5) }
      var c = [1.0]
      for root in roots {
        var next = [Double](repeating: 0, count: c.count + 1)
        for (i, a) in c.enumerated() { next[i + 1] += a; next[i] -= root * a }
        c = next
      }
      let expected = roots.map(abs).max() ?? 0
      let rho = (try? SpectralRadius.of(c)) ?? .nan
      #expect(abs(rho - expected) <= 1e-9 * expected)
    }
  }

  @Test func ruleErrors() {
    let cases: [(String, String)] = [
      ("", "empty"),
      ("x = x - eta*g", "primed"),
      ("x' = x - eta*g; x' = x", "twice"),
      ("m' = beta*m + g", "never updates the iterate"),
      ("x' = x - eta*g*x", "degree 2"),
      ("x' = x - eta*g + 1", "affine"),
      ("x' = x - eta*v'", "never updates"),
      ("x' = x - eta*m'; m' = beta*m + g", "before it is assigned"),
      ("x' = x/m; m' = m", "divides by the state"),
      ("x' = x - lamda*x", "reserved"),
      ("x' = x - eta*(g", "cannot parse"),
      ("x' = x - 2eta*g", "cannot parse"),
    ]
    for (rule, mention) in cases {
      do {
        _ = try UpdateRule(parsing: rule)
        Issue.record("accepted malformed rule \"\(rule)\"")
      } catch {
        #expect(error.description.contains(mention), "\"\(rule)\": \(error.description)")
      }
    }
  }

  @Test func emptyAndUnboundedStableSets() throws {
    let ascent = try StabilityAnalysis(model: RuleCache.model(for: "x' = x + eta*g"), values: ["eta": 0.1])
    #expect(ascent.stableSet == .empty)
    let contraction = try StabilityAnalysis(model: RuleCache.model(for: "x' = x/2"), values: ["eta": 0.1])
    #expect(contraction.stableSet == .unbounded)
    #expect(throws: RuleError.self) { try Recurrence(name: "r", rule: "x' = x + eta*g", parameters: [:]).threshold(lr: 1) }
    #expect(throws: RuleError.self) { try StabilityAnalysis(model: RuleCache.model(for: "x' = x - eta*q*g"), values: ["eta": 0.1]) }
  }

  /// g(E) reads as one factor, (λ·E): after '/' and before '^' too. Each rule below is
  /// gradient descent on the quadratic written another way, so its update is 1 − ηλ
  /// exactly and its threshold 2/η.
  @Test func gradientCallsBindAsOneFactor() throws {
    let gd = try UpdateRule(parsing: "x' = x - eta*g").updates
    for rule in ["x' = x - eta*g*g(x)/g(x)", "x' = x - eta*g(x)^2/g", "x' = x - eta*g(x)^0*g", "x' = x - eta*g( x )"] {
      #expect(try UpdateRule(parsing: rule).updates == gd, "\(rule)")
      #expect(try Recurrence(name: "r", rule: rule, parameters: [:]).threshold(lr: 0.5) == 4, "\(rule)")
    }
    // nested calls: g(x - eta*g(x)) = λ(x − ηλx)
    let nested = try UpdateRule(parsing: "x' = x - eta*g(x - eta*g(x))").updates
    #expect(nested == (try UpdateRule(parsing: "x' = x - eta*(g - eta*g(g))")).updates)
  }
}
