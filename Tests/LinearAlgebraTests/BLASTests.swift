import Testing
@testable import LinearAlgebra

@Test func gemmSmall() {
  let c = BLAS.matmul([1.0, 2, 3, 4], [5.0, 6, 7, 8], m: 2, n: 2, k: 2)
  #expect(c == [19, 22, 43, 50])
}
