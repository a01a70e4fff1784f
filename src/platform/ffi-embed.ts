// Bun only: the shim library as a file asset, so `bun build --compile` embeds it in the executable.
import shimPath from "../../ffi/build/librtpe_shim.so" with { type: "file" };

/** A real path when run from source; a /$bunfs/ path inside a compiled executable. */
export default shimPath as string;
