import Testing

// Tests for NeuralEngine live in this folder.
