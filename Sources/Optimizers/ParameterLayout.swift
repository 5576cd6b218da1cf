/// One block of a flat parameter vector: the entries `offset ..< offset + count`,
/// read as a tensor of the given `shape` (row-major).
///
/// Only Adafactor looks at shapes: a block of rank ≥ 2 gets a factored second
/// moment over (product of all but the last dimension) × (last dimension); a rank-1
/// block gets a full one.
public struct ParameterBlock: Sendable, Hashable, Codable {
  public var offset: Int
  public var shape: [Int]

  public init(offset: Int, shape: [Int]) {
    self.offset = offset
    self.shape = shape
  }

  /// Number of entries, the product of the shape.
  public var count: Int { shape.reduce(1, *) }

  /// Whether Adafactor factors this block's second moment (rank ≥ 2).
  public var isMatrix: Bool { shape.count >= 2 }

  /// Rows × columns of the matrix view: (all dimensions but the last, the last).
  public var matrixShape: (rows: Int, columns: Int) {
    guard let last = shape.last, shape.count >= 2 else { return (count, 1) }
    return (count / last, last)
  }
}

/// How a flat parameter vector of `count` entries splits into shaped blocks. The
/// blocks tile `0 ..< count` in order, without gaps or overlaps.
public struct ParameterLayout: Sendable, Hashable, Codable {
  public let blocks: [ParameterBlock]
  public let count: Int

  /// Consecutive blocks of the given shapes, starting at offset 0.
  /// - Throws: `OptimizerError` if a shape is empty or has a dimension < 1.
  public init(shapes: [[Int]]) throws {
    var blocks: [ParameterBlock] = []
    var offset = 0
    for shape in shapes {
      guard !shape.isEmpty, shape.allSatisfy({ $0 >= 1 }) else {
        throw OptimizerError("invalid parameter block shape \(shape): expected one or more dimensions, each ≥ 1")
      }
      let block = ParameterBlock(offset: offset, shape: shape)
      blocks.append(block)
      offset += block.count
    }
    self.blocks = blocks
    self.count = offset
  }

  /// Checks that `blocks` tile `0 ..< total` in order.
  public init(blocks: [ParameterBlock]) throws {
    var offset = 0
    for block in blocks {
      guard block.offset == offset else {
        throw OptimizerError("parameter block at offset \(block.offset): expected offset \(offset) (blocks must tile the vector in order)")
      }
      guard !block.shape.isEmpty, block.shape.allSatisfy({ $0 >= 1 }) else {
        throw OptimizerError("invalid parameter block shape \(block.shape): expected one or more dimensions, each ≥ 1")
      }
      offset += block.count
    }
    self.blocks = blocks
    self.count = offset
  }

  /// One rank-1 block of `n` entries (no block structure). `n` may be 0.
  public static func flat(_ n: Int) -> ParameterLayout {
    precondition(n >= 0, "a parameter vector has ≥ 0 entries")
    return ParameterLayout(uncheckedBlocks: n == 0 ? [] : [ParameterBlock(offset: 0, shape: [n])], count: n)
  }

  init(uncheckedBlocks: [ParameterBlock], count: Int) {
    self.blocks = uncheckedBlocks
    self.count = count
  }

  /// Total number of row (resp. column) statistics Adafactor keeps, and of full
  /// second-moment entries (rank-1 blocks).
  var factoredSizes: (rows: Int, columns: Int, full: Int) {
    var r = 0, c = 0, f = 0
    for b in blocks {
      if b.isMatrix {
        r += b.matrixShape.rows
        c += b.matrixShape.columns
      } else {
        f += b.count
      }
    }
    return (r, c, f)
  }
}

/// A user-causable problem with an optimizer's configuration or state; the message
/// names the bad value and what was expected.
public struct OptimizerError: Error, CustomStringConvertible, Equatable, Sendable {
  public let description: String
  public init(_ description: String) { self.description = description }
}
