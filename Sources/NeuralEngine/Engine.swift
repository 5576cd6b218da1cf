import LinearAlgebra

/// Buffers for one chunk of `rows` examples, allocated once and reused for every
/// pass (no allocation per layer per step). Tangent buffers (for Hessian-vector
/// products) are allocated on first use.
final class Workspace<T: BLASScalar>: @unchecked Sendable {
  let rows: Int
  let stages: [Stage]
  private var owned: [UnsafeMutableRawPointer] = []
  /// Pre-activations z and outputs a per stage (a overwrites z when the activation's
  /// derivatives follow from its output: identity, tanh, ReLU, ELU).
  var z: [UnsafeMutablePointer<T>] = []
  var a: [UnsafeMutablePointer<T>] = []
  /// im2col matrices of the convolution stages.
  var cols: [UnsafeMutablePointer<T>?] = []
  /// Argmax indices (within an example) of the max-pool stages.
  var argmax: [UnsafeMutablePointer<Int32>?] = []
  /// Two ping-pong buffers for gradients with respect to stage outputs.
  var g: (UnsafeMutablePointer<T>, UnsafeMutablePointer<T>)
  /// Gradient with respect to an im2col matrix.
  var dcols: UnsafeMutablePointer<T>?
  /// Softmax probabilities of the last chunk (cross-entropy).
  var probabilities: UnsafeMutablePointer<T>
  // Tangents (R-operator).
  private(set) var hasTangents = false
  var rz: [UnsafeMutablePointer<T>] = []
  var ra: [UnsafeMutablePointer<T>] = []
  var rcols: [UnsafeMutablePointer<T>?] = []
  var rg: (UnsafeMutablePointer<T>, UnsafeMutablePointer<T>)

  private static func allocate(_ count: Int, _ owned: inout [UnsafeMutableRawPointer]) -> UnsafeMutablePointer<T> {
    let p = UnsafeMutablePointer<T>.allocate(capacity: max(count, 1))
    p.initialize(repeating: 0, count: max(count, 1))
    owned.append(UnsafeMutableRawPointer(p))
    return p
  }

  init(stages: [Stage], rows: Int, primalBudgetBytes: Int = 64 << 20) {
    self.rows = rows
    self.primalBudgetBytes = primalBudgetBytes
    self.stages = stages
    var owned: [UnsafeMutableRawPointer] = []
    var maxSize = 1
    var maxCols = 0
    for s in stages {
      maxSize = max(maxSize, s.inSize, s.outSize)
      let zp = Self.allocate(rows * s.outSize, &owned)
      z.append(zp)
      a.append(s.activation.derivativesFromOutput ? zp : Self.allocate(rows * s.outSize, &owned))
      if case .linear(let lin) = s.kind, lin.conv != nil {
        let n = rows * lin.positions * lin.inFeatures
        cols.append(Self.allocate(n, &owned))
        maxCols = max(maxCols, n)
      } else {
        cols.append(nil)
      }
      if case .maxPool = s.kind {
        let p = UnsafeMutablePointer<Int32>.allocate(capacity: max(rows * s.outSize, 1))
        p.initialize(repeating: 0, count: max(rows * s.outSize, 1))
        owned.append(UnsafeMutableRawPointer(p))
        argmax.append(p)
      } else {
        argmax.append(nil)
      }
    }
    g = (Self.allocate(rows * maxSize, &owned), Self.allocate(rows * maxSize, &owned))
    rg = g  // replaced by real buffers in `ensureTangents`
    dcols = maxCols > 0 ? Self.allocate(maxCols, &owned) : nil
    probabilities = Self.allocate(rows * (stages.last?.outSize ?? 1), &owned)
    self.owned = owned
    primalSets = [PrimalSet(z: z, a: a, cols: cols, argmax: argmax, key: nil)]
  }

