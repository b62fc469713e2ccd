// Numbers the field app shows, written the language's way: one formatter.
import { afterEach, describe, expect, it } from "vitest";
import { formatDistance, formatNumber, formatPercent, lang, t, tn } from "../../src/i18n";

const NNBSP = "\u202f";

afterEach(() => { lang.value = "fr"; });

describe("numbers in French and English", () => {
  it("writes a decimal comma and groups thousands with a narrow no-break space in French", () => {
    lang.value = "fr";
    expect(formatNumber(56.6)).toBe("56,6");
    expect(formatNumber(12345.67)).toBe(`12${NNBSP}345,7`);
    expect(formatNumber(14.2531, 5, true)).toBe("14,25310");
    expect(formatPercent(68.8)).toBe(`68,8${NNBSP}%`);
    expect(formatDistance(2540)).toBe("2,5 km");
    expect(formatDistance(999.4)).toBe("999 m");
    expect(formatDistance(999.6)).toBe("1 km");
    expect(formatNumber(null)).toBe("—");
  });

  it("writes a decimal point in English", () => {
    lang.value = "en";
    expect(formatNumber(56.6)).toBe("56.6");
    expect(formatNumber(12345.67)).toBe("12,345.7");
    expect(formatPercent(68.8)).toBe("68.8%");
    expect(formatDistance(2540)).toBe("2.5 km");
  });

  it("fills a number placeholder the language's way", () => {
    lang.value = "fr";
    expect(t("item.out_of_range", { low: 0.5, high: 2.5 })).toBe("La valeur doit être entre 0,5 et 2,5.");
    expect(t("visit.gps_point", { lat: formatNumber(14.2531, 5, true), lon: formatNumber(-5.9932, 5, true) }))
      .toBe("14,25310\u00a0; -5,99320");
  });
});

describe("counted nouns", () => {
  it("uses the French singular for 0 and 1, the plural from 2", () => {
    lang.value = "fr";
    expect(tn("inbox.unread_count", 0)).toBe("0 message non lu");
    expect(tn("inbox.unread_count", 1)).toBe("1 message non lu");
    expect(tn("inbox.unread_count", 3)).toBe("3 messages non lus");
    expect(tn("sync.attempts", 2)).toBe("2 essais");
    expect(tn("home.drafts", 1)).toBe("1 visite en cours sur ce téléphone");
  });

  it("uses the English singular for 1 only", () => {
    lang.value = "en";
    expect(tn("inbox.unread_count", 0)).toBe("0 unread messages");
    expect(tn("inbox.unread_count", 1)).toBe("1 unread message");
    expect(tn("settings.sign_out_waiting", 1)).toBe("1 record is not sent yet and will be lost. Sign out anyway?");
  });

  it("has no (s) plural left in the catalogues", async () => {
    const { fr } = await import("../../src/i18n/fr");
    const { en } = await import("../../src/i18n/en");
    const left = [...Object.entries(fr), ...Object.entries(en)].filter(([, text]) => /\p{L}\(s\)/u.test(text));
    expect(left).toEqual([]);
  });
});
