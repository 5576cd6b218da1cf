// `propertyCheckThrowing`: swift-property-based's `propertyCheck`, except that an error
// thrown out of the property closure fails the case.
//
// swift-property-based 2.0.1 runs each case's closure under `try?` (IssueCounting.swift,
// Swift ≥ 6.2): an error thrown by the body is discarded and the case passes. So does
// `#expect(try f())` when `f` throws — `#expect` rethrows the error of its expression,
// it does not record it. A property whose code under test started throwing would keep
// passing. Failing `#expect`s and `#require`s are issues, and those are counted.
//
// Here the body runs inside `failOnThrow`, which records a thrown error as an `Issue`
// (with the error itself, so the report names it). The case then has an issue like any
// failing `#expect`, so the library reports the input and seed and shrinks as usual.
//
// Use `propertyCheckThrowing` for every property whose closure contains `try`;
// `propertyCheck` only for closures that cannot throw. Same parameters as
// `propertyCheck` (one to eight generators). Written after the library's
// PropertyCheck+Pack.swift; keep the two in step when the library is updated.

import PropertyBased
import Testing

/// Runs `body`; an error it throws is recorded as an issue at `sourceLocation` instead
/// of propagating. The error a failing `#require` throws is not recorded again (the
/// failed requirement already is).
public func failOnThrow(
  isolation: isolated (any Actor)? = #isolation,
  sourceLocation: SourceLocation = #_sourceLocation,
  _ body: () async throws -> Void
) async {
  do {
    try await body()
  } catch is ExpectationFailedError {
    // `#require` recorded its own issue before throwing this.
  } catch {
    Issue.record(error, "thrown out of the property closure", sourceLocation: sourceLocation)
  }
}

/// `propertyCheck(count:input:perform:)` where an error thrown by `body` fails the case
/// (see the top of this file).
public func propertyCheckThrowing<InputValue, ResultValue>(
  count: Int = 100,
  input: Generator<ResultValue, some Sequence<InputValue>>,
  perform body: (ResultValue) async throws -> Void,
  isolation: isolated (any Actor)? = #isolation,
  sourceLocation: SourceLocation = #_sourceLocation
) async {
  await propertyCheck(
    count: count, input: input,
    perform: { value in
      await failOnThrow(isolation: isolation, sourceLocation: sourceLocation) { try await body(value) }
    },
    isolation: isolation, sourceLocation: sourceLocation)
}

/// `propertyCheckThrowing` with 2 generators; see the one-generator form.
public func propertyCheckThrowing<InA, InB, OutA, OutB>(
  count: Int = 100,
  input g0: Generator<OutA, some Sequence<InA>>,
  _ g1: Generator<OutB, some Sequence<InB>>,
  perform body: (OutA, OutB) async throws -> Void,
  isolation: isolated (any Actor)? = #isolation,
  sourceLocation: SourceLocation = #_sourceLocation
) async {
  await propertyCheck(
    count: count, input: g0, g1,
    perform: { v0, v1 in
      await failOnThrow(isolation: isolation, sourceLocation: sourceLocation) { try await body(v0, v1) }
    },
    isolation: isolation, sourceLocation: sourceLocation)
}

/// `propertyCheckThrowing` with 3 generators; see the one-generator form.
public func propertyCheckThrowing<InA, InB, InC, OutA, OutB, OutC>(
  count: Int = 100,
  input g0: Generator<OutA, some Sequence<InA>>,
  _ g1: Generator<OutB, some Sequence<InB>>,
  _ g2: Generator<OutC, some Sequence<InC>>,
  perform body: (OutA, OutB, OutC) async throws -> Void,
  isolation: isolated (any Actor)? = #isolation,
  sourceLocation: SourceLocation = #_sourceLocation
) async {
  await propertyCheck(
    count: count, input: g0, g1, g2,
    perform: { v0, v1, v2 in
      await failOnThrow(isolation: isolation, sourceLocation: sourceLocation) { try await body(v0, v1, v2) }
    },
    isolation: isolation, sourceLocation: sourceLocation)
}

/// `propertyCheckThrowing` with 4 generators; see the one-generator form.
public func propertyCheckThrowing<InA, InB, InC, InD, OutA, OutB, OutC, OutD>(
  count: Int = 100,
  input g0: Generator<OutA, some Sequence<InA>>,
  _ g1: Generator<OutB, some Sequence<InB>>,
  _ g2: Generator<OutC, some Sequence<InC>>,
  _ g3: Generator<OutD, some Sequence<InD>>,
  perform body: (OutA, OutB, OutC, OutD) async throws -> Void,
  isolation: isolated (any Actor)? = #isolation,
  sourceLocation: SourceLocation = #_sourceLocation
) async {
  await propertyCheck(
    count: count, input: g0, g1, g2, g3,
    perform: { v0, v1, v2, v3 in
      await failOnThrow(isolation: isolation, sourceLocation: sourceLocation) { try await body(v0, v1, v2, v3) }
    },
    isolation: isolation, sourceLocation: sourceLocation)
}