  /// Allocates the tangent buffers (once).
  func ensureTangents() {
    if hasTangents { return }
    var maxSize = 1
    for (i, s) in stages.enumerated() {
      maxSize = max(maxSize, s.inSize, s.outSize)
      let p = Self.allocate(rows * s.outSize, &owned)
      rz.append(p)
      ra.append(s.activation == .identity ? p : Self.allocate(rows * s.outSize, &owned))
      if let c = cols[i], case .linear(let lin) = s.kind {
        _ = c
        rcols.append(Self.allocate(rows * lin.positions * lin.inFeatures, &owned))
      } else {
        rcols.append(nil)
      }
    }
    rg = (Self.allocate(rows * maxSize, &owned), Self.allocate(rows * maxSize, &owned))
    hasTangents = true
  }

  /// One set of primal forward buffers (z, a, im2col matrices, argmax indices) and
  /// which state they hold: the chunk's first example, its row count and the
  /// parameters (nil: none).
  struct PrimalSet {
    var z: [UnsafeMutablePointer<T>]
    var a: [UnsafeMutablePointer<T>]
    var cols: [UnsafeMutablePointer<T>?]
    var argmax: [UnsafeMutablePointer<Int32>?]
    var key: (start: Int, rows: Int, parameters: [T], data: AnyObject)?
  }

  /// Set 0 is the one built by `init`; gradient and loss passes use only it.
  /// Hessian-vector products get one set per chunk (by the chunk's first example)
  /// while their total stays within `primalBudgetBytes`, so a second product at the
  /// same parameters (Lanczos, power iteration) skips the primal forward GEMMs of
  /// every chunk.
  private var primalSets: [PrimalSet] = []
  private var primalSetOfChunk: [Int: Int] = [:]
  private var currentPrimal = 0
  private var primalExtraBytes = 0
  /// Bytes of extra primal buffers at most (64 MiB unless given to `init`).
  let primalBudgetBytes: Int

  private static func primalBytes(_ stages: [Stage], rows: Int) -> Int {
    var count = 0
    for s in stages {
      count += rows * s.outSize * (s.activation.derivativesFromOutput ? 1 : 2)
      if case .linear(let lin) = s.kind, lin.conv != nil { count += rows * lin.positions * lin.inFeatures }
      if case .maxPool = s.kind { count += rows * s.outSize }  // Int32 ≤ T in size
    }
    return count * MemoryLayout<T>.stride
  }

  /// Switches to the primal buffers for the chunk that starts at example `start`
  /// (`perChunk`: a set of its own where the budget allows, else set 0) and
  /// returns whether they already hold that chunk's forward state at `parameters`
  /// (bitwise-equal) on the same data (`data`, the objective's identity token). The
  /// caller then runs the forward pass (skipping the primal part if true) and calls
  /// `markPrimal`. With `perChunk` false set 0 is selected and its state forgotten.
  func selectPrimal(start: Int, rows: Int, parameters: [T], data: AnyObject, perChunk: Bool) -> Bool {
    var index = 0
    if perChunk {
      if let k = primalSetOfChunk[start] {
        index = k
      } else {
        let bytes = Self.primalBytes(stages, rows: self.rows)
        if primalExtraBytes + bytes <= primalBudgetBytes {
          primalSets.append(makePrimalSet())
          primalExtraBytes += bytes
          index = primalSets.count - 1
          primalSetOfChunk[start] = index
        }
      }
    }
    if index != currentPrimal {
      primalSets[currentPrimal].z = z
      primalSets[currentPrimal].a = a
      primalSets[currentPrimal].cols = cols
      primalSets[currentPrimal].argmax = argmax
      let set = primalSets[index]
      (z, a, cols, argmax) = (set.z, set.a, set.cols, set.argmax)
      currentPrimal = index
    }
    guard perChunk, let key = primalSets[index].key, key.start == start, key.rows == rows, key.data === data,
      key.parameters.count == parameters.count
    else {
      primalSets[index].key = nil
      return false
    }
    let same = key.parameters.withUnsafeBytes { a in
      parameters.withUnsafeBytes { b in
        guard let pa = a.baseAddress, let pb = b.baseAddress else { return a.count == b.count }
        // A shared buffer (copy on write) is equal without looking.
        return pa == pb || memcmp(pa, pb, a.count) == 0
      }
    }
    if !same { primalSets[index].key = nil }
    return same
  }

