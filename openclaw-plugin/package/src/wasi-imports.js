// The WASI 0.2 imports the component needs, from preview2-shim's modules (or replacements with
// the same shape): no environment, arguments or working directory, and `exit` throws instead
// of ending the process. Shared by the runtime (src/runtime.js) and the build (describe()).

/** `shim`: `{cli, clocks: {monotonicClock}, http: {types, outgoingHandler}, io, random}`. */
export function wasiImports({ cli, clocks, http, io, random }) {
  const exit = () => { throw new Error('mission_control component called exit'); };
  return {
    'wasi:cli/environment': {
      getEnvironment: () => [],
      getArguments: () => [],
      initialCwd: () => undefined,
    },
    'wasi:cli/exit': { exit, exitWithCode: exit },
    'wasi:cli/stderr': cli.stderr,
    'wasi:cli/stdin': cli.stdin,
    'wasi:cli/stdout': cli.stdout,
    'wasi:cli/terminal-input': cli.terminalInput,
    'wasi:cli/terminal-output': cli.terminalOutput,
    'wasi:cli/terminal-stderr': cli.terminalStderr,
    'wasi:cli/terminal-stdin': cli.terminalStdin,
    'wasi:cli/terminal-stdout': cli.terminalStdout,
    'wasi:clocks/monotonic-clock': clocks.monotonicClock,
    'wasi:http/outgoing-handler': http.outgoingHandler,
    'wasi:http/types': http.types,
    'wasi:io/error': io.error,
    'wasi:io/poll': io.poll,
    'wasi:io/streams': io.streams,
    'wasi:random/insecure-seed': random.insecureSeed,
  };
}
