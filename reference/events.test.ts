import { describe, expect, it } from "vitest";
import { TypedEmitter } from "./events.ts";

interface Events {
  tick: (n: number, label: string) => void;
  done: () => void;
}

class Source extends TypedEmitter<Events> {
  fire<K extends keyof Events>(e: K, ...args: Parameters<Events[K]>) {
    this.emit(e, ...args);
  }
}

describe("TypedEmitter", () => {
  it("delivers to every listener in order; off and once work", () => {
    const s = new Source();
    const got: string[] = [];
    const a = (n: number, l: string) => got.push(`a${n}${l}`);
    s.on("tick", a);
    s.once("tick", (n) => got.push(`once${n}`));
    s.fire("tick", 1, "x");
    s.fire("tick", 2, "y");
    s.off("tick", a);
    s.fire("tick", 3, "z");
    expect(got).toEqual(["a1x", "once1", "a2y"]);
    expect(s.listenerCount("tick")).toBe(0);
  });

  it("a throwing listener neither stops the others nor reaches the emitter's caller", () => {
    const s = new Source();
    const errors: unknown[] = [];
    s.onListenerError = (event, err) => errors.push([event, (err as Error).message]);
    let after = 0;
    s.on("done", () => {
      throw new Error("boom");
    });
    s.on("done", () => after++);
    expect(() => s.fire("done")).not.toThrow();
    expect(after).toBe(1);
    expect(errors).toEqual([["done", "boom"]]);
  });

  it("a listener removed during an emit still sees that emit; one added does not", () => {
    const s = new Source();
    const got: string[] = [];
    const late = () => got.push("late");
    const b = () => got.push("b");
    s.on("done", () => {
      got.push("a");
      s.off("done", b);
      s.on("done", late);
    });
    s.on("done", b);
    s.fire("done");
    expect(got).toEqual(["a", "b"]);
    s.removeAllListeners();
    expect(s.listenerCount("done")).toBe(0);
  });
});