  /// Records that the selected primal buffers hold the forward state of the chunk of
  /// `rows` examples from `start` at `parameters` (stored in O(1): copy on write).
  func markPrimal(start: Int, rows: Int, parameters: [T], data: AnyObject) {
    primalSets[currentPrimal].key = (start, rows, parameters, data)
  }

  private func makePrimalSet() -> PrimalSet {
    var set = PrimalSet(z: [], a: [], cols: [], argmax: [], key: nil)
    for s in stages {
      let zp = Self.allocate(rows * s.outSize, &owned)
      set.z.append(zp)
      set.a.append(s.activation.derivativesFromOutput ? zp : Self.allocate(rows * s.outSize, &owned))
      if case .linear(let lin) = s.kind, lin.conv != nil {
        set.cols.append(Self.allocate(rows * lin.positions * lin.inFeatures, &owned))
      } else {
        set.cols.append(nil)
      }
      if case .maxPool = s.kind {
        let p = UnsafeMutablePointer<Int32>.allocate(capacity: max(rows * s.outSize, 1))
        p.initialize(repeating: 0, count: max(rows * s.outSize, 1))
        owned.append(UnsafeMutableRawPointer(p))
        set.argmax.append(p)
      } else {
        set.argmax.append(nil)
      }
    }
    return set
  }

  private var accumulatorStorage: UnsafeMutablePointer<T>?
  /// A parameter-sized buffer for a worker's partial gradient or HVP.
  func accumulator(count: Int) -> UnsafeMutablePointer<T> {
    if let p = accumulatorStorage { return p }
    let p = Self.allocate(count, &owned)
    accumulatorStorage = p
    return p
  }

  deinit {
    for p in owned { p.deallocate() }
  }
}

/// The loss on the model's output f(x) ∈ ℝ^C for a one-hot target y.
public enum Loss: String, Sendable, Hashable, CaseIterable, Codable {
  /// (1/n)·Σ ½‖f(x) − y‖² (the AEoS paper's square loss).
  case mse
  /// (1/n)·Σ −log softmax(f(x))_label.
  case crossEntropy = "ce"
}

/// The passes: forward (with tangents), loss, backward (with tangents). Everything
/// is per chunk; parameters, gradients and Hessian-vector products are flat vectors.
enum Engine {
  @inline(__always)
  static func gemm<T: BLASScalar>(
    _ ta: Transpose, _ tb: Transpose, _ m: Int, _ n: Int, _ k: Int,
    _ a: UnsafePointer<T>, _ b: UnsafePointer<T>, _ beta: T, _ c: UnsafeMutablePointer<T>
  ) {
    if m == 0 || n == 0 || k == 0 {
      if beta == 0 { c.update(repeating: 0, count: m * n) }
      return
    }
    let lda = ta == .none ? k : m
    let ldb = tb == .none ? n : k
    if beta == 0 {
      // Zeroing C here and accumulating with β = 1 beats OpenBLAS's own β = 0 pass
      // (C microbenchmark, the MLP's input-gradient GEMMs: 4.9 vs 4.6 ms).
      c.update(repeating: 0, count: m * n)
      T._gemm(ta, tb, m, n, k, 1, a, lda, b, ldb, 1, c, n)
    } else {
      T._gemm(ta, tb, m, n, k, 1, a, lda, b, ldb, beta, c, n)
    }
  }

