/** The first screen after sign-in; what it offers depends on the role. */
import { useLocation } from "preact-iso";
import { Shell } from "../../components/Shell";
import { ActionList, myActions } from "./Actions";
import { role, session } from "../../stores/session";
import { db } from "../../stores/db";
import { useLocal } from "../../hooks";
import { plansToAgree, planDate } from "../../domain/plans";
import { t, tn, formatDate } from "../../i18n";

export default function Home() {
  const { route } = useLocation();
  const me = session.value?.account;
  const current = role.value;
  const drafts = useLocal(async () => (await db()).getAll("drafts"));
  const plans = useLocal(async () => (await db()).getAll("plans"));
  const open = (drafts ?? []).filter((d) => d.state === "draft" || d.state === "needs_fix");
  const toAgree = plansToAgree(plans ?? [], current);
  return (
    <Shell title={t("home.title")}>
      <p class="greeting">{t("home.hello", { name: me?.display_name ?? "" })}</p>
      {(current === "coach" || current === "admin") && (
        <section class="stack">
          <button type="button" class="primary big" onClick={() => route("/facilities")}>
            {t("home.new_visit")}
          </button>
          {open.length > 0 && (
            <a class="card link-card" href="/visits">{tn("home.drafts", open.length)}</a>
          )}
          {/* The desk view (issue 14): the coach's map, review queue and follow-up. */}
          <a class="card link-card" href="/desk">{t("desk.open_from_field")}</a>
        </section>
      )}
      {toAgree.length > 0 && (
        <section>
          <h2>{t("home.to_agree")}</h2>
          <ul class="list">
            {toAgree.map((p) => (
              <li>
                <a class="card link-card" href={`/plans/${p.id}`}>
                  <span class="title">{p.facility_name}</span>
                  <span class="meta">{t("home.plan_visit", { date: formatDate(planDate(p)) })}</span>
                </a>
              </li>
            ))}
          </ul>
        </section>
      )}
      <section>
        <h2>{current === "coachee" ? t("home.my_actions") : t("home.actions_followed")}</h2>
        <ActionList actions={myActions(plans ?? [], me?.id ?? "", current)} />
      </section>
    </Shell>
  );
}
