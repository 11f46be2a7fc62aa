import { setImmediate as nextTurn } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import { charge, TURN_BUDGET_MS, turnWithBudget } from "./turn-budget.ts";

// The CDN's rendering budget per event-loop turn: under it a download goes on in the same turn, past it the
// download waits for the next one, and the charge never outlives its turn.

/** Turns of the event loop (check phases) that pass while what `start` returns settles. */
async function turnsWhile(start: () => Promise<void>): Promise<number> {
  let turns = 0;
  let on = true;
  const tick = () => {
    if (!on) return;
    turns++;
    setImmediate(tick);
  };
  setImmediate(tick);
  await start();
  on = false;
  return turns;
}

describe("turn budget", () => {
  it("lets work go on in the same turn while under budget", async () => {
    await nextTurn();
    expect(
      await turnsWhile(() => {
        charge(TURN_BUDGET_MS / 4);
        return turnWithBudget();
      }),
    ).toBe(0);
  });

  it("makes later work wait for the next turn once the budget is spent, then lets it run", async () => {
    await nextTurn();
    const turns = await turnsWhile(() => {
      charge(TURN_BUDGET_MS / 2);
      charge(TURN_BUDGET_MS);
      return turnWithBudget();
    });
    expect(turns).toBe(1);
    // The new turn starts with the whole budget.
    expect(await turnsWhile(turnWithBudget)).toBe(0);
  });
});