  /// Forward pass over `rows` examples starting at `x`. With `direction` V, also the
  /// tangents R{z}, R{a} (the directional derivatives along V), which the first layer
  /// gets from V alone because the input has no tangent.
  @_specialize(where T == Float)
  @_specialize(where T == Double)
  static func forward<T: BLASScalar>(
    stages: [Stage], parameters w: UnsafePointer<T>, direction v: UnsafePointer<T>?,
    x: UnsafePointer<T>, rows: Int, workspace ws: Workspace<T>, reusePrimal: Bool = false
  ) {
    // `reusePrimal`: the workspace already holds z, a, im2col matrices and argmax
    // indices of this chunk at these parameters (see `Workspace.selectPrimal`), so
    // only the tangents are computed.
    let primal = !reusePrimal || v == nil
    var input = x
    var rinput: UnsafePointer<T>? = nil
    for (s, stage) in stages.enumerated() {
      let z = ws.z[s]
      let a = ws.a[s]
      let count = rows * stage.outSize
      switch stage.kind {
      case .linear(let lin):
        let m = rows * lin.positions
        var src = input
        var rsrc = rinput
        if let geometry = lin.conv, let c = ws.cols[s] {
          if primal { Conv.im2col(input, c, rows, geometry) }
          src = UnsafePointer(c)
          if v != nil {
            if let rin = rinput, let rc = ws.rcols[s] {
              Conv.im2col(rin, rc, rows, geometry)
              rsrc = UnsafePointer(rc)
            }
          }
        }
        if primal {
          // z = 1·b + src·Wᵀ: rows preset to the bias and β = 1, which spares
          // OpenBLAS its separate β = 0 pass over z (measured faster than β = 0
          // with the bias added in the activation pass).
          Kernels.fillRows(z, rows: m, cols: lin.outFeatures, with: w + lin.biasOffset)
          gemm(.none, .transposed, m, lin.outFeatures, lin.inFeatures, src, w + lin.weightOffset, 1, z)
          if stage.activation != .identity || z != a {
            Kernels.biasActivate(stage.activation, z: z, a: a, rows: m, cols: lin.outFeatures, bias: nil)
          }
        }
        if let v {
          let rz = ws.rz[s]
          Kernels.fillRows(rz, rows: m, cols: lin.outFeatures, with: v + lin.biasOffset)
          gemm(.none, .transposed, m, lin.outFeatures, lin.inFeatures, src, v + lin.weightOffset, 1, rz)
          if let rsrc { gemm(.none, .transposed, m, lin.outFeatures, lin.inFeatures, rsrc, w + lin.weightOffset, 1, rz) }
          if stage.activation != .identity {
            Kernels.tangentForward(stage.activation, rz: rz, ra: ws.ra[s], z: z, a: a, count: count)
          }
        }
      case .maxPool(let g):
        guard let idx = ws.argmax[s] else { preconditionFailure("max-pool stage without index buffer") }
        if primal {
          Pool.maxForward(input, z, idx, rows, g)
          Kernels.biasActivate(stage.activation, z: z, a: a, rows: 1, cols: count, bias: nil)
        }
        if v != nil { tangentOfLinearMap(stage, s, rinput, rows, ws) { Pool.gather($0, $1, idx, rows, g) } }
      case .avgPool(let g):
        if primal {
          Pool.avgForward(input, z, rows, g)
          Kernels.biasActivate(stage.activation, z: z, a: a, rows: 1, cols: count, bias: nil)
        }
        if v != nil { tangentOfLinearMap(stage, s, rinput, rows, ws) { Pool.avgForward($0, $1, rows, g) } }
      case .copy:
        if primal {
          z.update(from: input, count: count)
          Kernels.biasActivate(stage.activation, z: z, a: a, rows: 1, cols: count, bias: nil)
        }
        if v != nil { tangentOfLinearMap(stage, s, rinput, rows, ws) { $1.update(from: $0, count: count) } }
      }
      input = UnsafePointer(a)
      if v != nil, ws.hasTangents {
        // A stage after one with parameters always has a tangent.
        if rinput != nil || isLinear(stage) { rinput = UnsafePointer(ws.ra[s]) }
      }
    }
  }

  @inline(__always) static func isLinear(_ s: Stage) -> Bool {
    if case .linear = s.kind { return true }
    return false
  }

  /// R{z} = L(R{input}) for a parameter-free linear map L, then R{a} = σ′(z)·R{z}.
  @inline(__always)
  static func tangentOfLinearMap<T: BLASScalar>(
    _ stage: Stage, _ s: Int, _ rinput: UnsafePointer<T>?, _ rows: Int, _ ws: Workspace<T>,
    _ map: (UnsafePointer<T>, UnsafeMutablePointer<T>) -> Void
  ) {
    guard let rin = rinput else { return }
    let count = rows * stage.outSize
    map(rin, ws.rz[s])
    if stage.activation != .identity {
      Kernels.tangentForward(stage.activation, rz: ws.rz[s], ra: ws.ra[s], z: ws.z[s], a: ws.a[s], count: count)
    }
  }

