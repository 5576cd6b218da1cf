// What every user of `Experiments` (the command line, the benchmarks, the tests)
// sees without importing the lower modules one by one. DESIGN.md: "what those
// import comes along".
@_exported import Algebra
@_exported import Dynamics
@_exported import NeuralEngine
@_exported import Optimizers
@_exported import Quadratics
