import { describe, expect, it } from "vitest";
import { numericText, parseNumber } from "../../src/domain/numeric";

describe("a numeric item's input", () => {
  it("reads a comma as a decimal point, and nothing else as a number", () => {
    expect(parseNumber("7")).toBe(7);
    expect(parseNumber(" 2,5 ")).toBe(2.5);
    expect(parseNumber("")).toBeNull();
    expect(parseNumber("abc")).toBeNull();
  });

  it("shows the stored answer, not text typed for another answer", () => {
    expect(numericText("300", 7)).toBe("7"); // the text of another item, or a stale one
    expect(numericText("", 7)).toBe("7"); // after a reload or a change of section
    expect(numericText("7.0", 7)).toBe("7.0"); // typing goes on undisturbed
  });

  it("shows nothing for an unanswered, not applicable or non-number answer", () => {
    expect(numericText("7", null)).toBe("");
    expect(numericText("7", "na")).toBe("");
    expect(numericText("yes", "yes")).toBe(""); // never "yes" in a number input
  });
});