  /// The loss of a chunk: returns (Σ per-example loss, number classified correctly)
  /// and writes ∂L/∂f = (per-example gradient)/n into `g`. With tangents, also
  /// R{∂L/∂f} = (∂²ℓ/∂f²)·R{f}/n into `rg`.
  @_specialize(where T == Float)
  @_specialize(where T == Double)
  static func loss<T: BLASScalar>(
    _ loss: Loss, output f: UnsafePointer<T>, classes: Int, labels: UnsafePointer<Int>, rows: Int, totalRows: Int,
    g: UnsafeMutablePointer<T>, probabilities p: UnsafeMutablePointer<T>,
    tangent: (rf: UnsafePointer<T>, rg: UnsafeMutablePointer<T>)?
  ) -> (sum: Double, correct: Int) {
    let scale = 1 / Double(totalRows)
    let tscale = T(scale)
    var sum = 0.0
    var correct = 0
    for i in 0..<rows {
      let row = f + i * classes
      let gr = g + i * classes
      let label = labels[i]
      var best = 0
      var bestValue = row[0]
      for j in 1..<max(classes, 1) where row[j] > bestValue {
        best = j
        bestValue = row[j]
      }
      if best == label { correct += 1 }
      switch loss {
      case .mse:
        var s = 0.0
        for j in 0..<classes {
          let d = Double(row[j]) - (j == label ? 1 : 0)
          s += d * d
          gr[j] = T(d * scale)
        }
        sum += 0.5 * s
        if let t = tangent {
          for j in 0..<classes { t.rg[i * classes + j] = t.rf[i * classes + j] * tscale }
        }
      case .crossEntropy:
        let mx = Double(bestValue)
        var total = 0.0
        let pr = p + i * classes
        for j in 0..<classes {
          let e = FastMath.exp(Double(row[j]) - mx)
          total += e
          pr[j] = T(e)
        }
        let inv = 1 / total
        for j in 0..<classes {
          let pj = Double(pr[j]) * inv
          pr[j] = T(pj)
          gr[j] = T((pj - (j == label ? 1 : 0)) * scale)
        }
        // −log p_label = log Σ e^{f_j − max} − (f_label − max)
        sum += logDouble(total) - (Double(row[label]) - mx)
        if let t = tangent {
          // Hessian of the log-softmax loss: diag(p) − ppᵀ.
          let rf = t.rf + i * classes
          var dot = 0.0
          for j in 0..<classes { dot += Double(pr[j]) * Double(rf[j]) }
          for j in 0..<classes { t.rg[i * classes + j] = T(Double(pr[j]) * (Double(rf[j]) - dot) * scale) }
        }
      }
    }
    return (sum, correct)
  }

