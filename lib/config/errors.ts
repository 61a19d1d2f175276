// A configuration problem, reported as "<where>: <key>: <problem>" in one line.
// `where` is a file (relative to the gateway root when possible) or an
// environment variable, so the operator knows exactly what to edit.

export class ConfigError extends Error {
  constructor(
    readonly where: string,
    readonly key: string,
    readonly problem: string,
  ) {
    super(key ? `${where}: ${key}: ${problem}` : `${where}: ${problem}`)
    this.name = 'ConfigError'
  }
}

/** Something the configuration names is not available (an address in use): exit 69, one line. */
export class UnavailableError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'UnavailableError'
  }
}
