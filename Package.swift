// swift-tools-version: 6.1
import PackageDescription

// MARK: - Public API
//
// `aeos` is the command line; `Experiments` is the room that wires the layers
// together. Module boundaries follow ../shared/DESIGN.md ("Modules").

let package = Package(
  name: "AEoS",
  products: [
    .executable(name: "aeos", targets: ["aeos"]),
    .library(name: "Algebra", targets: ["Algebra"]),
    .library(name: "Dynamics", targets: ["Dynamics"]),
    .library(name: "LinearAlgebra", targets: ["LinearAlgebra"]),
    .library(name: "Optimizers", targets: ["Optimizers"]),
    .library(name: "Quadratics", targets: ["Quadratics"]),
    .library(name: "NeuralEngine", targets: ["NeuralEngine"]),
    .library(name: "Experiments", targets: ["Experiments"]),
  ],
  dependencies: [
    .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    .package(url: "https://github.com/attaswift/BigInt", from: "6.0.1"),
    .package(url: "https://github.com/x-sheep/swift-property-based", from: "2.0.1"),
  ],
  targets: [
    // MARK: - Implementation details: C libraries, one system-library target each
    .systemLibrary(name: "COpenBLAS", path: "Sources/COpenBLAS"),
    .systemLibrary(name: "CLAPACKE", path: "Sources/CLAPACKE"),
    .systemLibrary(name: "CGSL", path: "Sources/CGSL"),
    .systemLibrary(name: "CZlib", path: "Sources/CZlib"),
    // OpenBLAS's kernel choice, checked (and mended where it fell back) at load.
    .target(name: "CBLASRuntime", dependencies: ["COpenBLAS"]),

    // MARK: - Layers
    .target(name: "LinearAlgebra", dependencies: ["COpenBLAS", "CLAPACKE", "CGSL", "CBLASRuntime"]),
    .target(name: "Algebra", dependencies: [.product(name: "BigInt", package: "BigInt")]),
    .target(name: "Dynamics", dependencies: ["Algebra", "LinearAlgebra"]),
    .target(name: "Optimizers", dependencies: ["Dynamics", "LinearAlgebra"]),
    .target(name: "Quadratics", dependencies: ["Optimizers"]),
    .target(name: "NeuralEngine", dependencies: ["LinearAlgebra", "CZlib"]),
    .target(name: "Curvature", dependencies: ["LinearAlgebra"]),
    .target(
      name: "Experiments",
      dependencies: ["Algebra", "LinearAlgebra", "Dynamics", "Optimizers", "Quadratics", "NeuralEngine", "Curvature"]),
    // `aeos bench`: timed workloads and same-run references (imported by the CLI only).
    .target(name: "Benchmarks", dependencies: ["Experiments", "LinearAlgebra", "Curvature"]),
    .executableTarget(
      name: "aeos",
      dependencies: ["Experiments", "Benchmarks", .product(name: "ArgumentParser", package: "swift-argument-parser")]),

    // MARK: - Tests
    // `propertyCheckThrowing`: `propertyCheck` where an error thrown by the property fails the case.
    .target(name: "TestSupport", dependencies: [.product(name: "PropertyBased", package: "swift-property-based")], path: "Tests/TestSupport"),
    .testTarget(name: "LinearAlgebraTests", dependencies: ["LinearAlgebra", "COpenBLAS", "TestSupport", .product(name: "PropertyBased", package: "swift-property-based")]),
    .testTarget(name: "AlgebraTests", dependencies: ["Algebra", "TestSupport", .product(name: "PropertyBased", package: "swift-property-based")]),
    .testTarget(name: "DynamicsTests", dependencies: ["Dynamics", "Algebra", "LinearAlgebra", "TestSupport", .product(name: "PropertyBased", package: "swift-property-based")]),
    .testTarget(name: "OptimizersTests", dependencies: ["Optimizers", "Dynamics", "LinearAlgebra", "TestSupport", .product(name: "PropertyBased", package: "swift-property-based")]),
    .testTarget(name: "QuadraticsTests", dependencies: ["Quadratics", "Optimizers", "Dynamics", "LinearAlgebra", "TestSupport", .product(name: "PropertyBased", package: "swift-property-based")]),
    .testTarget(name: "NeuralEngineTests", dependencies: ["NeuralEngine", "LinearAlgebra", "TestSupport", .product(name: "PropertyBased", package: "swift-property-based")]),
    .testTarget(name: "CurvatureTests", dependencies: ["Curvature", "LinearAlgebra", "TestSupport", .product(name: "PropertyBased", package: "swift-property-based")]),
    .testTarget(name: "ExperimentsTests", dependencies: ["Experiments", "Curvature", "LinearAlgebra", "TestSupport", .product(name: "PropertyBased", package: "swift-property-based")]),
    .testTarget(name: "CLITests", dependencies: ["aeos"]),
  ]
)
