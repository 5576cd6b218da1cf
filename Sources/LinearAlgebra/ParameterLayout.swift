/// One named block of a flat parameter vector: the entries `offset ..< offset + count`,
/// read as a row-major tensor of the given `shape`.
///
/// Weights are stored as PyTorch stores them: a dense layer's [out, in], a
/// convolution's [filters, channels, kernel, kernel], a bias [out].
public struct ParameterBlock: Sendable, Hashable, Codable {
  /// e.g. "dense0.weight", "conv1.bias"; "block0", "block1", … where no names are given.
  public let name: String
  public let shape: [Int]
  /// First index of the block in the flat vector.
  public let offset: Int

  public init(name: String, shape: [Int], offset: Int) {
    self.name = name
    self.shape = shape
    self.offset = offset
  }

  /// Number of entries, the product of the shape.
  public var count: Int { shape.reduce(1, *) }

  /// Indices of the block in the flat vector.
  public var range: Range<Int> { offset..<(offset + count) }

  /// The block as an [out, fan-in] matrix — rows = shape[0], columns = the product of
  /// the other dimensions — or nil for a rank-1 block (a bias, a flat vector).
  ///
  /// This is the one matrix view of the toolkit: the engine's GEMMs read a dense
  /// weight [out, in] and a convolution's kernel [F, C, K, K] (as F × C·K·K) this way,
  /// the initialisation's fan-in is its column count, and Adafactor factors its second
  /// moment over these rows and columns.
  public var matrixShape: (rows: Int, columns: Int)? {
    guard shape.count >= 2, let first = shape.first, first > 0 else { return nil }
    return (first, count / first)
  }
}

/// How a flat parameter vector splits into named, shaped blocks that tile
/// `0 ..< count` in order, without gaps or overlaps.
public struct ParameterLayout: Sendable, Hashable, Codable {
  public let blocks: [ParameterBlock]
  /// Total number of parameters.
  public let count: Int

  /// Consecutive blocks of the given shapes from offset 0, named `names[i]` (default
  /// "block0", "block1", …).
  /// - Throws: `LinearAlgebraError.invalidInput` if a shape is empty or has a
  ///   dimension < 1, if the names do not match the shapes one to one or repeat, or if
  ///   the total overflows.
  public init(shapes: [[Int]], names: [String]? = nil) throws {
    if let names {
      guard names.count == shapes.count else {
        throw LinearAlgebraError.invalidInput("\(names.count) block names for \(shapes.count) shapes: expected one name per shape")
      }
      guard Set(names).count == names.count else {
        throw LinearAlgebraError.invalidInput("repeated parameter block names \(names): expected distinct names")
      }
    }
    var blocks: [ParameterBlock] = []
    var offset = 0
    for (i, shape) in shapes.enumerated() {
      let size = try Self.checkedCount(shape)
      blocks.append(ParameterBlock(name: names?[i] ?? "block\(i)", shape: shape, offset: offset))
      let (next, overflow) = offset.addingReportingOverflow(size)
      guard !overflow else { throw LinearAlgebraError.invalidInput("parameter blocks \(shapes) hold more entries than an Int can count") }
      offset = next
    }
    self.blocks = blocks
    self.count = offset
  }

  /// Checks that `blocks` tile `0 ..< total` in order.
  /// - Throws: `LinearAlgebraError.invalidInput` naming the first block out of place.
  public init(blocks: [ParameterBlock]) throws {
    var offset = 0
    for block in blocks {
      guard block.offset == offset else {
        throw LinearAlgebraError.invalidInput(
          "parameter block \(block.name) at offset \(block.offset): expected offset \(offset) (blocks must tile the vector in order)")
      }
      offset += try Self.checkedCount(block.shape)
    }
    self.blocks = blocks
    self.count = offset
  }

  /// One rank-1 block of `n` entries (no block structure); no block for n = 0.
  /// - Precondition: n ≥ 0.
  public static func flat(_ n: Int) -> ParameterLayout {
    precondition(n >= 0, "a parameter vector has ≥ 0 entries")
    return ParameterLayout(uncheckedBlocks: n == 0 ? [] : [ParameterBlock(name: "block0", shape: [n], offset: 0)], count: n)
  }

  private init(uncheckedBlocks: [ParameterBlock], count: Int) {
    self.blocks = uncheckedBlocks
    self.count = count
  }

  /// The block with this name, if any.
  public func block(named name: String) -> ParameterBlock? { blocks.first { $0.name == name } }

  /// The product of `shape`, checked: at least one dimension, each ≥ 1, no overflow.
  static func checkedCount(_ shape: [Int]) throws -> Int {
    guard !shape.isEmpty, shape.allSatisfy({ $0 >= 1 }) else {
      throw LinearAlgebraError.invalidInput("invalid parameter block shape \(shape): expected one or more dimensions, each ≥ 1")
    }
    var size = 1
    for d in shape {
      let (p, overflow) = size.multipliedReportingOverflow(by: d)
      guard !overflow else { throw LinearAlgebraError.invalidInput("parameter block shape \(shape) has more entries than an Int can count") }
      size = p
    }
    return size
  }
}
