/// The toolkit's version, printed by `aeos --version` and recorded in run folders.
public let toolkitVersion = "0.1.0"
