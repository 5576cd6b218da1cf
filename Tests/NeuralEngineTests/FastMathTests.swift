import Foundation
import PropertyBased
import Testing

@testable import NeuralEngine

@Suite struct FastMathTests {
  /// Relative error against glibc in ulps of the working precision. The fast
  /// functions are built to be within a few ulps; 8 ulps leaves room for the
  /// reference's own ≤ 1 ulp error and the final division.
  @Test func tanhIsAccurateInDouble() async {
    await propertyCheck(count: 500, input: Gen.double(in: -25...25)) { x in
      let got = FastMath.tanh(x)
      let want = Foundation.tanh(x)
      #expect(abs(got - want) <= 8 * want.ulp.magnitude + 8 * Double.leastNormalMagnitude, "tanh(\(x)) = \(got), libm \(want)")
    }
  }

  @Test func tanhIsAccurateNearZero() async {
    await propertyCheck(count: 300, input: Gen.double(in: -1e-3...1e-3)) { x in
      let got = FastMath.tanh(x)
      let want = Foundation.tanh(x)
      #expect(abs(got - want) <= 8 * want.ulp.magnitude + Double.leastNormalMagnitude)
    }
  }

  @Test func tanhIsAccurateInFloat() async {
    await propertyCheck(count: 500, input: Gen.float(in: -15...15)) { x in
      let got = FastMath.tanh(x)
      let want = Float(Foundation.tanh(Double(x)))
      #expect(abs(got - want) <= 8 * want.ulp.magnitude + Float.leastNormalMagnitude, "tanh(\(x)) = \(got), libm \(want)")
    }
  }

  @Test func expAndExpm1AreAccurate() async {
    await propertyCheck(count: 500, input: Gen.double(in: -700...700)) { x in
      #expect(abs(FastMath.exp(x) - Foundation.exp(x)) <= 8 * Foundation.exp(x).ulp)
    }
    await propertyCheck(count: 300, input: Gen.double(in: -2...2)) { x in
      let want = Foundation.expm1(x)
      #expect(abs(FastMath.expm1(x) - want) <= 8 * want.ulp.magnitude + Double.leastNormalMagnitude)
    }
  }

  @Test func softplusAndSigmoidAreAccurate() async {
    await propertyCheck(count: 500, input: Gen.double(in: -40...40)) { x in
      let want = Foundation.log1p(Foundation.exp(x))
      #expect(abs(FastMath.softplus(x) - want) <= 8 * want.ulp)
      let s = 1 / (1 + Foundation.exp(-x))
      #expect(abs(FastMath.sigmoid(x) - s) <= 8 * s.ulp)
    }
  }

  @Test func nanPropagates() {
    #expect(FastMath.tanh(Double.nan).isNaN)
    #expect(FastMath.tanh(Float.nan).isNaN)
    #expect(FastMath.softplus(Double.nan).isNaN)
    for a in Activation.allCases where a != .identity { #expect(a.value(.nan).isNaN, "\(a)") }
    #expect(FastMath.tanh(1e300) == 1)
    #expect(FastMath.tanh(-Double.infinity) == -1)
  }

  /// σ′ and σ″ equal central differences of σ and σ′ (away from the kinks of ReLU at
  /// 0 and of ELU's σ″ at 0). Step 1e-5: truncation ≤ h²·|σ‴|/6 ≈ 1e-10, rounding
  /// ε/h ≈ 1e-11; tolerance 1e-7.
  @Test func activationDerivativesMatchFiniteDifferences() async {
    await propertyCheck(count: 200, input: Gen.double(in: -6...6), Gen.int(in: 0...5)) { x, which in
      let a = Activation.allCases[which]
      guard abs(x) > 1e-3 else { return }
      let h = 1e-5
      let d1 = (a.value(x + h) - a.value(x - h)) / (2 * h)
      let d2 = (a.derivative(x + h) - a.derivative(x - h)) / (2 * h)
      #expect(abs(d1 - a.derivative(x)) <= 1e-7, "\(a) σ′(\(x))")
      #expect(abs(d2 - a.secondDerivative(x)) <= 1e-7, "\(a) σ″(\(x))")
    }
  }

  /// Known closed forms.
  @Test func activationValues() async {
    await propertyCheck(count: 200, input: Gen.double(in: -6...6)) { x in
      #expect(Activation.identity.value(x) == x)
      #expect(Activation.relu.value(x) == max(x, 0))
      let elu = x > 0 ? x : Foundation.expm1(x)
      #expect(abs(Activation.elu.value(x) - elu) <= 1e-15)
      let c = (2 / Double.pi).squareRoot()
      let gelu = 0.5 * x * (1 + Foundation.tanh(c * (x + 0.044715 * x * x * x)))
      #expect(abs(Activation.gelu.value(x) - gelu) <= 1e-14 * (1 + abs(x)))
    }
  }
}
