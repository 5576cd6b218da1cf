import Testing

// Tests for Dynamics live in this folder.
