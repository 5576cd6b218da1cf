import Testing

@testable import LinearAlgebra

@Suite struct ErrorTests {
  /// A GSL status becomes a thrown error carrying `gsl_strerror`'s text; status 1
  /// is GSL_EDOM, whose documented message is "input domain error".
  @Test func gslStatusIsThrownWithMessage() {
    _ = gslReady
    do {
      try checkGSL(1, "gsl_example")
      Issue.record("expected a throw")
    } catch let LinearAlgebraError.gsl(routine, status, message) {
      #expect(routine == "gsl_example" && status == 1 && message == "input domain error")
    } catch {
      Issue.record("unexpected \(error)")
    }
    #expect(throws: Never.self) { try checkGSL(0, "gsl_example") }
  }

  @Test func lapackInfoIsThrown() {
    #expect(throws: LinearAlgebraError.lapack(routine: "dsyevd", info: 2)) { try checkLAPACK(2, "dsyevd") }
    #expect(throws: Never.self) { try checkLAPACK(0, "dsyevd") }
    #expect(LinearAlgebraError.lapack(routine: "dgeev", info: -4).description.contains("argument 4"))
  }
}
