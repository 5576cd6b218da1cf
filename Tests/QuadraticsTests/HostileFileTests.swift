import Foundation
import PropertyBased
@testable import Quadratics
import TestSupport
import Testing

/// Hostile Hessian files for `aeos simulate --hessian`: .npy headers that lie (negative,
/// overflowing or huge shapes, wrong lengths, wrong types), truncations, random bytes,
/// JSON that is damaged or deeply nested. `Quadratic.load` must return a quadratic or a
/// `QuadraticError` naming the file, within a time bound, without trapping.
///
/// Time bound: 10 s per file. Every file here is under 100 kB and is read or refused in
/// milliseconds; the bound only has to tell that apart from a hang on a shared machine.
@Suite struct HostileFileTests {
  static let bound = 10.0

  static func npy(_ header: String, body: [UInt8], major: UInt8 = 1) -> [UInt8] {
    var h = Array(header.utf8)
    while (10 + h.count + 1) % 64 != 0 { h.append(0x20) }
    h.append(0x0a)
    var out: [UInt8] = [0x93] + Array("NUMPY".utf8) + [major, 0]
    if major == 1 {
      out += [UInt8(h.count & 0xff), UInt8(h.count >> 8)]
    } else {
      out += [UInt8(h.count & 0xff), UInt8(h.count >> 8 & 0xff), 0, 0]
    }
    return out + h + body
  }

  /// Writes the bytes to a fresh file, loads it, and checks the outcome.
  static func loadChecked(_ bytes: [UInt8], ext: String, what: String) throws {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("aeos-hostile-\(UUID().uuidString).\(ext)")
    try Data(bytes).write(to: url)
    defer { try? FileManager.default.removeItem(at: url) }
    let start = ContinuousClock.now
    do {
      let q = try Quadratic.load(path: url.path)
      #expect(q.dimension >= 1 && q.dimension <= Quadratic.maximumDenseDimension, "\(what): dimension \(q.dimension)")
    } catch let e as QuadraticError {
      #expect(e.description.contains(url.path), "\(what): the error does not name the file: \(e)")
    }
    let d = ContinuousClock.now - start
    #expect(Double(d.components.seconds) < Self.bound, "\(what): \(d)")
  }

  /// Shapes from −2⁶³ to 2⁶³ (negative, zero, overflowing in the product, far larger
  /// than the data), with a body that is shorter, exact or longer.
  @Test func lyingShapesAreRefused() async {
    let special = [2001, 1 << 31, 1 << 32, Int.max]
    let dims = zip(Gen.int(in: 0...2), Gen.int(in: Int.min...Int.max)).map { kind, v -> Int in
      switch kind {
      case 0: return v % 8 - 3
      case 1: return v
      default: return special[Int(v.magnitude % 4)]
      }
    }
    let descrs = ["<f8", "<f4", ">f8", "<i4", "|u1"]
    await propertyCheckThrowing(count: 150, input: dims.array(of: 0...3), Gen.int(in: 0...80), Gen.int(in: 0...4)) { shape, bodyBytes, d in
      let descr = descrs[d]
      let entries: [String] = shape.map { String($0) }
      let shapeText: String = "(" + entries.joined(separator: ", ") + (shape.count == 1 ? ",)" : ")")
      let header = "{'descr': '\(descr)', 'fortran_order': False, 'shape': \(shapeText), }"
      try Self.loadChecked(Self.npy(header, body: [UInt8](repeating: 0x3f, count: bodyBytes)), ext: "npy", what: header)
    }
  }

  /// Every prefix of a valid file, and valid files with random bytes overwritten,
  /// in the version 1 and 2 header layouts.
  @Test func truncatedAndDamagedFilesAreRefusedOrRead() async {
    var valid: [[UInt8]] = []
    for major: UInt8 in [1, 2] {
      let body = [1.0, 0.5, 0.5, 2.0].flatMap { withUnsafeBytes(of: $0.bitPattern.littleEndian, Array.init) }
      valid.append(Self.npy("{'descr': '<f8', 'fortran_order': False, 'shape': (2, 2), }", body: body, major: major))
    }
    await propertyCheckThrowing(count: 150, input: Gen.int(in: 0...1), Gen.int(in: 0...200), Gen.int(in: 0...255).array(of: 0...4), Gen.bool) { which, cut, noise, truncate in
      var bytes = valid[which]
      if truncate {
        bytes = Array(bytes.prefix(cut))
      } else {
        for (i, v) in noise.enumerated() where !bytes.isEmpty { bytes[(cut + 37 * i) % bytes.count] = UInt8(v) }
      }
      try Self.loadChecked(bytes, ext: "npy", what: "file \(which) cut at \(cut)/noise \(noise)")
    }
  }

  /// JSON: truncations of a valid document, random bytes, deep nesting, non-numbers.
  @Test func damagedJSONIsRefusedOrRead() async {
    let valid = Array(#"{"matrix": [[2, 0.5], [0.5, 1]], "b": [1, -1]}"#.utf8)
    let pieces = ["[", "]", "{", "}", ",", "\"matrix\"", ":", "1e400", "-1", "null", "\"x\"", "true", " "]
    await propertyCheckThrowing(count: 150, input: Gen.int(in: 0...3), Gen.int(in: 0...(valid.count)), Gen.int(in: 0...(pieces.count - 1)).array(of: 0...80), Gen.int(in: 1...100_000)) { kind, cut, picks, depth in
      let bytes: [UInt8]
      switch kind {
      case 0: bytes = Array(valid.prefix(cut))
      case 1: bytes = Array(picks.map { pieces[$0] }.joined().utf8)
      case 2: bytes = Array(("{\"matrix\": " + String(repeating: "[", count: depth) + String(repeating: "]", count: depth) + "}").utf8)
      default: bytes = picks.map { UInt8(truncatingIfNeeded: $0 &* 37 &+ cut) }
      }
      try Self.loadChecked(bytes, ext: "json", what: String(decoding: bytes.prefix(200), as: UTF8.self))
    }
  }

  /// A folder, a missing file and an empty file are named as such (not "malformed
  /// JSON" or "NSCocoaErrorDomain error 256").
  @Test func foldersMissingAndEmptyFilesAreNamed() throws {
    let dir = FileManager.default.temporaryDirectory.path
    for (path, reason) in [(dir, "it is a folder"), (dir + "/aeos-no-such-file-\(UUID().uuidString).npy", "no such file")] {
      #expect(throws: QuadraticError.self) { try Quadratic.load(path: path) }
      do { _ = try Quadratic.load(path: path) } catch { #expect("\(error)".contains(reason), "\(error)") }
    }
    let empty = FileManager.default.temporaryDirectory.appendingPathComponent("aeos-empty-\(UUID().uuidString).npy")
    try Data().write(to: empty)
    defer { try? FileManager.default.removeItem(at: empty) }
    do { _ = try Quadratic.load(path: empty.path) } catch { #expect("\(error)".contains("empty"), "\(error)") }
  }
}
