// A small typed event emitter for the SDK-shaped callbacks (onDownloadProgressUpdate,
// onMediaPlayerStateUpdate, ...). A listener that throws must not break the SDK call that emitted the event
// (a download, a mixer frame), so listener errors are caught and handed to `onListenerError`.

/** Event name -> listener signature; an interface works (no index signature needed). */
// biome-ignore lint/suspicious/noExplicitAny: listener signatures are arbitrary; each map fixes its own
export type EventMap<E> = { [K in keyof E]: (...args: any[]) => void };

export class TypedEmitter<E extends EventMap<E>> {
  private readonly listeners = new Map<keyof E, E[keyof E][]>();

  /** Where listener exceptions go; the default writes them to stderr. */
  onListenerError: (event: string, err: unknown) => void = (event, err) => {
    process.emitWarning(`listener of ${event} threw: ${err instanceof Error ? err.message : String(err)}`);
  };

  on<K extends keyof E>(event: K, listener: E[K]): this {
    const list = this.listeners.get(event) ?? [];
    // Copy on write: an emit in progress keeps iterating the list it started with.
    this.listeners.set(event, [...list, listener]);
    return this;
  }

  off<K extends keyof E>(event: K, listener: E[K]): this {
    const list = this.listeners.get(event);
    if (!list) return this;
    const i = list.indexOf(listener);
    if (i >= 0) this.listeners.set(event, [...list.slice(0, i), ...list.slice(i + 1)]);
    return this;
  }

  once<K extends keyof E>(event: K, listener: E[K]): this {
    const wrapped = ((...args: Parameters<E[K]>) => {
      this.off(event, wrapped);
      listener(...args);
    }) as E[K];
    return this.on(event, wrapped);
  }

  removeAllListeners(event?: keyof E): this {
    if (event === undefined) this.listeners.clear();
    else this.listeners.delete(event);
    return this;
  }

  listenerCount(event: keyof E): number {
    return this.listeners.get(event)?.length ?? 0;
  }

  protected emit<K extends keyof E>(event: K, ...args: Parameters<E[K]>): void {
    const list = this.listeners.get(event);
    if (!list) return;
    for (const l of list) {
      try {
        l(...args);
      } catch (err) {
        this.onListenerError(String(event), err);
      }
    }
  }
}
