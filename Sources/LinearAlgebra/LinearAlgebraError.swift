#if canImport(Glibc)
import Glibc
#else
import Foundation
#endif
import CGSL

/// A failure of a numerical routine, or input that a routine cannot take.
public enum LinearAlgebraError: Error, CustomStringConvertible, Equatable {
  /// A LAPACK routine returned `info != 0`: `info < 0` means argument −info was
  /// illegal (a bug in this module), `info > 0` means the algorithm did not
  /// converge (its meaning depends on the routine).
  case lapack(routine: String, info: Int)
  /// A GSL routine returned a status other than `GSL_SUCCESS`; `message` is
  /// `gsl_strerror(status)`.
  case gsl(routine: String, status: Int, message: String)
  /// The input cannot be used; the message names the value and what was expected.
  case invalidInput(String)

  public var description: String {
    switch self {
    case let .lapack(routine, info):
      if info < 0 { return "LAPACK \(routine): argument \(-info) had an illegal value (info = \(info))" }
      return "LAPACK \(routine) failed to converge (info = \(info))"
    case let .gsl(routine, status, message):
      return "GSL \(routine) failed: \(message) (status \(status))"
    case let .invalidInput(message):
      return message
    }
  }
}

/// Turns off GSL's default error handler (which prints and calls `abort()`), once
/// per process. Swift initialises a global `let` lazily and thread-safely, so
/// evaluating `gslReady` before every GSL call runs `gsl_set_error_handler_off()`
/// exactly once.
let gslReady: Void = {
  _ = gsl_set_error_handler_off()
}()

/// Throws `LinearAlgebraError.gsl` when `status` is not `GSL_SUCCESS`.
@inline(__always)
func checkGSL(_ status: Int32, _ routine: String) throws {
  guard status != 0 else { return }  // GSL_SUCCESS == 0
  let message = gsl_strerror(status).map { String(cString: $0) } ?? "unknown GSL error"
  throw LinearAlgebraError.gsl(routine: routine, status: Int(status), message: message)
}

/// Throws `LinearAlgebraError.lapack` when `info` is not 0.
@inline(__always)
func checkLAPACK(_ info: Int32, _ routine: String) throws {
  guard info != 0 else { return }
  throw LinearAlgebraError.lapack(routine: routine, info: Int(info))
}

/// Throws `invalidInput` naming the first non-finite entry of `values`.
func requireFinite(_ values: [Double], _ what: String) throws {
  if let i = values.firstIndex(where: { !$0.isFinite }) {
    throw LinearAlgebraError.invalidInput("\(what): entry \(i) is \(values[i]); expected finite numbers")
  }
}

func requireFinite(_ values: [Float], _ what: String) throws {
  if let i = values.firstIndex(where: { !$0.isFinite }) {
    throw LinearAlgebraError.invalidInput("\(what): entry \(i) is \(values[i]); expected finite numbers")
  }
}
