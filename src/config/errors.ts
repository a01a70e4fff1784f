// ConfigError: the one error type of option and config-file handling; its message is one line.

/** A configuration problem. `message` is a single line ready to print, e.g. `rtpengine: invalid value for --port-min: 'abc' (expected an integer)`. */
export class ConfigError extends Error {
  constructor(detail: string) {
    super(`rtpengine: ${detail.replace(/[\r\n]+/g, " ")}`);
    this.name = "ConfigError";
  }
}

/** Error for a value that does not parse as the option's kind. */
export function invalidValue(option: string, value: string, expected: string): ConfigError {
  return new ConfigError(`invalid value for --${option}: '${value}' (${expected})`);
}
