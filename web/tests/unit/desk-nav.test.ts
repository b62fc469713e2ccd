/** What each desk address shows each role: a view that is not the role's says
 * whose it is (a manager on /desk/review), the field app is linked for the roles
 * whose home it is, and the desk adds no skip link of its own (the app has one). */
import { describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { lang, t } from "../../src/i18n";
import { hasFieldApp, placeOf, viewsFor } from "../../src/desk/nav";

describe("desk navigation by role", () => {
  it("tells a manager that review is for coaches, champions and admins instead of showing the map", () => {
    const place = placeOf("/desk/review", "manager");
    expect(place.kind).toBe("not_for_role");
    if (place.kind !== "not_for_role") return;
    expect(place.view.href).toBe("/desk/review");
    lang.value = "fr";
    expect(t(place.view.notForRole!)).toMatch(/coachs, aux champions et aux administrateurs/);
    lang.value = "en";
    expect(t(place.view.notForRole!)).toMatch(/coaches, champions and administrators/);
    lang.value = "fr";
    expect(viewsFor("manager").map((v) => v.href)).not.toContain("/desk/review");
  });

  it("says the same of roll-ups to a coach, and opens each role's own views", () => {
    expect(placeOf("/desk/rollups/", "coach").kind).toBe("not_for_role");
    for (const role of ["coach", "champion", "admin"]) {
      const place = placeOf("/desk/review", role);
      expect(place.kind === "view" && place.view.href).toBe("/desk/review");
    }
    const map = placeOf("/desk", "manager");
    expect(map.kind === "view" && map.view.href).toBe("/desk");
    const unknown = placeOf("/desk/nowhere", "manager");
    expect(unknown.kind === "view" && unknown.view.href).toBe("/desk");
    expect(placeOf("/desk/facility/ML%2FA", "manager")).toEqual({ kind: "facility", id: "ML/A" });
    expect(placeOf("/desk", "coachee")).toEqual({ kind: "no_desk" });
  });

  it("links back to the field app for the roles whose home it is (coach, admin)", () => {
    expect(hasFieldApp("coach")).toBe(true);
    expect(hasFieldApp("admin")).toBe(true);
    expect(hasFieldApp("manager")).toBe(false);
    expect(hasFieldApp("champion")).toBe(false);
  });

  it("adds no second skip link (the app's leads to the desk's <main id=\"main\">)", () => {
    const source = readFileSync(new URL("../../src/desk/DeskApp.tsx", import.meta.url), "utf-8");
    expect(source).not.toMatch(/class="skip/);
    expect(source).toMatch(/<main id="main"/);
    const app = readFileSync(new URL("../../src/app.tsx", import.meta.url), "utf-8");
    expect(app).toMatch(/class="skip" href="#main"/);
  });
});
