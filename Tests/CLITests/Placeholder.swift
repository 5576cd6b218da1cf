import Testing

// Tests for aeos live in this folder.