  /// Backward pass after `forward` and `loss`: accumulates the gradient (`direction`
  /// nil) or the Hessian-vector product (`direction` V) into `out` (+=). The
  /// Hessian-vector product is Pearlmutter's R-operator applied to backpropagation:
  /// with δ = ∂L/∂z and R{·} the derivative along V,
  ///   R{δ} = σ″(z)·R{z}·∂L/∂a + σ′(z)·R{∂L/∂a},
  ///   R{∂L/∂W} = R{δ}ᵀ·a_in + δᵀ·R{a_in},  R{∂L/∂b} = Σ R{δ},
  ///   R{∂L/∂a_in} = R{δ}·W + δ·V_W.
  /// The first stage needs no input gradient and has no input tangent.
  @_specialize(where T == Float)
  @_specialize(where T == Double)
  static func backward<T: BLASScalar>(
    stages: [Stage], parameters w: UnsafePointer<T>, direction v: UnsafePointer<T>?,
    x: UnsafePointer<T>, rows: Int, workspace ws: Workspace<T>, out: UnsafeMutablePointer<T>
  ) {
    var g = ws.g.0
    var gPrev = ws.g.1
    var rg = ws.rg.0
    var rgPrev = ws.rg.1
    // Which stages carry an input tangent: those after the first linear stage.
    var hasInputTangent = [Bool](repeating: false, count: stages.count)
    var seen = false
    for (s, stage) in stages.enumerated() {
      hasInputTangent[s] = seen
      if isLinear(stage) { seen = true }
    }
    for s in stride(from: stages.count - 1, through: 0, by: -1) {
      let stage = stages[s]
      let count = rows * stage.outSize
      let z = UnsafePointer(ws.z[s])
      let a = UnsafePointer(ws.a[s])
      let input = s == 0 ? x : UnsafePointer(ws.a[s - 1])
      let rinput: UnsafePointer<T>? = (v != nil && hasInputTangent[s]) ? UnsafePointer(ws.ra[s - 1]) : nil
      let tangentHere = v != nil && (hasInputTangent[s] || isLinear(stage))
      var biasGradientDone = false
      if tangentHere {
        Kernels.tangentBackward(stage.activation, g: g, rg: rg, z: z, a: a, rz: UnsafePointer(ws.rz[s]), count: count)
      } else if v == nil, case .linear(let lin) = stage.kind {
        Kernels.multiplyDerivativeAndSum(
          stage.activation, g: g, z: z, a: a, rows: rows * lin.positions, cols: lin.outFeatures, into: out + lin.biasOffset)
        biasGradientDone = true
      } else {
        Kernels.multiplyDerivative(stage.activation, g: g, z: z, a: a, count: count)
      }
      let needInputGradient = s > 0 && stages[0..<s].contains(where: isLinear)
      switch stage.kind {
      case .linear(let lin):
        let m = rows * lin.positions
        let (nOut, k) = (lin.outFeatures, lin.inFeatures)
        var src = input
        var rsrc = rinput
        if lin.conv != nil, let c = ws.cols[s] {
          src = UnsafePointer(c)
          if rinput != nil, let rc = ws.rcols[s] { rsrc = UnsafePointer(rc) }
        }
        let wW = w + lin.weightOffset
        if let v {
          // Hessian-vector product blocks.
          gemm(.transposed, .none, nOut, k, m, UnsafePointer(rg), src, 1, out + lin.weightOffset)
          if let rsrc { gemm(.transposed, .none, nOut, k, m, UnsafePointer(g), rsrc, 1, out + lin.weightOffset) }
          Kernels.addColumnSums(UnsafePointer(rg), rows: m, cols: nOut, into: out + lin.biasOffset)
          if needInputGradient {
            let vW = v + lin.weightOffset
            if let geometry = lin.conv, let dc = ws.dcols {
              gemm(.none, .none, m, k, nOut, UnsafePointer(g), wW, 0, dc)
              gPrev.update(repeating: 0, count: rows * stage.inSize)
              Conv.col2im(UnsafePointer(dc), gPrev, rows, geometry)
              gemm(.none, .none, m, k, nOut, UnsafePointer(rg), wW, 0, dc)
              gemm(.none, .none, m, k, nOut, UnsafePointer(g), vW, 1, dc)
              rgPrev.update(repeating: 0, count: rows * stage.inSize)
              Conv.col2im(UnsafePointer(dc), rgPrev, rows, geometry)
            } else {
              gemm(.none, .none, m, k, nOut, UnsafePointer(g), wW, 0, gPrev)
              gemm(.none, .none, m, k, nOut, UnsafePointer(rg), wW, 0, rgPrev)
              gemm(.none, .none, m, k, nOut, UnsafePointer(g), vW, 1, rgPrev)
            }
          }
        } else {
          gemm(.transposed, .none, nOut, k, m, UnsafePointer(g), src, 1, out + lin.weightOffset)
          if !biasGradientDone { Kernels.addColumnSums(UnsafePointer(g), rows: m, cols: nOut, into: out + lin.biasOffset) }
          if needInputGradient {
            if let geometry = lin.conv, let dc = ws.dcols {
              gemm(.none, .none, m, k, nOut, UnsafePointer(g), wW, 0, dc)
              gPrev.update(repeating: 0, count: rows * stage.inSize)
              Conv.col2im(UnsafePointer(dc), gPrev, rows, geometry)
            } else {
              gemm(.none, .none, m, k, nOut, UnsafePointer(g), wW, 0, gPrev)
            }
          }
        }
      case .maxPool(let geometry):
        guard needInputGradient, let idx = ws.argmax[s] else { break }
        gPrev.update(repeating: 0, count: rows * stage.inSize)
        Pool.scatter(UnsafePointer(g), gPrev, UnsafePointer(idx), rows, geometry)
        if tangentHere {
          rgPrev.update(repeating: 0, count: rows * stage.inSize)
          Pool.scatter(UnsafePointer(rg), rgPrev, UnsafePointer(idx), rows, geometry)
        }
      case .avgPool(let geometry):
        guard needInputGradient else { break }
        gPrev.update(repeating: 0, count: rows * stage.inSize)
        Pool.avgBackward(UnsafePointer(g), gPrev, rows, geometry)
        if tangentHere {
          rgPrev.update(repeating: 0, count: rows * stage.inSize)
          Pool.avgBackward(UnsafePointer(rg), rgPrev, rows, geometry)
        }
      case .copy:
        guard needInputGradient else { break }
        gPrev.update(from: g, count: count)
        if tangentHere { rgPrev.update(from: rg, count: count) }
      }
      swap(&g, &gPrev)
      swap(&rg, &rgPrev)
    }
  }
}

