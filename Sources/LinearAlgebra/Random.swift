/// A seeded, reproducible pseudo-random generator (xoshiro256**, seeded through
/// SplitMix64). Same seed → same stream on every platform; value type, so copies
/// continue independently.
public struct SeededGenerator: RandomNumberGenerator, Sendable, Codable, Equatable {
  public private(set) var state: (UInt64, UInt64, UInt64, UInt64)

  public init(seed: UInt64) {
    var sm = seed
    func splitmix() -> UInt64 {
      sm &+= 0x9E37_79B9_7F4A_7C15
      var z = sm
      z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
      z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
      return z ^ (z >> 31)
    }
    state = (splitmix(), splitmix(), splitmix(), splitmix())
  }

  /// Restores a generator from a saved `state` (for checkpoints).
  public init(state: [UInt64]) {
    precondition(state.count == 4, "SeededGenerator state has 4 words")
    self.state = (state[0], state[1], state[2], state[3])
  }

  public var stateWords: [UInt64] { [state.0, state.1, state.2, state.3] }

  public mutating func next() -> UInt64 {
    let result = rotl(state.1 &* 5, 7) &* 9
    let t = state.1 << 17
    state.2 ^= state.0
    state.3 ^= state.1
    state.1 ^= state.2
    state.0 ^= state.3
    state.2 ^= t
    state.3 = rotl(state.3, 45)
    return result
  }

  @inline(__always) private func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }

  /// Uniform double in [0, 1) with 53 random bits.
  public mutating func nextUniform() -> Double { Double(next() >> 11) * 0x1.0p-53 }

  /// Standard normal N(0, 1) by the Box–Muller transform (one value per call).
  public mutating func nextNormal() -> Double {
    var u1 = nextUniform()
    while u1 <= 0 { u1 = nextUniform() }
    let u2 = nextUniform()
    return (-2 * _log(u1)).squareRoot() * _cos(2 * Double.pi * u2)
  }

  public static func == (a: SeededGenerator, b: SeededGenerator) -> Bool { a.stateWords == b.stateWords }

  public init(from decoder: any Decoder) throws {
    let words = try [UInt64](from: decoder)
    guard words.count == 4 else {
      throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "generator state needs 4 words, got \(words.count)"))
    }
    self.init(state: words)
  }
  public func encode(to encoder: any Encoder) throws { try stateWords.encode(to: encoder) }
}

#if canImport(Glibc)
import Glibc
@inline(__always) func _log(_ x: Double) -> Double { Glibc.log(x) }
@inline(__always) func _cos(_ x: Double) -> Double { Glibc.cos(x) }
#else
import Foundation
@inline(__always) func _log(_ x: Double) -> Double { Foundation.log(x) }
@inline(__always) func _cos(_ x: Double) -> Double { Foundation.cos(x) }
#endif
