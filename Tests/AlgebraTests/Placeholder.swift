import Testing

// Tests for Algebra live in this folder.