/// `propertyCheckThrowing` with 5 generators; see the one-generator form.
public func propertyCheckThrowing<InA, InB, InC, InD, InE, OutA, OutB, OutC, OutD, OutE>(
  count: Int = 100,
  input g0: Generator<OutA, some Sequence<InA>>,
  _ g1: Generator<OutB, some Sequence<InB>>,
  _ g2: Generator<OutC, some Sequence<InC>>,
  _ g3: Generator<OutD, some Sequence<InD>>,
  _ g4: Generator<OutE, some Sequence<InE>>,
  perform body: (OutA, OutB, OutC, OutD, OutE) async throws -> Void,
  isolation: isolated (any Actor)? = #isolation,
  sourceLocation: SourceLocation = #_sourceLocation
) async {
  await propertyCheck(
    count: count, input: g0, g1, g2, g3, g4,
    perform: { v0, v1, v2, v3, v4 in
      await failOnThrow(isolation: isolation, sourceLocation: sourceLocation) { try await body(v0, v1, v2, v3, v4) }
    },
    isolation: isolation, sourceLocation: sourceLocation)
}

/// `propertyCheckThrowing` with 6 generators; see the one-generator form.
public func propertyCheckThrowing<InA, InB, InC, InD, InE, InF, OutA, OutB, OutC, OutD, OutE, OutF>(
  count: Int = 100,
  input g0: Generator<OutA, some Sequence<InA>>,
  _ g1: Generator<OutB, some Sequence<InB>>,
  _ g2: Generator<OutC, some Sequence<InC>>,
  _ g3: Generator<OutD, some Sequence<InD>>,
  _ g4: Generator<OutE, some Sequence<InE>>,
  _ g5: Generator<OutF, some Sequence<InF>>,
  perform body: (OutA, OutB, OutC, OutD, OutE, OutF) async throws -> Void,
  isolation: isolated (any Actor)? = #isolation,
  sourceLocation: SourceLocation = #_sourceLocation
) async {
  await propertyCheck(
    count: count, input: g0, g1, g2, g3, g4, g5,
    perform: { v0, v1, v2, v3, v4, v5 in
      await failOnThrow(isolation: isolation, sourceLocation: sourceLocation) { try await body(v0, v1, v2, v3, v4, v5) }
    },
    isolation: isolation, sourceLocation: sourceLocation)
}

/// `propertyCheckThrowing` with 7 generators; see the one-generator form.
public func propertyCheckThrowing<InA, InB, InC, InD, InE, InF, InG, OutA, OutB, OutC, OutD, OutE, OutF, OutG>(
  count: Int = 100,
  input g0: Generator<OutA, some Sequence<InA>>,
  _ g1: Generator<OutB, some Sequence<InB>>,
  _ g2: Generator<OutC, some Sequence<InC>>,
  _ g3: Generator<OutD, some Sequence<InD>>,
  _ g4: Generator<OutE, some Sequence<InE>>,
  _ g5: Generator<OutF, some Sequence<InF>>,
  _ g6: Generator<OutG, some Sequence<InG>>,
  perform body: (OutA, OutB, OutC, OutD, OutE, OutF, OutG) async throws -> Void,
  isolation: isolated (any Actor)? = #isolation,
  sourceLocation: SourceLocation = #_sourceLocation
) async {
  await propertyCheck(
    count: count, input: g0, g1, g2, g3, g4, g5, g6,
    perform: { v0, v1, v2, v3, v4, v5, v6 in
      await failOnThrow(isolation: isolation, sourceLocation: sourceLocation) { try await body(v0, v1, v2, v3, v4, v5, v6) }
    },
    isolation: isolation, sourceLocation: sourceLocation)
}

/// `propertyCheckThrowing` with 8 generators; see the one-generator form.
public func propertyCheckThrowing<InA, InB, InC, InD, InE, InF, InG, InH, OutA, OutB, OutC, OutD, OutE, OutF, OutG, OutH>(
  count: Int = 100,
  input g0: Generator<OutA, some Sequence<InA>>,
  _ g1: Generator<OutB, some Sequence<InB>>,
  _ g2: Generator<OutC, some Sequence<InC>>,
  _ g3: Generator<OutD, some Sequence<InD>>,
  _ g4: Generator<OutE, some Sequence<InE>>,
  _ g5: Generator<OutF, some Sequence<InF>>,
  _ g6: Generator<OutG, some Sequence<InG>>,
  _ g7: Generator<OutH, some Sequence<InH>>,
  perform body: (OutA, OutB, OutC, OutD, OutE, OutF, OutG, OutH) async throws -> Void,
  isolation: isolated (any Actor)? = #isolation,
  sourceLocation: SourceLocation = #_sourceLocation
) async {
  await propertyCheck(
    count: count, input: g0, g1, g2, g3, g4, g5, g6, g7,
    perform: { v0, v1, v2, v3, v4, v5, v6, v7 in
      await failOnThrow(isolation: isolation, sourceLocation: sourceLocation) { try await body(v0, v1, v2, v3, v4, v5, v6, v7) }
    },
    isolation: isolation, sourceLocation: sourceLocation)
}
