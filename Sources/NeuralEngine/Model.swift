import LinearAlgebra

/// How a convolution treats the border.
public enum Padding: String, Sendable, Hashable, Codable {
  /// No padding: output size ⌊(H − K)/s⌋ + 1.
  case valid
  /// Zero padding so that the output size is ⌈H/s⌉ (TensorFlow's convention: the
  /// total padding max((⌈H/s⌉ − 1)·s + K − H, 0) is split with the smaller half on
  /// top/left).
  case same
}

/// One layer of a sequential model.
///
/// Images are stored channels-last: an example of shape [H, W, C] is the row of
/// H·W·C numbers in (h, w, c) order. `flatten` keeps that order (as JAX/Keras NHWC
/// models do; a PyTorch NCHW model would flatten in (c, h, w) order).
public enum Layer: Sendable, Hashable {
  /// y = x·Wᵀ + b with W stored [outputs, inputs] (PyTorch's `nn.Linear` layout) and
  /// b [outputs]. Needs a flat input.
  case dense(outputs: Int)
  /// 2-D convolution (cross-correlation, as in every framework): y[h, w, o] =
  /// b[o] + Σ_{c,i,j} W[o, c, i, j]·x[h·s + i − p_top, w·s + j − p_left, c], with W
  /// stored [filters, channels, kernel, kernel] (PyTorch's layout) and b [filters].
  case conv2D(filters: Int, kernel: Int, stride: Int = 1, padding: Padding = .valid)
  /// Maximum over size×size windows with the given stride (no padding). Ties go to
  /// the first maximum in row-major window order; its gradient flows to that entry only.
  case maxPool(size: Int, stride: Int)
  /// Mean over size×size windows with the given stride (no padding).
  case avgPool(size: Int, stride: Int)
  /// [H, W, C] → [H·W·C] (no data movement).
  case flatten
  /// An elementwise activation.
  case activation(Activation)
}

// The parameter layout (named blocks, PyTorch shapes) is LinearAlgebra's
// `ParameterLayout`, shared with the optimizers.

// MARK: - Compiled stages

struct ConvGeometry: Sendable, Hashable {
  var height, width, channels: Int
  var kernel, stride, padTop, padLeft: Int
  var outHeight, outWidth: Int
}

struct PoolGeometry: Sendable, Hashable {
  var height, width, channels: Int
  var size, stride: Int
  var outHeight, outWidth: Int
}

/// A layer with parameters (dense or convolution), followed by its activation.
/// Rows of the GEMM: `positions` per example (1 for dense, OH·OW for a convolution);
/// columns of the input matrix: `inFeatures` (in, or C·K·K for an im2col matrix).
struct LinearStage: Sendable, Hashable {
  var inFeatures, outFeatures, positions: Int
  var weightOffset, biasOffset: Int
  var conv: ConvGeometry?
}

/// What the engine runs: each stage is an operation followed by an activation
/// (identity when none follows), so that bias, activation and derivative loops fuse.
struct Stage: Sendable, Hashable {
  enum Kind: Sendable, Hashable {
    case linear(LinearStage)
    case maxPool(PoolGeometry)
    case avgPool(PoolGeometry)
    /// An activation not preceded by a linear layer or pooling.
    case copy
  }
  var kind: Kind
  var activation: Activation
  /// Numbers per example entering and leaving the stage.
  var inSize: Int
  var outSize: Int
}

/// A sequential model: an input shape and layers. The parameters are not part of the
/// model; they live in one flat vector described by `layout`.
public struct Model: Sendable, Hashable {
  /// [features] for vectors, [height, width, channels] for images.
  public let inputShape: [Int]
  public let layers: [Layer]
  public let layout: ParameterLayout
  /// Shape of one output (after the last layer).
  public let outputShape: [Int]
  let stages: [Stage]

  /// Numbers per input example.
  public var inputSize: Int { inputShape.reduce(1, *) }
  /// Numbers per output (the number of classes for a classifier).
  public var outputSize: Int { outputShape.reduce(1, *) }
  /// Number of parameters.
  public var parameterCount: Int { layout.count }

