// Logical interfaces (`--interface NAME/ADDR!ADV`) grouped by name, and address selection per family.
import type { InterfaceSpec } from "../config/types.ts";

export class Interfaces {
  private readonly byName = new Map<string, InterfaceSpec[]>();
  readonly defaultName: string;

  constructor(specs: readonly InterfaceSpec[]) {
    for (const s of specs) {
      let l = this.byName.get(s.name);
      if (!l) this.byName.set(s.name, (l = []));
      // the same address given twice for one name (config file and command line, say) is one address:
      // rtpengine 10.5 serves it once; binding it twice would fail every port reservation
      if (!l.some((x) => x.address === s.address)) l.push(s);
    }
    if (specs.length === 0) throw new Error("no interfaces configured");
    this.defaultName = this.byName.has("default") ? "default" : specs[0]!.name;
  }

  /** Resolve a `direction`/`interface` name; legacy `internal`/`external` fall back to the default interface. */
  resolve(name: string | null | undefined): string {
    if (!name) return this.defaultName;
    if (this.byName.has(name)) return name;
    // unknown names fall back to the default interface, as rtpengine 10.5 does (legacy internal/external too)
    return this.defaultName;
  }

  /** Addresses of a logical interface, those of the preferred family first (this is the ICE candidate order). */
  addresses(name: string, family: 4 | 6): InterfaceSpec[] {
    const l = this.byName.get(name) ?? [];
    return [...l.filter((a) => a.family === family), ...l.filter((a) => a.family !== family)];
  }

  names(): string[] {
    return [...this.byName.keys()];
  }

  all(): InterfaceSpec[] {
    return [...this.byName.values()].flat();
  }
}

/** The address put into SDP for a local address. */
export function advertised(a: InterfaceSpec): string {
  return a.advertised ?? a.address;
}