// MARK: - Convolution and pooling helpers (channels-last)

enum Conv {
  /// cols[(n, oh, ow), (c, i, j)] = x[n, oh·s + i − pt, ow·s + j − pl, c] (0 outside).
  static func im2col<T: BLASScalar>(_ x: UnsafePointer<T>, _ cols: UnsafeMutablePointer<T>, _ rows: Int, _ g: ConvGeometry) {
    let kk = g.kernel * g.kernel
    let k = g.channels * kk
    let inSize = g.height * g.width * g.channels
    var out = cols
    for n in 0..<rows {
      let xin = x + n * inSize
      for oh in 0..<g.outHeight {
        for ow in 0..<g.outWidth {
          for i in 0..<g.kernel {
            let ih = oh * g.stride + i - g.padTop
            for j in 0..<g.kernel {
              let iw = ow * g.stride + j - g.padLeft
              let col = i * g.kernel + j
              if ih >= 0 && ih < g.height && iw >= 0 && iw < g.width {
                let src = xin + (ih * g.width + iw) * g.channels
                for c in 0..<g.channels { out[c * kk + col] = src[c] }
              } else {
                for c in 0..<g.channels { out[c * kk + col] = 0 }
              }
            }
          }
          out += k
        }
      }
    }
  }

  /// The adjoint of `im2col`: x[n, ih, iw, c] += cols[(n, oh, ow), (c, i, j)].
  static func col2im<T: BLASScalar>(_ cols: UnsafePointer<T>, _ x: UnsafeMutablePointer<T>, _ rows: Int, _ g: ConvGeometry) {
    let kk = g.kernel * g.kernel
    let k = g.channels * kk
    let inSize = g.height * g.width * g.channels
    var src = cols
    for n in 0..<rows {
      let xin = x + n * inSize
      for oh in 0..<g.outHeight {
        for ow in 0..<g.outWidth {
          for i in 0..<g.kernel {
            let ih = oh * g.stride + i - g.padTop
            if ih < 0 || ih >= g.height { continue }
            for j in 0..<g.kernel {
              let iw = ow * g.stride + j - g.padLeft
              if iw < 0 || iw >= g.width { continue }
              let dst = xin + (ih * g.width + iw) * g.channels
              let col = i * g.kernel + j
              for c in 0..<g.channels { dst[c] += src[c * kk + col] }
            }
          }
          src += k
        }
      }
    }
  }
}

