import Testing

// Tests for Quadratics live in this folder.