  /// Checks shapes layer by layer.
  /// - Throws: `NeuralEngineError.shapeMismatch` or `.invalidArgument` naming the
  ///   layer and the offending size.
  public init(inputShape: [Int], layers: [Layer]) throws {
    guard !inputShape.isEmpty, inputShape.count == 1 || inputShape.count == 3, inputShape.allSatisfy({ $0 > 0 }) else {
      throw NeuralEngineError.invalidArgument(
        name: "input shape", value: "\(inputShape)", expected: "[features] or [height, width, channels], all positive")
    }
    self.inputShape = inputShape
    self.layers = layers
    var shape = inputShape
    var blocks: [ParameterBlock] = []
    var offset = 0
    var stages: [Stage] = []
    var denseCount = 0
    var convCount = 0
    func addBlock(_ name: String, _ s: [Int]) -> Int {
      let b = ParameterBlock(name: name, shape: s, offset: offset)
      blocks.append(b)
      offset += b.count
      return b.offset
    }
    for (index, layer) in layers.enumerated() {
      let inSize = shape.reduce(1, *)
      switch layer {
      case .dense(let outputs):
        guard outputs > 0 else {
          throw NeuralEngineError.invalidArgument(name: "layer \(index) outputs", value: "\(outputs)", expected: "a positive integer")
        }
        guard shape.count == 1 else {
          throw NeuralEngineError.shapeMismatch(
            what: "input of dense layer \(index)", expected: "a flat vector (add .flatten)", got: "\(shape)")
        }
        let w = addBlock("dense\(denseCount).weight", [outputs, inSize])
        let b = addBlock("dense\(denseCount).bias", [outputs])
        denseCount += 1
        let lin = LinearStage(inFeatures: inSize, outFeatures: outputs, positions: 1, weightOffset: w, biasOffset: b, conv: nil)
        stages.append(Stage(kind: .linear(lin), activation: .identity, inSize: inSize, outSize: outputs))
        shape = [outputs]
      case .conv2D(let filters, let kernel, let stride, let padding):
        guard shape.count == 3 else {
          throw NeuralEngineError.shapeMismatch(what: "input of conv2D layer \(index)", expected: "[height, width, channels]", got: "\(shape)")
        }
        guard filters > 0, kernel > 0, stride > 0 else {
          throw NeuralEngineError.invalidArgument(
            name: "conv2D layer \(index)", value: "filters \(filters), kernel \(kernel), stride \(stride)", expected: "positive integers")
        }
        let (h, w, c) = (shape[0], shape[1], shape[2])
        let oh: Int, ow: Int, pt: Int, pl: Int
        switch padding {
        case .valid:
          guard h >= kernel, w >= kernel else {
            throw NeuralEngineError.shapeMismatch(
              what: "conv2D layer \(index) (valid \(kernel)×\(kernel))", expected: "input at least \(kernel)×\(kernel)", got: "\(h)×\(w)")
          }
          oh = (h - kernel) / stride + 1
          ow = (w - kernel) / stride + 1
          pt = 0
          pl = 0
        case .same:
          oh = (h + stride - 1) / stride
          ow = (w + stride - 1) / stride
          pt = max((oh - 1) * stride + kernel - h, 0) / 2
          pl = max((ow - 1) * stride + kernel - w, 0) / 2
        }
        let geometry = ConvGeometry(
          height: h, width: w, channels: c, kernel: kernel, stride: stride, padTop: pt, padLeft: pl, outHeight: oh, outWidth: ow)
        let wo = addBlock("conv\(convCount).weight", [filters, c, kernel, kernel])
        let bo = addBlock("conv\(convCount).bias", [filters])
        convCount += 1
        let lin = LinearStage(
          inFeatures: c * kernel * kernel, outFeatures: filters, positions: oh * ow, weightOffset: wo, biasOffset: bo, conv: geometry)
        stages.append(Stage(kind: .linear(lin), activation: .identity, inSize: inSize, outSize: oh * ow * filters))
        shape = [oh, ow, filters]
      case .maxPool(let size, let stride), .avgPool(let size, let stride):
        guard shape.count == 3 else {
          throw NeuralEngineError.shapeMismatch(what: "input of pooling layer \(index)", expected: "[height, width, channels]", got: "\(shape)")
        }
        guard size > 0, stride > 0 else {
          throw NeuralEngineError.invalidArgument(
            name: "pooling layer \(index)", value: "size \(size), stride \(stride)", expected: "positive integers")
        }
        let (h, w, c) = (shape[0], shape[1], shape[2])
        guard h >= size, w >= size else {
          throw NeuralEngineError.shapeMismatch(what: "pooling layer \(index) (\(size)×\(size))", expected: "input at least \(size)×\(size)", got: "\(h)×\(w)")
        }
        let g = PoolGeometry(
          height: h, width: w, channels: c, size: size, stride: stride, outHeight: (h - size) / stride + 1, outWidth: (w - size) / stride + 1)
        let kind: Stage.Kind
        if case .maxPool = layer { kind = .maxPool(g) } else { kind = .avgPool(g) }
        stages.append(Stage(kind: kind, activation: .identity, inSize: inSize, outSize: g.outHeight * g.outWidth * c))
        shape = [g.outHeight, g.outWidth, c]
      case .flatten:
        shape = [inSize]
      case .activation(let act):
        if act == .identity { continue }
        if let last = stages.indices.last, stages[last].activation == .identity {
          stages[last].activation = act  // fused; a flatten in between moves no data
        } else {
          stages.append(Stage(kind: .copy, activation: act, inSize: inSize, outSize: inSize))
        }
      }
    }
    self.layout = try ParameterLayout(blocks: blocks)
    self.outputShape = shape
    self.stages = stages
  }