enum Pool {
  static func maxForward<T: BLASScalar>(
    _ x: UnsafePointer<T>, _ y: UnsafeMutablePointer<T>, _ idx: UnsafeMutablePointer<Int32>, _ rows: Int, _ g: PoolGeometry
  ) {
    let inSize = g.height * g.width * g.channels
    let outSize = g.outHeight * g.outWidth * g.channels
    for n in 0..<rows {
      let xin = x + n * inSize
      let yo = y + n * outSize
      let io = idx + n * outSize
      for oh in 0..<g.outHeight {
        for ow in 0..<g.outWidth {
          for c in 0..<g.channels {
            var best = (oh * g.stride * g.width + ow * g.stride) * g.channels + c
            var value = xin[best]
            for i in 0..<g.size {
              for j in 0..<g.size {
                let at = ((oh * g.stride + i) * g.width + ow * g.stride + j) * g.channels + c
                // `!(x <= value)` also selects a NaN, so it propagates.
                if !(xin[at] <= value) {
                  value = xin[at]
                  best = at
                }
              }
            }
            let o = (oh * g.outWidth + ow) * g.channels + c
            yo[o] = value
            io[o] = Int32(best)
          }
        }
      }
    }
  }

  /// y = x at the stored argmax positions (the tangent of max-pooling).
  static func gather<T: BLASScalar>(
    _ x: UnsafePointer<T>, _ y: UnsafeMutablePointer<T>, _ idx: UnsafePointer<Int32>, _ rows: Int, _ g: PoolGeometry
  ) {
    let inSize = g.height * g.width * g.channels
    let outSize = g.outHeight * g.outWidth * g.channels
    for n in 0..<rows {
      for o in 0..<outSize { y[n * outSize + o] = x[n * inSize + Int(idx[n * outSize + o])] }
    }
  }

  /// x[argmax] += y (the adjoint of `gather`).
  static func scatter<T: BLASScalar>(
    _ y: UnsafePointer<T>, _ x: UnsafeMutablePointer<T>, _ idx: UnsafePointer<Int32>, _ rows: Int, _ g: PoolGeometry
  ) {
    let inSize = g.height * g.width * g.channels
    let outSize = g.outHeight * g.outWidth * g.channels
    for n in 0..<rows {
      for o in 0..<outSize { x[n * inSize + Int(idx[n * outSize + o])] += y[n * outSize + o] }
    }
  }

  static func avgForward<T: BLASScalar>(_ x: UnsafePointer<T>, _ y: UnsafeMutablePointer<T>, _ rows: Int, _ g: PoolGeometry) {
    let inSize = g.height * g.width * g.channels
    let outSize = g.outHeight * g.outWidth * g.channels
    let inv = 1 / T(g.size * g.size)
    for n in 0..<rows {
      let xin = x + n * inSize
      let yo = y + n * outSize
      for oh in 0..<g.outHeight {
        for ow in 0..<g.outWidth {
          for c in 0..<g.channels {
            var s: T = 0
            for i in 0..<g.size {
              for j in 0..<g.size { s += xin[((oh * g.stride + i) * g.width + ow * g.stride + j) * g.channels + c] }
            }
            yo[(oh * g.outWidth + ow) * g.channels + c] = s * inv
          }
        }
      }
    }
  }

  static func avgBackward<T: BLASScalar>(_ y: UnsafePointer<T>, _ x: UnsafeMutablePointer<T>, _ rows: Int, _ g: PoolGeometry) {
    let inSize = g.height * g.width * g.channels
    let outSize = g.outHeight * g.outWidth * g.channels
    let inv = 1 / T(g.size * g.size)
    for n in 0..<rows {
      let xin = x + n * inSize
      let yo = y + n * outSize
      for oh in 0..<g.outHeight {
        for ow in 0..<g.outWidth {
          for c in 0..<g.channels {
            let v = yo[(oh * g.outWidth + ow) * g.channels + c] * inv
            for i in 0..<g.size {
              for j in 0..<g.size { xin[((oh * g.stride + i) * g.width + ow * g.stride + j) * g.channels + c] += v }
            }
          }
        }
      }
    }
  }
}

#if canImport(Glibc)
import Glibc
@inline(__always) func logDouble(_ x: Double) -> Double { Glibc.log(x) }
#elseif canImport(Darwin)
import Darwin
@inline(__always) func logDouble(_ x: Double) -> Double { Darwin.log(x) }
#endif
