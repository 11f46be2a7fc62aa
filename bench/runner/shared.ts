// Servers several cases can race against (the simulator pinned to the servers' CPU, the simulator the
// footprint children load), started once per bench run on first use and stopped when the run ends. A
// simulator costs 3-4 s of CPU to start (tsx, the catalog, fastify; measured by /proc utime+stime up to its
// `listening` line): four cases starting their own spent more of `--quick` in start-ups than in some races.
// What is shared is only ever a server under test that every case warms up before measuring; each case still
// starts its own reference.
//
// `runBench` calls closeShared() when the run ends (also after an error); a case never stops a shared server.

interface Entry {
  value: Promise<unknown>;
  stop: (v: unknown) => Promise<void> | void;
}

const entries = new Map<string, Entry>();

/** The server `key` names, started by `start` the first time it is asked for in this run. */
export function shared<T>(
  key: string,
  start: () => Promise<T>,
  stop: (v: T) => Promise<void> | void,
): Promise<T> {
  let e = entries.get(key);
  if (!e) {
    const value = start();
    e = { value, stop: stop as (v: unknown) => Promise<void> | void };
    entries.set(key, e);
    // A start that fails is not kept: the next case to ask tries again (and reports its own error).
    value.catch(() => {
      if (entries.get(key) === e) entries.delete(key);
    });
  }
  return e.value as Promise<T>;
}

/** Stops every shared server started in this run; a failure to stop one is reported, the others still stop. */
export async function closeShared(log: (line: string) => void = () => {}): Promise<void> {
  const all = [...entries.entries()];
  entries.clear();
  await Promise.all(
    all.map(async ([key, e]) => {
      try {
        await e.stop(await e.value);
      } catch (err) {
        log(`  (shared ${key}: clean-up failed: ${(err as Error).message})`);
      }
    }),
  );
}