  /// Initial parameters: weights ~ N(0, 1/fan_in) (fan_in = inputs of a dense layer,
  /// channels·kernel² of a convolution), biases 0, drawn block by block in layout
  /// order from `SeededGenerator(seed:)`; the same seed gives the same numbers (up to
  /// rounding to `T`) in every precision.
  public func initialParameters<T: BLASScalar>(seed: UInt64, as _: T.Type = T.self) -> [T] {
    var rng = SeededGenerator(seed: seed)
    var p = [T](repeating: 0, count: layout.count)
    for block in layout.blocks {
      guard let fanIn = block.matrixShape?.columns else { continue }
      let scale = 1 / Double(fanIn).squareRoot()
      for i in block.range { p[i] = T(rng.nextNormal() * scale) }
    }
    return p
  }
}

/// The fully-connected networks of the AEoS paper (appendix G).
public enum MLP {
  /// inputSize → (width, activation) × depth → classes (no activation on the output).
  /// - Parameters:
  ///   - depth: number of hidden layers (0 gives a linear model).
  public static func make(inputSize: Int, depth: Int, width: Int, activation: Activation, classes: Int) throws -> Model {
    guard depth >= 0 else { throw NeuralEngineError.invalidArgument(name: "depth", value: "\(depth)", expected: "0 or more hidden layers") }
    var layers: [Layer] = []
    for _ in 0..<depth { layers += [.dense(outputs: width), .activation(activation)] }
    layers.append(.dense(outputs: classes))
    return try Model(inputShape: [inputSize], layers: layers)
  }

  /// A network with the given layer widths, e.g. [784, 200, 200, 200, 10]: the
  /// activation after every layer but the last.
  public static func make(widths: [Int], activation: Activation) throws -> Model {
    guard widths.count >= 2 else {
      throw NeuralEngineError.invalidArgument(name: "widths", value: "\(widths)", expected: "at least an input and an output size")
    }
    var layers: [Layer] = []
    for (i, w) in widths.dropFirst().enumerated() {
      layers.append(.dense(outputs: w))
      if i < widths.count - 2 { layers.append(.activation(activation)) }
    }
    return try Model(inputShape: [widths[0]], layers: layers)
  }
}

/// The convolutional network of the AEoS paper (appendix G).
public enum CNN {
  /// conv 64 5×5 valid → ReLU → maxpool 3×3 s2; conv 96 3×3 valid → ReLU → maxpool
  /// 3×3 s2; conv 128 3×3 same → ReLU → maxpool 3×3 s2; flatten → FC 512 → ReLU →
  /// FC 256 → ReLU → FC classes. `activation` replaces ReLU if given; `scale` divides
  /// the channel and unit counts (for small test models; 1 is the paper's network).
  public static func make(
    inputShape: [Int], classes: Int, activation: Activation = .relu, scale: Int = 1
  ) throws -> Model {
    guard scale >= 1 else { throw NeuralEngineError.invalidArgument(name: "scale", value: "\(scale)", expected: "1 or more") }
    func s(_ n: Int) -> Int { max(1, n / scale) }
    return try Model(
      inputShape: inputShape,
      layers: [
        .conv2D(filters: s(64), kernel: 5, stride: 1, padding: .valid), .activation(activation), .maxPool(size: 3, stride: 2),
        .conv2D(filters: s(96), kernel: 3, stride: 1, padding: .valid), .activation(activation), .maxPool(size: 3, stride: 2),
        .conv2D(filters: s(128), kernel: 3, stride: 1, padding: .same), .activation(activation), .maxPool(size: 3, stride: 2),
        .flatten, .dense(outputs: s(512)), .activation(activation), .dense(outputs: s(256)), .activation(activation),
        .dense(outputs: classes),
      ])
  }
}
