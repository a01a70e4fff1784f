import { heapStats, memoryUsage } from "bun:jsc";
process.on("SIGUSR2", () => {
  const f = (o: any) => JSON.stringify(o);
  const h0 = heapStats();
  const m0 = memoryUsage();
  Bun.gc(true);
  setTimeout(() => {
    const h = heapStats();
    const m = memoryUsage();
    const top = Object.entries(h.objectTypeCounts as Record<string, number>).sort((a, b) => b[1] - a[1]).slice(0, 25);
    console.error("DBG before gc", f({ heapSize: h0.heapSize, heapCapacity: h0.heapCapacity, extra: h0.extraMemorySize, objects: h0.objectCount }), f(m0));
    console.error("DBG after gc", f({ heapSize: h.heapSize, heapCapacity: h.heapCapacity, extra: h.extraMemorySize, objects: h.objectCount }), f(m));
    console.error("DBG types", f(top));
  }, 3000);
});
process.on("SIGUSR1", () => {
  Bun.gc(true);
  const snap = Bun.generateHeapSnapshot();
  require("node:fs").writeFileSync("/tmp/dbg/snap.json", JSON.stringify(snap));
  console.error("DBG snapshot written");
});
