import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { envelopeCode } from "./observe.ts";

// envelopeCode reads the code off an answer's head in place of the regex it replaced: it must capture exactly
// what the regex captures, for strings and for bytes, on envelopes and on anything else.
const REGEX = /^\{"[Cc]ode":(-?\d+)/;
const byRegex = (text: string) => REGEX.exec(text)?.[1];

describe("envelopeCode", () => {
  it("reads the envelope codes the simulator sends", () => {
    expect(envelopeCode('{"code":0,"message":"succeed"}')).toBe("0");
    expect(envelopeCode(Buffer.from('{"code":1017040,"message":"x"}'))).toBe("1017040");
    expect(envelopeCode('{"Code":-1,"Message":"x"}')).toBe("-1");
    expect(envelopeCode('{"code":"0"}')).toBeUndefined();
    expect(envelopeCode('{"code":-}')).toBeUndefined();
    expect(envelopeCode('{"code":')).toBeUndefined();
    expect(envelopeCode('{"cOde":1}')).toBeUndefined();
    expect(envelopeCode(Buffer.alloc(0))).toBeUndefined();
  });

  it('captures what ^\\{"[Cc]ode":(-?\\d+) captures, on strings and bytes', () => {
    // Mostly near-envelopes: a real head, then digits, signs and other characters.
    const head = fc.constantFrom('{"code":', '{"Code":', '{"CODE":', '{"code" :', '{"code":-', "", '{"c');
    const tail = fc.array(fc.constantFrom("0", "1", "7", "9", "-", ",", '"', "x", "é", " ", "}"), {
      maxLength: 12,
    });
    fc.assert(
      fc.property(head, tail, fc.string({ maxLength: 4 }), (h, t, junk) => {
        const text = h + t.join("") + junk;
        expect(envelopeCode(text)).toBe(byRegex(text));
        expect(envelopeCode(Buffer.from(text))).toBe(byRegex(Buffer.from(text).toString("latin1")));
      }),
      { numRuns: 3000 },
    );
  });
});
