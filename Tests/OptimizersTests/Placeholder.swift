import Testing

// Tests for Optimizers live in this folder.
